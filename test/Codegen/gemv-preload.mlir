// kiln's one-row GEMV kernels load the first tile of their warp's first
// column into registers before the PDL wait (kiln::gemvFirstTile into
// `pre`, one branch per group, the split's slice where S > 1) instead of
// asking L2 for the rows (kiln::prefetchL2), and the first column's dots
// start from it (the loop's first iteration peeled: `, pre)`). Where every
// launch has a warp (S warps) for every column that is the whole loop;
// where a launch has fewer (a smaller grid in hand-written scheduled IR)
// the loop goes on from the next column, loading. Sibling products
// (q/k/v: three groups of one row) share `pre`, sized for the kernel's
// most rows a column x its tile (2 rows x 8 loads for gate/up). This is
// the default (kGemvPreloadDefault); kiln-compile --gemv-preload=false
// (the module attribute kiln.gemv_preload = false) keeps the L2 requests.
// Kernels of 2 to 8 rows (tensor-core tiles) preload their first round
// by their own flag, --gemv-mma-preload (gemv-mma-preload.mlir), not
// through gemvFirstTile. A kiln.gemv_preload that is not a bool is a
// located error. The sources
// compile with nvcc.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "import random; random.seed(1); open('%t/w.bin', 'wb').write(bytes(random.randrange(0, 64) for _ in range(8192 * 64 * 4)))"
// RUN: cd %t && kiln-compile t.mlir --emit=cuda -o %t/pre.cu
// RUN: FileCheck %s --input-file=%t/pre.cu
// RUN: cd %t && kiln-compile t.mlir --gemv-preload --emit=cuda -o - | FileCheck %s
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --emit=cuda -o - | FileCheck %s --check-prefix=PREFETCH
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --emit=scheduled -o %t/off.mlir
// RUN: FileCheck %s --check-prefix=OFF < %t/off.mlir
// RUN: sed -e 's/kiln.gemv_preload = false/kiln.gemv_preload = 1 : i64/' %t/off.mlir > %t/bad-attr.mlir
// RUN: cd %t && not kiln-compile bad-attr.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADATTR
// RUN: cd %t && kiln-compile t.mlir --emit=scheduled -o %t/on.mlir
// RUN: sed -e 's/kiln.launch @k0_linear_add grid \[32, 1, 1\]/kiln.launch @k0_linear_add grid [4, 1, 1]/' %t/on.mlir > %t/small-grid.mlir
// RUN: cd %t && kiln-compile small-grid.mlir --emit=cuda -o %t/loop.cu
// RUN: FileCheck %s --check-prefix=LOOP --input-file=%t/loop.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/bf16.cu
// RUN: FileCheck %s --check-prefix=BF16 --input-file=%t/bf16.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/pre.cu -o %t/pre.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/loop.cu -o %t/loop.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/bf16.cu -o %t/bf16.o %}

// PREFETCH-NOT: gemvFirstTile
// PREFETCH: kiln::prefetchL2(
// PREFETCH-NOT: gemvFirstTile
// PREFETCH: for (int64_t c =
// PREFETCH-NOT: gemvFirstTile

// OFF: module attributes {kiln.gemv_preload = false}

// LOOP-LABEL: @k0_linear_add: GEMV kernel: kiln.linear kiln.add
// LOOP: kiln::gemvFirstTile<2048, 1>(first, pre);
// LOOP: const int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 4;
// LOOP: kiln::gemvSplitDots<4, 2, 1, 8192, 1>(xr, rows, acc, part, pre);
// LOOP: for (int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 4 + warps / 4; c < 64; c += warps / 4) {
// LOOP: kiln::gemvSplitDots<4, 2, 1, 8192, 1>(xr, rows, acc, part);
// LOOP-LABEL: GEMV kernel: kiln.rms_norm
// LOOP-NOT: for (int64_t c
// LOOP: kiln::pdlEnter();

// Split 4 over an f32 row of 8192 (32 KB: 8 warps of one round each, which
// with the preload becomes 4 warps of two whole rounds since session 12):
// the slice of the first column.
// CHECK-LABEL: @k0_linear_add: GEMV kernel: kiln.linear kiln.add
// CHECK: int4 pre[8];
// CHECK-NEXT: {
// CHECK-NEXT: const int64_t c0 = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 4;
// CHECK-NEXT: if (c0 < 64) {
// CHECK-NEXT: const float *first[1] = {in1 + (c0 - 0) * 8192 + ((threadIdx.x >> 5) % 4) * 2048};
// CHECK-NEXT: kiln::gemvFirstTile<2048, 1>(first, pre);
// CHECK-NOT: prefetchL2
// CHECK: kiln::pdlEnter();
// CHECK: const int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 4;
// CHECK: kiln::gemvSplitDots<4, 2, 1, 8192, 1>(xr, rows, acc, part, pre);
// CHECK-NOT: for (int64_t c
// Three sibling products of one normalised row: a branch each.
// CHECK-LABEL: GEMV kernel: kiln.rms_norm kiln.linear kiln.linear kiln.linear
// CHECK: int4 pre[8];
// CHECK: kiln::gemvFirstTile<1024, 1>(first, pre);
// CHECK: else if (c0 < 80) {
// CHECK: kiln::gemvFirstTile<1024, 1>(first, pre);
// CHECK: else if (c0 < 96) {
// CHECK: kiln::gemvFirstTile<1024, 1>(first, pre);
// CHECK: kiln::pdlEnter();
// CHECK: kiln::gemvSplitDots<2, 2, 1, 2048, 1>(xr, rows, acc, part, pre);
// CHECK: kiln::gemvSplitDots<2, 2, 1, 2048, 1>(xr, rows, acc, part, pre);
// CHECK: kiln::gemvSplitDots<2, 2, 1, 2048, 1>(xr, rows, acc, part, pre);
// CHECK-NOT: for (int64_t c
// Gate and up: two rows a column, 2 x 8 loads.
// CHECK-LABEL: GEMV kernel: kiln.linear kiln.linear kiln.silu kiln.mul
// CHECK: int4 pre[16];
// CHECK: kiln::gemvFirstTile<1024, 2>(first, pre);

