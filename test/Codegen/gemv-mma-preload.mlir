// kiln-compile --gemv-mma-preload (the module attribute
// kiln.gemv_mma_preload = true): each warp of a tensor-core GEMV kernel (2
// to 8 rows, kiln::gemvMmaPartials) loads its tile's first round of weight
// loads into registers before the PDL wait (kiln::gemvMmaFirstRound into
// `pre`, L x kGemvTile int4 a lane: the most linears of a group), as the
// one-row kernels do (gemvFirstTile), and the first tile's partials take
// that round from `pre` (the same loads: bit-identical results) instead of
// asking L2 for the rows (kiln::prefetchL2Rows). The input is
// gemv-mma.mlir's: K = 8192 with Ahead (the round in `next`), two weights
// a column (pre[16]), K = 200 (a slice shorter than the round: the
// bounds-tested loads), and one kernel of an L = 2 and an L = 1 group
// (Qwen's K = 896, both tiles of 8 steps: one `pre`). On by default
// (kGemvMmaPreloadDefault, measured: docs/codegen.md); =false keeps the L2
// requests. A kiln.gemv_mma_preload that is not a bool is a located error.
// The source compiles with nvcc.
// RUN: rm -rf %t && mkdir -p %t && cp %S/gemv-mma.mlir %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(16 * 8192 * 4 + 8192 * 64 * 4))"
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --emit=cuda -o %t/pre.cu
// RUN: FileCheck %s --input-file=%t/pre.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload --emit=cuda -o %t/given.cu
// RUN: cmp %t/pre.cu %t/given.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --emit=cuda -o %t/off.cu
// RUN: FileCheck %s --check-prefix=OFF --input-file=%t/off.cu
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --gemv-mma-preload=false --emit=scheduled -o %t/off.mlir
// RUN: grep -q "kiln.gemv_mma_preload = false" %t/off.mlir
// RUN: sed -e 's/kiln.gemv_mma_preload = false/kiln.gemv_mma_preload = 1 : i64/' %t/off.mlir > %t/bad.mlir
// RUN: cd %t && not kiln-compile bad.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/pre.cu -o %t/pre.90a.o %}
// Where a launch has fewer warps than its tiles (a smaller grid in
// hand-written scheduled IR: k13's 8 tiles x 4 warps on one block), the
// first tile is peeled and takes `pre`, and the loop goes on from the
// next one, loading its rounds (no `pre`).
// RUN: cd %t && kiln-compile t.mlir --merge-small-launches=false --precision bf16 --emit=scheduled -o %t/on.mlir
// RUN: sed -e 's/kiln.launch @k13_rms_norm_linear_linear_cast_and7 grid \[4, 1, 1\]/kiln.launch @k13_rms_norm_linear_linear_cast_and7 grid [1, 1, 1]/' %t/on.mlir > %t/small-grid.mlir
// RUN: cd %t && kiln-compile small-grid.mlir --emit=cuda -o %t/loop.cu
// RUN: FileCheck %s --check-prefix=LOOP --input-file=%t/loop.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/loop.cu -o %t/loop.90a.o %}

// CHECK-LABEL: k9_linear_add_cast(
// CHECK: int4 pre[8];
// CHECK: const __nv_bfloat16 *first[1] = {in1 + ((c0 - 0) * 8 + (lane >> 2) < 64 ? (c0 - 0) * 8 + (lane >> 2) : 63) * 8192 + ((threadIdx.x >> 5) % 8) * 1024};
// CHECK-NEXT: kiln::gemvMmaFirstRound<8, 8192, 1>(first, pre);
// CHECK: kiln::pdlEnter();
// CHECK-NOT: prefetchL2Rows
// CHECK: kiln::gemvMmaPartials<8, 72, 8, 8192, 1, 128, true>(xr, rows, part, pre);
// CHECK-LABEL: k10_rms_norm_linear_linear_cast_and5(
// CHECK: int4 pre[16];
// CHECK: kiln::gemvMmaFirstRound<8, 2048, 2>(first, pre);
// CHECK: kiln::pdlEnter();
// CHECK: kiln::gemvMmaPartials<8, 136, 3, 2048, 2>(xr, rows, part, pre);
// CHECK-LABEL: k11_linear_cast(
// CHECK: int4 pre[8];
// CHECK: kiln::gemvMmaFirstRound<1, 200, 1>(first, pre);
// CHECK: kiln::pdlEnter();
// CHECK: kiln::gemvMmaPartials<1, 72, 2, 200, 1>(xr, rows, part, pre);
// CHECK-LABEL: k13_rms_norm_linear_linear_cast_and7(
// CHECK: int4 pre[16];
// CHECK: if (c0 < 5) {
// CHECK: kiln::gemvMmaFirstRound<4, 896, 2>(first, pre);
// CHECK: else if (c0 < 8) {
// CHECK: kiln::gemvMmaFirstRound<4, 896, 1>(first, pre);
// CHECK: kiln::pdlEnter();
// CHECK: kiln::gemvMmaPartials<4, 136, 4, 896, 2>(xr, rows, part, pre);
// CHECK: kiln::gemvMmaPartials<4, 136, 4, 896, 1>(xr, rows, part, pre);
// CHECK-NOT: prefetchL2Rows
// OFF-NOT: gemvMmaFirstRound
// OFF-NOT: int4 pre[
// OFF: kiln::prefetchL2Rows(
// OFF: kiln::gemvMmaPartials<8, 72, 8, 8192, 1, 128, true>(xr, rows, part);
// BAD: error: kiln.gemv_mma_preload must be a bool, got 1 : i64
// LOOP-LABEL: k13_rms_norm_linear_linear_cast_and7(
// LOOP: kiln::gemvMmaFirstRound<4, 896, 2>(first, pre);
// LOOP: kiln::pdlEnter();
// LOOP: const int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 4;
// LOOP: kiln::gemvMmaPartials<4, 136, 4, 896, 2>(xr, rows, part, pre);
// LOOP: kiln::gemvMmaPartials<4, 136, 4, 896, 1>(xr, rows, part, pre);
// LOOP: for (int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 4 + warps / 4; c < 8; c += warps / 4) {
// LOOP-NOT: pre)
// LOOP: kiln::gemvMmaPartials<4, 136, 4, 896, 2>(xr, rows, part);
// LOOP-NOT: pre)
// LOOP: kiln::gemvMmaPartials<4, 136, 4, 896, 1>(xr, rows, part);
// LOOP-NOT: pre)
// LOOP: }
