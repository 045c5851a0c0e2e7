// kiln-kv-cache (docs/kv-cache.md): in a function imported as a KV-cache
// step (its past inputs carry kiln.role = "past"), every layer's
//   present_k = kiln.concat(past_k, new_k, axis 2)  (returned)
//   present_v = kiln.concat(past_v, new_v, axis 2)  (returned)
//   kiln.attention(q, present_k, present_v [, mask])
// becomes one kiln.kv_append on the module's one kiln.kv_cache and one
// kiln.kv_attention; the past arguments and present results leave the
// signature, kv_pos : tensor<Bxi64> (role kv_pos) is added, the function
// gets kiln.step = {batch, seq} and its [B, S, V] float result the role
// "logits". Anything that does not match stays as it was, with a remark.
//
// RUN: kiln-opt %s --split-input-file --kiln-kv-cache --verify-diagnostics | FileCheck %s
// The cache's rows are the larger of max-batch and the function's batch.
// RUN: kiln-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(kiln-kv-cache{max-batch=4})' | FileCheck %s --check-prefix=MAXB
// RUN: kiln-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(kiln-kv-cache{max-batch=1})' | FileCheck %s --check-prefix=MINB
// The cache symbol is an option.
// RUN: kiln-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(kiln-kv-cache{cache-name=layers_kv})' | FileCheck %s --check-prefix=NAME
// The rewritten IR verifies and round-trips.
// RUN: kiln-opt %s --split-input-file --kiln-kv-cache --verify-diagnostics | kiln-opt --split-input-file --verify-roundtrip > /dev/null

//===----------------------------------------------------------------------===//
// Positive: a 2-layer GQA decode step (batch 2, 4 query heads, 2 kv heads,
// head dim 16, past 7, total 8) with an additive mask. The results are in
// HF order but for a [B, Hq*D] distractor that must not get the logits role.
//===----------------------------------------------------------------------===//

