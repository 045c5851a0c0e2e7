// The staging rule (LaunchConfig.cpp gemvStagesRule; no --gemv-stages): a
// one-row GEMV kernel is staged through shared memory when its grid
// unstaged is more than 4 blocks an SM (528: it runs in waves) and all its
// weight rows fit in the SMs' shared memory at once, at the fewest slots a
// warp that hold every column the warp takes. 64-element bf16 rows (128
// bytes a slot, S = 1): 4232 columns (529 blocks) are staged in one slot
// (1 KB a block, the unstaged grid kept: 8 blocks an SM would allow 1056);
// 4224 columns (528 blocks) are not. 8-element rows (16 bytes a slot):
// 67584 columns fill 8 blocks of 8 warps an SM on 132 SMs at 8 slots each,
// exactly, so they are staged at 8 (grid 1056); 67592 do not fit, and
// their unstaged grid (8449 blocks) is more than 32 an SM, so they are
// staged at the many-waves rule's 2 slots (gemv-stages-many-waves.mlir has
// that rule's edge). --gemv-stages=0 stages none; --gemv-stages=N with
// --gemv-stages-min-grid=B stages every kernel whose unstaged grid is over
// B at N (not the rule). --gemv-stages-min-grid alone, or below 1, is an
// error, and so is a module attribute kiln.gemv_stages_min_grid below 1.
// The source compiles.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(2162944))"
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=scheduled -o - | FileCheck %s --check-prefix=RULE
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/r.cu
// RUN: FileCheck %s --input-file=%t/r.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=0 --emit=scheduled -o - | FileCheck %s --check-prefix=NONE
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=0 --emit=cuda -o %t/none.cu
// RUN: not grep -q "gemvStageRows\|cpAsync\|kiln_smem" %t/none.cu
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --gemv-stages=2 --gemv-stages-min-grid=528 --emit=scheduled -o %t/min.mlir
// RUN: FileCheck %s --check-prefix=MIN --input-file=%t/min.mlir
// RUN: cd %t && not kiln-compile t.mlir --precision bf16 --gemv-stages-min-grid=528 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=ALONE
// RUN: cd %t && not kiln-compile t.mlir --precision bf16 --gemv-stages=0 --gemv-stages-min-grid=528 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=ALONE
// RUN: cd %t && not kiln-compile t.mlir --precision bf16 --gemv-stages=2 --gemv-stages-min-grid=-1 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BELOW
// RUN: sed -e 's/kiln.gemv_stages_min_grid = 528 : i64/kiln.gemv_stages_min_grid = 0 : i64/' %t/min.mlir > %t/bad.mlir
// RUN: cd %t && not kiln-compile bad.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=ATTR
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/r.cu -o %t/r.o %}

// RULE: kiln.launch @k{{[0-9]+}}_linear_cast grid [529, 1, 1] block [256, 1, 1] smem 1024 ins({{.*}}memref<4232x64xbf16>
// RULE: kiln.launch @k{{[0-9]+}}_linear_cast grid [528, 1, 1] block [256, 1, 1] smem 0 ins({{.*}}memref<4224x64xbf16>
// RULE: kiln.launch @k{{[0-9]+}}_linear_cast grid [1056, 1, 1] block [256, 1, 1] smem 1024 ins({{.*}}memref<67584x8xbf16>
// RULE: kiln.launch @k{{[0-9]+}}_linear_cast grid [1056, 1, 1] block [256, 1, 1] smem 256 ins({{.*}}memref<67592x8xbf16>

// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<64, 1>(rows, dst);
// CHECK: kiln::cpAsyncWait<0>();
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK-NOT: kiln_smem
// CHECK: int4 pre[
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<8, 1>(rows, dst);
// CHECK: kiln::cpAsyncWait<7>();
// CHECK-LABEL: _linear_cast: GEMV kernel: kiln.linear kiln.cast
// CHECK: kiln::gemvStageRows<8, 1>(rows, dst);
// CHECK: kiln::cpAsyncWait<1>();

// NONE-COUNT-4: kiln.launch @k{{[0-9]+}}_linear_cast grid [{{[0-9]+}}, 1, 1] block [256, 1, 1] smem 0

// MIN: kiln.gemv_stages = 2 : i64, kiln.gemv_stages_min_grid = 528 : i64
// MIN: kiln.launch @k{{[0-9]+}}_linear_cast grid [529, 1, 1] block [256, 1, 1] smem 2048
// MIN: kiln.launch @k{{[0-9]+}}_linear_cast grid [528, 1, 1] block [256, 1, 1] smem 0
// MIN: kiln.launch @k{{[0-9]+}}_linear_cast grid [1056, 1, 1] block [256, 1, 1] smem 256
// MIN: kiln.launch @k{{[0-9]+}}_linear_cast grid [1056, 1, 1] block [256, 1, 1] smem 256

// ALONE: kiln-compile: error: --gemv-stages-min-grid narrows --gemv-stages=N, N from 1 to 8, which is not given
// BELOW: kiln-compile: error: --gemv-stages-min-grid=-1 is not between 1 and 65535
// ATTR: error: kiln.gemv_stages_min_grid must be an integer of at least 1, got 0 : i64

func.func @step(%x: tensor<1x64xf32>, %x8: tensor<1x8xf32>) -> (tensor<1x4232xf32>, tensor<1x4224xf32>, tensor<1x67584xf32>, tensor<1x67592xf32>) {
  %wa = kiln.weight "wa" {path = "w.bin", offset = 0 : i64, length = 1083392 : i64} : tensor<64x4232xf32>
  %a = kiln.matmul %x, %wa : (tensor<1x64xf32>, tensor<64x4232xf32>) -> tensor<1x4232xf32>
  %wb = kiln.weight "wb" {path = "w.bin", offset = 0 : i64, length = 1081344 : i64} : tensor<64x4224xf32>
  %b = kiln.matmul %x, %wb : (tensor<1x64xf32>, tensor<64x4224xf32>) -> tensor<1x4224xf32>
  %wc = kiln.weight "wc" {path = "w.bin", offset = 0 : i64, length = 2162688 : i64} : tensor<8x67584xf32>
  %c = kiln.matmul %x8, %wc : (tensor<1x8xf32>, tensor<8x67584xf32>) -> tensor<1x67584xf32>
  %wd = kiln.weight "wd" {path = "w.bin", offset = 0 : i64, length = 2162944 : i64} : tensor<8x67592xf32>
  %d = kiln.matmul %x8, %wd : (tensor<1x8xf32>, tensor<8x67592xf32>) -> tensor<1x67592xf32>
  return %a, %b, %c, %d : tensor<1x4232xf32>, tensor<1x4224xf32>, tensor<1x67584xf32>, tensor<1x67592xf32>
}
