// RUN: kiln-run %s --backend=ref | FileCheck %s

// The reference backend runs the fused level: a kiln.fusion evaluates its
// body with the block arguments bound to its operands; a kiln.gemm is a
// matmul plus its epilogue, act(scale * (a x b) + bias + residual). Small
// integers keep every value exact.
//
// a x b = [[5, -7], [11, -15]]; with bias 1 and relu:
// CHECK: output 0: f32 2x2 [6, 0, 12, 0]
// scale 0.5, bias 1, residual 1:
// CHECK: output 1: f32 2x2 [4.5, -1.5, 7.5, -5.5]
// transpose_b: a x b^T = [[-1, -4], [-1, -6]]
// CHECK: output 2: f32 2x2 [-1, -4, -1, -6]
// gelu_tanh matches kiln.gelu approximate<tanh> on the same values.
// CHECK: output 3: f32 2x2 [[GELU:.*]]
// CHECK: output 4: f32 2x2 [[GELU]]
// A batched gemm whose rhs is broadcast (stride 0) over the batch.
// CHECK: output 5: f32 2x1x2 [5, -7, 10, -14]
// A fusion of two ops with two results, one input used twice.
// CHECK: output 6: f32 2x2 [2, 4, 6, 8]
// CHECK: output 7: f32 2x2 [3, 6, 9, 12]

func.func @main() -> (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>,
                      tensor<2x2xf32>, tensor<2x1x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) {
  %a = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = kiln.constant dense<[[1.0, -1.0], [2.0, -3.0]]> : tensor<2x2xf32>
  %one = kiln.constant dense<1.0> : tensor<2xf32>
  %ones = kiln.constant dense<1.0> : tensor<2x2xf32>
  %0 = kiln.gemm %a, %b, %one activation<relu> : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  %1 = kiln.gemm %a, %b, %one residual %ones {scale = 0.5 : f32} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %2 = kiln.gemm %a, %b transpose_b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %3 = kiln.gemm %a, %b activation<gelu_tanh> : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %mm = kiln.matmul %a, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %4 = kiln.gelu %mm approximate<tanh> : tensor<2x2xf32>
  %rows = kiln.constant dense<[[[1.0, 2.0]], [[2.0, 4.0]]]> : tensor<2x1x2xf32>
  %5 = kiln.gemm %rows, %b : (tensor<2x1x2xf32>, tensor<2x2xf32>) -> tensor<2x1x2xf32>
  %6:2 = kiln.fusion %a : (tensor<2x2xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  ^bb0(%x: tensor<2x2xf32>):
    %d = kiln.add %x, %x : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    %t = kiln.add %d, %x : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    kiln.yield %d, %t : tensor<2x2xf32>, tensor<2x2xf32>
  }
  return %0, %1, %2, %3, %4, %5, %6#0, %6#1 : tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x1x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>
}
