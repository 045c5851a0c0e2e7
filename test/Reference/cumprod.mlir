// RUN: kiln-run %s --backend=ref | FileCheck %s
// RUN: %python %S/../Import/Inputs/onnxtext2model.py %S/Inputs/cumprod.onnxtext %t.onnx
// RUN: kiln-import %t.onnx | FileCheck %s --check-prefix=IMPORT

// kiln.cumprod on x = [[1, 2, 3, 4], [-1, 2, -3, 0.5]] along 1: inclusive
// forward; exclusive (starting from the identity 1) reverse; i32 with
// wrapping arithmetic in int64 (no overflow here).
// CHECK: output 0: f32 2x4 [1, 2, 6, 24, -1, -2, 6, 3]
// CHECK: output 1: f32 2x4 [24, 12, 4, 1, -3, -1.5, 0.5, 1]
// CHECK: output 2: i32 3 [2, 6, 24]
// IMPORT: kiln.cumprod %{{.*}} {axis = 1 : i64, exclusive = true, reverse = true} : tensor<2x4xf32>

func.func @main() -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<3xi32>) {
  %x = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0], [-1.0, 2.0, -3.0, 0.5]]> : tensor<2x4xf32>
  %0 = kiln.cumprod %x {axis = 1 : i64} : tensor<2x4xf32>
  %1 = kiln.cumprod %x {axis = 1 : i64, exclusive = true, reverse = true} : tensor<2x4xf32>
  %i = kiln.constant dense<[2, 3, 4]> : tensor<3xi32>
  %2 = kiln.cumprod %i {axis = 0 : i64} : tensor<3xi32>
  return %0, %1, %2 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<3xi32>
}
