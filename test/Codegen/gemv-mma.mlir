// kiln's GEMV at 2 to 8 rows of bf16 (kiln::gemvMmaPartials): a warp computes a
// tile of 8 output columns on the tensor cores (mma.m16n8k16, the tile's 8
// weight rows as the k x 8 operand, x's rows as the 16-row one), so each
// weight load serves every row of x. S warps share a tile, each over K / S
// of its rows: by default the fewest that make each warp's slice one tile
// of 8 steps of 32 elements (K = 8192 and 2048: 8 warps; K = 200, not a
// multiple of a step: 1), and the grid is tiles x S / 8 blocks of 256. The
// rows come from an embedding gather, so after --precision bf16 they are
// bf16 and the RMSNorm folds into the dots as in a model (GemvRmsX), with
// SwiGLU and a residual as epilogues. Lanes past the weight read its last
// row; the S warps' threads then share the tile's 8 x M outputs
// (kiln::gemvMmaResult), each computing its outputs' epilogue.
// Not GEMVs: 9 rows (more than kGemvMmaMaxRows) and f32 rows (without
// --precision): cuBLASLt gemms. The source compiles with nvcc. The
// kernels here are the form without the preload (--gemv-mma-preload=false:
// each warp asks L2 for its first tile's rows, kiln::prefetchL2Rows, before
// the PDL wait); gemv-mma-preload.mlir checks the default, which loads the
// first round into registers instead, on this same input.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(16 * 8192 * 4 + 8192 * 64 * 4))"
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --input-file=%t/k.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-split-k=2 --emit=scheduled -o %t/s2.mlir
// RUN: FileCheck %s --check-prefix=TWO < %t/s2.mlir
// RUN: cd %t && kiln-compile s2.mlir --emit=cuda -o - | FileCheck %s --check-prefix=TWO-CUDA
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --emit=scheduled -o - | FileCheck %s --check-prefix=F32
// A tensor-core GEMV launched with another block than 256 (its tiles' warps
// and shared slots assume 8 warps) is a located error, even unsplit.
// RUN: sed -e 's/@k11_linear_cast grid \[1, 1, 1\] block \[256, 1, 1\]/@k11_linear_cast grid [1, 1, 1] block [64, 1, 1]/' %t/s2.mlir > %t/bad-block.mlir
// RUN: cd %t && not kiln-compile bad-block.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}
// gemvMmaPartials' Ahead (each round's weight loads before the previous
// round's mma): by default (kiln::gemvMmaAheadRule) only where a warp's
// slice is two or more whole rounds of 8 steps of 32 elements - K = 8192 at
// S = 8 (4 rounds); not K = 2048 with two weights at S = 8 (one round),
// K = 200 at S = 1 or K = 896 at S = 4 (less than one). kiln-compile --gemv-mma-ahead
// (the module attribute kiln.gemv_mma_ahead = true) gives it to every
// tensor-core kernel, the rest of the kernel as without it;
// --gemv-mma-ahead=false to none. A kiln.gemv_mma_ahead that is not a bool
// is a located error. The source compiles with nvcc (K = 200 is the
// slices' bounds-tested path).
// RUN: FileCheck %s --check-prefix=RULE --input-file=%t/k.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-mma-ahead=false --emit=cuda -o %t/noahead.cu
// RUN: not grep -q "128, true" %t/noahead.cu
// RUN: grep -q "gemvMmaPartials<8, 72, 8, 8192, 1>(" %t/noahead.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-mma-ahead --emit=cuda -o %t/ahead.cu
// RUN: FileCheck %s --check-prefix=AHEAD --input-file=%t/ahead.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-mma-ahead --emit=scheduled -o %t/ahead.mlir
// RUN: grep -q "kiln.gemv_mma_ahead = true" %t/ahead.mlir
// RUN: sed -e 's/kiln.gemv_mma_ahead = true/kiln.gemv_mma_ahead = 1 : i64/' %t/ahead.mlir > %t/bad-ahead.mlir
// RUN: cd %t && not kiln-compile bad-ahead.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADAHEAD
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/ahead.cu -o %t/ahead.90a.o %}
// kiln-compile --gemv-mma-min-blocks=N (kiln.gemv_mma_min_blocks, for
// measurement): the tensor-core kernels are declared
// __launch_bounds__(256, N), no other kernel is; N outside 1..8 (the flag
// or the attribute) is an error. The source compiles with nvcc.
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-mma-min-blocks=4 --emit=cuda -o %t/minb.cu
// RUN: FileCheck %s --check-prefix=MINB --input-file=%t/minb.cu
// RUN: not grep -q "__launch_bounds__(256, " %t/k.cu
// RUN: cd %t && not kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-mma-min-blocks=9 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=MINB-FLAG
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --gemv-mma-min-blocks=4 --emit=scheduled -o %t/minb.mlir
// RUN: sed -e 's/kiln.gemv_mma_min_blocks = 4 : i64/kiln.gemv_mma_min_blocks = 0 : i64/' %t/minb.mlir > %t/bad-minb.mlir
// RUN: cd %t && not kiln-compile bad-minb.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=MINB-ATTR
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/minb.cu -o %t/minb.90a.o %}
// MINB: __launch_bounds__(256) k8_cast(
// MINB: __launch_bounds__(256, 4) k9_linear_add_cast(
// MINB: __launch_bounds__(256, 4) k10_rms_norm_linear_linear_cast_and5(
// MINB: __launch_bounds__(256, 4) k11_linear_cast(
// MINB: __launch_bounds__(256) k12_cast(
// MINB-FLAG: kiln-compile: error: --gemv-mma-min-blocks=9 is not between 1 and 8
// MINB-ATTR: error: kiln.gemv_mma_min_blocks must be an integer from 1 to 8, got 0 : i64
// RULE: kiln::gemvMmaPartials<8, 72, 8, 8192, 1, 128, true>(xr, rows, part);
// RULE: kiln::gemvMmaPartials<8, 136, 3, 2048, 2>(xr, rows, part);
// RULE: kiln::gemvMmaPartials<1, 72, 2, 200, 1>(xr, rows, part);
// RULE: kiln::gemvMmaPartials<4, 136, 4, 896, 2>(xr, rows, part);
// RULE: kiln::gemvMmaPartials<4, 136, 4, 896, 1>(xr, rows, part);
// AHEAD: kiln::gemvMmaPartials<8, 72, 8, 8192, 1, 128, true>(xr, rows, part);
// AHEAD: kiln::gemvMmaPartials<8, 136, 3, 2048, 2, 128, true>(xr, rows, part);
// AHEAD: kiln::gemvMmaPartials<1, 72, 2, 200, 1, 128, true>(xr, rows, part);
// AHEAD-NOT: gemvMmaPartials<{{[^>]*[0-9]}}>(
// BADAHEAD: error: kiln.gemv_mma_ahead must be a bool, got 1 : i64

