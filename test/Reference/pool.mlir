// RUN: kiln-run %s --backend=ref | FileCheck %s
// No CUDA kernel yet: a located error, not a crash.
// RUN: not kiln-compile %s --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: pool.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'kiln.pool' op in kernel @{{k[0-9]+}}_pool has no CUDA lowering

// kiln.pool on hand-computed values. x = [1, -2, 3, 4] (N = C = 1).
// max, kernel 2, stride 1.
// CHECK: output 0: f32 1x1x3 [1, 3, 4]
// avg, kernel 2, stride 2, one pad each side: windows [-1, 0], [1, 2], [3, 4];
// without count_include_pad each divides by its positions inside the input.
// CHECK: output 1: f32 1x1x3 [1, 0.5, 4]
// with it, by its positions inside the padded extent [-1, 5).
// CHECK: output 2: f32 1x1x3 [0.5, 0.5, 2]
// lp, p 2, kernel 2, stride 2: sqrt(1 + 4), sqrt(9 + 16).
// CHECK: output 3: f32 1x1x2 [2.23607, 5]
// ceil mode on [1, 2, 3, 4, 5], kernel 2, stride 2: the last window [4, 5]
// reaches past the padded extent [0, 5), so count_include_pad counts 1.
// CHECK: output 4: f32 1x1x3 [1.5, 3.5, 5]
// 3x3 [[1, 2, 3], [4, 5, 6], [7, 8, 9]], avg, kernel 2x2, dilation 2: the
// corners (1 + 3 + 7 + 9) / 4.
// CHECK: output 5: f32 1x1x1x1 [5]
// int8 max, kernel 2, stride 2.
// CHECK: output 6: i8 1x1x2 [5, 2]

func.func @main() -> (tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x2xf32>, tensor<1x1x3xf32>, tensor<1x1x1x1xf32>, tensor<1x1x2xi8>) {
  %x = kiln.constant dense<[[[1.0, -2.0, 3.0, 4.0]]]> : tensor<1x1x4xf32>
  %0 = kiln.pool %x {kind = "max", kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>) -> tensor<1x1x3xf32>
  %1 = kiln.pool %x {kind = "avg", kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 1, 1>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>) -> tensor<1x1x3xf32>
  %2 = kiln.pool %x {kind = "avg", kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 1, 1>, dilations = array<i64: 1>, count_include_pad = true} : (tensor<1x1x4xf32>) -> tensor<1x1x3xf32>
  %3 = kiln.pool %x {kind = "lp", kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>) -> tensor<1x1x2xf32>
  %y = kiln.constant dense<[[[1.0, 2.0, 3.0, 4.0, 5.0]]]> : tensor<1x1x5xf32>
  %4 = kiln.pool %y {kind = "avg", kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, count_include_pad = true} : (tensor<1x1x5xf32>) -> tensor<1x1x3xf32>
  %z = kiln.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]> : tensor<1x1x3x3xf32>
  %5 = kiln.pool %z {kind = "avg", kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>} : (tensor<1x1x3x3xf32>) -> tensor<1x1x1x1xf32>
  %i = kiln.constant dense<[[[-3, 5, -1, 2]]]> : tensor<1x1x4xi8>
  %6 = kiln.pool %i {kind = "max", kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xi8>) -> tensor<1x1x2xi8>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x3xf32>, tensor<1x1x2xf32>, tensor<1x1x3xf32>, tensor<1x1x1x1xf32>, tensor<1x1x2xi8>
}
