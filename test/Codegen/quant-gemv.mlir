// kiln.matmul_nbits on decode rows (kiln::isNBitsGemv: at most 8 rows of an
// f32/f16/bf16 input, packed rows of whole 16-byte pieces) is emitted as
// kiln::matmulNBitsGemv, each warp computing kiln::nbitsGemvColumns
// columns (4 for rows of a few pieces, 2 for 1 KB rows), launched as
// N / (8 * columns) blocks of 256; 9 rows, a packed row of 8 bytes or an f64 input keep
// kiln::matmulNBits, one thread per output element. Every instantiation
// compiles with nvcc for sm_90a and sm_80. The GPU runs them against the
// reference in test/GPU/prepare_kernels.py (class nbits).
// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-graph-pipeline, func.func(kiln-form-fusions{max-ops=1}, kiln-plan-memory, kiln-verify-plan), kiln-schedule)' -o %t.scheduled.mlir
// RUN: FileCheck %s --check-prefix=LAUNCH --input-file=%t.scheduled.mlir
// RUN: kiln-compile %t.scheduled.mlir --emit=cuda -o %t.cu
// RUN: FileCheck %s --input-file=%t.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t.cu -o %t.90a.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.80.o %}

// LAUNCH: kiln.launch @k0_matmul_nbits grid [1, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k1_matmul_nbits grid [3, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k2_matmul_nbits grid [2, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k3_matmul_nbits grid [1, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k4_matmul_nbits grid [1, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k5_matmul_nbits grid [1, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k6_matmul_nbits grid [1, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k7_matmul_nbits grid [1, 1, 1] block [256, 1, 1]
// LAUNCH: kiln.launch @k8_matmul_nbits grid [1, 1, 1] block [256, 1, 1]

// One row, packed zero points, a bias.
// CHECK: kiln::matmulNBitsGemv<1, 32, 64, 32, 4, 4>(in0, in1, in2, out0,
// CHECK-NEXT: [&](int64_t n, int64_t j) { return (float)((in3[n * 1 + j / 2] >> ((j & 1) * 4)) & 15); },
// CHECK-NEXT: [&](int64_t n) { return (float)in4[n]; });
// Eight rows of K = 2048 (1 KB packed rows: 2 columns a warp), N = 40
// (not a multiple of the 16 columns a block).
// CHECK: kiln::matmulNBitsGemv<8, 40, 2048, 32, 4, 2>(
// Nine rows: one thread per element.
// CHECK: kiln::matmulNBits<9, 32, 64, 32, 4>(
// 8-bit weights.
// CHECK: kiln::matmulNBitsGemv<1, 32, 64, 32, 8, 4>(
// Block 16: two blocks in each 16-byte piece.
// CHECK: kiln::matmulNBitsGemv<1, 32, 32, 16, 4, 4>(
// A packed row of 8 bytes (K = 16) is no whole piece.
// CHECK: kiln::matmulNBits<1, 32, 16, 16, 4>(
// bf16 input and scales.
// CHECK: (const __nv_bfloat16 *__restrict__ in0, const uint8_t *__restrict__ in1, const __nv_bfloat16 *__restrict__ in2, __nv_bfloat16 *__restrict__ out0)
// CHECK: kiln::matmulNBitsGemv<1, 32, 64, 32, 4, 4>(
// f64: the one-thread kernel (its f64 sums).
// CHECK: kiln::matmulNBits<1, 32, 64, 32, 4>(
// Float zero points: subtracted after the conversion (IntZero = false).
// CHECK: kiln::matmulNBitsGemv<1, 32, 64, 32, 4, 4, false>(
// CHECK-NEXT: [&](int64_t n, int64_t j) { return (float)in3[n * 2 + j]; },

func.func @main(%x: tensor<1x1x64xf32> {kiln.name = "x"}, %x8: tensor<8x2048xf32> {kiln.name = "x8"}, %x9: tensor<9x64xf32> {kiln.name = "x9"}, %x32: tensor<1x32xf32> {kiln.name = "x32"}, %x16: tensor<1x16xf32> {kiln.name = "x16"}, %xb: tensor<1x64xbf16> {kiln.name = "xb"}, %xd: tensor<1x64xf64> {kiln.name = "xd"}) -> (tensor<1x1x32xf32>, tensor<8x40xf32>, tensor<9x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xbf16>, tensor<1x32xf64>, tensor<1x1x32xf32>) {
  %w = kiln.constant dense<165> : tensor<32x2x16xui8>
  %w40 = kiln.constant dense<165> : tensor<40x64x16xui8>
  %s = kiln.constant dense<0.5> : tensor<64xf32>
  %s80 = kiln.constant dense<0.5> : tensor<2560xf32>
  %z = kiln.constant dense<119> : tensor<32xui8>
  %b = kiln.constant dense<1.0> : tensor<32xf32>
  %w8 = kiln.constant dense<200> : tensor<32x2x32xui8>
  %w16 = kiln.constant dense<7> : tensor<32x2x8xui8>
  %w16s = kiln.constant dense<7> : tensor<32x1x8xui8>
  %s32 = kiln.constant dense<0.5> : tensor<32xf32>
  %sb = kiln.constant dense<0.5> : tensor<64xbf16>
  %sd = kiln.constant dense<0.5> : tensor<64xf64>
  %0 = kiln.matmul_nbits %x, %w, %s zero_points %z bias %b {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xui8>, tensor<32xf32>) -> tensor<1x1x32xf32>
  %1 = kiln.matmul_nbits %x8, %w40, %s80 {K = 2048 : i64, N = 40 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<8x2048xf32>, tensor<40x64x16xui8>, tensor<2560xf32>) -> tensor<8x40xf32>
  %2 = kiln.matmul_nbits %x9, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<9x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<9x32xf32>
  %3 = kiln.matmul_nbits %x, %w8, %s {K = 64 : i64, N = 32 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<1x1x64xf32>, tensor<32x2x32xui8>, tensor<64xf32>) -> tensor<1x1x32xf32>
  %r3 = kiln.reshape %3 : tensor<1x1x32xf32> -> tensor<1x32xf32>
  %4 = kiln.matmul_nbits %x32, %w16, %s {K = 32 : i64, N = 32 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<1x32xf32>, tensor<32x2x8xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %5 = kiln.matmul_nbits %x16, %w16s, %s32 {K = 16 : i64, N = 32 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<32x1x8xui8>, tensor<32xf32>) -> tensor<1x32xf32>
  %6 = kiln.matmul_nbits %xb, %w, %sb {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xbf16>, tensor<32x2x16xui8>, tensor<64xbf16>) -> tensor<1x32xbf16>
  %7 = kiln.matmul_nbits %xd, %w, %sd {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf64>, tensor<32x2x16xui8>, tensor<64xf64>) -> tensor<1x32xf64>
  %8 = kiln.matmul_nbits %x, %w, %s zero_points %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x1x32xf32>
  return %0, %1, %2, %r3, %4, %5, %6, %7, %8 : tensor<1x1x32xf32>, tensor<8x40xf32>, tensor<9x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xbf16>, tensor<1x32xf64>, tensor<1x1x32xf32>
}