// SCHED: kiln.gemm %{{.*}}, %{{.*}} outs %{{.*}} transpose_b : (memref<9x16xbf16>, memref<16x16xbf16>, memref<9x16xbf16>)
// SCHED: kiln.launch @k9_linear_add_cast grid [8, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k10_rms_norm_linear_linear_cast_and5 grid [13, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k11_linear_cast grid [1, 1, 1] block [256, 1, 1]

// CHECK-LABEL: @k9_linear_add_cast: GEMV kernel: kiln.linear kiln.add kiln.cast
// Before the wait: the 4 lanes of each lane group ask L2 for their row's slice.
// CHECK: const int64_t c0 = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 8;
// CHECK: kiln::prefetchL2Rows(in1 + ((c0 - 0) * 8 + (lane >> 2) < 64 ? (c0 - 0) * 8 + (lane >> 2) : 63) * 8192 + ((threadIdx.x >> 5) % 8) * 1024, 1024 * sizeof(__nv_bfloat16));
// CHECK: kiln::pdlEnter();
// CHECK-NEXT: kiln::GemvX<8, 8192, __nv_bfloat16> xr{in0};
// CHECK-NEXT: __shared__ float part[8 * 72];
// CHECK-NEXT: const int slice = (threadIdx.x >> 5) % 8;
// CHECK: for (int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 8; c < 8; c += warps / 8) {
// CHECK: const int64_t n0 = (c - 0) * 8;
// CHECK-NEXT: const __nv_bfloat16 *rows[1] = {in1 + ((c - 0) * 8 + (lane >> 2) < 64 ? (c - 0) * 8 + (lane >> 2) : 63) * 8192 + slice * 1024};
// CHECK-NEXT: kiln::gemvMmaPartials<8, 72, 8, 8192, 1, 128, true>(xr, rows, part);
// The tile's 8 x 32 threads share its 64 outputs, one each.
// CHECK-NEXT: for (int o = slice * 32 + lane; o < 64; o += 256) {
// CHECK-NEXT: const int64_t r = o >> 3, n = n0 + (o & 7);
// CHECK-NEXT: if (n < 64) {
// CHECK-NEXT: float acc[1][1];
// CHECK-NEXT: kiln::gemvMmaResult<8, 72, 8, 1>(xr, part, o, acc);
// CHECK-NEXT: {
// CHECK-NEXT: const int64_t i = r * 64 + n;
// CHECK-NEXT: const __nv_bfloat16 l0 = (__nv_bfloat16)(acc[0][0]);
// CHECK: kiln::gemvMmaDone<8>();
// CHECK-LABEL: @k10_rms_norm_linear_linear_cast_and5: GEMV kernel: kiln.rms_norm kiln.linear kiln.linear
// CHECK: kiln::GemvRmsX<3, 2048, __nv_bfloat16> xs{in0, in1, 9.99999975e-06f};
// CHECK-NEXT: auto &xr = xs;
// CHECK-NEXT: __shared__ float part[8 * 136];
// CHECK: c < 13; c += warps / 8) {
// CHECK: kiln::gemvMmaPartials<8, 136, 3, 2048, 2>(xr, rows, part);
// CHECK-NEXT: for (int o = slice * 32 + lane; o < 24; o += 256) {
// CHECK: if (n < 100) {
// CHECK: kiln::gemvMmaResult<8, 136, 3, 2>(xr, part, o, acc);
// CHECK: kiln::op::silu
// CHECK: kiln::gemvMmaDone<8>();
// CHECK-LABEL: @k11_linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::GemvX<2, 200, __nv_bfloat16> xr{in0};
// CHECK: const int slice = (threadIdx.x >> 5) % 1;
// CHECK: for (int64_t c = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5; c < 2; c += warps) {
// One warp a tile: its 32 lanes share the 16 outputs.
// CHECK: kiln::gemvMmaPartials<1, 72, 2, 200, 1>(xr, rows, part);
// CHECK-NEXT: for (int o = slice * 32 + lane; o < 16; o += 32) {
// CHECK: kiln::gemvMmaDone<1>();

