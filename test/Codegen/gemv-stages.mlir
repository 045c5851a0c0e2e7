// kiln-compile --gemv-stages=N (module attribute kiln.gemv_stages, for
// measurement; LaunchConfig.cpp gemvStages, kiln::gemvStageRows): every
// one-row GEMV kernel whose prologue is folded (or absent) streams its
// weights through shared memory. Each warp keeps a ring of N slots of its
// slice of a column's rows (the split S is unchanged), copies the first N
// columns in before the PDL wait, waits for the slot's group
// (cp.async.wait_group N - 1), computes from it (the dots' fromShared), and
// refills it with the column N ahead. The launch takes 8 warps' slots of
// shared memory and only the blocks that fit on 132 SMs at once (at most
// 8 an SM). A kernel whose slots would pass 227 KB gets fewer stages: the
// 8192-element rows (S = 2, 8 KB a slot) take 3 at N = 4 and at N = 8,
// while 4 KB-slot kernels take 7 at N = 8. A kernel of two groups (gate/up
// with a sibling) copies each group's rows in its own branch. Without the
// flag the rule decides (test/Codegen/gemv-stages-rule.mlir), and these
// kernels' grids are one wave: nothing is staged; 4-row (tensor-core)
// kernels never are. N outside 0..8 (flag or attribute; 0 stages none) is
// an error, and so is a launch of a staged kernel (a hand-edited
// scheduled module) without its slots' shared memory. The source compiles.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(range(256)) * 3600)"
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=4 --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=4 --emit=cuda -o %t/four.cu
// RUN: FileCheck %s --input-file=%t/four.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=8 --emit=scheduled -o - | FileCheck %s --check-prefix=EIGHT
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=1 --emit=cuda -o - | FileCheck %s --check-prefix=ONE
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/off.cu
// RUN: not grep -q "gemvStageRows\|cpAsync\|kiln_smem" %t/off.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=scheduled -o - | FileCheck %s --check-prefix=OFF
// RUN: cd %t && not kiln-compile t.mlir --precision bf16 --gemv-stages=9 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=FLAG
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=2 --emit=scheduled -o %t/two.mlir
// RUN: grep -q "kiln.gemv_stages = 2 : i64" %t/two.mlir
// RUN: sed -e 's/kiln.gemv_stages = 2 : i64/kiln.gemv_stages = 9 : i64/' %t/two.mlir > %t/bad.mlir
// RUN: cd %t && not kiln-compile bad.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=ATTR
// RUN: sed -e 's/smem 65536/smem 4096/' %t/two.mlir > %t/small.mlir
// RUN: cd %t && not kiln-compile small.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=SMEM
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/four.cu -o %t/four.o %}

// gate/up + sibling (64 columns, S = 2: 16 blocks), Qwen's gate/up (24
// columns, S = 1: 3 blocks), then rows of 8192 (S = 2), 4864 (S = 4),
// 14336 (S = 8), and the 4-row product on the tensor cores (not staged).
// SCHED: kiln.launch @k{{[0-9]+}}_rms_norm_linear_linear_cast_and7 grid [16, 1, 1] block [256, 1, 1] smem 131072
// SCHED: kiln.launch @k{{[0-9]+}}_rms_norm_linear_linear_cast_and5 grid [3, 1, 1] block [256, 1, 1] smem 114688
// SCHED: kiln.launch @k{{[0-9]+}}_linear_cast grid [2, 1, 1] block [256, 1, 1] smem 196608
// SCHED: kiln.launch @k{{[0-9]+}}_linear_cast grid [4, 1, 1] block [256, 1, 1] smem 77824
// SCHED: kiln.launch @k{{[0-9]+}}_linear_cast grid [8, 1, 1] block [256, 1, 1] smem 114688
// SCHED: kiln.launch @k{{[0-9]+}}_linear_cast grid [{{[0-9]+}}, 1, 1] block [256, 1, 1] smem 0 ins({{.*}}memref<4x2048xbf16>

