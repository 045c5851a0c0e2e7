// kiln-gemv's kernels on int4 products in CUDA (kiln::nbitsDots): q and k
// of one row (packed zero points, a bias on q) as one sibling kernel, and
// gate and up of a bf16 row with float zero points (IntZero = false) and
// SwiGLU. The norms before them keep their own kernels (never a prologue
// of int4 products: kNBitsGemvMergeMaxRows). One warp a column of every
// product of its group (no split, no preload: the first column's packed
// rows are asked of L2 before the PDL wait), x read through kiln::GemvX.
// The source compiles with nvcc for sm_90a and sm_80; the GPU runs such
// kernels against the reference in test/GPU/prepare_kernels.py (class
// nbits_merged).
// RUN: kiln-compile %s --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: kiln-compile %s --emit=cuda -o %t.cu
// RUN: FileCheck %s --input-file=%t.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t.cu -o %t.90a.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.80.o %}

// 32 + 16 columns, a warp each: 6 blocks of 8 warps; 40 columns: 5.
// SCHED: kiln.launch @k0_rms_norm grid [1, 1, 1]
// SCHED: kiln.launch @k1_matmul_nbits_matmul_nbits grid [6, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k2_layer_norm grid [1, 1, 1]
// SCHED: kiln.launch @k3_matmul_nbits_matmul_nbits_silu_mul grid [5, 1, 1] block [256, 1, 1]
// SCHED-NOT: kiln.launch

// CHECK-LABEL: @k1_matmul_nbits_matmul_nbits: GEMV kernel: kiln.matmul_nbits kiln.matmul_nbits
// CHECK: kiln::prefetchL2(in1 + (c0 - 0) * 32, 32);
// CHECK: kiln::prefetchL2(in5 + (c0 - 32) * 32, 32);
// CHECK: kiln::pdlEnter();
// CHECK-NEXT: kiln::GemvX<1, 64, float> xr{in0};
// CHECK: const uint8_t *rows[1] = {in1 + n * 32};
// CHECK-NEXT: const float *scl[1] = {in2 + n * 2};
// CHECK: return (float)((in3[n * 1 + j / 2] >> ((j & 1) * 4)) & 15);
// CHECK: kiln::nbitsDots<1, 64, 32, 4, 1>(xr, rows, scl, zero, acc);
// CHECK: const float l0 = (float)(acc[0][r] + (float)in4[n]);
// CHECK: kiln::nbitsDots<1, 64, 32, 4, 1>(xr, rows, scl, zero, acc);
// CHECK-LABEL: @k3_matmul_nbits_matmul_nbits_silu_mul: GEMV kernel:
// CHECK: kiln::pdlEnter();
// CHECK-NEXT: kiln::GemvX<1, 256, __nv_bfloat16> xr{in0};
// CHECK: const uint8_t *rows[2] = {in1 + n * 128, in4 + n * 128};
// CHECK-NEXT: const __nv_bfloat16 *scl[2] = {in2 + n * 2, in5 + n * 2};
// CHECK: return q == 0 ? (float)in3[n * 2 + j] : (float)in6[n * 2 + j];
// CHECK: kiln::nbitsDots<1, 256, 128, 4, 2, false>(xr, rows, scl, zero, acc);
// CHECK: kiln::op::silu(l0)

func.func @main(%x: tensor<1x64xf32> {kiln.name = "x"}, %g: tensor<64xf32> {kiln.name = "g"}, %r: tensor<1x32xf32> {kiln.name = "r"}, %wq: tensor<32x2x16xui8> {kiln.name = "wq"}, %sq: tensor<64xf32> {kiln.name = "sq"}, %zq: tensor<32xui8> {kiln.name = "zq"}, %bq: tensor<32xf32> {kiln.name = "bq"}, %wk: tensor<16x2x16xui8> {kiln.name = "wk"}, %sk: tensor<32xf32> {kiln.name = "sk"}, %zk: tensor<16xui8> {kiln.name = "zk"}, %x8: tensor<1x256xbf16> {kiln.name = "x8"}, %lg: tensor<256xbf16> {kiln.name = "lg"}, %lb: tensor<256xbf16> {kiln.name = "lb"}, %wg: tensor<40x2x64xui8> {kiln.name = "wg"}, %sg: tensor<80xbf16> {kiln.name = "sg"}, %zg: tensor<80xbf16> {kiln.name = "zg"}, %wu: tensor<40x2x64xui8> {kiln.name = "wu"}, %su: tensor<80xbf16> {kiln.name = "su"}, %zu: tensor<80xbf16> {kiln.name = "zu"}) -> (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x40xbf16>) {
  %h = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %q = kiln.matmul_nbits %h, %wq, %sq zero_points %zq bias %bq {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xui8>, tensor<32xf32>) -> tensor<1x32xf32>
  %k = kiln.matmul_nbits %h, %wk, %sk zero_points %zk {K = 64 : i64, N = 16 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<16x2x16xui8>, tensor<32xf32>, tensor<16xui8>) -> tensor<1x16xf32>
  %n = kiln.layer_norm %x8, %lg, %lb {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x256xbf16>, tensor<256xbf16>, tensor<256xbf16>) -> tensor<1x256xbf16>
  %gt = kiln.matmul_nbits %n, %wg, %sg zero_points %zg {K = 256 : i64, N = 40 : i64, bits = 4 : i64, block_size = 128 : i64} : (tensor<1x256xbf16>, tensor<40x2x64xui8>, tensor<80xbf16>, tensor<80xbf16>) -> tensor<1x40xbf16>
  %up = kiln.matmul_nbits %n, %wu, %su zero_points %zu {K = 256 : i64, N = 40 : i64, bits = 4 : i64, block_size = 128 : i64} : (tensor<1x256xbf16>, tensor<40x2x64xui8>, tensor<80xbf16>, tensor<80xbf16>) -> tensor<1x40xbf16>
  %s = kiln.silu %gt : tensor<1x40xbf16>
  %sw = kiln.mul %s, %up : (tensor<1x40xbf16>, tensor<1x40xbf16>) -> tensor<1x40xbf16>
  return %q, %k, %sw : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x40xbf16>
}