// Qwen2.5-0.5B's K = 896: 4 warps a tile, so a block holds two tiles, and
// here of groups of other L (gate/up with SwiGLU, and a sibling product of
// the same normalised rows): both use the kernel's one stride of shared
// partials (136 floats a warp, for L = 2), so the tiles never overlap.
// Tiles 5 + 3, x 4 / 8 = 4 blocks.
// SCHED: kiln.launch @k13_rms_norm_linear_linear_cast_and7 grid [4, 1, 1] block [256, 1, 1]
// CHECK-LABEL: @k13_rms_norm_linear_linear_cast_and7: GEMV kernel
// CHECK: __shared__ float part[8 * 136];
// CHECK: if (c < 5) {
// CHECK: kiln::gemvMmaPartials<4, 136, 4, 896, 2>(xr, rows, part);
// CHECK: } else if (c < 8) {
// CHECK: kiln::gemvMmaPartials<4, 136, 4, 896, 1>(xr, rows, part);

// --gemv-split-k=2: 2 warps a tile (8 tiles x 2 / 8 = 2 blocks, 13 x 2 / 8
// = 4); K = 200 is not a multiple of 2 x 32 elements, so that kernel
// stays at 1. The slices of 4096 and 1024 elements are 16 and 4 whole
// rounds: both take Ahead (kiln::gemvMmaAheadRule).
// TWO: module attributes {kiln.gemv_mma_preload = false, kiln.gemv_split_k = 2 : i64}
// TWO: kiln.launch @k9_linear_add_cast grid [2, 1, 1] block [256, 1, 1]
// TWO: kiln.launch @k10_rms_norm_linear_linear_cast_and5 grid [4, 1, 1] block [256, 1, 1]
// TWO: kiln.launch @k11_linear_cast grid [1, 1, 1] block [256, 1, 1]
// TWO-CUDA: kiln::gemvMmaPartials<2, 72, 8, 8192, 1, 128, true>(xr, rows, part);
// TWO-CUDA: o += 64) {
// TWO-CUDA: kiln::gemvMmaPartials<2, 136, 3, 2048, 2, 128, true>(xr, rows, part);
// TWO-CUDA: kiln::gemvMmaPartials<1, 72, 2, 200, 1>(xr, rows, part);

// F32-NOT: kiln.launch @{{.*}}linear
// F32: kiln.gemm %{{.*}}, %{{.*}} residual %{{.*}} outs %{{.*}} transpose_b : (memref<8x8192xf32>
// F32-NOT: kiln.launch @{{.*}}linear

// BLOCK: error: 'kiln.launch' op launches @k11_linear_cast (a GEMV kernel, 1 warps a tile of 8 columns) with block 64; it needs 256

