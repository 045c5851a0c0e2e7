// RUN: kiln-run %s --backend=ref | FileCheck %s
// RUN: not kiln-compile %s --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: error: 'kiln.scatter_nd' op in kernel @{{k[0-9]+}}_scatter_nd has reduction 'add', which has no CUDA lowering (only reduction none)

// kiln.scatter_nd with a reduction on data [1, 2, 3, 4], indices [[1], [3],
// [1]] (index 1 twice: both updates apply, in order), updates [10, 20, 30]:
// add: [1, 2 + 10 + 30, 3, 4 + 20]; mul: [1, 2 * 10 * 30, 3, 80];
// max: [1, 30, 3, 20]; min: [1, 2, 3, 4].
// CHECK: output 0: f32 4 [1, 42, 3, 24]
// CHECK: output 1: f32 4 [1, 600, 3, 80]
// CHECK: output 2: f32 4 [1, 30, 3, 20]
// CHECK: output 3: f32 4 [1, 2, 3, 4]

func.func @main() -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %d = kiln.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %i = kiln.constant dense<[[1], [3], [1]]> : tensor<3x1xi64>
  %u = kiln.constant dense<[10.0, 20.0, 30.0]> : tensor<3xf32>
  %0 = kiln.scatter_nd %d, %i, %u {reduction = #kiln.reduction<add>} : (tensor<4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<4xf32>
  %1 = kiln.scatter_nd %d, %i, %u {reduction = #kiln.reduction<mul>} : (tensor<4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<4xf32>
  %2 = kiln.scatter_nd %d, %i, %u {reduction = #kiln.reduction<max>} : (tensor<4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<4xf32>
  %3 = kiln.scatter_nd %d, %i, %u {reduction = #kiln.reduction<min>} : (tensor<4xf32>, tensor<3x1xi64>, tensor<3xf32>) -> tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
