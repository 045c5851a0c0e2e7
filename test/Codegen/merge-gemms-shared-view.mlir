// A scheduled module whose first concatenation part's view is shared with
// another kiln.weight op of the same key (kiln-schedule's viewAt shares one
// view among weights of one key): the emitter finds the first part's record
// by the concatenation's offset and the weight's key, not by op identity.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "import numpy as np; np.zeros(16384, np.float32).tofile('%t/w.bin')"
// RUN: cd %t && kiln-compile t.mlir -o %t/m.kiln
// RUN: FileCheck %s < %t/m.kiln/manifest.txt
// CHECK: launch gemm 4 256 64 1 a:{{[0-9]+}} w:0 a:{{[0-9]+}} - {{.*}} b_records 2
module {
  kiln.kernel @k1_slice_slice_silu_mul(%arg0: tensor<4x256xf32>) -> tensor<4x128xf32> {
    %0 = slice %arg0 {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<4x256xf32> -> tensor<4x128xf32>
    %1 = slice %arg0 {starts = array<i64: 0, 128>, steps = array<i64: 1, 1>} : tensor<4x256xf32> -> tensor<4x128xf32>
    %2 = silu %0 : tensor<4x128xf32>
    %3 = mul %2, %1 : (tensor<4x128xf32>, tensor<4x128xf32>) -> tensor<4x128xf32>
    yield %3 : tensor<4x128xf32>
  }
  func.func @main() {
    %0 = kiln.arena : memref<7168xi8>
    %1 = kiln.weights : memref<65536xi8>
    %2 = kiln.weight "wg" {length = 32768 : i64, offset = 0 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
    %3 = kiln.weight "wu" {length = 32768 : i64, offset = 32768 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
    %99 = kiln.weight "wg" {length = 32768 : i64, offset = 0 : i64, path = "w.bin", transposed} : tensor<128x64xf32>
    %4 = kiln.concat %2, %3 {axis = 0 : i64, kiln.weight_concat} : (tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<256x64xf32>
    %5 = kiln.view %1[0] init(%99 : tensor<128x64xf32>) : memref<65536xi8> to memref<128x64xf32>
    %6 = kiln.view %1[0] init(%4 : tensor<256x64xf32>) : memref<65536xi8> to memref<256x64xf32>
    %7 = kiln.view %1[32768] init(%3 : tensor<128x64xf32>) : memref<65536xi8> to memref<128x64xf32>
    %8 = kiln.view %0[6144] input "input_0" : memref<7168xi8> to memref<4x64xf32>
    %9 = kiln.view %0[0] : memref<7168xi8> to memref<4x256xf32>
    %10 = kiln.view %0[4096] : memref<7168xi8> to memref<4x128xf32>
    %11 = kiln.view %10[0] output "output_0" : memref<4x128xf32> to memref<4x128xf32>
    kiln.graph {
      kiln.gemm %8, %6 outs %9 transpose_b : (memref<4x64xf32>, memref<256x64xf32>, memref<4x256xf32>) -> ()
      kiln.launch @k1_slice_slice_silu_mul grid [2, 1, 1] block [256, 1, 1] smem 0 ins(%9 : memref<4x256xf32>) outs(%10 : memref<4x128xf32>)
    }
    return
  }
}