// bf16 (the f32 inputs cast first, so fewer merges): the one-row kernels
// preload, two warps a column since session 12 (8192, four warps of one
// round each before, is two of two whole rounds): each preloads the first
// tile of its half. A row of 2048 of one weight, one 4 KB tile, is one
// warp a column again since session 17 (two in sessions 10-16: the rule
// for two weights' rows): it preloads its whole row. The batch-2 product
// runs on the tensor cores and asks L2 for its tiles' rows.
// BF16: GEMV kernel: kiln.linear kiln.add kiln.cast
// BF16: kiln::gemvFirstTile<4096, 1>(first, pre);
// BF16: kiln::gemvSplitDots<2, 2, 1, 8192, 1>(xr, rows, acc, part, pre);
// BF16: GEMV kernel: kiln.linear kiln.cast
// BF16: kiln::gemvFirstTile<2048, 1>(first, pre);
// BF16: kiln::gemvDots<1, 2048, 1>(in0, rows, acc, pre);
// BF16: GEMV kernel: kiln.linear kiln.cast
// BF16: kiln::gemvFirstTile<2048, 1>(first, pre);
// BF16: kiln::gemvDots<1, 2048, 1>(in0, rows, acc, pre);
// The gate product with SwiGLU, up's product (its own kernel: the two read
// two casts of y) cast in the epilogue, a block argument's cast (since
// session 14).
// BF16: GEMV kernel: kiln.linear kiln.cast kiln.cast kiln.silu kiln.mul kiln.cast kiln.cast
// BF16: kiln::gemvFirstTile<2048, 1>(first, pre);
// BF16: kiln::gemvDots<1, 2048, 1>(in0, rows, acc, pre);
// BF16-NOT: gemvFirstTile
// BF16: kiln::gemvMmaFirstRound<
// BF16-NOT: gemvFirstTile
// BF16: kiln::gemvMmaPartials<

// BADATTR: error: kiln.gemv_preload must be a bool, got 1 : i64

func.func @step(%x: tensor<1x8192xf32>, %r: tensor<1x64xf32>, %y: tensor<1x2048xf32>, %s: tensor<2048xf32>, %z: tensor<2x2048xf32>) -> (tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x24xf32>, tensor<2x24xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 2097152 : i64} : tensor<8192x64xf32>
  %p = kiln.matmul %x, %w : (tensor<1x8192xf32>, tensor<8192x64xf32>) -> tensor<1x64xf32>
  %o = kiln.add %p, %r : (tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64xf32>
  %n = kiln.rms_norm %y, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x2048xf32>, tensor<2048xf32>) -> tensor<1x2048xf32>
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 524288 : i64} : tensor<2048x64xf32>
  %wk = kiln.weight "wk" {path = "w.bin", offset = 524288 : i64, length = 131072 : i64} : tensor<2048x16xf32>
  %wv = kiln.weight "wv" {path = "w.bin", offset = 655360 : i64, length = 131072 : i64} : tensor<2048x16xf32>
  %q = kiln.matmul %n, %wq : (tensor<1x2048xf32>, tensor<2048x64xf32>) -> tensor<1x64xf32>
  %k = kiln.matmul %n, %wk : (tensor<1x2048xf32>, tensor<2048x16xf32>) -> tensor<1x16xf32>
  %v = kiln.matmul %n, %wv : (tensor<1x2048xf32>, tensor<2048x16xf32>) -> tensor<1x16xf32>
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 196608 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %g = kiln.matmul %y, %wg : (tensor<1x2048xf32>, tensor<2048x24xf32>) -> tensor<1x24xf32>
  %u = kiln.matmul %y, %wu : (tensor<1x2048xf32>, tensor<2048x24xf32>) -> tensor<1x24xf32>
  %sg = kiln.silu %g : tensor<1x24xf32>
  %h = kiln.mul %sg, %u : (tensor<1x24xf32>, tensor<1x24xf32>) -> tensor<1x24xf32>
  %wz = kiln.weight "wz" {path = "w.bin", offset = 393216 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %z2 = kiln.matmul %z, %wz : (tensor<2x2048xf32>, tensor<2048x24xf32>) -> tensor<2x24xf32>
  return %o, %q, %k, %v, %h, %z2 : tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x24xf32>, tensor<2x24xf32>
}
