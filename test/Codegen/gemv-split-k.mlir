// Split-K in kiln's GEMV kernels (kiln::gemvSplitDots, gemvSplitK): S warps
// of a block share an output column, each over K / S of the row, and warp
// slice 0 adds the partials in slice order. By default S is the fewest that
// leave each warp one 4 KB round of loads a row: an f32 row of 8192 (32 KB)
// is 8 warps a column, an f32 row of 2048 (8 KB) 2, and the grid grows to
// match (64 columns x 8 / 8 warps a block = 64 blocks). The folded RMSNorm
// adds its sums of squares the same way. --gemv-split-k=N sets every
// kernel's S (the module attribute kiln.gemv_split_k), halved where N x 16
// bytes does not divide the row; 1 is the unsplit kernel. The source
// compiles with nvcc.
// (--gemv-preload=false: the kernels as they were before the register
// preload, which test/Codegen/gemv-preload.mlir covers.)
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(8192 * 64 * 4))"
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --input-file=%t/k.cu
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --gemv-split-k=1 --emit=cuda -o - | FileCheck %s --check-prefix=ONE
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --gemv-split-k=4 --emit=scheduled -o %t/s4.mlir
// RUN: FileCheck %s --check-prefix=FOUR < %t/s4.mlir
// RUN: cd %t && kiln-compile s4.mlir --gemv-preload=false --emit=cuda -o - | FileCheck %s --check-prefix=FOUR-CUDA
// A launch of a split kernel with another block than 256 is a located error.
// RUN: sed -e 's/grid \[32, 1, 1\] block \[256, 1, 1\]/grid [32, 1, 1] block [128, 1, 1]/' %t/s4.mlir > %t/bad-block.mlir
// RUN: cd %t && not kiln-compile bad-block.mlir --gemv-preload=false --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: cd %t && not kiln-compile t.mlir --gemv-preload=false --gemv-split-k=3 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADFLAG
// RUN: sed -e 's/kiln.gemv_split_k = 4 : i64/kiln.gemv_split_k = 3 : i64/' %t/s4.mlir > %t/bad-attr.mlir
// RUN: cd %t && not kiln-compile bad-attr.mlir --gemv-preload=false --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADATTR
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// SCHED: kiln.launch @k0_linear_add grid [64, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k1_rms_norm_linear grid [24, 1, 1] block [256, 1, 1]

// CHECK-LABEL: @k0_linear_add: GEMV kernel: kiln.linear kiln.add
// Before the wait: each warp asks L2 for its slice of its first column.
// CHECK: const int64_t c0 = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 8;
// CHECK: kiln::prefetchL2(in1 + (c0 - 0) * 8192 + ((threadIdx.x >> 5) % 8) * 1024, 1024 * sizeof(float));
// CHECK: kiln::pdlEnter();
// CHECK-NEXT: kiln::GemvX<1, 8192, float> xr{in0};
// CHECK-NEXT: __shared__ float part[8 * 2];
// CHECK-NEXT: const int slice = (threadIdx.x >> 5) % 8;
// CHECK: for (int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 8; c < 64; c += warps / 8) {
// CHECK: const float *rows[1] = {in1 + n * 8192 + slice * 1024};
// CHECK: kiln::gemvSplitDots<8, 2, 1, 8192, 1>(xr, rows, acc, part);
// CHECK-NEXT: if (lane == 0 && slice == 0) {
// CHECK-LABEL: @k1_rms_norm_linear: GEMV kernel: kiln.rms_norm kiln.linear
// CHECK: kiln::GemvRmsX<1, 2048, float> xs{in0, in1, 9.99999975e-06f};
// CHECK-NEXT: auto &xr = xs;
// CHECK: kiln::gemvSplitDots<2, 2, 1, 2048, 1>(xr, rows, acc, part);

// ONE-NOT: gemvSplitDots
// ONE: kiln::gemvDots<1, 8192, 1>(in0, rows, acc);
// ONE: kiln::gemvDots<1, 2048, 1>(xs, rows, acc);
// ONE-NOT: gemvSplitDots

// FOUR: module attributes {{.*}}kiln.gemv_split_k = 4 : i64
// FOUR: kiln.launch @k0_linear_add grid [32, 1, 1] block [256, 1, 1]
// FOUR: kiln.launch @k1_rms_norm_linear grid [48, 1, 1] block [256, 1, 1]
// FOUR-CUDA: kiln::gemvSplitDots<4, 2, 1, 8192, 1>(xr, rows, acc, part);
// FOUR-CUDA: kiln::gemvSplitDots<4, 2, 1, 2048, 1>(xr, rows, acc, part);

// BLOCK: error: 'kiln.launch' op launches @k0_linear_add (a GEMV kernel, 4 warps a column) with block 128; it needs 256
// BADFLAG: kiln-compile: error: --gemv-split-k=3 is not one of 0, 1, 2, 4, 8
// BADATTR: error: kiln.gemv_split_k must be 1, 2, 4 or 8, got 3

func.func @step(%x: tensor<1x8192xf32>, %r: tensor<1x64xf32>, %y: tensor<1x2048xf32>, %s: tensor<2048xf32>) -> (tensor<1x64xf32>, tensor<1x96xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 2097152 : i64} : tensor<8192x64xf32>
  %p = kiln.matmul %x, %w : (tensor<1x8192xf32>, tensor<8192x64xf32>) -> tensor<1x64xf32>
  %o = kiln.add %p, %r : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  %n = kiln.rms_norm %y, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x2048xf32>, tensor<2048xf32>) -> tensor<1x2048xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 786432 : i64} : tensor<2048x96xf32>
  %q = kiln.matmul %n, %w2 : (tensor<1x2048xf32>, tensor<2048x96xf32>) -> tensor<1x96xf32>
  return %o, %q : tensor<1x64xf32>, tensor<1x96xf32>
}
