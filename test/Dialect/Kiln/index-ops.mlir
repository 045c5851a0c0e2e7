// Round-trip of the ops of KilnIndexOps.td: the further elementwise math,
// reduce_min / reduce_prod, and the ops that select or accumulate along an
// axis. Custom -> custom, custom -> generic -> custom, MLIR's own check.
//
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --verify-roundtrip > /dev/null

// CHECK-LABEL: func.func @math
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>, %[[I:.+]]: tensor<2x3xi64>, %[[J:.+]]: tensor<i64>)
func.func @math(%x: tensor<2x3xf32>, %i: tensor<2x3xi64>, %j: tensor<i64>) {
  // CHECK: kiln.tan %[[X]] : tensor<2x3xf32>
  %0 = kiln.tan %x : tensor<2x3xf32>
  // CHECK: kiln.asin %[[X]] : tensor<2x3xf32>
  %1 = kiln.asin %x : tensor<2x3xf32>
  // CHECK: kiln.acos %[[X]] : tensor<2x3xf32>
  %2 = kiln.acos %x : tensor<2x3xf32>
  // CHECK: kiln.atan %[[X]] : tensor<2x3xf32>
  %3 = kiln.atan %x : tensor<2x3xf32>
  // CHECK: kiln.sinh %[[X]] : tensor<2x3xf32>
  %4 = kiln.sinh %x : tensor<2x3xf32>
  // CHECK: kiln.cosh %[[X]] : tensor<2x3xf32>
  %5 = kiln.cosh %x : tensor<2x3xf32>
  // CHECK: kiln.asinh %[[X]] : tensor<2x3xf32>
  %6 = kiln.asinh %x : tensor<2x3xf32>
  // CHECK: kiln.acosh %[[X]] : tensor<2x3xf32>
  %7 = kiln.acosh %x : tensor<2x3xf32>
  // CHECK: kiln.atanh %[[X]] : tensor<2x3xf32>
  %8 = kiln.atanh %x : tensor<2x3xf32>
  // CHECK: kiln.floor %[[X]] : tensor<2x3xf32>
  %9 = kiln.floor %x : tensor<2x3xf32>
  // CHECK: kiln.ceil %[[X]] : tensor<2x3xf32>
  %10 = kiln.ceil %x : tensor<2x3xf32>
  // CHECK: kiln.round %[[X]] : tensor<2x3xf32>
  %11 = kiln.round %x : tensor<2x3xf32>
  // CHECK: kiln.sign %[[I]] : tensor<2x3xi64>
  %12 = kiln.sign %i : tensor<2x3xi64>
  // CHECK: kiln.mod %[[I]], %[[J]] : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  %13 = kiln.mod %i, %j : (tensor<2x3xi64>, tensor<i64>) -> tensor<2x3xi64>
  // CHECK: kiln.fmod %[[X]], %[[X]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %14 = kiln.fmod %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.reduce_min %[[X]] {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %15 = kiln.reduce_min %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  // CHECK: kiln.reduce_prod %[[I]] {axes = array<i64: 0>} : (tensor<2x3xi64>) -> tensor<1x3xi64>
  %16 = kiln.reduce_prod %i {axes = array<i64: 0>} : (tensor<2x3xi64>) -> tensor<1x3xi64>
  return
}

// CHECK-LABEL: func.func @select
// CHECK-SAME: (%[[X:.+]]: tensor<3x4xf32>, %[[IDX:.+]]: tensor<3x2xi64>)
func.func @select(%x: tensor<3x4xf32>, %idx: tensor<3x2xi64>) {
  // CHECK: kiln.gather_elements %[[X]], %[[IDX]] {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  %0 = kiln.gather_elements %x, %idx {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  // CHECK: kiln.arg_max %[[X]] {axis = 1 : i64} : (tensor<3x4xf32>) -> tensor<3x1xi64>
  %1 = kiln.arg_max %x {axis = 1 : i64, keepdims = true} : (tensor<3x4xf32>) -> tensor<3x1xi64>
  // CHECK: kiln.arg_min %[[X]] {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<3x4xf32>) -> tensor<4xi64>
  %2 = kiln.arg_min %x {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<3x4xf32>) -> tensor<4xi64>
  // CHECK: kiln.cumsum %[[X]] {axis = 1 : i64, exclusive = true, reverse = true} : tensor<3x4xf32>
  %3 = kiln.cumsum %x {axis = 1 : i64, exclusive = true, reverse = true} : tensor<3x4xf32>
  // CHECK: kiln.top_k %[[X]] {axis = 1 : i64, k = 2 : i64, largest = false} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  %4:2 = kiln.top_k %x {axis = 1 : i64, k = 2 : i64, largest = false} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  // CHECK: kiln.scatter_elements %[[X]], %[[IDX]], %[[G:.+]] {axis = 1 : i64, reduction = #kiln.reduction<max>} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  %5 = kiln.scatter_elements %x, %idx, %0 {axis = 1 : i64, reduction = #kiln.reduction<max>} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  // CHECK: kiln.scatter_elements %[[X]], %[[IDX]], %[[G]] {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  %6 = kiln.scatter_elements %x, %idx, %0 {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  return
}

// CHECK-LABEL: func.func @bitwise
// CHECK-SAME: (%[[A:.+]]: tensor<4xi32>, %[[B:.+]]: tensor<i32>, %[[U:.+]]: tensor<4xui8>)
func.func @bitwise(%a: tensor<4xi32>, %b: tensor<i32>, %u: tensor<4xui8>) {
  // CHECK: kiln.bit_and %[[A]], %[[B]] : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  %0 = kiln.bit_and %a, %b : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  // CHECK: kiln.bit_or %[[A]], %[[B]] : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  %1 = kiln.bit_or %a, %b : (tensor<4xi32>, tensor<i32>) -> tensor<4xi32>
  // CHECK: kiln.bit_xor %[[U]], %[[U]] : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %2 = kiln.bit_xor %u, %u : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  // CHECK: kiln.bit_not %[[U]] : tensor<4xui8>
  %3 = kiln.bit_not %u : tensor<4xui8>
  return
}
