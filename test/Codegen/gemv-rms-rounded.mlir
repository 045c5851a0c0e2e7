// kiln.rms_norm {round_normalized} (a 16-bit export's RMSNorm: the
// normalised row rounded to the element type before the scale) does not
// fold into a GEMV's dots (kiln::GemvRmsX rounds once): as a GEMV kernel's
// prologue each block normalises the rows into shared memory with
// kiln::normRow<true, K, true>, at one row (CUDA-core GEMV) and at 4
// (tensor cores); alone it is kiln::norm<..., true>. Rows gathered from an
// embedding, so after --precision bf16 they are bf16 as in a model. The
// source compiles with nvcc.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(16 * 2048 * 4 + 2 * 2048 * 24 * 4))"
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=scheduled -o - | FileCheck %s --check-prefix=SCHED
// RUN: cd %t && kiln-compile t.mlir --precision bf16 --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --input-file=%t/k.cu --implicit-check-not=GemvRmsX
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// SCHED-DAG: kiln.launch @{{k[0-9]+}}_rms_norm_linear_cast grid
// SCHED-DAG: kiln.launch @{{k[0-9]+}}_rms_norm_linear_cast grid
// SCHED-DAG: kiln.launch @{{k[0-9]+}}_rms_norm grid

// CHECK-DAG: kiln::normRow<true, 2048, true>(in{{[0-9]+}} + r * 2048,
// CHECK-DAG: kiln::normRow<true, 2048, true>(in{{[0-9]+}} + r * 2048,
// CHECK-DAG: kiln::norm<true, 4, 2048, true>(

func.func @step(%ids: tensor<1xi64>, %ids4: tensor<4xi64>, %s: tensor<2048xf32>) -> (tensor<1x24xf32>, tensor<4x24xf32>, tensor<4x2048xf32>) {
  %e = kiln.weight "e" {path = "w.bin", offset = 0 : i64, length = 131072 : i64} : tensor<16x2048xf32>
  %x1 = kiln.gather %e, %ids {axis = 0 : i64} : (tensor<16x2048xf32>, tensor<1xi64>) -> tensor<1x2048xf32>
  %n1 = kiln.rms_norm %x1, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32, round_normalized} : (tensor<1x2048xf32>, tensor<2048xf32>) -> tensor<1x2048xf32>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 131072 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %q1 = kiln.matmul %n1, %w1 : (tensor<1x2048xf32>, tensor<2048x24xf32>) -> tensor<1x24xf32>
  %x4 = kiln.gather %e, %ids4 {axis = 0 : i64} : (tensor<16x2048xf32>, tensor<4xi64>) -> tensor<4x2048xf32>
  %n4 = kiln.rms_norm %x4, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32, round_normalized} : (tensor<4x2048xf32>, tensor<2048xf32>) -> tensor<4x2048xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 327680 : i64, length = 196608 : i64} : tensor<2048x24xf32>
  %q4 = kiln.matmul %n4, %w4 : (tensor<4x2048xf32>, tensor<2048x24xf32>) -> tensor<4x24xf32>
  %n5 = kiln.rms_norm %x4, %s {axis = 1 : i64, epsilon = 2.0e-05 : f32, round_normalized} : (tensor<4x2048xf32>, tensor<2048xf32>) -> tensor<4x2048xf32>
  return %q1, %q4, %n5 : tensor<1x24xf32>, tensor<4x24xf32>, tensor<4x2048xf32>
}
