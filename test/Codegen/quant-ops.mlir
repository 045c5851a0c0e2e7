// kiln.matmul_nbits through the whole pipeline to CUDA: the emitted kernel
// instantiates kiln::matmulNBits with the op's shapes and bits and a
// zero-point lambda of the operand's kind (none: 2^(bits-1); packed ui8: a
// nibble or a byte; float), and
// compiles with nvcc for sm_80 and sm_90a.
// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-graph-pipeline, func.func(kiln-form-fusions{max-ops=1}, kiln-plan-memory, kiln-verify-plan), kiln-schedule)' -o %t.scheduled.mlir
// RUN: kiln-compile %t.scheduled.mlir --emit=cuda -o %t.cu
// RUN: FileCheck %s --input-file=%t.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.80.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t.cu -o %t.90a.o %}

// CHECK: #include "kiln_kernels.cuh"
func.func @main(%x: tensor<2x8x64xf32> {kiln.name = "x"}) -> (tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>) {
  %w = kiln.constant dense<165> : tensor<32x2x16xui8>
  %s = kiln.constant dense<0.5> : tensor<64xf32>
  %z = kiln.constant dense<119> : tensor<32xui8>
  %b = kiln.constant dense<1.0> : tensor<32xf32>
  %w8 = kiln.constant dense<200> : tensor<32x2x32xui8>
  %z8 = kiln.constant dense<100> : tensor<64xui8>
  // CHECK: (const float *__restrict__ in0, const uint8_t *__restrict__ in1, const float *__restrict__ in2, float *__restrict__ out0)
  // CHECK: kiln::matmulNBits<16, 32, 64, 32, 4>(in0, in1, in2, out0,
  // CHECK-NEXT: [](int64_t, int64_t) { return (float)8; },
  // CHECK-NEXT: [](int64_t) { return (float)0; });
  %0 = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<2x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<2x8x32xf32>
  // CHECK: kiln::matmulNBits<16, 32, 64, 32, 4>(in0, in1, in2, out0,
  // CHECK-NEXT: [&](int64_t n, int64_t j) { return (float)((in3[n * 1 + j / 2] >> ((j & 1) * 4)) & 15); },
  // CHECK-NEXT: [&](int64_t n) { return (float)in4[n]; });
  %1 = kiln.matmul_nbits %x, %w, %s zero_points %z bias %b {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<2x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xui8>, tensor<32xf32>) -> tensor<2x8x32xf32>
  // CHECK: kiln::matmulNBits<16, 32, 64, 32, 4>(in0, in1, in2, out0,
  // CHECK-NEXT: [&](int64_t n, int64_t j) { return (float)in3[n * 2 + j]; },
  %2 = kiln.matmul_nbits %x, %w, %s zero_points %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<2x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x8x32xf32>
  // CHECK: kiln::matmulNBits<16, 32, 64, 32, 8>(in0, in1, in2, out0,
  // CHECK-NEXT: [&](int64_t n, int64_t j) { return (float)in3[n * 2 + j]; },
  %3 = kiln.matmul_nbits %x, %w8, %s zero_points %z8 {K = 64 : i64, N = 32 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<2x8x64xf32>, tensor<32x2x32xui8>, tensor<64xf32>, tensor<64xui8>) -> tensor<2x8x32xf32>
  // CHECK: kiln::matmulNBits<16, 32, 64, 32, 8>(in0, in1, in2, out0,
  // CHECK-NEXT: [](int64_t, int64_t) { return (float)128; },
  %4 = kiln.matmul_nbits %x, %w8, %s {K = 64 : i64, N = 32 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<2x8x64xf32>, tensor<32x2x32xui8>, tensor<64xf32>) -> tensor<2x8x32xf32>
  return %0, %1, %2, %3, %4 : tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>
}