// The cache: 2 layers, 2 kv heads, head dim 16, 2 rows (the batch), 8 slots
// (past 7 + 1 new), f32.
// CHECK:       kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 2 max_seq 8 : f32
// CHECK-NOT:   kiln.kv_cache
// MAXB:        kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 8 : f32
// MINB:        kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 2 max_seq 8 : f32
// NAME:        kiln.kv_cache @layers_kv layers 2 kv_heads 2 head_dim 16 max_batch 2 max_seq 8 : f32
// NAME:        kiln.kv_append @layers_kv[0]
// NAME:        kiln.kv_append @layers_kv[1]
// Past arguments gone, kv_pos last; present results gone, logits' role set.
// CHECK-LABEL: func.func @gqa_2layer
// CHECK-SAME:  (%[[IDS:[^:]+]]: tensor<2x1xi64> {kiln.name = "input_ids", kiln.role = "tokens"},
// CHECK-SAME:  %[[M:[^:]+]]: tensor<2x1x1x8xf32> {kiln.name = "attention_mask", kiln.role = "mask"},
// CHECK-SAME:  %[[Q0:[^:]+]]: tensor<2x4x1x16xf32>, %[[K0:[^:]+]]: tensor<2x2x1x16xf32>, %[[V0:[^:]+]]: tensor<2x2x1x16xf32>,
// CHECK-SAME:  %[[Q1:[^:]+]]: tensor<2x4x1x16xf32>, %[[K1:[^:]+]]: tensor<2x2x1x16xf32>, %[[V1:[^:]+]]: tensor<2x2x1x16xf32>,
// CHECK-SAME:  %[[POS:[^:]+]]: tensor<2xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"})
// CHECK-SAME:  -> (tensor<2x64xf32>, tensor<2x1x64xf32> {kiln.name = "logits", kiln.role = "logits"})
// CHECK-SAME:  attributes {kiln.step = {batch = 2 : i64, seq = 1 : i64}}
// CHECK-NOT:   kiln.concat
// CHECK:       %[[KC0:.+]], %[[VC0:.+]] = kiln.kv_append @kv[0] %[[K0]], %[[V0]] at %[[POS]] : (tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2xi64>) -> (tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>)
// CHECK-NEXT:  %[[A0:.+]] = kiln.kv_attention %[[Q0]], %[[KC0]], %[[VC0]] at %[[POS]] mask %[[M]] {scale = 2.500000e-01 : f32} : (tensor<2x4x1x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi64>, tensor<2x1x1x8xf32>) -> tensor<2x4x1x16xf32>
// The causal flag of layer 1 is dropped (causality is kv_attention's rule).
// CHECK:       %[[KC1:.+]], %[[VC1:.+]] = kiln.kv_append @kv[1] %[[K1]], %[[V1]] at %[[POS]] : (tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2xi64>) -> (tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>)
// CHECK-NEXT:  %[[A1:.+]] = kiln.kv_attention %{{.+}}, %[[KC1]], %[[VC1]] at %[[POS]] mask %[[M]] {scale = 1.250000e-01 : f32} : (tensor<2x4x1x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi64>, tensor<2x1x1x8xf32>) -> tensor<2x4x1x16xf32>
// CHECK-NOT:   kiln.attention
// CHECK-NOT:   kiln.concat
// CHECK:       %[[L:.+]] = kiln.reshape %[[A1]] : tensor<2x4x1x16xf32> -> tensor<2x1x64xf32>
// CHECK:       return %{{.+}}, %[[L]] : tensor<2x64xf32>, tensor<2x1x64xf32>
// MAXB-LABEL:  func.func @gqa_2layer
// MAXB-SAME:   %{{[^:]+}}: tensor<2xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"}
// MAXB-SAME:   attributes {kiln.step = {batch = 2 : i64, seq = 1 : i64}}
// MAXB:        kiln.kv_append @kv[0] {{.+}} -> (tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>)
// MAXB:        kiln.kv_append @kv[1] {{.+}} -> (tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>)
func.func @gqa_2layer(
    %ids: tensor<2x1xi64> {kiln.name = "input_ids", kiln.role = "tokens"},
    %mask: tensor<2x1x1x8xf32> {kiln.name = "attention_mask", kiln.role = "mask"},
    %pk0: tensor<2x2x7x16xf32> {kiln.name = "past.0.key", kiln.role = "past"},
    %pv0: tensor<2x2x7x16xf32> {kiln.name = "past.0.value", kiln.role = "past"},
    %pk1: tensor<2x2x7x16xf32> {kiln.name = "past.1.key", kiln.role = "past"},
    %pv1: tensor<2x2x7x16xf32> {kiln.name = "past.1.value", kiln.role = "past"},
    %q0: tensor<2x4x1x16xf32>, %k0: tensor<2x2x1x16xf32>, %v0: tensor<2x2x1x16xf32>,
    %q1: tensor<2x4x1x16xf32>, %k1: tensor<2x2x1x16xf32>, %v1: tensor<2x2x1x16xf32>)
    -> (tensor<2x64xf32>, tensor<2x1x64xf32> {kiln.name = "logits"},
        tensor<2x2x8x16xf32> {kiln.name = "present.0.key"},
        tensor<2x2x8x16xf32> {kiln.name = "present.0.value"},
        tensor<2x2x8x16xf32> {kiln.name = "present.1.key"},
        tensor<2x2x8x16xf32> {kiln.name = "present.1.value"}) {
  %ck0 = kiln.concat %pk0, %k0 {axis = 2 : i64} : (tensor<2x2x7x16xf32>, tensor<2x2x1x16xf32>) -> tensor<2x2x8x16xf32>
  %cv0 = kiln.concat %pv0, %v0 {axis = 2 : i64} : (tensor<2x2x7x16xf32>, tensor<2x2x1x16xf32>) -> tensor<2x2x8x16xf32>
  %a0 = kiln.attention %q0, %ck0, %cv0, %mask {scale = 0.25 : f32} : (tensor<2x4x1x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x1x16xf32>
  %h = kiln.add %a0, %q1 : (tensor<2x4x1x16xf32>, tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  %ck1 = kiln.concat %pk1, %k1 {axis = 2 : i64} : (tensor<2x2x7x16xf32>, tensor<2x2x1x16xf32>) -> tensor<2x2x8x16xf32>
  %cv1 = kiln.concat %pv1, %v1 {axis = 2 : i64} : (tensor<2x2x7x16xf32>, tensor<2x2x1x16xf32>) -> tensor<2x2x8x16xf32>
  %a1 = kiln.attention %h, %ck1, %cv1, %mask {scale = 0.125 : f32, causal = true} : (tensor<2x4x1x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x1x16xf32>
  %d = kiln.reshape %a0 : tensor<2x4x1x16xf32> -> tensor<2x64xf32>
  %l = kiln.reshape %a1 : tensor<2x4x1x16xf32> -> tensor<2x1x64xf32>
  return %d, %l, %ck0, %cv0, %ck1, %cv1 : tensor<2x64xf32>, tensor<2x1x64xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>
}

// -----

// Positive: one layer, no mask, past results interleaved with the logits,
// and a rank-3 float result whose dim 1 is not the sequence (not logits).
// Batch 1, 2 heads, 1 kv head, head dim 8, past 3, total 4.
// CHECK:       kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32
// CHECK-LABEL: func.func @mqa_no_mask
// CHECK-SAME:  (%[[Q:[^:]+]]: tensor<1x2x1x8xf32>, %[[K:[^:]+]]: tensor<1x1x1x8xf32>, %[[V:[^:]+]]: tensor<1x1x1x8xf32>, %[[POS:[^:]+]]: tensor<1xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"})
// CHECK-SAME:  -> (tensor<1x2x8xf32>, tensor<1x1x16xf32> {kiln.role = "logits"})
// CHECK-SAME:  attributes {kiln.step = {batch = 1 : i64, seq = 1 : i64}}
// CHECK-NEXT:  %[[KC:.+]], %[[VC:.+]] = kiln.kv_append @kv[0] %[[K]], %[[V]] at %[[POS]] : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1xi64>) -> (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>)
// CHECK-NEXT:  %[[A:.+]] = kiln.kv_attention %[[Q]], %[[KC]], %[[VC]] at %[[POS]] {scale = 3.535530e-01 : f32} : (tensor<1x2x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1xi64>) -> tensor<1x2x1x8xf32>
// MAXB:        kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 4 max_seq 4 : f32
// MINB:        kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32
func.func @mqa_no_mask(
    %pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
    %q: tensor<1x2x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>,
    %pv: tensor<1x1x3x8xf32> {kiln.name = "pv", kiln.role = "past"})
    -> (tensor<1x1x4x8xf32>, tensor<1x2x8xf32>, tensor<1x1x16xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 0.353553 : f32} : (tensor<1x2x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x1x8xf32>
  %x = kiln.reshape %a : tensor<1x2x1x8xf32> -> tensor<1x2x8xf32>
  %l = kiln.reshape %a : tensor<1x2x1x8xf32> -> tensor<1x1x16xf32>
  // CHECK: return %{{.+}}, %{{.+}} : tensor<1x2x8xf32>, tensor<1x1x16xf32>
  return %ck, %x, %l, %cv : tensor<1x1x4x8xf32>, tensor<1x2x8xf32>, tensor<1x1x16xf32>, tensor<1x1x4x8xf32>
}

// -----

// Two step functions (batch buckets 1 and 4) of one module share the one
// cache: its rows are the larger batch whichever function comes first.
// CHECK:       kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 4 max_batch 4 max_seq 6 : f32
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @decode_b1
// CHECK-SAME:  tensor<1xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"}
// CHECK-SAME:  attributes {kiln.step = {batch = 1 : i64, seq = 1 : i64}}
// CHECK:       kiln.kv_append @kv[0] {{.+}} : (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>, tensor<1xi64>) -> (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>)
// CHECK-LABEL: func.func @decode_b4
// CHECK-SAME:  tensor<4xi64> {kiln.name = "kv_pos", kiln.role = "kv_pos"}
// CHECK-SAME:  attributes {kiln.step = {batch = 4 : i64, seq = 1 : i64}}
// CHECK:       kiln.kv_append @kv[0] {{.+}} : (tensor<4x2x1x4xf32>, tensor<4x2x1x4xf32>, tensor<4xi64>) -> (tensor<4x2x6x4xf32>, tensor<4x2x6x4xf32>)
// CHECK-LABEL: func.func @decode_b2
// CHECK-SAME:  attributes {kiln.step = {batch = 2 : i64, seq = 1 : i64}}
// CHECK:       kiln.kv_append @kv[0] {{.+}} -> (tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>)
// MAXB:        kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 4 max_batch 4 max_seq 6 : f32
// MINB:        kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 4 max_batch 4 max_seq 6 : f32
func.func @decode_b1(%pk: tensor<1x2x5x4xf32> {kiln.role = "past"}, %pv: tensor<1x2x5x4xf32> {kiln.role = "past"},
                     %q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>, %v: tensor<1x2x1x4xf32>)
    -> (tensor<1x1x8xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x2x5x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x6x4xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x2x5x4xf32>, tensor<1x2x1x4xf32>) -> tensor<1x2x6x4xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 0.5 : f32} : (tensor<1x2x1x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x1x4xf32>
  %l = kiln.reshape %a : tensor<1x2x1x4xf32> -> tensor<1x1x8xf32>
  return %l, %ck, %cv : tensor<1x1x8xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>
}
func.func @decode_b4(%pk: tensor<4x2x5x4xf32> {kiln.role = "past"}, %pv: tensor<4x2x5x4xf32> {kiln.role = "past"},
                     %q: tensor<4x2x1x4xf32>, %k: tensor<4x2x1x4xf32>, %v: tensor<4x2x1x4xf32>)
    -> (tensor<4x1x8xf32>, tensor<4x2x6x4xf32>, tensor<4x2x6x4xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<4x2x5x4xf32>, tensor<4x2x1x4xf32>) -> tensor<4x2x6x4xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<4x2x5x4xf32>, tensor<4x2x1x4xf32>) -> tensor<4x2x6x4xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 0.5 : f32} : (tensor<4x2x1x4xf32>, tensor<4x2x6x4xf32>, tensor<4x2x6x4xf32>) -> tensor<4x2x1x4xf32>
  %l = kiln.reshape %a : tensor<4x2x1x4xf32> -> tensor<4x1x8xf32>
  return %l, %ck, %cv : tensor<4x1x8xf32>, tensor<4x2x6x4xf32>, tensor<4x2x6x4xf32>
}
func.func @decode_b2(%pk: tensor<2x2x5x4xf32> {kiln.role = "past"}, %pv: tensor<2x2x5x4xf32> {kiln.role = "past"},
                     %q: tensor<2x2x1x4xf32>, %k: tensor<2x2x1x4xf32>, %v: tensor<2x2x1x4xf32>)
    -> (tensor<2x1x8xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<2x2x5x4xf32>, tensor<2x2x1x4xf32>) -> tensor<2x2x6x4xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<2x2x5x4xf32>, tensor<2x2x1x4xf32>) -> tensor<2x2x6x4xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 0.5 : f32} : (tensor<2x2x1x4xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>) -> tensor<2x2x1x4xf32>
  %l = kiln.reshape %a : tensor<2x2x1x4xf32> -> tensor<2x1x8xf32>
  return %l, %ck, %cv : tensor<2x1x8xf32>, tensor<2x2x6x4xf32>, tensor<2x2x6x4xf32>
}

