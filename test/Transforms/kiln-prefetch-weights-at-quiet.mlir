// kiln-prefetch-weights at-quiet (kiln-compile --prefetch-weights-at=quiet,
// for measurement): the quiet launch itself (a launch that streams no
// weights: a softmax, a decode attention) gets the list - the weights of
// the streaming launches after it, the first one's included, up to
// budget-kb, stopping at the next quiet launch - and asks for them after
// its wait for the launch before it. 40 KiB: the first softmax asks for
// all 16 KB of w1 and the first 24 KB of w2 (what is left of the budget); the
// second softmax, followed by a quiet launch, gets none; the third asks
// for w4 and w5; the attention for w6. Kernels whose launches' lists
// differ are cloned. In CUDA, a kernel that does not wait itself (the
// softmax) asks right after its kiln::pdlEnter(); the early decode
// attention (pos is a step input) passes the requests as the `waited`
// hook that kvAttentionSplitWith runs after its own wait. Without
// --prefetch-weights-mb, --prefetch-weights-at is an error; so is a value
// other than next and quiet. The source compiles.
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/t.mlir
// RUN: %python -c "open('%t/w.bin', 'wb').write(bytes(32768))"
// RUN: cd %t && kiln-compile t.mlir --emit=scheduled -o %t/s.mlir
// RUN: kiln-opt %t/s.mlir --kiln-prefetch-weights="budget-kb=40 at-quiet=true" | FileCheck %s
// RUN: cd %t && kiln-compile t.mlir --prefetch-weights-mb=1 --prefetch-weights-at=quiet --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --check-prefix=CUDA --input-file=%t/k.cu
// RUN: cd %t && kiln-compile t.mlir --prefetch-weights-mb=1 --prefetch-weights-at=next --emit=scheduled -o - | FileCheck %s --check-prefix=NEXT
// RUN: cd %t && not kiln-compile t.mlir --prefetch-weights-at=quiet --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOMB
// RUN: cd %t && not kiln-compile t.mlir --prefetch-weights-mb=1 --prefetch-weights-at=before --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=VALUE
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// CHECK: kiln.launch @k0_softmax grid {{.*}} prefetch(%[[W1:.*]], %[[W2:.*]] : memref<64x64xf32>, memref<128x64xf32>) bytes [16384, 24576]
// CHECK-NEXT: kiln.launch @k1_linear {{.*}} ins(%{{.*}}, %[[W1]] : {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k2_linear {{.*}} ins(%{{.*}}, %[[W2]] : {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k3_linear {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k0_softmax_0 grid {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k0_softmax_1 grid {{.*}} prefetch(%[[W4:.*]], %[[W5:.*]] : memref<64x64xf32>, memref<32x64xf32>) bytes [16384, 8192]
// CHECK-NEXT: kiln.launch @k1_linear {{.*}} ins(%{{.*}}, %[[W4]] : {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k7_linear {{.*}} ins(%{{.*}}, %[[W5]] : {{.*}}){{$}}
// CHECK-NEXT: kiln.launch @k8_kv_attention grid {{.*}} prefetch(%[[W6:.*]] : memref<64x128xf32>) bytes [32768]
// CHECK-NEXT: kiln.launch @k3_linear {{.*}} ins(%{{.*}}, %[[W6]] : {{.*}}){{$}}

// CUDA-LABEL: @k0_softmax:
// CUDA: k0_softmax(const float *__restrict__ in0, float *__restrict__ out0, const void *pf0, const void *pf1, const void *pf2) {
// CUDA-NEXT: kiln::pdlEnter();
// CUDA-NEXT: kiln::prefetchL2Grid(pf0, 16384);
// CUDA-NEXT: kiln::prefetchL2Grid(pf1, 32768);
// CUDA-NEXT: kiln::prefetchL2Grid(pf2, 32768);
// CUDA-LABEL: @k1_linear:
// CUDA: k1_linear(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0) {
// CUDA-NEXT: kiln::pdlEnter();
// CUDA-NEXT: kiln::gemv<
// CUDA-LABEL: @k0_softmax_0:
// CUDA: k0_softmax_0(const float *__restrict__ in0, float *__restrict__ out0) {
// CUDA-LABEL: @k0_softmax_1:
// CUDA: kiln::pdlEnter();
// CUDA-NEXT: kiln::prefetchL2Grid(pf0, 16384);
// CUDA-NEXT: kiln::prefetchL2Grid(pf1, 8192);
// CUDA-LABEL: @k8_kv_attention:
// CUDA: k8_kv_attention({{.*}}, const void *pf0) {
// CUDA-NOT: prefetchL2Grid
// CUDA: kiln::kvAttentionSplitWith<1, 2, 1, 1, 1024, 64, 8, 2, 1, true, false>(
// CUDA: kiln::KvNoAppend{},
// CUDA-NEXT: [=] { kiln::prefetchL2Grid(pf0, 32768); });

// NEXT-NOT: kv_attention {{.*}} prefetch
// NEXT: kiln.launch @k1_linear grid {{.*}} prefetch(
// NEXT-NOT: kv_attention {{.*}} prefetch

// NOMB: kiln-compile: error: --prefetch-weights-at needs --prefetch-weights-mb=N with N > 0
// VALUE: Cannot find option named 'before'!

func.func @step(%x: tensor<1x64xf32>, %q: tensor<1x2x1x64xf32> {kiln.name = "q"},
                %kc: tensor<1x1x1024x64xf32> {kiln.name = "kc"},
                %vc: tensor<1x1x1024x64xf32> {kiln.name = "vc"},
                %pos: tensor<1xi64> {kiln.name = "pos"}) -> (tensor<1x32xf32>, tensor<1x64xf32>) {
  %a = kiln.softmax %x {axis = 1 : i64} : tensor<1x64xf32>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %p = kiln.matmul %a, %w1 : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<64x128xf32>
  %q2 = kiln.matmul %p, %w2 : (tensor<1x64xf32>, tensor<64x128xf32>) -> tensor<1x128xf32>
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<128x64xf32>
  %r = kiln.matmul %q2, %w3 : (tensor<1x128xf32>, tensor<128x64xf32>) -> tensor<1x64xf32>
  %b = kiln.softmax %r {axis = 1 : i64} : tensor<1x64xf32>
  %c = kiln.softmax %b {axis = 1 : i64} : tensor<1x64xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %s = kiln.matmul %c, %w4 : (tensor<1x64xf32>, tensor<64x64xf32>) -> tensor<1x64xf32>
  %w5 = kiln.weight "w5" {path = "w.bin", offset = 0 : i64, length = 8192 : i64} : tensor<64x32xf32>
  %t = kiln.matmul %s, %w5 : (tensor<1x64xf32>, tensor<64x32xf32>) -> tensor<1x32xf32>
  %o = kiln.kv_attention %q, %kc, %vc at %pos {scale = 0.125 : f32} : (tensor<1x2x1x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32>, tensor<1xi64>) -> tensor<1x2x1x64xf32>
  %o2 = kiln.reshape %o : tensor<1x2x1x64xf32> -> tensor<1x128xf32>
  %w6 = kiln.weight "w6" {path = "w.bin", offset = 0 : i64, length = 32768 : i64} : tensor<128x64xf32>
  %u = kiln.matmul %o2, %w6 : (tensor<1x128xf32>, tensor<128x64xf32>) -> tensor<1x64xf32>
  return %t, %u : tensor<1x32xf32>, tensor<1x64xf32>
}
