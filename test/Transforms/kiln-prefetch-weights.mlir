// kiln-prefetch-weights: a launch that streams no weights (here a softmax)
// asks L2 for the weights the streaming launches after it read whole (a
// GEMV's weight rows), in order, up to budget-kb, stopping at the next
// launch that streams nothing (which prefetches for the ones after it).
// A launch's weights that do not all fit get the same fraction each, from
// their start, in whole 128-byte lines. The second softmax has the first's
// kernel but another list: the pass clones the kernel (@k0_softmax_0), as
// a kernel's prefetch pointers are its parameters. budget-kb=0 changes
// nothing; a negative budget is an error.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(32768))"
// RUN: cd %t && kiln-compile t.mlir --emit=scheduled -o %t/s.mlir
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=24 | FileCheck %s
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
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights=budget-kb=24 -o %t/p.mlir
// RUN: sed -e 's/@k0_softmax_0 grid/@k0_softmax grid/' %t/p.mlir > %t/differ.mlir
// RUN: not kiln-compile %t/differ.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=DIFFER
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// CHECK: kiln.kernel @k0_softmax(
// CHECK: kiln.kernel @k0_softmax_0(
// CHECK: kiln.launch @k0_softmax grid {{.*}} outs(%{{.*}} : memref<1x64xf32>) prefetch(%[[W1:.*]] : memref<64x64xf32>) bytes [16384]
// CHECK-NEXT: kiln.launch @k1_linear {{.*}} ins(%{{.*}}, %[[W1]] :
// CHECK-NEXT: kiln.launch @k0_softmax_0 grid {{.*}} prefetch(%[[W2:.*]] : memref<128x64xf32>) bytes [24576]
// CHECK-NEXT: kiln.launch @k3_linear {{.*}} ins(%{{.*}}, %[[W2]] :
// CHECK-NEXT: kiln.launch @k4_softmax grid {{.*}} outs(%{{.*}} : memref<1x128xf32>){{$}}

// With 8 KiB both softmaxes ask for 8192 bytes: one kernel.
// SMALL-NOT: k0_softmax_0
// SMALL: kiln.launch @k0_softmax grid {{.*}} prefetch(%{{.*}} : memref<64x64xf32>) bytes [8192]
// SMALL: kiln.launch @k0_softmax grid {{.*}} prefetch(%{{.*}} : memref<128x64xf32>) bytes [8192]

// NONE-NOT: prefetch
// NONE-NOT: k0_softmax_0

// NEG: kiln-prefetch-weights: budget-kb must be at least 0, got -1

// CUDA-LABEL: @k0_softmax:
// CUDA: k0_softmax(const float *__restrict__ in0, float *__restrict__ out0, const void *pf0) {
// CUDA-NEXT: kiln::prefetchL2Grid(pf0, 16384);
// CUDA-NEXT: kiln::pdlEnter();
// CUDA-LABEL: @k0_softmax_0:
// CUDA: kiln::prefetchL2Grid(pf0, 32768);
// CUDA-LABEL: @k4_softmax:
// CUDA-NOT: prefetchL2Grid

// MANIFEST: launch kernel k0_softmax 1 1 1 64 1 1 0 3 a:{{[0-9]+}} a:{{[0-9]+}} w:0 prefetch 1
// MANIFEST-NEXT: launch kernel k1_linear {{.*}} w:0 a:{{[0-9]+}}{{$}}
// MANIFEST-NEXT: launch kernel k0_softmax_0 {{.*}} w:1 prefetch 1

// NEGFLAG: kiln-compile: error: --prefetch-weights-mb=-2 must be at least 0

// DIFFER: error: 'kiln.launch' op prefetches other bytes than the first launch of @k0_softmax; a kernel's prefetch is part of its parameters

func.func @step(%x: tensor<1x64xf32>) -> (tensor<1x128xf32>) {
  %a = kiln.softmax %x {axis = 1 : i64} : tensor<1x64xf32>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %p = kiln.matmul %a, %w1 : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %b = kiln.softmax %p {axis = 1 : i64} : tensor<1x64xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<64x128xf32>
  %q = kiln.matmul %b, %w2 : (tensor<1x64xf32>, tensor<64x128xf32>) -> tensor<1x128xf32>
  %c = kiln.softmax %q {axis = 1 : i64} : tensor<1x128xf32>
  return %c : tensor<1x128xf32>
}
