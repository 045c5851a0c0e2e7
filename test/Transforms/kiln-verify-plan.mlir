// RUN: kiln-opt %s -split-input-file -kiln-verify-plan -verify-diagnostics | FileCheck %s
// RUN: kiln-opt %s -split-input-file -kiln-plan-memory -kiln-verify-plan | FileCheck %s --check-prefix=REPLAN

// A correct hand-written plan passes unchanged: %0 and %2 share bytes but are
// never live at the same time.
// CHECK-LABEL: func.func @good
// REPLAN-LABEL: func.func @good
func.func @good(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 768 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %1 = kiln.neg %0 {kiln.arena = array<i64: 512>} : tensor<16xf32>
  %2 = kiln.tanh %1 {kiln.arena = array<i64: 256>} : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// %0 is still read after the neg, so the neg may not write over it.
func.func @overlap(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 768 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-error @below {{result #0 of 'kiln.neg' at bytes [256, 320) overlaps result #0 of 'kiln.exp' at bytes [256, 320) while both are live}}
  // expected-note @below {{operand #0 is an input, or its storage is read after the op or by another operand of it, so it cannot be written in place}}
  %1 = kiln.neg %0 {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %2 = kiln.add %0, %1 {kiln.arena = array<i64: 512>} : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// The argument is live throughout, so a late value may not reuse its bytes.
func.func @clobbers_argument(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 768 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-error @below {{result #0 of 'kiln.tanh' at bytes [0, 64) overlaps argument #0 at bytes [0, 64) while both are live}}
  %1 = kiln.tanh %0 {kiln.arena = array<i64: 0>} : tensor<16xf32>
  return %1 : tensor<16xf32>
}

// -----

func.func @past_the_end(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 300 : i64} {
  // expected-error @below {{result #0 of 'kiln.exp' occupies bytes [256, 320), past kiln.arena_bytes = 300}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// expected-error @below {{argument #0 has no arena offset (kiln.arena)}}
func.func @unplanned_argument(%a: tensor<16xf32>) -> tensor<16xf32> attributes {kiln.arena_bytes = 512 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @unplanned_result(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @below {{result #0 of 'kiln.exp' has no arena offset (kiln.arena)}}
  %0 = kiln.exp %a : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @misaligned(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @below {{result #0 of 'kiln.exp' has offset 128, which is not a non-negative multiple of 256}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 128>} : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

func.func @weight_with_offset(%a: tensor<4xf32> {kiln.arena = 0 : i64}) -> tensor<4xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @below {{lives in weights.bin and must not have a kiln.arena offset}}
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64, kiln.arena = array<i64: 256>} : tensor<4xf32>
  %0 = kiln.add %a, %w {kiln.arena = array<i64: 256>} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @wrong_count(%a: tensor<4x2xf32> {kiln.arena = 0 : i64}) -> tensor<4x1xf32> attributes {kiln.arena_bytes = 1024 : i64} {
  // expected-error @below {{kiln.arena must be an array<i64> with one offset per result (2)}}
  %0:2 = kiln.split %a {axis = 1 : i64, kiln.arena = array<i64: 256>} : tensor<4x2xf32> -> tensor<4x1xf32>, tensor<4x1xf32>
  return %0#0 : tensor<4x1xf32>
}

// -----

// expected-error @below {{has no kiln.arena_bytes (not planned)}}
func.func @no_arena(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.exp %a : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Edge: an offset near INT64_MAX (hand-written or hostile) whose end is past
// INT64_MAX is out of bounds; the end is computed and printed without
// overflowing.
func.func @huge_offset(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<128xf32> attributes {kiln.arena_bytes = 512 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-error @below {{result #0 of 'kiln.concat' occupies bytes [9223372036854775552, 9223372036854776064), past kiln.arena_bytes = 512}}
  %1 = kiln.concat %0, %0, %0, %0, %0, %0, %0, %0 {axis = 0 : i64, kiln.arena = array<i64: 9223372036854775552>} : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<128xf32>
  return %1 : tensor<128xf32>
}

// -----

// Aliases: a view at its operand's offset shares its bytes legitimately,
// along a chain (%0, %1, %2) and for an argument (%r); %n and %s are live
// with them and elsewhere.
// CHECK-LABEL: func.func @aliases
// REPLAN-LABEL: func.func @aliases
func.func @aliases(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 1024 : i64} {
  %r = kiln.reshape %a {kiln.arena = array<i64: 0>} : tensor<16xf32> -> tensor<4x4xf32>
  %0 = kiln.exp %r {kiln.arena = array<i64: 256>} : tensor<4x4xf32>
  %1 = kiln.reshape %0 {kiln.arena = array<i64: 256>} : tensor<4x4xf32> -> tensor<16xf32>
  %2 = kiln.reshape %1 {kiln.arena = array<i64: 256>} : tensor<16xf32> -> tensor<2x8xf32>
  %n = kiln.neg %2 {kiln.arena = array<i64: 512>} : tensor<2x8xf32>
  %3 = kiln.reshape %n {kiln.arena = array<i64: 512>} : tensor<2x8xf32> -> tensor<16xf32>
  %s = kiln.add %3, %1 {kiln.arena = array<i64: 768>} : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %s : tensor<16xf32>
}

// -----

// A non-view op at its operand's offset is an overlap, as before.
func.func @not_a_view(%a: tensor<4x4xf32> {kiln.arena = 0 : i64}) -> tensor<4x4xf32> attributes {kiln.arena_bytes = 768 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<4x4xf32>
  // expected-error @below {{result #0 of 'kiln.transpose' at bytes [256, 320) overlaps result #0 of 'kiln.exp' at bytes [256, 320) while both are live}}
  // expected-note @below {{its kernel may not write it in place over operand #0}}
  %1 = kiln.transpose %0 {kiln.arena = array<i64: 256>, perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = kiln.add %0, %1 {kiln.arena = array<i64: 512>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

// -----

// An alias keeps its bytes busy: %0 is dead after point 1, but its reshape
// %1 is live until point 3, so %2 may not take those bytes at point 2.
func.func @clobbers_alias(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<4x4xf32> attributes {kiln.arena_bytes = 1024 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-note @below {{the other value is defined here}}
  %1 = kiln.reshape %0 {kiln.arena = array<i64: 256>} : tensor<16xf32> -> tensor<4x4xf32>
  // expected-error @below {{result #0 of 'kiln.tanh' at bytes [256, 320) overlaps result #0 of 'kiln.reshape' at bytes [256, 320) while both are live}}
  %2 = kiln.tanh %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %3 = kiln.reshape %2 {kiln.arena = array<i64: 512>} : tensor<16xf32> -> tensor<4x4xf32>
  %4 = kiln.add %1, %3 {kiln.arena = array<i64: 768>} : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %4 : tensor<4x4xf32>
}

// -----

// An output may not alias an input: the runtime needs them disjoint.
func.func @output_aliases_input(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<4x4xf32> attributes {kiln.arena_bytes = 256 : i64} {
  %r = kiln.reshape %a {kiln.arena = array<i64: 0>} : tensor<16xf32> -> tensor<4x4xf32>
  // expected-error @below {{returns value #0 (result #0 of 'kiln.reshape'), an alias of the bytes of argument #0, which is also an input or output; inputs and outputs must not share bytes}}
  return %r : tensor<4x4xf32>
}

// -----

// Nor another output.
func.func @outputs_alias(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> (tensor<16xf32>, tensor<4x4xf32>) attributes {kiln.arena_bytes = 512 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %r = kiln.reshape %0 {kiln.arena = array<i64: 256>} : tensor<16xf32> -> tensor<4x4xf32>
  // expected-error @below {{returns value #1 (result #0 of 'kiln.reshape'), an alias of the bytes of result #0 of 'kiln.exp', which is also an input or output; inputs and outputs must not share bytes}}
  return %0, %r : tensor<16xf32>, tensor<4x4xf32>
}
