// Format 3 (docs/artifact.md, docs/kv-cache.md): a module of two scheduled
// step functions (batch buckets 1 and 2) over one KV cache becomes one
// artifact. The cache is the module's kiln.kv_cache (1 layer x (key, value)
// x max_batch 2 x 1 kv head x max_seq 4 x head_dim 8 x f32 = 512 bytes), and
// views of each function's kiln.kv_region are `k:<offset>` pointers (a gemm
// operand A too). arena_bytes is the larger arena; the weight table is the
// union of the functions' weight views by offset (proj is in both, the bias
// constant only in decode_b2); inputs and outputs belong to their function
// (decode_b2's reuse decode_b1's arena bytes); kiln.step and kiln.roles
// become the `step` record and the `role` fields. Every function's kernels
// are in the one kernels.cu.
// REQUIRES: nvcc
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/m.mlir
// RUN: %python -c "open('%t/w.bin','wb').write(bytes(range(256)))"
// RUN: kiln-compile %t/m.mlir --function decode_b1 -o %t/m.kiln --arch sm_80
// RUN: FileCheck %s --input-file=%t/m.kiln/manifest.txt
// RUN: FileCheck %s --check-prefix=CU --input-file=%t/m.kiln/kernels.cu
// RUN: %python %kiln_src/utils/kiln_artifact.py show %t/m.kiln | FileCheck %s --check-prefix=SHOW
// The loader and the scheduled.mlir-vs-manifest check accept it: every
// function is checked, whichever one is picked.
// RUN: kiln-compile %t/m.kiln --function decode_b2 --emit=scheduled -o %t/again.mlir
// RUN: FileCheck %s --check-prefix=IR --input-file=%t/again.mlir

// CHECK: kiln-artifact 4
// CHECK-NEXT: arch sm_80
// CHECK-NEXT: arena_bytes 2048
// CHECK-NEXT: kv_cache 1 1 8 2 4 f32 512
// CHECK-NEXT: weights_file weights.bin 272 xxh64:{{[0-9a-f]{16}$}}
// CHECK-NEXT: kernels_file kernels.fatbin {{[0-9]+}} xxh64:{{[0-9a-f]{16}$}}
// CHECK-NEXT: ir_file scheduled.mlir {{[0-9]+}} xxh64:{{[0-9a-f]{16}$}}
// CHECK-NEXT: weight 0 proj f32 8x4 0 128
// CHECK-NEXT: weight 1 constant_1 f32 4 256 16
// CHECK-NEXT: function decode_b1 2
// CHECK-NEXT: step 1 1
// CHECK-NEXT: input 0 ids i64 1x1 0 8 role tokens
// CHECK-NEXT: input 1 kv_pos i64 1 256 8 role kv_pos
// CHECK-NEXT: output 0 logits f32 1x1x4 512 16 role logits
// CHECK-NEXT: launch gemm 1 4 8 1 k:0 w:0 a:512 - 8 0 4 0
// CHECK-NEXT: launch kernel b1_copy 1 1 1 32 1 1 0 2 k:256 a:768
// CHECK-NEXT: end
// CHECK-NEXT: function decode_b2 2
// CHECK-NEXT: step 2 1
// CHECK-NEXT: input 0 ids i64 2x1 0 16 role tokens
// CHECK-NEXT: output 0 logits f32 2x1x4 256 32 role logits
// CHECK-NEXT: launch gemm 2 4 8 1 k:0 w:0 a:256 w:1 16 0 8 0
// CHECK-NEXT: launch kernel b2_copy 1 1 1 32 1 1 0 2 k:256 a:512
// CHECK-NEXT: end
// CHECK-NEXT: checksum xxh64:{{[0-9a-f]{16}$}}

// CU: extern "C" __global__ void __launch_bounds__(32) b1_copy(
// CU: extern "C" __global__ void __launch_bounds__(32) b2_copy(

