// kiln-gemv's split-K rule with the preload (LaunchConfig.cpp, gemvSplitK):
// a one-row GEMV kernel whose first tile is a whole round of two or more
// rows (gate/up on a 4 KB bf16 row, here beside a one-row sibling that
// reads the same normalised row) takes two warps a column, so each warp
// preloads half of each row and the kernel keeps two blocks an SM (Llama-1B:
// 172 registers with one warp a column; bench/RESULTS.md, session 10). Rows
// shorter than a round (Qwen2.5-0.5B's 896: 1792 bytes) keep one warp a
// column, as does every kernel with --gemv-preload=false. Where the rule's
// split makes each warp's slice exactly one round and more than 2 warps
// share a column, the preload halves it: two whole rounds a warp
// (Llama-1B's down, a bf16 row of 8192: 4 -> 2 warps; session 12). Not
// where the slices are not whole rounds: a row of 4864 (Qwen2.5-0.5B's
// down) keeps 4 warps, one of 14336 (Llama-3-8B's) 8.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(range(256)) * 3600)"
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/on.cu
// RUN: FileCheck %s --input-file=%t/on.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-preload=false --emit=cuda -o - | FileCheck %s --check-prefix=OFF
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-split-k=1 --emit=cuda -o - | FileCheck %s --check-prefix=ONE
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/on.cu -o %t/on.o %}

// CHECK-LABEL: GEMV kernel: kiln.rms_norm kiln.linear kiln.linear {{.*}} kiln.linear kiln.cast at loc("t.mlir":
// CHECK: kiln::gemvFirstTile<1024, 2>(first, pre);
// CHECK: kiln::gemvFirstTile<1024, 1>(first, pre);
// CHECK: kiln::gemvSplitDots<2, 3, 1, 2048, 2>(xr, rows, acc, part, pre);
// CHECK: kiln::gemvSplitDots<2, 3, 1, 2048, 1>(xr, rows, acc, part, pre);
// CHECK-LABEL: GEMV kernel: kiln.rms_norm kiln.linear kiln.linear
// CHECK: kiln::gemvFirstTile<896, 2>(first, pre);
// CHECK: kiln::gemvDots<1, 896, 2>(xs, rows, acc, pre);
// CHECK-LABEL: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvSplitDots<2, 2, 1, 8192, 1>(xr, rows, acc, part, pre);
// CHECK-LABEL: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvSplitDots<4, 2, 1, 4864, 1>(xr, rows, acc, part, pre);
// CHECK-LABEL: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvSplitDots<8, 2, 1, 14336, 1>(xr, rows, acc, part, pre);

// OFF-LABEL: GEMV kernel: kiln.rms_norm kiln.linear kiln.linear {{.*}} kiln.linear kiln.cast at loc("t.mlir":
// OFF-NOT: gemvSplitDots
// OFF: kiln::gemvDots<1, 2048, 2>(xs, rows, acc);
// OFF: kiln::gemvDots<1, 2048, 1>(xs, rows, acc);
// OFF: kiln::gemvDots<1, 896, 2>(xs, rows, acc);
// OFF: kiln::gemvSplitDots<4, 2, 1, 8192, 1>(xr, rows, acc, part);

// The module's split (--gemv-split-k) overrides the rule.
// ONE-NOT: gemvSplitDots
// ONE: kiln::gemvDots<1, 2048, 2>(xs, rows, acc, pre);
// ONE-NOT: gemvSplitDots

func.func @step(%ids: tensor<1xi64>, %s: tensor<2048xf32>, %s2: tensor<896xf32>) -> (tensor<1x24xf32>, tensor<1x24xf32>, tensor<1x40xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>) {
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
  return %h, %h2, %o, %p8, %p48, %p14 : tensor<1x24xf32>, tensor<1x24xf32>, tensor<1x40xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>
}
