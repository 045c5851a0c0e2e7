// kiln-gemv's norm prologues in CUDA. An RMSNorm whose scale is K
// contiguous values folds into each warp's dots (kiln::GemvRmsX: no shared
// row, no barrier, and the grid is not capped: 16384 columns, 2048 blocks);
// an RMSNorm with a broadcast scale and a LayerNorm normalise the row into
// shared memory per block (kiln::normRow, then a barrier; at most
// kGemvPrologueGrid = 1024 blocks). The source compiles with nvcc.
// (--gemv-preload=false: the kernels as they were before the register
// preload, which test/Codegen/gemv-preload.mlir covers; --gemv-stages=0:
// not staged, which the rule would do to the first kernel's 2048 blocks of
// a 4 MB weight, test/Codegen/gemv-stages-rule.mlir.)
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(64 * 16384 * 4))"
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --gemv-stages=0 --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --gemv-preload=false --gemv-stages=0 --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --input-file=%t/k.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// SCHED: kiln.launch @k0_rms_norm_linear grid [2048, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k1_rms_norm_linear grid [1024, 1, 1] block [256, 1, 1]
// SCHED: kiln.launch @k2_layer_norm_linear grid [1024, 1, 1] block [256, 1, 1]

// CHECK-LABEL: @k0_rms_norm_linear: GEMV kernel: kiln.rms_norm kiln.linear
// CHECK: kiln::pdlEnter();
// CHECK-NEXT: kiln::GemvRmsX<1, 64, float> xs{in0, in1, 9.99999975e-06f};
// CHECK-NOT: __syncthreads
// CHECK: kiln::gemvDots<1, 64, 1>(xs, rows, acc);
// CHECK-LABEL: @k1_rms_norm_linear: GEMV kernel: kiln.rms_norm kiln.linear
// CHECK: kiln::pdlEnter();
// CHECK-NEXT: __shared__ __align__(16) float xs[64];
// CHECK: kiln::normRow<true, 64>(in0 + r * 64, in1, (const float *)nullptr, xs + r * 64,
// CHECK-NEXT: [](int64_t j) -> int64_t { return 0; },
// CHECK: __syncthreads();
// CHECK: kiln::gemvDots<1, 64, 1>(xs, rows, acc);
// CHECK-LABEL: @k2_layer_norm_linear: GEMV kernel: kiln.layer_norm kiln.linear
// CHECK: kiln::normRow<false, 64>(in0 + r * 64, in1, in2, xs + r * 64,
// CHECK: __syncthreads();
// CHECK: kiln::gemvDots<1, 64, 1>(xs, rows, acc);

func.func @step(%x: tensor<1x64xf32>, %s: tensor<64xf32>, %x1: tensor<1x64xf32>, %s1: tensor<1xf32>, %x2: tensor<1x64xf32>, %s2: tensor<64xf32>, %b2: tensor<64xf32>) -> (tensor<1x16384xf32>, tensor<1x16384xf32>, tensor<1x16384xf32>) {
  %n = kiln.rms_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 4194304 : i64} : tensor<64x16384xf32>
  %y = kiln.matmul %n, %w : (tensor<1x64xf32>, tensor<64x16384xf32>) -> tensor<1x16384xf32>
  %n1 = kiln.rms_norm %x1, %s1 {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x64xf32>, tensor<1xf32>) -> tensor<1x64xf32>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 4194304 : i64} : tensor<64x16384xf32>
  %y1 = kiln.matmul %n1, %w1 : (tensor<1x64xf32>, tensor<64x16384xf32>) -> tensor<1x16384xf32>
  %n2 = kiln.layer_norm %x2, %s2, %b2 {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 4194304 : i64} : tensor<64x16384xf32>
  %y2 = kiln.matmul %n2, %w2 : (tensor<1x64xf32>, tensor<64x16384xf32>) -> tensor<1x16384xf32>
  return %y, %y1, %y2 : tensor<1x16384xf32>, tensor<1x16384xf32>, tensor<1x16384xf32>
}