// CHECK-LABEL: @k{{[0-9]+}}_rms_norm_linear_linear_cast_and7: GEMV kernel
// CHECK: extern __shared__ __align__(16) unsigned char kiln_smem[];
// CHECK-NEXT: __nv_bfloat16 *const ring = reinterpret_cast<__nv_bfloat16 *>(kiln_smem) + (threadIdx.x >> 5) * 8192;
// CHECK: auto stageColumn = [&](int64_t c, int s) {
// CHECK-NEXT: __nv_bfloat16 *const dst = ring + s * 2048;
// CHECK-NEXT: if (c < 24) {
// CHECK-NEXT: const __nv_bfloat16 *rows[2] = {in{{[0-9]+}} + (c - 0) * 2048 + ((threadIdx.x >> 5) % 2) * 1024, in{{[0-9]+}} + (c - 0) * 2048 + ((threadIdx.x >> 5) % 2) * 1024};
// CHECK-NEXT: kiln::gemvStageRows<1024, 2>(rows, dst);
// CHECK-NEXT: } else if (c < 64) {
// CHECK-NEXT: const __nv_bfloat16 *rows[1] = {in{{[0-9]+}} + (c - 24) * 2048 + ((threadIdx.x >> 5) % 2) * 1024};
// CHECK-NEXT: kiln::gemvStageRows<1024, 1>(rows, dst);
// CHECK: for (int s = 0; s < 4; ++s) {
// CHECK-NEXT: if (c0 + s * (warps / 2) < 64)
// CHECK-NEXT: stageColumn(c0 + s * (warps / 2), s);
// CHECK-NEXT: kiln::cpAsyncCommit();
// CHECK: kiln::pdlEnter();
// CHECK-NOT: pre[
// CHECK: for (int64_t c = ((blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5) / 2; c < 64; c += warps / 2) {
// CHECK-NEXT: kiln::cpAsyncWait<3>();
// CHECK-NEXT: const __nv_bfloat16 *const stage = ring + slot * 2048;
// CHECK: const __nv_bfloat16 *rows[2] = {stage + 0, stage + 1024};
// CHECK: kiln::gemvSplitDots<2, 3, 1, 2048, 2>(xr, rows, acc, part, nullptr, true);
// CHECK: const __nv_bfloat16 *rows[1] = {stage + 0};
// CHECK: kiln::gemvSplitDots<2, 3, 1, 2048, 1>(xr, rows, acc, part, nullptr, true);
// CHECK: __syncwarp();
// CHECK-NEXT: if (c + 4 * (warps / 2) < 64)
// CHECK-NEXT: stageColumn(c + 4 * (warps / 2), slot);
// CHECK-NEXT: kiln::cpAsyncCommit();
// CHECK-NEXT: slot = slot + 1 == 4 ? 0 : slot + 1;
// CHECK-LABEL: @k{{[0-9]+}}_rms_norm_linear_linear_cast_and5: GEMV kernel
// CHECK: kiln::gemvStageRows<896, 2>(rows, dst);
// CHECK: kiln::cpAsyncWait<3>();
// CHECK: kiln::gemvDots<1, 896, 2>(xs, rows, acc, nullptr, true);
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<4096, 1>(rows, dst);
// CHECK: kiln::cpAsyncWait<2>();
// CHECK: kiln::gemvSplitDots<2, 2, 1, 8192, 1>(xr, rows, acc, part, nullptr, true);
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<1216, 1>(rows, dst);
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<1792, 1>(rows, dst);
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK-NOT: kiln_smem
// CHECK: kiln::gemvMmaPartials

// EIGHT: kiln.launch @k{{[0-9]+}}_rms_norm_linear_linear_cast_and7 grid [16, 1, 1] block [256, 1, 1] smem 229376
// EIGHT: kiln.launch @k{{[0-9]+}}_linear_cast grid [2, 1, 1] block [256, 1, 1] smem 196608

// ONE-LABEL: @k{{[0-9]+}}_rms_norm_linear_linear_cast_and7: GEMV kernel
// ONE: kiln::cpAsyncWait<0>();

// OFF: kiln.launch @k{{[0-9]+}}_rms_norm_linear_linear_cast_and7 grid [16, 1, 1] block [256, 1, 1] smem 0

// FLAG: kiln-compile: error: --gemv-stages=9 is not between 0 and 8
// ATTR: error: kiln.gemv_stages must be an integer from 0 to 8, got 9 : i64
// SMEM: error: 'kiln.launch' op launches @k{{[0-9]+}}_rms_norm_linear_linear_cast_and7 (a GEMV kernel staged in 2 slots a warp) with block 256 and smem 4096; it needs 256 and 65536

