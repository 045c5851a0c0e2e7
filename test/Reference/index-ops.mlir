// RUN: kiln-run %s --backend=ref | FileCheck %s

// The reference kernels of KilnIndexOps.td on hand-computed values.
// x = [[1, 3, 3, -2], [0.5, -1, 4, 4]]
// arg_max along 1: ties give the first index, or the last.
// CHECK: output 0: i64 2 [1, 2]
// CHECK: output 1: i64 2 [2, 3]
// arg_min along 1.
// CHECK: output 2: i64 2 [3, 1]
// cumsum along 1, inclusive forward; exclusive reverse.
// CHECK: output 3: f32 2x4 [1, 4, 7, 5, 0.5, -0.5, 3.5, 7.5]
// CHECK: output 4: f32 2x4 [4, 1, -2, 0, 7, 8, 4, 0]
// top_k k = 2 largest (ties in index order), smallest.
// CHECK: output 5: f32 2x2 [3, 3, 4, 4]
// CHECK: output 6: i64 2x2 [1, 2, 2, 3]
// CHECK: output 7: f32 2x2 [-2, 1, -1, 0.5]
// CHECK: output 8: i64 2x2 [3, 0, 1, 0]
// gather_elements along 1 with [[3, -4], [0, 2]] (-4 counts from the end).
// CHECK: output 9: f32 2x2 [-2, 1, 0.5, 4]
// reduce_min, reduce_prod along 1.
// CHECK: output 10: f32 2 [-2, -1]
// CHECK: output 11: f32 2 [-18, -8]
// mod (floored: the divisor's sign) and fmod (truncated: the dividend's) of
// [-7, 7, -7, 7] by [3, 3, -3, -3].
// CHECK: output 12: i64 4 [2, 1, -1, -2]
// CHECK: output 13: i64 4 [-1, 1, -1, 1]
// round halves to even; sign.
// CHECK: output 14: f32 5 [0, 2, 2, -2, 2]
// CHECK: output 15: i64 3 [-1, 0, 1]
// floor, ceil of [-1.5, 1.5].
// CHECK: output 16: f32 2 [-2, 1]
// CHECK: output 17: f32 2 [-1, 2]
// An empty reduce_min of i8 is the type's maximum; an empty product is 1.
// CHECK: output 18: i8 2 [127, 127]
// CHECK: output 19: f32 2 [1, 1]

func.func @main() -> (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xi64>, tensor<2x2xf32>, tensor<2x2xi64>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<4xi64>, tensor<4xi64>, tensor<5xf32>, tensor<3xi64>, tensor<2xf32>, tensor<2xf32>, tensor<2xi8>, tensor<2xf32>) {
  %x = kiln.constant dense<[[1.0, 3.0, 3.0, -2.0], [0.5, -1.0, 4.0, 4.0]]> : tensor<2x4xf32>
  %0 = kiln.arg_max %x {axis = 1 : i64, keepdims = false} : (tensor<2x4xf32>) -> tensor<2xi64>
  %1 = kiln.arg_max %x {axis = 1 : i64, keepdims = false, select_last_index = true} : (tensor<2x4xf32>) -> tensor<2xi64>
  %2 = kiln.arg_min %x {axis = 1 : i64, keepdims = false} : (tensor<2x4xf32>) -> tensor<2xi64>
  %3 = kiln.cumsum %x {axis = 1 : i64} : tensor<2x4xf32>
  %4 = kiln.cumsum %x {axis = 1 : i64, exclusive = true, reverse = true} : tensor<2x4xf32>
  %5:2 = kiln.top_k %x {axis = 1 : i64, k = 2 : i64} : (tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
  %6:2 = kiln.top_k %x {axis = 1 : i64, k = 2 : i64, largest = false} : (tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xi64>)
  %idx = kiln.constant dense<[[3, -4], [0, 2]]> : tensor<2x2xi64>
  %7 = kiln.gather_elements %x, %idx {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
  %8 = kiln.reduce_min %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x4xf32>) -> tensor<2xf32>
  %9 = kiln.reduce_prod %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x4xf32>) -> tensor<2xf32>
  %a = kiln.constant dense<[-7, 7, -7, 7]> : tensor<4xi64>
  %b = kiln.constant dense<[3, 3, -3, -3]> : tensor<4xi64>
  %10 = kiln.mod %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %11 = kiln.fmod %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %r = kiln.constant dense<[0.5, 1.5, 2.5, -2.5, 2.4]> : tensor<5xf32>
  %12 = kiln.round %r : tensor<5xf32>
  %s = kiln.constant dense<[-5, 0, 7]> : tensor<3xi64>
  %13 = kiln.sign %s : tensor<3xi64>
  %f = kiln.constant dense<[-1.5, 1.5]> : tensor<2xf32>
  %14 = kiln.floor %f : tensor<2xf32>
  %15 = kiln.ceil %f : tensor<2xf32>
  %e = kiln.constant dense<0> : tensor<2x0xi8>
  %16 = kiln.reduce_min %e {axes = array<i64: 1>, keepdims = false} : (tensor<2x0xi8>) -> tensor<2xi8>
  %ef = kiln.constant dense<0.0> : tensor<2x0xf32>
  %17 = kiln.reduce_prod %ef {axes = array<i64: 1>, keepdims = false} : (tensor<2x0xf32>) -> tensor<2xf32>
  return %0, %1, %2, %3, %4, %5#0, %5#1, %6#0, %6#1, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17 : tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xi64>, tensor<2x2xf32>, tensor<2x2xi64>, tensor<2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<4xi64>, tensor<4xi64>, tensor<5xf32>, tensor<3xi64>, tensor<2xf32>, tensor<2xf32>, tensor<2xi8>, tensor<2xf32>
}
