// RUN: kiln-run %s --backend=ref | FileCheck %s
// RUN: not kiln-compile %s --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: conv.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'kiln.conv' op in kernel @{{k[0-9]+}}_conv has no CUDA lowering

// kiln.conv on hand-computed values. x = [1, 2, 3, 4] (N = C = 1),
// w = [1, -1]: x[i] - x[i + 1] = [-1, -1, -1]; with bias 10: [9, 9, 9].
// CHECK: output 0: f32 1x1x3 [9, 9, 9]
// One pad each side, stride 2: windows [-1, 0], [1, 2], [3, 4] ->
// [0 - 1, 2 - 3, 4 - 0].
// CHECK: output 1: f32 1x1x3 [-1, -1, 4]
// Dilation 2: x[i] - x[i + 2] = [-2, -2].
// CHECK: output 2: f32 1x1x2 [-2, -2]
// Two groups: channel 0 [1, 2, 3] with weight [1, 1], channel 1
// [10, 20, 30] with weight [2, 0]: [3, 5] and [20, 40].
// CHECK: output 3: f32 1x2x2 [3, 5, 20, 40]

func.func @main() -> (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x2xf32>, tensor<1x2x2xf32>) {
  %x = kiln.constant dense<[[[1.0, 2.0, 3.0, 4.0]]]> : tensor<1x1x4xf32>
  %w = kiln.constant dense<[[[1.0, -1.0]]]> : tensor<1x1x2xf32>
  %b = kiln.constant dense<[10.0]> : tensor<1xf32>
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>, tensor<1x1x2xf32>, tensor<1xf32>) -> tensor<1x1x3xf32>
  %1 = kiln.conv %x, %w {strides = array<i64: 2>, pads = array<i64: 1, 1>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>, tensor<1x1x2xf32>) -> tensor<1x1x3xf32>
  %2 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 2>} : (tensor<1x1x4xf32>, tensor<1x1x2xf32>) -> tensor<1x1x2xf32>
  %y = kiln.constant dense<[[[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]]> : tensor<1x2x3xf32>
  %wg = kiln.constant dense<[[[1.0, 1.0]], [[2.0, 0.0]]]> : tensor<2x1x2xf32>
  %3 = kiln.conv %y, %wg {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, group = 2 : i64} : (tensor<1x2x3xf32>, tensor<2x1x2xf32>) -> tensor<1x2x2xf32>
  return %0, %1, %2, %3 : tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x2xf32>, tensor<1x2x2xf32>
}
