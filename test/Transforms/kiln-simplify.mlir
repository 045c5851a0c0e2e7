// RUN: kiln-opt %s --kiln-simplify --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-simplify=max-iterations=1 --split-input-file 2>&1 | FileCheck %s --check-prefix=ONE

//===----------------------------------------------------------------------===//
// Positive: chains compose, identities fold away, constants fold.
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @compose_reshapes
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
func.func @compose_reshapes(%x: tensor<2x8xf32>) -> tensor<4x4xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<2x8xf32> -> tensor<4x4xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  return %1 : tensor<4x4xf32>
}

// -----

// A reshape of a weight is the weight read with the reshaped type (the
// same bytes; a view of a weight is outside the arena, so the reshape would
// be a copy kernel every step). A weight read transposed or as a column
// range keeps its reshape, and so does a reshape that is returned (an
// output is computed into the arena, not read from the weights).
// CHECK-LABEL: func.func @reshape_of_weight
func.func @reshape_of_weight() -> (tensor<128xf32>, tensor<32xf32>, tensor<16xf32>, tensor<8xf32>) {
  // CHECK-DAG: %[[W:.+]] = kiln.weight "s" {length = 512 : i64, offset = 64 : i64, path = "w.bin"} : tensor<128xf32>
  // CHECK-DAG: %[[T:.+]] = kiln.weight "t" {{.*}}transposed} : tensor<4x8xf32>
  // CHECK-DAG: %[[C:.+]] = kiln.weight "c" {columns = array<i64: 0, 4, 8>{{.*}}} : tensor<4x4xf32>
  // CHECK-DAG: %[[O:.+]] = kiln.weight "o" {{.*}} : tensor<2x4xf32>
  // CHECK-DAG: %[[S:.+]] = kiln.add %[[W]], %[[W]]
  // CHECK-DAG: %[[RT:.+]] = kiln.reshape %[[T]] : tensor<4x8xf32> -> tensor<32xf32>
  // CHECK-DAG: %[[RC:.+]] = kiln.reshape %[[C]] : tensor<4x4xf32> -> tensor<16xf32>
  // CHECK-DAG: %[[RO:.+]] = kiln.reshape %[[O]] : tensor<2x4xf32> -> tensor<8xf32>
  // CHECK-DAG: %[[TA:.+]] = kiln.add %[[RT]], %[[RT]]
  // CHECK-DAG: %[[CA:.+]] = kiln.add %[[RC]], %[[RC]]
  // CHECK: return %[[S]], %[[TA]], %[[CA]], %[[RO]]
  %w = kiln.weight "s" {path = "w.bin", offset = 64 : i64, length = 512 : i64} : tensor<2x64xf32>
  %0 = kiln.reshape %w : tensor<2x64xf32> -> tensor<128xf32>
  %s = kiln.add %0, %0 : (tensor<128xf32>, tensor<128xf32>) -> tensor<128xf32>
  %t = kiln.weight "t" {path = "w.bin", offset = 0 : i64, length = 128 : i64, transposed} : tensor<4x8xf32>
  %1 = kiln.reshape %t : tensor<4x8xf32> -> tensor<32xf32>
  %ta = kiln.add %1, %1 : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
  %c = kiln.weight "c" {path = "w.bin", offset = 0 : i64, length = 128 : i64, columns = array<i64: 0, 4, 8>} : tensor<4x4xf32>
  %2 = kiln.reshape %c : tensor<4x4xf32> -> tensor<16xf32>
  %ca = kiln.add %2, %2 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  %o = kiln.weight "o" {path = "w.bin", offset = 0 : i64, length = 32 : i64} : tensor<2x4xf32>
  %3 = kiln.reshape %o : tensor<2x4xf32> -> tensor<8xf32>
  return %s, %ta, %ca, %3 : tensor<128xf32>, tensor<32xf32>, tensor<16xf32>, tensor<8xf32>
}

// -----

// Three reshapes in a row collapse into one.
// CHECK-LABEL: func.func @compose_reshape_chain
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>)
func.func @compose_reshape_chain(%x: tensor<1x8x64xf32>) -> tensor<8x4x16xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<1x8x64xf32> -> tensor<8x4x16xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.reshape %x : tensor<1x8x64xf32> -> tensor<512xf32>
  %1 = kiln.reshape %0 : tensor<512xf32> -> tensor<1x8x4x16xf32>
  %2 = kiln.reshape %1 : tensor<1x8x4x16xf32> -> tensor<8x4x16xf32>
  return %2 : tensor<8x4x16xf32>
}

