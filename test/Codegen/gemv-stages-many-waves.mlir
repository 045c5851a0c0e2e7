// The staging rule's second branch (LaunchConfig.cpp gemvStagesRule,
// kGemvStagedRuleManyWavesGrid; no --gemv-stages): a one-row GEMV kernel
// whose weight rows do not all fit in the SMs' shared memory at once, but
// whose unstaged grid is more than 32 blocks an SM (4224 on 132 SMs: the lm
// heads), is staged at 2 slots a warp. 1 KB bf16 rows (K = 512, S = 1):
// 33800 columns (4225 blocks unstaged; at most 25344 columns fit at once,
// at 8 slots) are staged at 2 slots (16 KB a block, 8 blocks an SM: grid
// 1056); 33792 columns (4224 blocks) are not. --gemv-stages=0 stages none.
// The weights file is sparse (69 MB of zeros). The source compiles.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').truncate(69222400)"
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=scheduled -o - | FileCheck %s --check-prefix=RULE
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/r.cu
// RUN: FileCheck %s --input-file=%t/r.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=0 --emit=scheduled -o - | FileCheck %s --check-prefix=NONE
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/r.cu -o %t/r.o %}

// RULE: kiln.launch @k{{[0-9]+}}_linear_cast grid [4224, 1, 1] block [256, 1, 1] smem 0 ins({{.*}}memref<33792x512xbf16>
// RULE: kiln.launch @k{{[0-9]+}}_linear_cast grid [1056, 1, 1] block [256, 1, 1] smem 16384 ins({{.*}}memref<33800x512xbf16>

// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK-NOT: kiln_smem
// CHECK: int4 pre[
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<512, 1>(rows, dst);
// CHECK: kiln::cpAsyncWait<1>();

// NONE: kiln.launch @k{{[0-9]+}}_linear_cast grid [4224, 1, 1] block [256, 1, 1] smem 0
// NONE: kiln.launch @k{{[0-9]+}}_linear_cast grid [4225, 1, 1] block [256, 1, 1] smem 0

func.func @step(%x: tensor<1x512xf32>) -> (tensor<1x33792xf32>, tensor<1x33800xf32>) {
  %wa = kiln.weight "wa" {path = "w.bin", offset = 0 : i64, length = 69206016 : i64} : tensor<512x33792xf32>
  %a = kiln.matmul %x, %wa : (tensor<1x512xf32>, tensor<512x33792xf32>) -> tensor<1x33792xf32>
  %wb = kiln.weight "wb" {path = "w.bin", offset = 0 : i64, length = 69222400 : i64} : tensor<512x33800xf32>
  %b = kiln.matmul %x, %wb : (tensor<1x512xf32>, tensor<512x33800xf32>) -> tensor<1x33800xf32>
  return %a, %b : tensor<1x33792xf32>, tensor<1x33800xf32>
}
