// kiln-fuse-kv-attention's rule for more than one batch row (session 25;
// kFuseKvAttentionMaxBatch = 8, kFuseKvAttentionClustersMaxBatch = 1): a
// step of up to 8 rows fuses its append into the attention where the
// attention does not run in clusters (kiln::kvAttentionSplitShape: f32, D
// = 64, chunks of 64 slots; 8 rows of 8 query heads over 320 slots would
// be a cluster grid of 160 blocks, past 132), and keeps them apart where it
// does (8 rows over 128 slots: 128 blocks) and past 8 rows (9 rows, not in
// clusters either). The module attribute alone decides where it is given:
// with kiln.fuse_kv_attention_max_batch = 8 the attention in clusters fuses
// too. One row in clusters fuses (kiln-fuse-kv-attention.mlir).
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-fuse-kv-attention))' | FileCheck %s

// CHECK-LABEL: func.func @eight_rows_fused
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.fusion
module {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 64 max_batch 8 max_seq 320 : f32
func.func @eight_rows_fused(%q: tensor<8x8x1x64xf32>, %k: tensor<8x2x1x64xf32>, %pos: tensor<8xi64>) -> tensor<8x8x1x64xf32> {
  %kc:2 = kiln.fusion %k, %pos : (tensor<8x2x1x64xf32>, tensor<8xi64>) -> (tensor<8x2x320x64xf32>, tensor<8x2x320x64xf32>) {
  ^bb0(%a: tensor<8x2x1x64xf32>, %p: tensor<8xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<8x2x1x64xf32>, tensor<8x2x1x64xf32>, tensor<8xi64>) -> (tensor<8x2x320x64xf32>, tensor<8x2x320x64xf32>)
    kiln.yield %kc0, %vc0 : tensor<8x2x320x64xf32>, tensor<8x2x320x64xf32>
  }
  %y = kiln.fusion %q, %kc#0, %kc#1, %pos : (tensor<8x8x1x64xf32>, tensor<8x2x320x64xf32>, tensor<8x2x320x64xf32>, tensor<8xi64>) -> tensor<8x8x1x64xf32> {
  ^bb0(%a: tensor<8x8x1x64xf32>, %b: tensor<8x2x320x64xf32>, %c: tensor<8x2x320x64xf32>, %p: tensor<8xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 1.250000e-01 : f32} : (tensor<8x8x1x64xf32>, tensor<8x2x320x64xf32>, tensor<8x2x320x64xf32>, tensor<8xi64>) -> tensor<8x8x1x64xf32>
    kiln.yield %o : tensor<8x8x1x64xf32>
  }
  return %y : tensor<8x8x1x64xf32>
}
}

// -----

// CHECK-LABEL: func.func @eight_rows_in_clusters_kept
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_attention
module {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 64 max_batch 8 max_seq 128 : f32
func.func @eight_rows_in_clusters_kept(%q: tensor<8x8x1x64xf32>, %k: tensor<8x2x1x64xf32>, %pos: tensor<8xi64>) -> tensor<8x8x1x64xf32> {
  %kc:2 = kiln.fusion %k, %pos : (tensor<8x2x1x64xf32>, tensor<8xi64>) -> (tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>) {
  ^bb0(%a: tensor<8x2x1x64xf32>, %p: tensor<8xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<8x2x1x64xf32>, tensor<8x2x1x64xf32>, tensor<8xi64>) -> (tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>)
    kiln.yield %kc0, %vc0 : tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>
  }
  %y = kiln.fusion %q, %kc#0, %kc#1, %pos : (tensor<8x8x1x64xf32>, tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>, tensor<8xi64>) -> tensor<8x8x1x64xf32> {
  ^bb0(%a: tensor<8x8x1x64xf32>, %b: tensor<8x2x128x64xf32>, %c: tensor<8x2x128x64xf32>, %p: tensor<8xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 1.250000e-01 : f32} : (tensor<8x8x1x64xf32>, tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>, tensor<8xi64>) -> tensor<8x8x1x64xf32>
    kiln.yield %o : tensor<8x8x1x64xf32>
  }
  return %y : tensor<8x8x1x64xf32>
}
}

// -----

// CHECK-LABEL: func.func @nine_rows_kept
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_attention
module {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 64 max_batch 9 max_seq 320 : f32
func.func @nine_rows_kept(%q: tensor<9x8x1x64xf32>, %k: tensor<9x2x1x64xf32>, %pos: tensor<9xi64>) -> tensor<9x8x1x64xf32> {
  %kc:2 = kiln.fusion %k, %pos : (tensor<9x2x1x64xf32>, tensor<9xi64>) -> (tensor<9x2x320x64xf32>, tensor<9x2x320x64xf32>) {
  ^bb0(%a: tensor<9x2x1x64xf32>, %p: tensor<9xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<9x2x1x64xf32>, tensor<9x2x1x64xf32>, tensor<9xi64>) -> (tensor<9x2x320x64xf32>, tensor<9x2x320x64xf32>)
    kiln.yield %kc0, %vc0 : tensor<9x2x320x64xf32>, tensor<9x2x320x64xf32>
  }
  %y = kiln.fusion %q, %kc#0, %kc#1, %pos : (tensor<9x8x1x64xf32>, tensor<9x2x320x64xf32>, tensor<9x2x320x64xf32>, tensor<9xi64>) -> tensor<9x8x1x64xf32> {
  ^bb0(%a: tensor<9x8x1x64xf32>, %b: tensor<9x2x320x64xf32>, %c: tensor<9x2x320x64xf32>, %p: tensor<9xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 1.250000e-01 : f32} : (tensor<9x8x1x64xf32>, tensor<9x2x320x64xf32>, tensor<9x2x320x64xf32>, tensor<9xi64>) -> tensor<9x8x1x64xf32>
    kiln.yield %o : tensor<9x8x1x64xf32>
  }
  return %y : tensor<9x8x1x64xf32>
}
}

// -----

// CHECK-LABEL: func.func @in_clusters_given_fused
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.fusion
module attributes {kiln.fuse_kv_attention_max_batch = 8 : i64} {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 64 max_batch 8 max_seq 128 : f32
func.func @in_clusters_given_fused(%q: tensor<8x8x1x64xf32>, %k: tensor<8x2x1x64xf32>, %pos: tensor<8xi64>) -> tensor<8x8x1x64xf32> {
  %kc:2 = kiln.fusion %k, %pos : (tensor<8x2x1x64xf32>, tensor<8xi64>) -> (tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>) {
  ^bb0(%a: tensor<8x2x1x64xf32>, %p: tensor<8xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<8x2x1x64xf32>, tensor<8x2x1x64xf32>, tensor<8xi64>) -> (tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>)
    kiln.yield %kc0, %vc0 : tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>
  }
  %y = kiln.fusion %q, %kc#0, %kc#1, %pos : (tensor<8x8x1x64xf32>, tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>, tensor<8xi64>) -> tensor<8x8x1x64xf32> {
  ^bb0(%a: tensor<8x8x1x64xf32>, %b: tensor<8x2x128x64xf32>, %c: tensor<8x2x128x64xf32>, %p: tensor<8xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 1.250000e-01 : f32} : (tensor<8x8x1x64xf32>, tensor<8x2x128x64xf32>, tensor<8x2x128x64xf32>, tensor<8xi64>) -> tensor<8x8x1x64xf32>
    kiln.yield %o : tensor<8x8x1x64xf32>
  }
  return %y : tensor<8x8x1x64xf32>
}
}