// SHOW: kiln-artifact 4 sm_80, arena 2048 bytes, 2 weights
// SHOW-NEXT: kv_cache: 1 layers, 1 kv heads, head_dim 8, max_batch 2, max_seq 4, f32, 512 bytes
// SHOW-NEXT: function decode_b1: step 1 1 2 launches
// SHOW-NEXT:   input 0 ids i64 1x1 @0 role tokens
// SHOW-NEXT:   input 1 kv_pos i64 1 @256 role kv_pos
// SHOW-NEXT:   output 0 logits f32 1x1x4 @512 role logits
// SHOW-NEXT: function decode_b2: step 2 1 2 launches

// IR: kiln.kv_cache @kv
// IR: func.func @decode_b1()
// IR: func.func @decode_b2()

// The manifest edited (and re-sealed) so that it no longer agrees with
// scheduled.mlir: a role dropped.
// RUN: cp -r %t/m.kiln %t/role.kiln
// RUN: sed -i 's/ role kv_pos$//' %t/role.kiln/manifest.txt
// RUN: %python %kiln_src/utils/kiln_artifact.py seal %t/role.kiln
// RUN: not kiln-compile %t/role.kiln --function decode_b2 --emit=scheduled -o /dev/null 2>&1 | FileCheck %s --check-prefix=ROLE
// ROLE: error: scheduled.mlir disagrees with {{.*}}role.kiln/manifest.txt: input #1 'kv_pos' has role 'kv_pos' in the IR and '' in the manifest

// The writer's refusals: a kv_region that is not the whole cache, two
// functions storing different weights at one offset, a role for a binding
// the function does not have, a role whose shape contradicts the step.
// RUN: sed 's/memref<512xi8>/memref<1024xi8>/g' %s > %t/region.mlir
// RUN: not kiln-compile %t/region.mlir --function decode_b1 -o %t/region.kiln 2>&1 | FileCheck %s --check-prefix=REGION
// REGION: error: 'kiln.kv_region' op has 1024 bytes but kiln.kv_cache @kv needs 512 (layers x 2 x max_batch x kv_heads x max_seq x head_dim x element bytes)
// RUN: sed 's/%w2 = kiln.weight "proj" {path = "w.bin", offset = 0/%w2 = kiln.weight "proj" {path = "w.bin", offset = 128/' %s > %t/weights.mlir
// RUN: not kiln-compile %t/weights.mlir --function decode_b1 -o %t/weights.kiln 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// WEIGHTS: error: 'kiln.weight' op is stored at weights offset 0 in @decode_b2, where @decode_b1 stores a different weight; functions of one module share one weights layout (kiln-schedule)
// The same file range read transposed (same type here, [8, 4] from a stored
// [4, 8]) is other bytes, not the same weight.
// RUN: sed 's/%w2 = kiln.weight "proj" {path = "w.bin", offset = 0 : i64, length = 128 : i64}/%w2 = kiln.weight "proj" {path = "w.bin", offset = 0 : i64, length = 128 : i64, transposed}/' %s > %t/transposed.mlir
// RUN: not kiln-compile %t/transposed.mlir --function decode_b1 -o %t/transposed.kiln 2>&1 | FileCheck %s --check-prefix=WEIGHTS
// RUN: sed 's/kiln.roles = {ids = "tokens", logits = "logits"}/kiln.roles = {ids = "tokens", mask = "mask", logits = "logits"}/' %s > %t/norole.mlir
// RUN: not kiln-compile %t/norole.mlir --function decode_b1 -o %t/norole.kiln 2>&1 | FileCheck %s --check-prefix=NOROLE
// NOROLE: error: 'func.func' op gives role 'mask' to 'mask', which is no input of the function
// RUN: sed 's/kiln.step = {batch = 2 : i64, seq = 1 : i64}/kiln.step = {batch = 2 : i64, seq = 2 : i64}/' %s > %t/shape.mlir
// RUN: not kiln-compile %t/shape.mlir --function decode_b1 -o %t/shape.kiln 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: the runtime would refuse this module's manifest: manifest.txt:{{[0-9]+}}: input 'ids' (role tokens) is 2x1 but step 2 2 make it 2x2 [batch, seq]

