// A folded RMSNorm prologue (kiln::GemvRmsX: the norm's scale K contiguous
// values, folded into the dots, x read from memory as the weights stream)
// fills no shared memory, so the rows x K bound of a shared-memory prologue
// (kGemvPrologueBytes, 32 KB) does not apply to it: 8 bf16 rows of 4096
// (Llama-3-8B's hidden size at batch 8, 64 KB) join their product on the
// tensor cores, one launch. A LayerNorm of the same rows would normalise
// them into 64 KB of shared memory: it stays a kernel of its own, and its
// product a GEMV without a prologue. The source compiles with nvcc.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(16 * 4096 * 4 + 2 * 4096 * 24 * 4))"
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED --implicit-check-not='_rms_norm grid' --implicit-check-not=kiln.gemm
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --input-file=%t/k.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// SCHED: kiln.launch @{{k[0-9]+}}_layer_norm grid [8, 1, 1]
// SCHED: kiln.launch @{{k[0-9]+}}_rms_norm_linear_cast grid [3, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @{{k[0-9]+}}_linear_cast grid [3, 1, 1] block [256, 1, 1]

// CHECK-LABEL: GEMV kernel: kiln.rms_norm kiln.linear
// CHECK-NOT: __shared__ {{.*}} xs[
// CHECK: kiln::GemvRmsX<8, 4096, __nv_bfloat16> xs{
// CHECK: kiln::gemvMmaPartials<

func.func @step(%ids: tensor<8xi64>, %s: tensor<4096xf32>, %b: tensor<4096xf32>) -> (tensor<8x24xf32>, tensor<8x24xf32>) {
  %e = kiln.weight "e" {path = "w.bin", offset = 0 : i64, length = 262144 : i64} : tensor<16x4096xf32>
  %x = kiln.gather %e, %ids {axis = 0 : i64} : (tensor<16x4096xf32>, tensor<8xi64>) -> tensor<8x4096xf32>
  %n = kiln.rms_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<8x4096xf32>, tensor<4096xf32>) -> tensor<8x4096xf32>
  %w = kiln.weight "w" {path = "w.bin", offset = 262144 : i64, length = 393216 : i64} : tensor<4096x24xf32>
  %q = kiln.matmul %n, %w : (tensor<8x4096xf32>, tensor<4096x24xf32>) -> tensor<8x24xf32>
  %l = kiln.layer_norm %x, %s, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<8x4096xf32>, tensor<4096xf32>, tensor<4096xf32>) -> tensor<8x4096xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 655360 : i64, length = 393216 : i64} : tensor<4096x24xf32>
  %k = kiln.matmul %l, %w2 : (tensor<8x4096xf32>, tensor<4096x24xf32>) -> tensor<8x24xf32>
  return %q, %k : tensor<8x24xf32>, tensor<8x24xf32>
}