func.func @step(%ids8: tensor<8xi64>, %r: tensor<8x64xf32>, %ids3: tensor<3xi64>, %s: tensor<2048xf32>, %ids2: tensor<2xi64>, %ids9: tensor<9xi64>, %ids4: tensor<4xi64>, %s4: tensor<896xf32>) -> (tensor<8x64xf32>, tensor<3x100xf32>, tensor<2x12xf32>, tensor<9x16xf32>, tensor<4x40xf32>, tensor<4x24xf32>) {
  %e8 = kiln.weight "e8" {path = "w.bin", offset = 0 : i64, length = 524288 : i64} : tensor<16x8192xf32>
  %x = kiln.gather %e8, %ids8 {axis = 0 : i64} : (tensor<16x8192xf32>, tensor<8xi64>) -> tensor<8x8192xf32>
  %w = kiln.weight "w" {path = "w.bin", offset = 524288 : i64, length = 2097152 : i64} : tensor<8192x64xf32>
  %p = kiln.matmul %x, %w : (tensor<8x8192xf32>, tensor<8192x64xf32>) -> tensor<8x64xf32>
  %o = kiln.add %p, %r : (tensor<8x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  %e3 = kiln.weight "e3" {path = "w.bin", offset = 0 : i64, length = 131072 : i64} : tensor<16x2048xf32>
  %y = kiln.gather %e3, %ids3 {axis = 0 : i64} : (tensor<16x2048xf32>, tensor<3xi64>) -> tensor<3x2048xf32>
  %n = kiln.rms_norm %y, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<3x2048xf32>, tensor<2048xf32>) -> tensor<3x2048xf32>
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 819200 : i64} : tensor<2048x100xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 819200 : i64, length = 819200 : i64} : tensor<2048x100xf32>
  %g = kiln.matmul %n, %wg : (tensor<3x2048xf32>, tensor<2048x100xf32>) -> tensor<3x100xf32>
  %u = kiln.matmul %n, %wu : (tensor<3x2048xf32>, tensor<2048x100xf32>) -> tensor<3x100xf32>
  %sg = kiln.silu %g : tensor<3x100xf32>
  %sw = kiln.mul %sg, %u : (tensor<3x100xf32>, tensor<3x100xf32>) -> tensor<3x100xf32>
  %e2 = kiln.weight "e2" {path = "w.bin", offset = 0 : i64, length = 12800 : i64} : tensor<16x200xf32>
  %z = kiln.gather %e2, %ids2 {axis = 0 : i64} : (tensor<16x200xf32>, tensor<2xi64>) -> tensor<2x200xf32>
  %wz = kiln.weight "wz" {path = "w.bin", offset = 0 : i64, length = 9600 : i64} : tensor<200x12xf32>
  %q = kiln.matmul %z, %wz : (tensor<2x200xf32>, tensor<200x12xf32>) -> tensor<2x12xf32>
  %e9 = kiln.weight "e9" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<16x16xf32>
  %x9 = kiln.gather %e9, %ids9 {axis = 0 : i64} : (tensor<16x16xf32>, tensor<9xi64>) -> tensor<9x16xf32>
  %w9 = kiln.weight "w9" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<16x16xf32>
  %q9 = kiln.matmul %x9, %w9 : (tensor<9x16xf32>, tensor<16x16xf32>) -> tensor<9x16xf32>
  %e4 = kiln.weight "e4" {path = "w.bin", offset = 0 : i64, length = 57344 : i64} : tensor<16x896xf32>
  %y4 = kiln.gather %e4, %ids4 {axis = 0 : i64} : (tensor<16x896xf32>, tensor<4xi64>) -> tensor<4x896xf32>
  %n4 = kiln.rms_norm %y4, %s4 {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x896xf32>, tensor<896xf32>) -> tensor<4x896xf32>
  %wg4 = kiln.weight "wg4" {path = "w.bin", offset = 0 : i64, length = 143360 : i64} : tensor<896x40xf32>
  %wu4 = kiln.weight "wu4" {path = "w.bin", offset = 143360 : i64, length = 143360 : i64} : tensor<896x40xf32>
  %wv4 = kiln.weight "wv4" {path = "w.bin", offset = 286720 : i64, length = 86016 : i64} : tensor<896x24xf32>
  %g4 = kiln.matmul %n4, %wg4 : (tensor<4x896xf32>, tensor<896x40xf32>) -> tensor<4x40xf32>
  %u4 = kiln.matmul %n4, %wu4 : (tensor<4x896xf32>, tensor<896x40xf32>) -> tensor<4x40xf32>
  %v4 = kiln.matmul %n4, %wv4 : (tensor<4x896xf32>, tensor<896x24xf32>) -> tensor<4x24xf32>
  %sg4 = kiln.silu %g4 : tensor<4x40xf32>
  %sw4 = kiln.mul %sg4, %u4 : (tensor<4x40xf32>, tensor<4x40xf32>) -> tensor<4x40xf32>
  return %o, %sw, %q, %q9, %sw4, %v4 : tensor<8x64xf32>, tensor<3x100xf32>, tensor<2x12xf32>, tensor<9x16xf32>, tensor<4x40xf32>, tensor<4x24xf32>
}