// -----

// A function without past roles is untouched (no cache declared, no remark),
// even with a concat-into-attention shape; so is a declaration with a past
// role.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @no_roles
// CHECK-SAME:  (%{{[^:]+}}: tensor<1x1x3x8xf32>, %{{[^:]+}}: tensor<1x1x3x8xf32>, %{{[^:]+}}: tensor<1x1x1x8xf32>, %{{[^:]+}}: tensor<1x1x1x8xf32>, %{{[^:]+}}: tensor<1x1x1x8xf32>)
// CHECK-SAME:  -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
// CHECK:       kiln.concat
// CHECK:       kiln.concat
// CHECK:       kiln.attention
// CHECK-NOT:   kiln.kv_
// CHECK:       func.func private @external
// CHECK-SAME:  {kiln.role = "past"}
func.func @no_roles(%pk: tensor<1x1x3x8xf32>, %pv: tensor<1x1x3x8xf32>,
                    %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck, %cv : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}
func.func private @external(tensor<1x1x3x8xf32> {kiln.role = "past"}) -> tensor<1x1x4x8xf32>

//===----------------------------------------------------------------------===//
// Near misses: left as they are (all or nothing per function), no cache
// declared, a remark saying why.
//===----------------------------------------------------------------------===//

// -----

// The key is concatenated on axis 1 (heads), not the sequence.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @key_axis1
// CHECK-SAME:  kiln.role = "past"
// CHECK-NOT:   kiln.step
// CHECK:       kiln.concat
// CHECK:       kiln.concat
// CHECK:       kiln.attention
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'key_axis1' keeps its past/present signature: past input 'pk' does not feed a concat into attention (the attention's key is not a rank-4 concat of two tensors on axis 2)}}
func.func @key_axis1(%pk: tensor<1x1x4x8xf32> {kiln.name = "pk", kiln.role = "past"},
                     %pv: tensor<1x2x3x8xf32> {kiln.name = "pv", kiln.role = "past"},
                     %q: tensor<1x2x1x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x2x1x8xf32>)
    -> (tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 1 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x1x8xf32>
  return %a, %ck, %cv : tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

// -----

// Both concatenated on axis 1.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @both_axis1
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'both_axis1' keeps its past/present signature: past input 'pk' does not feed a concat into attention}}
func.func @both_axis1(%pk: tensor<1x1x4x8xf32> {kiln.name = "pk", kiln.role = "past"},
                      %pv: tensor<1x1x4x8xf32> {kiln.name = "pv", kiln.role = "past"},
                      %q: tensor<1x2x1x8xf32>, %k: tensor<1x1x4x8xf32>, %v: tensor<1x1x4x8xf32>)
    -> (tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 1 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 1 : i64} : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x2x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x1x8xf32>
  return %a, %ck, %cv : tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>
}

