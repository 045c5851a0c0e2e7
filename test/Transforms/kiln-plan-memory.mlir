// RUN: kiln-opt %s -split-input-file -kiln-plan-memory=in-place=false -kiln-verify-plan -verify-diagnostics | FileCheck %s

// Placement and aliasing without writes in place (in-place=false), so the
// offsets below show the heuristics alone; kiln-plan-memory-in-place.mlir
// has the default.

// A chain: %0 dies at %1's def, so %2 can reuse %0's bytes; the argument
// stays live to the end and is never reused.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: %{{.*}}: tensor<16xf32> {kiln.arena = 0 : i64}
// CHECK-SAME: attributes {kiln.arena_bytes = 768 : i64}
func.func @chain(%a: tensor<16xf32>) -> tensor<16xf32> {
  // CHECK: kiln.exp %{{.*}} {kiln.arena = array<i64: 256>}
  %0 = kiln.exp %a : tensor<16xf32>
  // CHECK: kiln.neg %{{.*}} {kiln.arena = array<i64: 512>}
  %1 = kiln.neg %0 : tensor<16xf32>
  // CHECK: kiln.tanh %{{.*}} {kiln.arena = array<i64: 256>}
  %2 = kiln.tanh %1 : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// Weights and constants are not planned; multi-result ops get one offset per
// result; i1 takes one byte per element.
// CHECK-LABEL: func.func @weights_and_split
// CHECK-SAME: attributes {kiln.arena_bytes = 1024 : i64}
func.func @weights_and_split(%x: tensor<2x8xf32>) -> (tensor<2x4xf32>, tensor<2x8xi1>) {
  // CHECK: kiln.weight "w"
  // CHECK-NOT: kiln.arena
  // CHECK-SAME: tensor<2x8xf32>
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 64 : i64} : tensor<2x8xf32>
  // CHECK: kiln.constant
  // CHECK-NOT: kiln.arena
  // CHECK-SAME: dense
  %c = kiln.constant dense<1.0> : tensor<f32>
  // CHECK: kiln.add {{.*}} {kiln.arena = array<i64: 256>}
  %s = kiln.add %x, %w : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  // CHECK: kiln.split {{.*}} {axis = 1 : i64, kiln.arena = array<i64: 512, 768>}
  %p:2 = kiln.split %s {axis = 1 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x4xf32>
  // CHECK: kiln.greater {{.*}} {kiln.arena = array<i64: 256>}
  %g = kiln.greater %x, %c : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xi1>
  return %p#0, %g : tensor<2x4xf32>, tensor<2x8xi1>
}

// -----

// Edge: a value with no use still gets bytes (its kernel writes them), and a
// zero-element tensor takes none.
// CHECK-LABEL: func.func @dead_and_empty
func.func @dead_and_empty(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: kiln.exp {{.*}} {kiln.arena = array<i64: 256>}
  %dead = kiln.exp %x : tensor<4xf32>
  // CHECK: kiln.slice {{.*}}kiln.arena = array<i64: 0>
  %e = kiln.slice %x {starts = array<i64: 0>, steps = array<i64: 1>} : tensor<4xf32> -> tensor<0xf32>
  // CHECK: kiln.neg {{.*}} {kiln.arena = array<i64: 256>}
  %r = kiln.neg %x : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// Greedy by size: the 512-byte concat result is placed first, at 0 (it is
// live at points 2-3 only), the argument above it, %0 (dead by point 2) in
// the concat's bytes, %1 on top. Live at point 2: %a, %1 and %2 = 1024 bytes,
// the lower bound, reached. (Program-order first fit, the old planner, put
// %a at 0, %0 at 256, %1 at 512 and found the 256 bytes %0 left too small
// for %2: 1280 bytes.)
// CHECK-LABEL: func.func @bigger_later
// CHECK-SAME: %{{.*}}: tensor<64xf32> {kiln.arena = 512 : i64}
// CHECK-SAME: attributes {kiln.arena_bytes = 1024 : i64}
func.func @bigger_later(%a: tensor<64xf32>) -> tensor<128xf32> {
  // CHECK: kiln.exp {{.*}} {kiln.arena = array<i64: 0>}
  %0 = kiln.exp %a : tensor<64xf32>
  // CHECK: kiln.neg {{.*}} {kiln.arena = array<i64: 768>}
  %1 = kiln.neg %0 : tensor<64xf32>
  // CHECK: kiln.concat {{.*}} {axis = 0 : i64, kiln.arena = array<i64: 0>}
  %2 = kiln.concat %1, %1 {axis = 0 : i64} : (tensor<64xf32>, tensor<64xf32>) -> tensor<128xf32>
  return %2 : tensor<128xf32>
}

// -----

func.func @returns_argument(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{returns a function argument directly (result #0)}}
  return %x : tensor<4xf32>
}

// -----

func.func @returns_weight() -> tensor<4xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64} : tensor<4xf32>
  // expected-error @below {{returns a weight or constant directly (result #0)}}
  return %w : tensor<4xf32>
}

// -----

// Byte sizes are computed without overflow: a tensor over 2^48 bytes is
// refused, one of exactly 2^48 bytes (2^46 f32) is planned.
// expected-error @below {{cannot plan a value of type 'tensor<4611686018427387904x8xf32>': needs a static tensor of int or float elements, at most 2^48 bytes}}
func.func @too_large(%x: tensor<4611686018427387904x8xf32>) -> tensor<4611686018427387904x8xf32> {
  %0 = kiln.exp %x : tensor<4611686018427387904x8xf32>
  return %0 : tensor<4611686018427387904x8xf32>
}

// -----

// CHECK-LABEL: func.func @largest
// CHECK: kiln.arena_bytes = 562949953421312 : i64
func.func @largest(%x: tensor<70368744177664xf32>) -> tensor<70368744177664xf32> {
  %0 = kiln.exp %x : tensor<70368744177664xf32>
  return %0 : tensor<70368744177664xf32>
}

// -----

// Views are aliases. The reshape is %0's bytes in the same order, so it gets
// %0's offset and no bytes of its own; %0's storage then lives as long as
// the reshape's users ([0, 2]). Storage intervals: %a [0, 4], %0+%1 [0, 2],
// %2+%3 [2, 4], all 64 bytes: every one is live at point 2, so the arena is
// 3 x 256 (= the bound). Greedy by size, ties by longer lifetime then index:
// %a at 0, %0 at 256, %2 at 512.
// CHECK-LABEL: func.func @reshape_shares_bytes
// CHECK-SAME: attributes {kiln.arena_bytes = 768 : i64}
func.func @reshape_shares_bytes(%a: tensor<16xf32>) -> tensor<16xf32> {
  // CHECK: kiln.exp %{{.*}} {kiln.arena = array<i64: 256>}
  %0 = kiln.exp %a : tensor<16xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: 256>}
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  // CHECK: kiln.neg %{{.*}} {kiln.arena = array<i64: 512>}
  %2 = kiln.neg %1 : tensor<4x4xf32>
  // The returned reshape aliases too: its storage holds one output, no input.
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: 512>}
  %3 = kiln.reshape %2 : tensor<4x4xf32> -> tensor<16xf32>
  return %3 : tensor<16xf32>
}

