// RUN: kiln-run %s --backend=ref | FileCheck %s

// Bitwise ops on two's complement integers; narrow integer results wrap to
// their width (ui8 not 5 = 250, i8 100 + 100 = -56) as the stored bytes do.
// CHECK: output 0: i32 2 [8, 7]
// CHECK: output 1: i32 2 [14, -1]
// CHECK: output 2: i32 2 [6, -8]
// CHECK: output 3: u8 2 [250, 255]
// CHECK: output 4: i8 2 [-56, 2]
// scatter_elements along axis 1 of indices [[0, 0], [2, -1]] and updates
// [[1, 2], [3, 4]], in row-major order: reduction none (the last write wins)
// and add on zeros; mul, max and min on fives.
// CHECK: output 5: f32 2x3 [2, 0, 0, 0, 0, 4]
// CHECK: output 6: f32 2x3 [3, 0, 0, 0, 0, 7]
// CHECK: output 7: f32 2x3 [10, 5, 5, 5, 5, 60]
// CHECK: output 8: f32 2x3 [5, 5, 5, 5, 5, 5]
// CHECK: output 9: f32 2x3 [1, 5, 5, 5, 5, 3]
// Integers: max keeps the sign (-1 > -7).
// CHECK: output 10: i64 2x3 [-1, -7, -7, -7, -7, -1]

func.func @main() -> (tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xui8>, tensor<2xi8>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi64>) {
  %a = kiln.constant dense<[12, -1]> : tensor<2xi32>
  %b = kiln.constant dense<[10, 7]> : tensor<2xi32>
  %0 = kiln.bit_and %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %1 = kiln.bit_or %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %2 = kiln.bit_xor %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  %u = kiln.constant dense<[5, 0]> : tensor<2xui8>
  %3 = kiln.bit_not %u : tensor<2xui8>
  %s = kiln.constant dense<[100, 1]> : tensor<2xi8>
  %4 = kiln.add %s, %s : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %zeros = kiln.constant dense<0.0> : tensor<2x3xf32>
  %fives = kiln.constant dense<5.0> : tensor<2x3xf32>
  %idx = kiln.constant dense<[[0, 0], [2, -1]]> : tensor<2x2xi64>
  %upd = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %5 = kiln.scatter_elements %zeros, %idx, %upd {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %6 = kiln.scatter_elements %zeros, %idx, %upd {axis = 1 : i64, reduction = #kiln.reduction<add>} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %7 = kiln.scatter_elements %fives, %idx, %upd {axis = 1 : i64, reduction = #kiln.reduction<mul>} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %8 = kiln.scatter_elements %fives, %idx, %upd {axis = 1 : i64, reduction = #kiln.reduction<max>} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %9 = kiln.scatter_elements %fives, %idx, %upd {axis = 1 : i64, reduction = #kiln.reduction<min>} : (tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x2xf32>) -> tensor<2x3xf32>
  %sevens = kiln.constant dense<-7> : tensor<2x3xi64>
  %iupd = kiln.constant dense<-1> : tensor<2x2xi64>
  %10 = kiln.scatter_elements %sevens, %idx, %iupd {axis = 1 : i64, reduction = #kiln.reduction<max>} : (tensor<2x3xi64>, tensor<2x2xi64>, tensor<2x2xi64>) -> tensor<2x3xi64>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10 : tensor<2xi32>, tensor<2xi32>, tensor<2xi32>, tensor<2xui8>, tensor<2xi8>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xi64>
}
