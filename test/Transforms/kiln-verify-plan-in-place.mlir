// RUN: kiln-opt %s -split-input-file -kiln-verify-plan -verify-diagnostics | FileCheck %s

// kiln-verify-plan and writes in place: a result may sit at an operand's
// offset only where kiln-plan-memory could have put it there
// (kiln::mayWriteInPlace holds for the op, result and operand; nothing reads
// the operand's storage after the op; it is not an input's; no other operand
// reads it in another role; no other result of the op took it). Every other
// shared byte stays an overlap. The plans here are written by hand.

// Accepted: a chain written in place, a scatter_nd over its data, a fusion
// of one elementwise op over its input.
// CHECK-LABEL: func.func @chain
func.func @chain(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 512 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %1 = kiln.neg %0 {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %2 = kiln.tanh %1 {kiln.arena = array<i64: 256>} : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// CHECK-LABEL: func.func @scatter
func.func @scatter(%a: tensor<4x8xf32> {kiln.arena = 0 : i64}, %i: tensor<2x1xi64> {kiln.arena = 768 : i64}, %u: tensor<2x8xf32> {kiln.arena = 512 : i64}) -> tensor<4x8xf32> attributes {kiln.arena_bytes = 1024 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<4x8xf32>
  %1 = kiln.scatter_nd %0, %i, %u {kiln.arena = array<i64: 256>} : (tensor<4x8xf32>, tensor<2x1xi64>, tensor<2x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// CHECK-LABEL: func.func @fusion
func.func @fusion(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 512 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  %1 = kiln.fusion %0 {kiln.arena = array<i64: 256>} : (tensor<16xf32>) -> tensor<16xf32> {
  ^bb0(%x: tensor<16xf32>):
    %n = kiln.neg %x : tensor<16xf32>
    kiln.yield %n : tensor<16xf32>
  }
  return %1 : tensor<16xf32>
}

// -----

// Refused: over an input, even at its last use (inputs are copied in once;
// the manifest keeps them apart from everything).
func.func @over_input(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> tensor<16xf32> attributes {kiln.arena_bytes = 256 : i64} {
  // expected-error @below {{result #0 of 'kiln.tanh' at bytes [0, 64) overlaps argument #0 at bytes [0, 64) while both are live}}
  // expected-note @below {{operand #0 is an input, or its storage is read after the op or by another operand of it, so it cannot be written in place}}
  %0 = kiln.tanh %a {kiln.arena = array<i64: 0>} : tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// Refused: over a returned value (live to the end).
func.func @over_output(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> (tensor<16xf32>, tensor<16xf32>) attributes {kiln.arena_bytes = 512 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-error @below {{result #0 of 'kiln.neg' at bytes [256, 320) overlaps result #0 of 'kiln.exp' at bytes [256, 320) while both are live}}
  // expected-note @below {{operand #0 is an input, or its storage is read after the op or by another operand of it, so it cannot be written in place}}
  %1 = kiln.neg %0 {kiln.arena = array<i64: 256>} : tensor<16xf32>
  return %0, %1 : tensor<16xf32>, tensor<16xf32>
}

// -----

// Refused: a kernel that reads more than element i (a softmax reads its row).
func.func @not_elementwise(%a: tensor<4x8xf32> {kiln.arena = 0 : i64}) -> tensor<4x8xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<4x8xf32>
  // expected-error @below {{result #0 of 'kiln.softmax' at bytes [256, 384) overlaps result #0 of 'kiln.exp' at bytes [256, 384) while both are live}}
  // expected-note @below {{its kernel may not write it in place over operand #0}}
  %1 = kiln.softmax %0 {axis = 1 : i64, kiln.arena = array<i64: 256>} : tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Refused: an operand of another shape (broadcast, even where only a unit
// dim is added: the rule is exact shapes).
func.func @broadcast(%a: tensor<16xf32> {kiln.arena = 0 : i64}, %b: tensor<1x16xf32> {kiln.arena = 256 : i64}) -> tensor<1x16xf32> attributes {kiln.arena_bytes = 768 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 512>} : tensor<16xf32>
  // expected-error @below {{result #0 of 'kiln.add' at bytes [512, 576) overlaps result #0 of 'kiln.exp' at bytes [512, 576) while both are live}}
  // expected-note @below {{its kernel may not write it in place over operand #0}}
  %1 = kiln.add %0, %b {kiln.arena = array<i64: 512>} : (tensor<16xf32>, tensor<1x16xf32>) -> tensor<1x16xf32>
  return %1 : tensor<1x16xf32>
}

// -----

// Refused: the operand is a view whose root is still read after the op.
func.func @view_root_live(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> (tensor<4x4xf32>, tensor<16xf32>) attributes {kiln.arena_bytes = 768 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-note @below {{the other value is defined here}}
  %v = kiln.reshape %0 {kiln.arena = array<i64: 256>} : tensor<16xf32> -> tensor<4x4xf32>
  // expected-error @below {{result #0 of 'kiln.neg' at bytes [256, 320) overlaps result #0 of 'kiln.exp' at bytes [256, 320) while both are live}}
  // expected-error @below {{result #0 of 'kiln.neg' at bytes [256, 320) overlaps result #0 of 'kiln.reshape' at bytes [256, 320) while both are live}}
  // expected-note @below {{operand #0 is an input, or its storage is read after the op or by another operand of it, so it cannot be written in place}}
  %1 = kiln.neg %v {kiln.arena = array<i64: 256>} : tensor<4x4xf32>
  %2 = kiln.exp %0 {kiln.arena = array<i64: 512>} : tensor<16xf32>
  return %1, %2 : tensor<4x4xf32>, tensor<16xf32>
}

// -----

// Refused: the updates of a scatter_nd are a view of its data (a thread
// would read rows another has overwritten). The error is reported once per
// reshape, with the same text (one expected-error matches both).
func.func @scatter_reads_its_data(%a: tensor<32xf32> {kiln.arena = 0 : i64}, %i: tensor<4x1xi64> {kiln.arena = 512 : i64}) -> tensor<4x8xf32> attributes {kiln.arena_bytes = 768 : i64} {
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<32xf32>
  // expected-note @below {{the other value is defined here}}
  %d = kiln.reshape %0 {kiln.arena = array<i64: 256>} : tensor<32xf32> -> tensor<4x8xf32>
  // expected-note @below {{the other value is defined here}}
  %u = kiln.reshape %0 {kiln.arena = array<i64: 256>} : tensor<32xf32> -> tensor<4x8xf32>
  // expected-error @below {{result #0 of 'kiln.scatter_nd' at bytes [256, 384) overlaps result #0 of 'kiln.reshape' at bytes [256, 384) while both are live}}
  // expected-note @below {{operand #0 is an input, or its storage is read after the op or by another operand of it, so it cannot be written in place}}
  // expected-note @below {{its kernel may not write it in place over operand #2}}
  %1 = kiln.scatter_nd %d, %i, %u {kiln.arena = array<i64: 256>} : (tensor<4x8xf32>, tensor<4x1xi64>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Refused: two results of one op over the same operand (a fusion yielding
// its value twice may write one of them in place, not both).
func.func @two_results(%a: tensor<16xf32> {kiln.arena = 0 : i64}) -> (tensor<16xf32>, tensor<16xf32>) attributes {kiln.arena_bytes = 512 : i64} {
  // expected-note @below {{the other value is defined here}}
  %0 = kiln.exp %a {kiln.arena = array<i64: 256>} : tensor<16xf32>
  // expected-error @below {{result #1 of 'kiln.fusion' at bytes [256, 320) overlaps result #0 of 'kiln.exp' at bytes [256, 320) while both are live}}
  // expected-error @below {{result #1 of 'kiln.fusion' at bytes [256, 320) overlaps result #0 of 'kiln.fusion' at bytes [256, 320) while both are live}}
  // expected-note @below {{the other value is defined here}}
  // expected-note @below {{operand #0 is an input, or its storage is read after the op or by another operand of it, so it cannot be written in place}}
  %1:2 = kiln.fusion %0 {kiln.arena = array<i64: 256, 256>} : (tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  ^bb0(%x: tensor<16xf32>):
    %n = kiln.neg %x : tensor<16xf32>
    kiln.yield %n, %n : tensor<16xf32>, tensor<16xf32>
  }
  return %1#0, %1#1 : tensor<16xf32>, tensor<16xf32>
}