// -----

// A reshape chain that returns to the input type disappears entirely.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
func.func @reshape_round_trip(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK-NOT: kiln.reshape
  // CHECK: return %[[X]]
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<2x8xf32>
  return %1 : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @compose_transposes
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x4x16xf32>)
func.func @compose_transposes(%x: tensor<1x8x4x16xf32>) -> tensor<1x4x16x8xf32> {
  // [0,2,1,3] then [0,1,3,2] is [0,2,3,1].
  // CHECK-NEXT: %[[T:.+]] = kiln.transpose %[[X]] {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x16x8xf32>
  // CHECK-NEXT: return %[[T]]
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
  return %1 : tensor<1x4x16x8xf32>
}

// -----

// Non-commuting cycles: the composed permutation must apply the inner one
// first. [1,2,0] then [1,2,0] is [2,0,1] (not its inverse).
// CHECK-LABEL: func.func @compose_transposes_order
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
func.func @compose_transposes_order(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  // CHECK-NEXT: %[[T:.+]] = kiln.transpose %[[X]] {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK-NEXT: return %[[T]]
  %0 = kiln.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// -----

// A transpose followed by its inverse composes to the identity, which folds.
// CHECK-LABEL: func.func @inverse_transposes
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
func.func @inverse_transposes(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // CHECK-NOT: kiln.transpose
  // CHECK: return %[[X]]
  %0 = kiln.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @identity_ops
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>)
func.func @identity_ops(%x: tensor<2x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>,
        tensor<2x3xf32>) {
  // CHECK-NOT: kiln.
  // CHECK: return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
  %0 = kiln.transpose %x {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = kiln.expand %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = kiln.cast %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %4 = kiln.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>,
      tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Identities of rank 0 fold too.
// CHECK-LABEL: func.func @identity_scalar
// CHECK-SAME: (%[[X:.+]]: tensor<i64>)
func.func @identity_scalar(%x: tensor<i64>) -> (tensor<i64>, tensor<i64>) {
  // CHECK-NOT: kiln.
  // CHECK: return %[[X]], %[[X]]
  %0 = kiln.transpose %x {perm = array<i64>} : (tensor<i64>) -> tensor<i64>
  %1 = kiln.cast %x : tensor<i64> -> tensor<i64>
  return %0, %1 : tensor<i64>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
func.func @reshape_constant() -> tensor<2x3xi64> {
  // CHECK-NEXT: %[[C:.+]] = kiln.constant dense<{{\[\[}}1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  // CHECK-NEXT: return %[[C]]
  %c = kiln.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %0 = kiln.reshape %c : tensor<6xi64> -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// A reshape chain over a constant folds to one constant.
// CHECK-LABEL: func.func @reshape_chain_constant
func.func @reshape_chain_constant() -> tensor<1x4xf32> {
  // CHECK-NEXT: %[[C:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]]> : tensor<1x4xf32>
  // CHECK-NEXT: return %[[C]]
  %c = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %0 = kiln.reshape %c : tensor<2x2xf32> -> tensor<4xf32>
  %1 = kiln.reshape %0 : tensor<4xf32> -> tensor<1x4xf32>
  return %1 : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func.func @expand_splat_constant
func.func @expand_splat_constant() -> tensor<4x8xf32> {
  // CHECK-NEXT: %[[C:.+]] = kiln.constant dense<-1.000000e+09> : tensor<4x8xf32>
  // CHECK-NEXT: return %[[C]]
  %c = kiln.constant dense<-1.0e9> : tensor<1x8xf32>
  %0 = kiln.expand %c : tensor<1x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// Ops whose results are unused are erased (all kiln ops are pure).
// CHECK-LABEL: func.func @dead_ops
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
func.func @dead_ops(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: return %[[X]]
  %0 = kiln.exp %x : tensor<4xf32>
  %1 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64} : tensor<4xf32>
  %2 = kiln.add %0, %1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %x : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Negative: nothing may change.
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @single_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
func.func @single_reshape(%x: tensor<2x8xf32>) -> tensor<16xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<2x8xf32> -> tensor<16xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// A reshape between two transposes blocks composition: nothing changes.
// CHECK-LABEL: func.func @reshape_between_transposes
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>)
func.func @reshape_between_transposes(%x: tensor<1x8x64xf32>) -> tensor<1x64x8xf32> {
  // CHECK-NEXT: %[[T0:.+]] = kiln.transpose %[[X]] {perm = array<i64: 0, 2, 1>} : (tensor<1x8x64xf32>) -> tensor<1x64x8xf32>
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[T0]] : tensor<1x64x8xf32> -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[T1:.+]] = kiln.transpose %[[R]] {perm = array<i64: 0, 2, 1>} : (tensor<1x8x64xf32>) -> tensor<1x64x8xf32>
  // CHECK-NEXT: return %[[T1]]
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<1x8x64xf32>) -> tensor<1x64x8xf32>
  %1 = kiln.reshape %0 : tensor<1x64x8xf32> -> tensor<1x8x64xf32>
  %2 = kiln.transpose %1 {perm = array<i64: 0, 2, 1>} : (tensor<1x8x64xf32>) -> tensor<1x64x8xf32>
  return %2 : tensor<1x64x8xf32>
}

// -----

// Shape-preserving but value-changing ops must stay: a reversing slice, a
// transpose of equal dims, a real cast, a broadcast of a non-splat constant.
// CHECK-LABEL: func.func @not_identities
// CHECK-SAME: (%[[X:.+]]: tensor<4x4xf32>)
func.func @not_identities(%x: tensor<4x4xf32>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf16>, tensor<4x4xf32>,
        tensor<2x4xi64>) {
  // The greedy driver hoists constants to the top of the block.
  // CHECK-NEXT: %[[K:.+]] = kiln.constant dense<{{\[\[}}1, 2, 3, 4]]> : tensor<1x4xi64>
  // CHECK-NEXT: %[[REV:.+]] = kiln.slice %[[X]] {starts = array<i64: 3, 0>, steps = array<i64: -1, 1>} : tensor<4x4xf32> -> tensor<4x4xf32>
  %0 = kiln.slice %x {starts = array<i64: 3, 0>, steps = array<i64: -1, 1>} : tensor<4x4xf32> -> tensor<4x4xf32>
  // CHECK: %[[T:.+]] = kiln.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %1 = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  // CHECK: %[[C:.+]] = kiln.cast %[[X]] : tensor<4x4xf32> -> tensor<4x4xf16>
  %2 = kiln.cast %x : tensor<4x4xf32> -> tensor<4x4xf16>
  // CHECK: %[[S:.+]] = kiln.slice %[[X]] {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<4x4xf32> -> tensor<2x4xf32>
  %3 = kiln.slice %x {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<4x4xf32> -> tensor<2x4xf32>
  // CHECK: %[[E:.+]] = kiln.expand %[[S]] : tensor<2x4xf32> -> tensor<4x2x4xf32>
  %4 = kiln.expand %3 : tensor<2x4xf32> -> tensor<4x2x4xf32>
  // CHECK: %[[KE:.+]] = kiln.expand %[[K]] : tensor<1x4xi64> -> tensor<2x4xi64>
  %k = kiln.constant dense<[[1, 2, 3, 4]]> : tensor<1x4xi64>
  %5 = kiln.expand %k : tensor<1x4xi64> -> tensor<2x4xi64>
  // The sliced-then-expanded value feeds a reduction to stay live.
  // CHECK: %[[RS:.+]] = kiln.reduce_sum %[[E]] {axes = array<i64: 0>, keepdims = false} : (tensor<4x2x4xf32>) -> tensor<2x4xf32>
  %6 = kiln.reduce_sum %4 {axes = array<i64: 0>, keepdims = false} : (tensor<4x2x4xf32>) -> tensor<2x4xf32>
  // CHECK: %[[CAT:.+]] = kiln.concat %[[RS]], %[[RS]] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  %7 = kiln.concat %6, %6 {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x4xf32>
  // CHECK: return %[[REV]], %[[T]], %[[C]], %[[CAT]], %[[KE]]
  return %0, %1, %2, %7, %5 : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf16>,
      tensor<4x4xf32>, tensor<2x4xi64>
}

// -----

// A cast of a constant is not folded (no constant folder for cast yet).
// CHECK-LABEL: func.func @cast_constant
func.func @cast_constant() -> tensor<2xf32> {
  // CHECK-NEXT: %[[C:.+]] = kiln.constant dense<[1, 2]> : tensor<2xi64>
  // CHECK-NEXT: %[[F:.+]] = kiln.cast %[[C]] : tensor<2xi64> -> tensor<2xf32>
  // CHECK-NEXT: return %[[F]]
  %c = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %0 = kiln.cast %c : tensor<2xi64> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

//===----------------------------------------------------------------------===//
// Edge cases
//===----------------------------------------------------------------------===//

// -----

// The inner reshape has another use: the outer one is rewired to the
// original input and the inner one stays for its other user.
// CHECK-LABEL: func.func @shared_inner_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
func.func @shared_inner_reshape(%x: tensor<2x8xf32>) -> (tensor<16xf32>, tensor<4x4xf32>) {
  // CHECK-DAG: %[[FLAT:.+]] = kiln.reshape %[[X]] : tensor<2x8xf32> -> tensor<16xf32>
  // CHECK-DAG: %[[SQ:.+]] = kiln.reshape %[[X]] : tensor<2x8xf32> -> tensor<4x4xf32>
  // CHECK: return %[[FLAT]], %[[SQ]]
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  return %0, %1 : tensor<16xf32>, tensor<4x4xf32>
}

// -----

// The inner transpose has another use and stays; the outer one reads %x.
// CHECK-LABEL: func.func @shared_inner_transpose
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>)
func.func @shared_inner_transpose(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2x3xf32>) {
  // CHECK-NEXT: %[[T:.+]] = kiln.transpose %[[X]] {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK-NEXT: return %[[T]], %[[X]]
  %0 = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<2x3xf32>
}

// -----

// Reshape to and from rank 0.
// CHECK-LABEL: func.func @reshape_scalar
// CHECK-SAME: (%[[X:.+]]: tensor<1x1xf32>)
func.func @reshape_scalar(%x: tensor<1x1xf32>) -> tensor<1xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<1x1xf32> -> tensor<1xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.reshape %x : tensor<1x1xf32> -> tensor<f32>
  %1 = kiln.reshape %0 : tensor<f32> -> tensor<1xf32>
  return %1 : tensor<1xf32>
}

// -----

// Zero-element tensors: an empty reshape chain still composes.
// CHECK-LABEL: func.func @reshape_empty
// CHECK-SAME: (%[[X:.+]]: tensor<0x4xf32>)
func.func @reshape_empty(%x: tensor<0x4xf32>) -> tensor<4x0xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<0x4xf32> -> tensor<4x0xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.reshape %x : tensor<0x4xf32> -> tensor<0xf32>
  %1 = kiln.reshape %0 : tensor<0xf32> -> tensor<4x0xf32>
  return %1 : tensor<4x0xf32>
}

// -----

// Rewrites reach ops nested in regions other than the function body.
// CHECK-LABEL: module @nested
module @nested {
  // CHECK-LABEL: func.func @inner
  // CHECK-SAME: (%[[X:.+]]: tensor<2x2xf32>)
  func.func @inner(%x: tensor<2x2xf32>) -> tensor<2x2xf32> {
    // CHECK-NEXT: return %[[X]]
    %0 = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
    %1 = kiln.transpose %0 {perm = array<i64: 1, 0>} : (tensor<2x2xf32>) -> tensor<2x2xf32>
    return %1 : tensor<2x2xf32>
  }
}

// -----

// With a one-iteration budget the pass still rewrites but warns that it did
// not confirm a fixed point (the ONE run applies this to every split).
// ONE: warning: kiln-simplify did not converge in 1 iterations
// CHECK-LABEL: func.func @budget
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
func.func @budget(%x: tensor<2x8xf32>) -> tensor<2x2x4xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<2x8xf32> -> tensor<2x2x4xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = kiln.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  %2 = kiln.reshape %1 : tensor<4x4xf32> -> tensor<2x2x4xf32>
  return %2 : tensor<2x2x4xf32>
}
