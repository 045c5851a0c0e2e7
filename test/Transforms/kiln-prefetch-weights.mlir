// kiln-prefetch-weights: after each quiet launch (one that streams no
// weights: here a softmax), the first streaming launch (a GEMV) asks L2
// for the weights the streaming launches after it read whole, in order, up
// to budget-kb, stopping at the next quiet launch. A launch's weights that
// do not all fit get the same fraction each, from their start, in whole
// 128-byte lines (40 KiB: all 32 KB of the second product's weight, 8 KB
// of the third's). The second quiet launch's first GEMV has the first's
// kernel but another list: the pass clones the kernel (@k1_linear_0), as a
// kernel's prefetch pointers are its parameters; with 8 KiB both lists
// are [8192] and the kernel stays one. budget-kb=0 changes nothing; a
// negative budget is an error.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(32768))"
// RUN: cd %t && kiln-compile t.mlir --emit=scheduled -o %t/s.mlir
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=40 | FileCheck %s
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=8 | FileCheck %s --check-prefix=SMALL
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=0 | FileCheck %s --check-prefix=NONE
// RUN: not kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=-1 2>&1 | FileCheck %s --check-prefix=NEG
// The pass in kiln-compile (--prefetch-weights-mb), the kernels' extra
// parameters and their requests, and the manifest's `prefetch <n>`.
// RUN: cd %t && kiln-compile t.mlir --prefetch-weights-mb=1 --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --check-prefix=CUDA --input-file=%t/k.cu
// RUN: cd %t && kiln-compile t.mlir --prefetch-weights-mb=1 -o %t/a.kiln
// RUN: FileCheck %s --check-prefix=MANIFEST --input-file=%t/a.kiln/manifest.txt
// RUN: cd %t && not kiln-compile t.mlir --prefetch-weights-mb=-2 --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEGFLAG
// Every launch of a kernel must prefetch the same bytes (the emitter).
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=40 -o %t/p.mlir
// RUN: sed -e 's/@k1_linear_0 grid/@k1_linear grid/' %t/p.mlir > %t/differ.mlir
// RUN: not kiln-compile %t/differ.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=DIFFER
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// CHECK: kiln.kernel @k1_linear(
// CHECK: kiln.kernel @k1_linear_0(
// CHECK: kiln.launch @k0_softmax grid {{.*}} outs(%{{.*}} : memref<1x64xf32>){{$}}
// CHECK-NEXT: kiln.launch @k1_linear grid {{.*}} prefetch(%[[W2:.*]], %[[W3:.*]] : memref<128x64xf32>, memref<64x128xf32>) bytes [32768, 8192]
// CHECK-NEXT: kiln.launch @k2_linear {{.*}} ins(%{{.*}}, %[[W2]] : {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k3_linear {{.*}} ins(%{{.*}}, %[[W3]] : {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k0_softmax grid {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k1_linear_0 grid {{.*}} prefetch(%[[W5:.*]] : memref<32x64xf32>) bytes [8192]
// CHECK-NEXT: kiln.launch @k6_linear {{.*}} ins(%{{.*}}, %[[W5]] : {{.*}}){{$}}

// SMALL-NOT: k1_linear_0
// SMALL: kiln.launch @k1_linear grid {{.*}} prefetch(%{{.*}} : memref<128x64xf32>) bytes [8192]
// SMALL: kiln.launch @k1_linear grid {{.*}} prefetch(%{{.*}} : memref<32x64xf32>) bytes [8192]

// NONE-NOT: prefetch
// NONE-NOT: k1_linear_0

// NEG: kiln-prefetch-weights: budget-kb must be at least 0, got -1

// CUDA-LABEL: @k1_linear:
// CUDA: k1_linear(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0, const void *pf0, const void *pf1) {
// CUDA-NEXT: kiln::prefetchL2Grid(pf0, 32768);
// CUDA-NEXT: kiln::prefetchL2Grid(pf1, 32768);
// CUDA-LABEL: @k1_linear_0:
// CUDA: kiln::prefetchL2Grid(pf0, 8192);
// CUDA-LABEL: @k6_linear:
// CUDA-NOT: prefetchL2Grid

// MANIFEST: launch kernel k0_softmax {{.*}} a:{{[0-9]+}}{{$}}
// MANIFEST-NEXT: launch kernel k1_linear 8 1 1 256 1 1 0 5 a:{{[0-9]+}} w:0 a:{{[0-9]+}} w:1 w:2 prefetch 2
// MANIFEST-NEXT: launch kernel k2_linear {{.*}} w:1 a:{{[0-9]+}}{{$}}

// NEGFLAG: kiln-compile: error: --prefetch-weights-mb=-2 must be at least 0

// DIFFER: error: 'kiln.launch' op prefetches other bytes than the first launch of @k1_linear; a kernel's prefetch is part of its parameters

func.func @step(%x: tensor<1x64xf32>) -> (tensor<1x32xf32>) {
  %a = kiln.softmax %x {axis = 1 : i64} : tensor<1x64xf32>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %p = kiln.matmul %a, %w1 : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<64x128xf32>
  %q = kiln.matmul %p, %w2 : (tensor<1x64xf32>, tensor<64x128xf32>) -> tensor<1x128xf32>
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<128x64xf32>
  %r = kiln.matmul %q, %w3 : (tensor<1x128xf32>, tensor<128x64xf32>) -> tensor<1x64xf32>
  %b = kiln.softmax %r {axis = 1 : i64} : tensor<1x64xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %s = kiln.matmul %b, %w4 : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %w5 = kiln.weight "w5" {path = "w.bin", offset = 0 : i64, length = 8192 : i64} : tensor<64x32xf32>
  %t = kiln.matmul %s, %w5 : (tensor<1x64xf32>, tensor<64x32xf32>) -> tensor<1x32xf32>
  return %t : tensor<1x32xf32>
}