// -----

// A chain of views (reshape, reshape, a transpose that only moves a unit
// dim, an expand that only adds one) all share %0's bytes. Storage: %a
// [0, 6], %0..%4 [0, 5], %5 [5, 6]: 3 x 256.
// CHECK-LABEL: func.func @view_chain
// CHECK-SAME: attributes {kiln.arena_bytes = 768 : i64}
func.func @view_chain(%a: tensor<2x8xf32>) -> tensor<1x1x2x8xf32> {
  // CHECK: kiln.exp %{{.*}} {kiln.arena = array<i64: [[X:[0-9]+]]>}
  %0 = kiln.exp %a : tensor<2x8xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: [[X]]>}
  %1 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<16xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: [[X]]>}
  %2 = kiln.reshape %1 : tensor<16xf32> -> tensor<2x1x8xf32>
  // CHECK: kiln.transpose %{{.*}} {kiln.arena = array<i64: [[X]]>, perm = array<i64: 1, 0, 2>}
  %3 = kiln.transpose %2 {perm = array<i64: 1, 0, 2>} : (tensor<2x1x8xf32>) -> tensor<1x2x8xf32>
  // CHECK: kiln.expand %{{.*}} {kiln.arena = array<i64: [[X]]>}
  %4 = kiln.expand %3 : tensor<1x2x8xf32> -> tensor<1x1x2x8xf32>
  // CHECK: kiln.add %{{.*}} {kiln.arena = array<i64: [[Y:[0-9]+]]>}
  // CHECK-NOT: array<i64: [[X]]>
  %5 = kiln.add %4, %a : (tensor<1x1x2x8xf32>, tensor<2x8xf32>) -> tensor<1x1x2x8xf32>
  return %5 : tensor<1x1x2x8xf32>
}

// -----

