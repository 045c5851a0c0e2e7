// kiln-schedule on step functions over one KV cache (docs/kv-cache.md,
// "Scheduled level"): each function that appends declares the cache's bytes
// as one kiln.kv_region (all layers, max_batch rows); a kv_append's results
// are root views of it at (2 * layer + kind) * blockBytes, the outs of its
// launch, which kv_attention then reads; every function of the module gets
// one weights layout; kiln.step stays and kiln.roles maps binding names to
// roles.
//
// RUN: kiln-opt %s --kiln-compile-pipeline=gemv=false --verify-diagnostics | FileCheck %s
// The output verifies again (the kiln.graph plan check accepts the KV views:
// read before any write, written by kv_append kernels only) and round-trips.
// RUN: kiln-opt %s --kiln-compile-pipeline --verify-diagnostics | kiln-opt --verify-roundtrip > /dev/null
// The same from the planned fused level, pass by pass.
// RUN: kiln-opt %s --kiln-fused-pipeline=gemv=false --verify-diagnostics | kiln-opt --pass-pipeline='builtin.module(func.func(kiln-plan-memory,kiln-verify-plan),kiln-schedule)' | FileCheck %s

// The cache: 2 layers x (key, value) x max_batch 4 x 2 kv heads x max_seq 8
// x head dim 64 x 4 bytes = 65536 bytes; one block (one layer's keys or
// values) is 4 x 2 x 8 x 64 x 4 = 16384 bytes.
// CHECK: kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 64 max_batch 4 max_seq 8 : f32
// The attention stays apart from the append (fused, the kv_append kernels
// below would be the attention's): at 2 and 4 rows by default since
// session 25, so this module sets the limit to 1 row.
module attributes {kiln.fuse_kv_attention_max_batch = 1 : i64} {
kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 64 max_batch 4 max_seq 8 : f32

// Kernel symbols are unique in the module: decode_b4's clash with
// decode_b2's and are renamed.
// CHECK-LABEL: kiln.kernel @k2_kv_append(%arg0: tensor<2x2x1x64xf32>, %arg1: tensor<2x2x1x64xf32>, %arg2: tensor<2xi64>) -> (tensor<2x2x8x64xf32>, tensor<2x2x8x64xf32>)
// CHECK-NEXT:    kv_append @kv[0]
// CHECK-LABEL: kiln.kernel @k5_kv_append(
// CHECK-NEXT:    kv_append @kv[1]

// CHECK-LABEL: func.func @decode_b2()
// CHECK-SAME:  attributes {kiln.roles = {attention_mask = "mask", ids = "tokens", kv_pos = "kv_pos", logits = "logits"}, kiln.step = {batch = 2 : i64, seq = 1 : i64}}
// CHECK-NEXT:  %[[ARENA:.+]] = kiln.arena
// CHECK-NEXT:  %[[KV:.+]] = kiln.kv_region : memref<65536xi8>
// One weights layout for the module: the constant (512 bytes) at 0, embed
// (8192) at 512, out (65536) at 8704, then decode_b4's extra (512) at 74240;
// 74752 bytes in every function.
// CHECK-NEXT:  %[[W:.+]] = kiln.weights : memref<74752xi8>
// CHECK-DAG:   kiln.view %[[W]][0] init(%{{.+}} : tensor<128xf32>) : memref<74752xi8> to memref<128xf32>
// CHECK-DAG:   %[[EMB:.+]] = kiln.view %[[W]][512] init(%{{.+}} : tensor<16x128xf32>)
// CHECK-DAG:   %[[OUT:.+]] = kiln.view %[[W]][8704] init(%{{.+}} : tensor<128x128xf32>)
// CHECK-DAG:   %[[POS:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] input "kv_pos" : {{.+}} to memref<2xi64>
// Two rows of each block, at (2 l + c) x 16384: layer 0 keys 0, values
// 16384, layer 1 keys 32768, values 49152 (blocks of max_batch 4 rows, not
// 2).
// CHECK:       %[[KC0:.+]] = kiln.view %[[KV]][0] : memref<65536xi8> to memref<2x2x8x64xf32>
// CHECK-NEXT:  %[[VC0:.+]] = kiln.view %[[KV]][16384] : memref<65536xi8> to memref<2x2x8x64xf32>
// CHECK:       %[[KC1:.+]] = kiln.view %[[KV]][32768] : memref<65536xi8> to memref<2x2x8x64xf32>
// CHECK-NEXT:  %[[VC1:.+]] = kiln.view %[[KV]][49152] : memref<65536xi8> to memref<2x2x8x64xf32>
// CHECK-NOT:   kiln.view %[[KV]]
// CHECK:       kiln.graph {
// The append's grid covers the new rows (2 x 2 x 1 x 64 = 256 elements: one
// block of 256), not the cache rows it names (2048 elements: 8 blocks); its
// outs are the KV views, updated in place; kv_attention reads them. The
// attention is a row kernel: 2 x 2 x 1 query rows, 64 threads (head dim 64
// > 8 keys).
// CHECK:       kiln.launch @k2_kv_append grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%{{.+}}, %{{.+}}, %[[POS]] : memref<2x2x1x64xf32>, memref<2x2x1x64xf32>, memref<2xi64>) outs(%[[KC0]], %[[VC0]] : memref<2x2x8x64xf32>, memref<2x2x8x64xf32>)
// CHECK-NEXT:  kiln.launch @[[ATT:k3_kv_attention]] grid [4, 1, 1] block [256, 1, 1] smem 0 ins(%{{.+}}, %[[KC0]], %[[VC0]], %[[POS]], %{{.+}} : memref<2x2x1x64xf32>, memref<2x2x8x64xf32>, memref<2x2x8x64xf32>, memref<2xi64>, memref<2x1x1x8xi1>)
// The second layer's attention is the first's kernel (identical kernels are
// deduplicated by kiln-schedule); its append is its own (another layer).
// CHECK:       kiln.launch @k5_kv_append grid [1, 1, 1] block [256, 1, 1] smem 0 ins({{.+}}) outs(%[[KC1]], %[[VC1]] : memref<2x2x8x64xf32>, memref<2x2x8x64xf32>)
// CHECK-NEXT:  kiln.launch @[[ATT]] grid [4, 1, 1] block [256, 1, 1] smem 0 ins(%{{.+}}, %[[KC1]], %[[VC1]], %[[POS]], %{{.+}} :
// CHECK-NEXT:  kiln.gemm %{{.+}}, %[[OUT]] outs
// CHECK-NEXT:  }
func.func @decode_b2(%ids: tensor<2x1xi64> {kiln.name = "ids", kiln.role = "tokens"},
                     %mask: tensor<2x8xi64> {kiln.name = "attention_mask", kiln.role = "mask"},
                     %pos: tensor<2xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"})
    -> (tensor<2x1x128xf32> {kiln.name = "logits", kiln.role = "logits"})
    attributes {kiln.step = {batch = 2 : i64, seq = 1 : i64}} {
  %emb = kiln.weight "embed" {path = "w.bin", offset = 0 : i64, length = 8192 : i64} : tensor<16x128xf32>
  %c = kiln.constant dense<5.000000e-01> : tensor<128xf32>
  %wout = kiln.weight "out" {path = "w.bin", offset = 8192 : i64, length = 65536 : i64} : tensor<128x128xf32>
  %x = kiln.gather %emb, %ids : (tensor<16x128xf32>, tensor<2x1xi64>) -> tensor<2x1x128xf32>
  %xc = kiln.add %x, %c : (tensor<2x1x128xf32>, tensor<128xf32>) -> tensor<2x1x128xf32>
  %k0 = kiln.reshape %xc : tensor<2x1x128xf32> -> tensor<2x2x1x64xf32>
  %v0 = kiln.neg %k0 : tensor<2x2x1x64xf32>
  %mb = kiln.cast %mask : tensor<2x8xi64> -> tensor<2x8xi1>
  %m = kiln.reshape %mb : tensor<2x8xi1> -> tensor<2x1x1x8xi1>
  %kc0, %vc0 = kiln.kv_append @kv[0] %k0, %v0 at %pos : (tensor<2x2x1x64xf32>, tensor<2x2x1x64xf32>, tensor<2xi64>) -> (tensor<2x2x8x64xf32>, tensor<2x2x8x64xf32>)
  %o0 = kiln.kv_attention %k0, %kc0, %vc0 at %pos mask %m {scale = 1.250000e-01 : f32} : (tensor<2x2x1x64xf32>, tensor<2x2x8x64xf32>, tensor<2x2x8x64xf32>, tensor<2xi64>, tensor<2x1x1x8xi1>) -> tensor<2x2x1x64xf32>
  %v1 = kiln.exp %o0 : tensor<2x2x1x64xf32>
  %kc1, %vc1 = kiln.kv_append @kv[1] %o0, %v1 at %pos : (tensor<2x2x1x64xf32>, tensor<2x2x1x64xf32>, tensor<2xi64>) -> (tensor<2x2x8x64xf32>, tensor<2x2x8x64xf32>)
  %o1 = kiln.kv_attention %o0, %kc1, %vc1 at %pos mask %m {scale = 1.250000e-01 : f32} : (tensor<2x2x1x64xf32>, tensor<2x2x8x64xf32>, tensor<2x2x8x64xf32>, tensor<2xi64>, tensor<2x1x1x8xi1>) -> tensor<2x2x1x64xf32>
  %h = kiln.reshape %o1 : tensor<2x2x1x64xf32> -> tensor<2x1x128xf32>
  %l = kiln.linear %h, %wout : (tensor<2x1x128xf32>, tensor<128x128xf32>) -> tensor<2x1x128xf32>
  return %l : tensor<2x1x128xf32>
}

// The batch-4 bucket, its weights in another order and one more weight:
// every shared weight at the same offset as in decode_b2.
// CHECK-LABEL: kiln.kernel @k2_kv_append_{{[0-9]+}}(%arg0: tensor<4x2x1x64xf32>, %arg1: tensor<4x2x1x64xf32>, %arg2: tensor<4xi64>) -> (tensor<4x2x8x64xf32>, tensor<4x2x8x64xf32>)
// CHECK-LABEL: func.func @decode_b4()
// CHECK-SAME:  attributes {kiln.roles = {attention_mask = "mask", ids = "tokens", kv_pos = "kv_pos", logits = "logits"}, kiln.step = {batch = 4 : i64, seq = 1 : i64}}
// CHECK-NEXT:  %[[ARENA4:.+]] = kiln.arena
// CHECK-NEXT:  %[[KV4:.+]] = kiln.kv_region : memref<65536xi8>
// CHECK-NEXT:  %[[W4:.+]] = kiln.weights : memref<74752xi8>
// CHECK-DAG:   kiln.view %[[W4]][0] init(%{{.+}} : tensor<128xf32>) : memref<74752xi8> to memref<128xf32>
// CHECK-DAG:   kiln.view %[[W4]][512] init(%{{.+}} : tensor<16x128xf32>)
// CHECK-DAG:   %[[OUT4:.+]] = kiln.view %[[W4]][8704] init(%{{.+}} : tensor<128x128xf32>)
// CHECK-DAG:   kiln.view %[[W4]][74240] init(%{{.+}} : tensor<128xf32>) : memref<74752xi8> to memref<128xf32>
// CHECK-DAG:   %[[POS4:.+]] = kiln.view %[[ARENA4]][{{[0-9]+}}] input "kv_pos" : {{.+}} to memref<4xi64>
// All four rows of each block: the same block offsets.
// CHECK:       %[[KC40:.+]] = kiln.view %[[KV4]][0] : memref<65536xi8> to memref<4x2x8x64xf32>
// CHECK-NEXT:  %[[VC40:.+]] = kiln.view %[[KV4]][16384] : memref<65536xi8> to memref<4x2x8x64xf32>
// CHECK:       %[[KC41:.+]] = kiln.view %[[KV4]][32768] : memref<65536xi8> to memref<4x2x8x64xf32>
// CHECK-NEXT:  %[[VC41:.+]] = kiln.view %[[KV4]][49152] : memref<65536xi8> to memref<4x2x8x64xf32>
// CHECK:       kiln.graph {
// 4 x 2 x 1 x 64 = 512 new elements: 2 blocks (the cache rows would be 16).
// CHECK:       kiln.launch @k2_kv_append_{{[0-9]+}} grid [2, 1, 1] block [256, 1, 1] smem 0 ins(%{{.+}}, %{{.+}}, %[[POS4]] : memref<4x2x1x64xf32>, memref<4x2x1x64xf32>, memref<4xi64>) outs(%[[KC40]], %[[VC40]] : memref<4x2x8x64xf32>, memref<4x2x8x64xf32>)
// CHECK-NEXT:  kiln.launch @[[ATT4:k3_kv_attention_[0-9]+]] grid [8, 1, 1] block [256, 1, 1] smem 0 ins(%{{.+}}, %[[KC40]], %[[VC40]], %[[POS4]], %{{.+}} :
// CHECK:       kiln.launch @k5_kv_append_{{[0-9]+}} grid [2, 1, 1] block [256, 1, 1] smem 0 ins({{.+}}) outs(%[[KC41]], %[[VC41]] :
// CHECK-NEXT:  kiln.launch @[[ATT4]] grid [8, 1, 1] block [256, 1, 1] smem 0 ins(%{{.+}}, %[[KC41]], %[[VC41]], %[[POS4]], %{{.+}} :
// CHECK-NEXT:  kiln.gemm %{{.+}}, %[[OUT4]] outs
func.func @decode_b4(%ids: tensor<4x1xi64> {kiln.name = "ids", kiln.role = "tokens"},
                     %mask: tensor<4x8xi64> {kiln.name = "attention_mask", kiln.role = "mask"},
                     %pos: tensor<4xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"})
    -> (tensor<4x1x128xf32> {kiln.name = "logits", kiln.role = "logits"})
    attributes {kiln.step = {batch = 4 : i64, seq = 1 : i64}} {
  %extra = kiln.weight "extra" {path = "w.bin", offset = 73728 : i64, length = 512 : i64} : tensor<128xf32>
  %wout = kiln.weight "out" {path = "w.bin", offset = 8192 : i64, length = 65536 : i64} : tensor<128x128xf32>
  %emb = kiln.weight "embed" {path = "w.bin", offset = 0 : i64, length = 8192 : i64} : tensor<16x128xf32>
  %c = kiln.constant dense<5.000000e-01> : tensor<128xf32>
  %x = kiln.gather %emb, %ids : (tensor<16x128xf32>, tensor<4x1xi64>) -> tensor<4x1x128xf32>
  %xc = kiln.add %x, %c : (tensor<4x1x128xf32>, tensor<128xf32>) -> tensor<4x1x128xf32>
  %xe = kiln.mul %xc, %extra : (tensor<4x1x128xf32>, tensor<128xf32>) -> tensor<4x1x128xf32>
  %k0 = kiln.reshape %xe : tensor<4x1x128xf32> -> tensor<4x2x1x64xf32>
  %v0 = kiln.neg %k0 : tensor<4x2x1x64xf32>
  %mb = kiln.cast %mask : tensor<4x8xi64> -> tensor<4x8xi1>
  %m = kiln.reshape %mb : tensor<4x8xi1> -> tensor<4x1x1x8xi1>
  %kc0, %vc0 = kiln.kv_append @kv[0] %k0, %v0 at %pos : (tensor<4x2x1x64xf32>, tensor<4x2x1x64xf32>, tensor<4xi64>) -> (tensor<4x2x8x64xf32>, tensor<4x2x8x64xf32>)
  %o0 = kiln.kv_attention %k0, %kc0, %vc0 at %pos mask %m {scale = 1.250000e-01 : f32} : (tensor<4x2x1x64xf32>, tensor<4x2x8x64xf32>, tensor<4x2x8x64xf32>, tensor<4xi64>, tensor<4x1x1x8xi1>) -> tensor<4x2x1x64xf32>
  %v1 = kiln.exp %o0 : tensor<4x2x1x64xf32>
  %kc1, %vc1 = kiln.kv_append @kv[1] %o0, %v1 at %pos : (tensor<4x2x1x64xf32>, tensor<4x2x1x64xf32>, tensor<4xi64>) -> (tensor<4x2x8x64xf32>, tensor<4x2x8x64xf32>)
  %o1 = kiln.kv_attention %o0, %kc1, %vc1 at %pos mask %m {scale = 1.250000e-01 : f32} : (tensor<4x2x1x64xf32>, tensor<4x2x8x64xf32>, tensor<4x2x8x64xf32>, tensor<4xi64>, tensor<4x1x1x8xi1>) -> tensor<4x2x1x64xf32>
  %h = kiln.reshape %o1 : tensor<4x2x1x64xf32> -> tensor<4x1x128xf32>
  %l = kiln.linear %h, %wout : (tensor<4x1x128xf32>, tensor<128x128xf32>) -> tensor<4x1x128xf32>
  return %l : tensor<4x1x128xf32>
}

// A function that does not append declares no kv_region; a "past" role is
// not a generation role (not in kiln.roles), and an input without a
// kiln.name is bound as input_<N>; out keeps its offset.
// CHECK-LABEL: func.func @no_cache()
// CHECK-SAME:  attributes {kiln.roles = {input_1 = "tokens"}}
// CHECK-NEXT:  kiln.arena
// CHECK-NEXT:  %[[W5:.+]] = kiln.weights : memref<74752xi8>
// CHECK-NOT:   kiln.kv_region
// CHECK:       kiln.view %[[W5]][8704] init(%{{.+}} : tensor<128x128xf32>)
// CHECK-NOT:   kiln.kv_region
// CHECK:       kiln.graph
// (kiln-kv-cache, in the pipeline, leaves it alone.)
// expected-remark @+1 {{kiln-kv-cache: 'no_cache' keeps its past/present signature: past input 'past' does not feed a concat into attention}}
func.func @no_cache(%past: tensor<1x128xf32> {kiln.name = "past", kiln.role = "past"},
                    %ids: tensor<1x1xi64> {kiln.role = "tokens"}) -> tensor<1x128xf32> {
  %wout = kiln.weight "out" {path = "w.bin", offset = 8192 : i64, length = 65536 : i64} : tensor<128x128xf32>
  %l = kiln.linear %past, %wout : (tensor<1x128xf32>, tensor<128x128xf32>) -> tensor<1x128xf32>
  %i = kiln.cast %ids : tensor<1x1xi64> -> tensor<1x1xf32>
  %r = kiln.add %l, %i : (tensor<1x128xf32>, tensor<1x1xf32>) -> tensor<1x128xf32>
  return %r : tensor<1x128xf32>
}
}