func.func @step(%ids: tensor<1xi64>, %s: tensor<2048xf32>, %s2: tensor<896xf32>, %ids4: tensor<4xi64>) -> (tensor<1x24xf32>, tensor<1x24xf32>, tensor<1x40xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<4x16xf32>) {
  %emb = kiln.weight "emb" {path = "w.bin", offset = 0 : i64, length = 131072 : i64} : tensor<16x2048xf32>
  %y = kiln.gather %emb, %ids {axis = 0 : i64} : (tensor<16x2048xf32>, tensor<1xi64>) -> tensor<1x2048xf32>
  %emb2 = kiln.weight "emb2" {path = "w.bin", offset = 131072 : i64, length = 57344 : i64} : tensor<16x896xf32>
  %y2 = kiln.gather %emb2, %ids {axis = 0 : i64} : (tensor<16x896xf32>, tensor<1xi64>) -> tensor<1x896xf32>
  %n = kiln.rms_norm %y, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x2048xf32>, tensor<2048xf32>) -> tensor<1x2048xf32>
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 196608 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %g = kiln.matmul %n, %wg : (tensor<1x2048xf32>, tensor<2048x24xf32>) -> tensor<1x24xf32>
  %u = kiln.matmul %n, %wu : (tensor<1x2048xf32>, tensor<2048x24xf32>) -> tensor<1x24xf32>
  %sg = kiln.silu %g : tensor<1x24xf32>
  %h = kiln.mul %sg, %u : (tensor<1x24xf32>, tensor<1x24xf32>) -> tensor<1x24xf32>
  %n2 = kiln.rms_norm %y2, %s2 {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x896xf32>, tensor<896xf32>) -> tensor<1x896xf32>
  %wg2 = kiln.weight "wg2" {path = "w.bin", offset = 393216 : i64, length = 86016 : i64} : tensor<896x24xf32>
  %wu2 = kiln.weight "wu2" {path = "w.bin", offset = 479232 : i64, length = 86016 : i64} : tensor<896x24xf32>
  %g2 = kiln.matmul %n2, %wg2 : (tensor<1x896xf32>, tensor<896x24xf32>) -> tensor<1x24xf32>
  %u2 = kiln.matmul %n2, %wu2 : (tensor<1x896xf32>, tensor<896x24xf32>) -> tensor<1x24xf32>
  %sg2 = kiln.silu %g2 : tensor<1x24xf32>
  %h2 = kiln.mul %sg2, %u2 : (tensor<1x24xf32>, tensor<1x24xf32>) -> tensor<1x24xf32>
  %wo = kiln.weight "wo" {path = "w.bin", offset = 565248 : i64, length = 327680 : i64} : tensor<2048x40xf32>
  %o = kiln.matmul %n, %wo : (tensor<1x2048xf32>, tensor<2048x40xf32>) -> tensor<1x40xf32>
  %e8 = kiln.weight "e8" {path = "w.bin", offset = 0 : i64, length = 524288 : i64} : tensor<16x8192xf32>
  %x8 = kiln.gather %e8, %ids {axis = 0 : i64} : (tensor<16x8192xf32>, tensor<1xi64>) -> tensor<1x8192xf32>
  %w8 = kiln.weight "w8" {path = "w.bin", offset = 0 : i64, length = 262144 : i64} : tensor<8192x8xf32>
  %p8 = kiln.matmul %x8, %w8 : (tensor<1x8192xf32>, tensor<8192x8xf32>) -> tensor<1x8xf32>
  %e48 = kiln.weight "e48" {path = "w.bin", offset = 0 : i64, length = 311296 : i64} : tensor<16x4864xf32>
  %x48 = kiln.gather %e48, %ids {axis = 0 : i64} : (tensor<16x4864xf32>, tensor<1xi64>) -> tensor<1x4864xf32>
  %w48 = kiln.weight "w48" {path = "w.bin", offset = 0 : i64, length = 155648 : i64} : tensor<4864x8xf32>
  %p48 = kiln.matmul %x48, %w48 : (tensor<1x4864xf32>, tensor<4864x8xf32>) -> tensor<1x8xf32>
  %e14 = kiln.weight "e14" {path = "w.bin", offset = 0 : i64, length = 917504 : i64} : tensor<16x14336xf32>
  %x14 = kiln.gather %e14, %ids {axis = 0 : i64} : (tensor<16x14336xf32>, tensor<1xi64>) -> tensor<1x14336xf32>
  %w14 = kiln.weight "w14" {path = "w.bin", offset = 0 : i64, length = 458752 : i64} : tensor<14336x8xf32>
  %p14 = kiln.matmul %x14, %w14 : (tensor<1x14336xf32>, tensor<14336x8xf32>) -> tensor<1x8xf32>
  %x4 = kiln.gather %emb, %ids4 {axis = 0 : i64} : (tensor<16x2048xf32>, tensor<4xi64>) -> tensor<4x2048xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 131072 : i64} : tensor<2048x16xf32>
  %p4 = kiln.matmul %x4, %w4 : (tensor<4x2048xf32>, tensor<2048x16xf32>) -> tensor<4x16xf32>
  return %h, %h2, %o, %p8, %p48, %p14, %p4 : tensor<1x24xf32>, tensor<1x24xf32>, tensor<1x40xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<4x16xf32>
}