// Not views: a transpose that moves non-unit dims, an expand that
// broadcasts, a cast that converts. Each gets bytes of its own.
// CHECK-LABEL: func.func @not_views
func.func @not_views(%a: tensor<2x8xf32>) -> (tensor<8x2xf32>, tensor<2x2x8xf32>, tensor<2x8xi32>) {
  // CHECK: kiln.transpose %{{.*}} {kiln.arena = array<i64: [[T:[0-9]+]]>
  %t = kiln.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x8xf32>) -> tensor<8x2xf32>
  // CHECK: kiln.expand %{{.*}} {kiln.arena = array<i64: [[E:[0-9]+]]>}
  %e = kiln.expand %a : tensor<2x8xf32> -> tensor<2x2x8xf32>
  // CHECK: kiln.cast %{{.*}} {kiln.arena = array<i64: [[C:[0-9]+]]>}
  %c = kiln.cast %a : tensor<2x8xf32> -> tensor<2x8xi32>
  return %t, %e, %c : tensor<8x2xf32>, tensor<2x2x8xf32>, tensor<2x8xi32>
}

// -----

// A reshape of an argument reads the input's bytes in place: it gets the
// argument's offset. Storage: %a [0, 2] and %n [1, 2]: 2 x 256.
// CHECK-LABEL: func.func @reshape_of_argument
// CHECK-SAME: %{{.*}}: tensor<16xf32> {kiln.arena = 0 : i64}
// CHECK-SAME: attributes {kiln.arena_bytes = 512 : i64}
func.func @reshape_of_argument(%a: tensor<16xf32>) -> tensor<4x4xf32> {
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: 0>}
  %r = kiln.reshape %a : tensor<16xf32> -> tensor<4x4xf32>
  // CHECK: kiln.neg %{{.*}} {kiln.arena = array<i64: 256>}
  %n = kiln.neg %r : tensor<4x4xf32>
  return %n : tensor<4x4xf32>
}

// -----

// Edge: a returned reshape of an argument stays a copy (inputs and outputs
// must not share bytes: the runtime copies inputs in and outputs out around
// a step, and the manifest is checked for it).
// CHECK-LABEL: func.func @returned_reshape_of_argument
// CHECK-SAME: %{{.*}}: tensor<16xf32> {kiln.arena = 0 : i64}
// CHECK-SAME: attributes {kiln.arena_bytes = 512 : i64}
func.func @returned_reshape_of_argument(%a: tensor<16xf32>) -> tensor<4x4xf32> {
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: 256>}
  %r = kiln.reshape %a : tensor<16xf32> -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}

// -----

// Edge: two outputs that are views of one value. The first joins %0's bytes
// (one output), the second would make two outputs share them: a copy. Also a
// returned value whose view is returned: %0 and its reshape %3.
// CHECK-LABEL: func.func @returned_views
func.func @returned_views(%a: tensor<16xf32>) -> (tensor<4x4xf32>, tensor<2x8xf32>, tensor<16xf32>, tensor<16x1xf32>) {
  // CHECK: kiln.exp %{{.*}} {kiln.arena = array<i64: [[X:[0-9]+]]>}
  %0 = kiln.exp %a : tensor<16xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: [[X]]>}
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: [[R2:[0-9]+]]>}
  // CHECK-NOT: array<i64: [[X]]>
  %2 = kiln.reshape %0 : tensor<16xf32> -> tensor<2x8xf32>
  // CHECK: kiln.tanh %{{.*}} {kiln.arena = array<i64: [[T:[0-9]+]]>}
  %t = kiln.tanh %a : tensor<16xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: [[R3:[0-9]+]]>}
  // CHECK-NOT: array<i64: [[T]]>
  %3 = kiln.reshape %t : tensor<16xf32> -> tensor<16x1xf32>
  return %1, %2, %t, %3 : tensor<4x4xf32>, tensor<2x8xf32>, tensor<16xf32>, tensor<16x1xf32>
}

// -----

// A reshape of a weight is not aliased: weights are not in the arena, so it
// is a copy with bytes of its own.
// CHECK-LABEL: func.func @reshape_of_weight
func.func @reshape_of_weight(%a: tensor<16xf32>) -> tensor<4x4xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 64 : i64} : tensor<16xf32>
  // CHECK: kiln.reshape %{{.*}} {kiln.arena = array<i64: 256>}
  %r = kiln.reshape %w : tensor<16xf32> -> tensor<4x4xf32>
  // CHECK: kiln.neg %{{.*}} {kiln.arena = array<i64: 512>}
  %n = kiln.neg %r : tensor<4x4xf32>
  return %n : tensor<4x4xf32>
}
