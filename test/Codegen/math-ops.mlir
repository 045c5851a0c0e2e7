// The scalar maps of KilnIndexOps.td (tan ... sign, mod, fmod) lower to
// kiln::op:: device functions, the bitwise ones to C++ operators; the emitted CUDA must compile with nvcc.
// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-graph-pipeline, func.func(kiln-form-fusions{max-ops=1}, kiln-plan-memory, kiln-verify-plan), kiln-schedule)' -o %t.mlir
// RUN: kiln-compile %t.mlir --emit=cuda -o %t.cu
// RUN: FileCheck %s --input-file=%t.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.80.o %}

// CHECK-DAG: kiln::op::tan_(
// CHECK-DAG: kiln::op::asin_(
// CHECK-DAG: kiln::op::acos_(
// CHECK-DAG: kiln::op::atan_(
// CHECK-DAG: kiln::op::sinh_(
// CHECK-DAG: kiln::op::cosh_(
// CHECK-DAG: kiln::op::asinh_(
// CHECK-DAG: kiln::op::acosh_(
// CHECK-DAG: kiln::op::atanh_(
// CHECK-DAG: kiln::op::floor_(
// CHECK-DAG: kiln::op::ceil_(
// CHECK-DAG: kiln::op::round_(
// CHECK-DAG: kiln::op::sign_(
// CHECK-DAG: kiln::op::mod_(
// CHECK-DAG: kiln::op::fmod_(
// CHECK-DAG: (in0[i] & in1[i])
// CHECK-DAG: (~in0[i])
func.func @main(%x: tensor<64xf32> {kiln.name = "x"}, %i: tensor<64xi64> {kiln.name = "i"}, %f: tensor<64xf64> {kiln.name = "f"})
    -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf64>, tensor<64xi64>, tensor<64xi64>, tensor<64xf32>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>) {
  %0 = kiln.tan %x : tensor<64xf32>
  %1 = kiln.asin %0 : tensor<64xf32>
  %2 = kiln.acos %1 : tensor<64xf32>
  %3 = kiln.atan %2 : tensor<64xf32>
  %4 = kiln.sinh %3 : tensor<64xf32>
  %5 = kiln.cosh %4 : tensor<64xf32>
  %6 = kiln.asinh %5 : tensor<64xf32>
  %7 = kiln.acosh %6 : tensor<64xf32>
  %8 = kiln.atanh %7 : tensor<64xf32>
  %9 = kiln.floor %8 : tensor<64xf32>
  %10 = kiln.ceil %9 : tensor<64xf32>
  %11 = kiln.round %f : tensor<64xf64>
  %12 = kiln.sign %i : tensor<64xi64>
  %13 = kiln.mod %i, %12 : (tensor<64xi64>, tensor<64xi64>) -> tensor<64xi64>
  %14 = kiln.fmod %x, %10 : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %15 = kiln.fmod %i, %13 : (tensor<64xi64>, tensor<64xi64>) -> tensor<64xi64>
  %16 = kiln.bit_and %i, %15 : (tensor<64xi64>, tensor<64xi64>) -> tensor<64xi64>
  %17 = kiln.bit_not %16 : tensor<64xi64>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf64>, tensor<64xi64>, tensor<64xi64>, tensor<64xf32>, tensor<64xi64>, tensor<64xi64>, tensor<64xi64>
}