module {
  kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 2 max_seq 4 : f32
  kiln.kernel @b1_copy(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    kiln.yield %x : tensor<1x8xf32>
  }
  kiln.kernel @b2_copy(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    kiln.yield %x : tensor<2x8xf32>
  }
  func.func @decode_b1() attributes {kiln.step = {batch = 1 : i64, seq = 1 : i64}, kiln.roles = {ids = "tokens", kv_pos = "kv_pos", logits = "logits"}} {
    %arena = kiln.arena : memref<1024xi8>
    %weights = kiln.weights : memref<768xi8>
    %kv = kiln.kv_region : memref<512xi8>
    %w = kiln.weight "proj" {path = "w.bin", offset = 0 : i64, length = 128 : i64} : tensor<8x4xf32>
    %wb = kiln.view %weights[0] init(%w : tensor<8x4xf32>) : memref<768xi8> to memref<8x4xf32>
    %ids = kiln.view %arena[0] input "ids" : memref<1024xi8> to memref<1x1xi64>
    %pos = kiln.view %arena[256] input "kv_pos" : memref<1024xi8> to memref<1xi64>
    %l = kiln.view %arena[512] : memref<1024xi8> to memref<1x4xf32>
    %logits = kiln.view %l[0] output "logits" : memref<1x4xf32> to memref<1x1x4xf32>
    %t = kiln.view %arena[768] : memref<1024xi8> to memref<1x8xf32>
    %kc = kiln.view %kv[0] : memref<512xi8> to memref<1x1x4x8xf32>
    %k0 = kiln.view %kc[0] : memref<1x1x4x8xf32> to memref<1x8xf32>
    %vc = kiln.view %kv[256] : memref<512xi8> to memref<1x1x4x8xf32>
    %v0 = kiln.view %vc[0] : memref<1x1x4x8xf32> to memref<1x8xf32>
    kiln.graph {
      kiln.gemm %k0, %wb outs %l : (memref<1x8xf32>, memref<8x4xf32>, memref<1x4xf32>) -> ()
      kiln.launch @b1_copy grid [1, 1, 1] block [32, 1, 1] smem 0 ins(%v0 : memref<1x8xf32>) outs(%t : memref<1x8xf32>)
    }
    return
  }
  func.func @decode_b2() attributes {kiln.step = {batch = 2 : i64, seq = 1 : i64}, kiln.roles = {ids = "tokens", logits = "logits"}} {
    %arena = kiln.arena : memref<2048xi8>
    %weights = kiln.weights : memref<768xi8>
    %kv = kiln.kv_region : memref<512xi8>
    %w2 = kiln.weight "proj" {path = "w.bin", offset = 0 : i64, length = 128 : i64} : tensor<8x4xf32>
    %b = kiln.constant dense<0.5> : tensor<4xf32>
    %wb = kiln.view %weights[0] init(%w2 : tensor<8x4xf32>) : memref<768xi8> to memref<8x4xf32>
    %bb = kiln.view %weights[256] init(%b : tensor<4xf32>) : memref<768xi8> to memref<4xf32>
    %ids = kiln.view %arena[0] input "ids" : memref<2048xi8> to memref<2x1xi64>
    %l = kiln.view %arena[256] : memref<2048xi8> to memref<2x4xf32>
    %logits = kiln.view %l[0] output "logits" : memref<2x4xf32> to memref<2x1x4xf32>
    %t = kiln.view %arena[512] : memref<2048xi8> to memref<2x8xf32>
    %kc = kiln.view %kv[0] : memref<512xi8> to memref<2x1x4x8xf32>
    %k0 = kiln.view %kc[0] : memref<2x1x4x8xf32> to memref<2x8xf32>
    %vc = kiln.view %kv[256] : memref<512xi8> to memref<2x1x4x8xf32>
    %v0 = kiln.view %vc[0] : memref<2x1x4x8xf32> to memref<2x8xf32>
    kiln.graph {
      kiln.gemm %k0, %wb, %bb outs %l : (memref<2x8xf32>, memref<8x4xf32>, memref<4xf32>, memref<2x4xf32>) -> ()
      kiln.launch @b2_copy grid [1, 1, 1] block [32, 1, 1] smem 0 ins(%v0 : memref<2x8xf32>) outs(%t : memref<2x8xf32>)
    }
    return
  }
}