// -----

// The value concat's result is also read by another op.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @concat_other_use
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'concat_other_use' keeps its past/present signature: past input 'pk' does not feed a concat into attention (the value concat is also used by 'kiln.neg')}}
func.func @concat_other_use(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                            %pv: tensor<1x1x3x8xf32> {kiln.name = "pv", kiln.role = "past"},
                            %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  %n = kiln.neg %cv : tensor<1x1x4x8xf32>
  return %a, %ck, %cv, %n : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// The key concat is both the key and the value of the attention.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @concat_key_and_value
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'concat_key_and_value' keeps its past/present signature: past input 'pk' does not feed a concat into attention}}
func.func @concat_key_and_value(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                                %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %ck {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// The past key argument is read elsewhere too.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @past_other_use
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'past_other_use' keeps its past/present signature: past input 'pk' does not feed a concat into attention (past input 0 has uses besides its concat)}}
func.func @past_other_use(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                          %pv: tensor<1x1x3x8xf32> {kiln.name = "pv", kiln.role = "past"},
                          %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x3x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  %n = kiln.neg %pk : tensor<1x1x3x8xf32>
  return %a, %ck, %cv, %n : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x3x8xf32>
}

// -----

// Only the key side is concatenated: the value is a plain tensor.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @key_only
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'key_only' keeps its past/present signature: past input 'pk' does not feed a concat into attention (the attention's value is not a concat)}}
func.func @key_only(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                    %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x4x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %v {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// The value's concat puts the past second (new, past).
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @past_second
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'past_second' keeps its past/present signature: past input 'pk' does not feed a concat into attention (the attention's value does not start with a past input)}}
func.func @past_second(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                       %pv: tensor<1x1x3x8xf32> {kiln.name = "pv", kiln.role = "past"},
                       %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %v, %pv {axis = 2 : i64} : (tensor<1x1x1x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck, %cv : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// A past input that feeds no attention: the matched layer is not rewritten
// either (all or nothing).
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @stray_past
// CHECK-SAME:  {kiln.name = "stray", kiln.role = "past"}
// CHECK:       kiln.attention
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'stray_past' keeps its past/present signature: past input 'stray' does not feed a concat into attention}}
func.func @stray_past(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                      %pv: tensor<1x1x3x8xf32> {kiln.name = "pv", kiln.role = "past"},
                      %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>,
                      %stray: tensor<1x1x3x8xf32> {kiln.name = "stray", kiln.role = "past"})
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x3x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  %s = kiln.neg %stray : tensor<1x1x3x8xf32>
  return %a, %ck, %cv, %s : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x3x8xf32>
}

// -----

// Past inputs but no attention at all.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @no_attention
// expected-remark @+1 {{kiln-kv-cache: 'no_attention' keeps its past/present signature: past input 'pk' does not feed a concat into attention}}
func.func @no_attention(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                        %k: tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32> {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  return %ck : tensor<1x1x4x8xf32>
}

// -----

// Marked unsafe by the importer: the importer's reason is the remark.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @unsafe
// CHECK-SAME:  kiln.kv_unsafe = "positions come from the past length"
// CHECK:       kiln.attention
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'unsafe' keeps its past/present signature: positions come from the past length}}
func.func @unsafe(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"},
                  %pv: tensor<1x1x3x8xf32> {kiln.name = "pv", kiln.role = "past"},
                  %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>)
    attributes {kiln.kv_unsafe = "positions come from the past length"} {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck, %cv : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// Layers with different shapes (layer 1 has head dim 4, layer 0 head dim 8)
// cannot share one cache.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @layers_differ
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'layers_differ' keeps its past/present signature: layers differ in their key/value shapes}}
func.func @layers_differ(%pk0: tensor<1x1x3x8xf32> {kiln.role = "past"}, %pv0: tensor<1x1x3x8xf32> {kiln.role = "past"},
                         %pk1: tensor<1x1x3x4xf32> {kiln.role = "past"}, %pv1: tensor<1x1x3x4xf32> {kiln.role = "past"},
                         %q0: tensor<1x1x1x8xf32>, %k0: tensor<1x1x1x8xf32>, %v0: tensor<1x1x1x8xf32>,
                         %q1: tensor<1x1x1x4xf32>, %k1: tensor<1x1x1x4xf32>, %v1: tensor<1x1x1x4xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x1x4xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %ck0 = kiln.concat %pk0, %k0 {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv0 = kiln.concat %pv0, %v0 {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a0 = kiln.attention %q0, %ck0, %cv0 {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  %ck1 = kiln.concat %pk1, %k1 {axis = 2 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x4x4xf32>
  %cv1 = kiln.concat %pv1, %v1 {axis = 2 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x4x4xf32>
  %a1 = kiln.attention %q1, %ck1, %cv1 {scale = 1.0 : f32} : (tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x1x4xf32>
  return %a0, %a1, %ck0, %cv0, %ck1, %cv1 : tensor<1x1x1x8xf32>, tensor<1x1x1x4xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// Two queries per step but one new key per step: the query length differs
// from the new keys' length.
// CHECK:       // -----
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @query_length
// CHECK-NOT:   kiln.kv_
// expected-remark @+1 {{kiln-kv-cache: 'query_length' keeps its past/present signature: the query length differs from the new keys' length}}
func.func @query_length(%pk: tensor<1x1x3x8xf32> {kiln.role = "past"}, %pv: tensor<1x1x3x8xf32> {kiln.role = "past"},
                        %q: tensor<1x1x2x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x2x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x2x8xf32>
  return %a, %ck, %cv : tensor<1x1x2x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// Of two functions, the one that does not match is left alone and the other
// is rewritten; the cache is declared once.
// CHECK:       // -----
// CHECK:       kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32
// CHECK-NOT:   kiln.kv_cache
// CHECK-LABEL: func.func @left
// CHECK:       kiln.attention
// CHECK-LABEL: func.func @rewritten
// CHECK-SAME:  kiln.step = {batch = 1 : i64, seq = 1 : i64}
// CHECK:       kiln.kv_append @kv[0]
// expected-remark @+1 {{kiln-kv-cache: 'left' keeps its past/present signature: past input 'pk' does not feed a concat into attention (past input 0 has uses besides its concat)}}
func.func @left(%pk: tensor<1x1x3x8xf32> {kiln.name = "pk", kiln.role = "past"}, %pv: tensor<1x1x3x8xf32> {kiln.role = "past"},
                %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x3x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck, %cv, %pk : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x3x8xf32>
}
func.func @rewritten(%pk: tensor<1x1x3x8xf32> {kiln.role = "past"}, %pv: tensor<1x1x3x8xf32> {kiln.role = "past"},
                     %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck, %cv : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}

// -----

// Two functions that need different caches (head dim 8, then 4): an error,
// the pass fails.
func.func @first(%pk: tensor<1x1x3x8xf32> {kiln.role = "past"}, %pv: tensor<1x1x3x8xf32> {kiln.role = "past"},
                 %q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>)
    -> (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x1x4x8xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>) -> tensor<1x1x1x8xf32>
  return %a, %ck, %cv : tensor<1x1x1x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>
}
// expected-error @+1 {{kiln-kv-cache: 'second' needs a cache of 1 layers x 1 heads x 4 x 4 'f32', but @}}
func.func @second(%pk: tensor<1x1x3x4xf32> {kiln.role = "past"}, %pv: tensor<1x1x3x4xf32> {kiln.role = "past"},
                  %q: tensor<1x1x1x4xf32>, %k: tensor<1x1x1x4xf32>, %v: tensor<1x1x1x4xf32>)
    -> (tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x4x4xf32>
  %cv = kiln.concat %pv, %v {axis = 2 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x4x4xf32>
  %a = kiln.attention %q, %ck, %cv {scale = 1.0 : f32} : (tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x1x4xf32>
  return %a, %ck, %cv : tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}

// -----

// A model input already named kv_pos: the new slot input gets another name
// (the role, not the name, is what the runtime binds).
// CHECK-LABEL: func.func @name_taken(
// CHECK-SAME: {kiln.name = "kv_pos"}
// CHECK-SAME: %{{.+}}: tensor<1xi64> {kiln.name = "kv_pos_1", kiln.role = "kv_pos"}
func.func @name_taken(%q: tensor<1x1x1x4xf32>, %k: tensor<1x1x1x4xf32>, %x: tensor<1xi64> {kiln.name = "kv_pos"}, %pk: tensor<1x1x3x4xf32> {kiln.name = "pk", kiln.role = "past"}, %pv: tensor<1x1x3x4xf32> {kiln.name = "pv", kiln.role = "past"}) -> (tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1xi64>) {
  %ck = kiln.concat %pk, %k {axis = 2 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x4x4xf32>
  %cv = kiln.concat %pv, %k {axis = 2 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x4x4xf32>
  %o = kiln.attention %q, %ck, %cv {scale = 0.5 : f32} : (tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) -> tensor<1x1x1x4xf32>
  return %o, %ck, %cv, %x : tensor<1x1x1x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1xi64>
}
