// Generated kernels accumulate in fp32 for f32 tensors (kiln::Acc,
// kiln_kernels.cuh): the PTX of every reduction, softmax, norm, generic
// matmul/linear and attention kernel of an f32 function holds no `.f64`
// instruction or register. An f64 function keeps f64 accumulation, which
// shows that the check would see one. The kernels are in program order, so
// the implicit CHECK-NOT covers the whole file.
// REQUIRES: nvcc
// RUN: kiln-compile %s --function=main --no-gemm --emit=cuda -o %t.cu
// RUN: /usr/local/cuda/bin/nvcc -std=c++17 -ptx -arch=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.ptx
// RUN: FileCheck %s --input-file=%t.ptx --implicit-check-not=.f64
// RUN: kiln-compile %s --function=wide --no-gemm --emit=cuda -o %t.f64.cu
// RUN: /usr/local/cuda/bin/nvcc -std=c++17 -ptx -arch=sm_80 -I%kiln_src/codegen/kernels %t.f64.cu -o %t.f64.ptx
// RUN: FileCheck %s --input-file=%t.f64.ptx --check-prefix=F64

// CHECK: .entry k0_reduce_sum(
// CHECK: .entry k1_reduce_mean(
// CHECK: .entry k2_softmax(
// CHECK: .entry k3_layer_norm(
// CHECK: .entry k4_rms_norm(
// CHECK: .entry k5_matmul(
// CHECK: .entry k6_linear(
// CHECK: .entry k7_attention(
func.func @main(%x: tensor<4x64xf32>, %g: tensor<64xf32>,
                %a: tensor<2x4x64xf32>, %w: tensor<64x16xf32>,
                %q: tensor<1x2x4x16xf32>)
    -> (tensor<4x1xf32>, tensor<4x1xf32>, tensor<4x64xf32>, tensor<4x64xf32>,
        tensor<4x64xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>,
        tensor<1x2x4x16xf32>) {
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>} : (tensor<4x64xf32>) -> tensor<4x1xf32>
  %1 = kiln.reduce_mean %x {axes = array<i64: 1>} : (tensor<4x64xf32>) -> tensor<4x1xf32>
  %2 = kiln.softmax %x {axis = 1 : i64} : tensor<4x64xf32>
  %3 = kiln.layer_norm %x, %g, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %4 = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %5 = kiln.matmul %a, %w : (tensor<2x4x64xf32>, tensor<64x16xf32>) -> tensor<2x4x16xf32>
  %6 = kiln.linear %a, %w : (tensor<2x4x64xf32>, tensor<64x16xf32>) -> tensor<2x4x16xf32>
  %7 = kiln.attention %q, %q, %q {scale = 0.25 : f32, causal = true} : (tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<4x1xf32>, tensor<4x1xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<2x4x16xf32>, tensor<2x4x16xf32>, tensor<1x2x4x16xf32>
}

// F64: .entry k0_reduce_sum{{(_[0-9]+)?}}(
// F64: add.f64
func.func @wide(%x: tensor<4x64xf64>) -> tensor<4x1xf64> {
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>} : (tensor<4x64xf64>) -> tensor<4x1xf64>
  return %0 : tensor<4x1xf64>
}
