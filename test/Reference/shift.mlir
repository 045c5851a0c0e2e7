// RUN: split-file %s %t
// RUN: kiln-run %t/ref.mlir --backend=ref | FileCheck %s
// RUN: kiln-compile %t/cuda.mlir --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --check-prefix=CUDA < %t/k.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.o %}

// kiln.shift_left / kiln.shift_right (ONNX BitShift-28) on hand-computed
// values, i8 x = [1, -128, 64, -3] by [1, 1, 2, 9]:
// left: 2; -128 << 1 drops the sign bit: 0; 64 << 2 = 256 wraps to 0;
// by 9 >= 8 bits: 0.
// CHECK: output 0: i8 4 [2, 0, 0, 0]
// right (arithmetic): 0, -64, 16, and -3 by 9 >= 8: -1.
// CHECK: output 1: i8 4 [0, -64, 16, -1]
// i32 by a negative amount: 0, and -1 for a negative value shifted right.
// CHECK: output 2: i32 2 [0, 0]
// CHECK: output 3: i32 2 [0, -1]
// ui8 200 >> [3, 1] = [25, 100] (logical); 200 << [3, 1] = [1600, 400]
// wrapped to 8 bits: [64, 144].
// CHECK: output 4: u8 4 [25, 100, 64, 144]
// The CUDA scalar functions (kiln_kernels.cuh), compiled by nvcc.
// CUDA: kiln::op::shl(
// CUDA: kiln::op::shr(

//--- cuda.mlir
func.func @main(%a: tensor<4xi8> {kiln.name = "a"}, %b: tensor<4xi8> {kiln.name = "b"}) -> (tensor<4xi8>, tensor<4xi8>) {
  %0 = kiln.shift_left %a, %b : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  %1 = kiln.shift_right %a, %b : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  return %0, %1 : tensor<4xi8>, tensor<4xi8>
}

//--- ref.mlir
func.func @main() -> (tensor<4xi8>, tensor<4xi8>, tensor<2xi32>, tensor<2xi32>, tensor<4xui8>) {
  %x = kiln.constant dense<[1, -128, 64, -3]> : tensor<4xi8>
  %s = kiln.constant dense<[1, 1, 2, 9]> : tensor<4xi8>
  %0 = kiln.shift_left %x, %s : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  %1 = kiln.shift_right %x, %s : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  %y = kiln.constant dense<[5, -5]> : tensor<2xi32>
  %n = kiln.constant dense<-1> : tensor<i32>
  %2 = kiln.shift_left %y, %n : (tensor<2xi32>, tensor<i32>) -> tensor<2xi32>
  %3 = kiln.shift_right %y, %n : (tensor<2xi32>, tensor<i32>) -> tensor<2xi32>
  %u = kiln.constant dense<200> : tensor<2xui8>
  %us = kiln.constant dense<[3, 1]> : tensor<2xui8>
  %4 = kiln.shift_right %u, %us : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %5 = kiln.shift_left %u, %us : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %r = kiln.concat %4, %5 {axis = 0 : i64} : (tensor<2xui8>, tensor<2xui8>) -> tensor<4xui8>
  return %0, %1, %2, %3, %r : tensor<4xi8>, tensor<4xi8>, tensor<2xi32>, tensor<2xi32>, tensor<4xui8>
}
