// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-fuse-kv-attention))' | FileCheck %s

// A decode layer's attention as kiln-form-fusions leaves it (a fusion per
// op: rotary of q, rotary of k, kv_append, kv_attention) becomes one
// fusion: the rotaries, the append and the attention in that order,
// yielding the caches first and then the attention.
// CHECK-LABEL: func.func @decode
// CHECK: %[[F:.*]]:3 = kiln.fusion %arg0, %arg3, %arg4, %arg1, %arg2, %arg5, %arg6 :
// CHECK-NEXT: ^bb0(%[[Q:.*]]: tensor<1x4x1x64xbf16>, %[[C:.*]]: tensor<1x1x32xf32>, %[[S:.*]]: tensor<1x1x32xf32>, %[[K:.*]]: tensor<1x2x1x64xbf16>, %[[V:.*]]: tensor<1x2x1x64xbf16>, %[[P:.*]]: tensor<1xi64>, %[[M:.*]]: tensor<1x1x1x128xf32>):
// CHECK-NEXT: %[[QR:.*]] = kiln.rotary %[[Q]], %[[C]], %[[S]]
// CHECK-NEXT: %[[KR:.*]] = kiln.rotary %[[K]], %[[C]], %[[S]]
// CHECK-NEXT: %[[KC:.*]], %[[VC:.*]] = kiln.kv_append @kv[0] %[[KR]], %[[V]] at %[[P]]
// CHECK-NEXT: %[[Y:.*]] = kiln.kv_attention %[[QR]], %[[KC]], %[[VC]] at %[[P]] mask %[[M]]
// CHECK-NEXT: kiln.yield %[[KC]], %[[VC]], %[[Y]]
// CHECK-NOT: kiln.fusion
// CHECK: return %[[F]]#2
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 64 max_batch 1 max_seq 128 : bf16
func.func @decode(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x1x64xbf16>, %v: tensor<1x2x1x64xbf16>, %cos: tensor<1x1x32xf32>, %sin: tensor<1x1x32xf32>, %pos: tensor<1xi64>, %m: tensor<1x1x1x128xf32>) -> tensor<1x4x1x64xbf16> {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<1x4x1x64xbf16>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x4x1x64xbf16> {
  ^bb0(%a: tensor<1x4x1x64xbf16>, %c: tensor<1x1x32xf32>, %s: tensor<1x1x32xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<1x4x1x64xbf16>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x4x1x64xbf16>
    kiln.yield %r : tensor<1x4x1x64xbf16>
  }
  %kr = kiln.fusion %k, %cos, %sin : (tensor<1x2x1x64xbf16>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x2x1x64xbf16> {
  ^bb0(%a: tensor<1x2x1x64xbf16>, %c: tensor<1x1x32xf32>, %s: tensor<1x1x32xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<1x2x1x64xbf16>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x2x1x64xbf16>
    kiln.yield %r : tensor<1x2x1x64xbf16>
  }
  %kc:2 = kiln.fusion %kr, %v, %pos : (tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1xi64>) -> (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>) {
  ^bb0(%a: tensor<1x2x1x64xbf16>, %b: tensor<1x2x1x64xbf16>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<1x2x1x64xbf16>, tensor<1x2x1x64xbf16>, tensor<1xi64>) -> (tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>)
    kiln.yield %kc0, %vc0 : tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos, %m : (tensor<1x4x1x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1xi64>, tensor<1x1x1x128xf32>) -> tensor<1x4x1x64xbf16> {
  ^bb0(%a: tensor<1x4x1x64xbf16>, %b: tensor<1x2x128x64xbf16>, %c: tensor<1x2x128x64xbf16>, %p: tensor<1xi64>, %mm: tensor<1x1x1x128xf32>):
    %o = kiln.kv_attention %a, %b, %c at %p mask %mm {scale = 1.250000e-01 : f32} : (tensor<1x4x1x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1xi64>, tensor<1x1x1x128xf32>) -> tensor<1x4x1x64xbf16>
    kiln.yield %o : tensor<1x4x1x64xbf16>
  }
  return %y : tensor<1x4x1x64xbf16>
}

// -----

// Without rotaries (and without a mask): the append and the attention. A
// rotary whose result something else reads too stays its own kernel.
// CHECK-LABEL: func.func @no_rope
// CHECK: kiln.rotary
// CHECK: kiln.yield
// CHECK: %[[F:.*]]:3 = kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
// CHECK-NEXT: kiln.yield
// CHECK: return %[[F]]#2, %{{.*}}
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 1 max_seq 32 : f32
func.func @no_rope(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %cos: tensor<1x1x8xf32>, %sin: tensor<1x1x8xf32>, %pos: tensor<1xi64>) -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<1x2x1x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x2x1x16xf32> {
  ^bb0(%a: tensor<1x2x1x16xf32>, %c: tensor<1x1x8xf32>, %s: tensor<1x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<1x2x1x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x2x1x16xf32>
    kiln.yield %r : tensor<1x2x1x16xf32>
  }
  %kc:2 = kiln.fusion %k, %v, %pos : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  ^bb0(%a: tensor<1x2x1x16xf32>, %b: tensor<1x2x1x16xf32>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  ^bb0(%a: tensor<1x2x1x16xf32>, %b: tensor<1x2x32x16xf32>, %c: tensor<1x2x32x16xf32>, %p: tensor<1xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32>
    kiln.yield %o : tensor<1x2x1x16xf32>
  }
  return %y, %qr : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>
}

// -----

// Near misses, each left as it is: a prefill attention (2 query positions,
// whose new keys span chunks other blocks read); an append whose caches
// something else reads too; an append at other positions than the
// attention's.
// CHECK-LABEL: func.func @near_misses
// CHECK-COUNT-3: kiln.kv_append
// CHECK-NOT: kiln.kv_append
// CHECK-NOT: kiln.kv_attention{{.*}}\n{{.*}}kiln.kv_append
// CHECK: return
kiln.kv_cache @kv layers 3 kv_heads 2 head_dim 16 max_batch 1 max_seq 32 : f32
func.func @near_misses(%q2: tensor<1x2x2x16xf32>, %k2: tensor<1x2x2x16xf32>, %q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %pos: tensor<1xi64>, %pos2: tensor<1xi64>) -> (tensor<1x2x2x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x1x16xf32>) {
  %a:2 = kiln.fusion %k2, %pos : (tensor<1x2x2x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  ^bb0(%x: tensor<1x2x2x16xf32>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %x, %x at %p : (tensor<1x2x2x16xf32>, tensor<1x2x2x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  }
  %y0 = kiln.fusion %q2, %a#0, %a#1, %pos : (tensor<1x2x2x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x2x16xf32> {
  ^bb0(%x: tensor<1x2x2x16xf32>, %b: tensor<1x2x32x16xf32>, %c: tensor<1x2x32x16xf32>, %p: tensor<1xi64>):
    %o = kiln.kv_attention %x, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<1x2x2x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x2x16xf32>
    kiln.yield %o : tensor<1x2x2x16xf32>
  }
  %b:2 = kiln.fusion %k, %pos : (tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  ^bb0(%x: tensor<1x2x1x16xf32>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[1] %x, %x at %p : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  }
  %y1 = kiln.fusion %q, %b#0, %b#1, %pos : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  ^bb0(%x: tensor<1x2x1x16xf32>, %bb: tensor<1x2x32x16xf32>, %c: tensor<1x2x32x16xf32>, %p: tensor<1xi64>):
    %o = kiln.kv_attention %x, %bb, %c at %p {scale = 2.500000e-01 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32>
    kiln.yield %o : tensor<1x2x1x16xf32>
  }
  %c:2 = kiln.fusion %k, %pos2 : (tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  ^bb0(%x: tensor<1x2x1x16xf32>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[2] %x, %x at %p : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  }
  %y2 = kiln.fusion %q, %c#0, %c#1, %pos : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  ^bb0(%x: tensor<1x2x1x16xf32>, %bb: tensor<1x2x32x16xf32>, %cc: tensor<1x2x32x16xf32>, %p: tensor<1xi64>):
    %o = kiln.kv_attention %x, %bb, %cc at %p {scale = 2.500000e-01 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32>
    kiln.yield %o : tensor<1x2x1x16xf32>
  }
  return %y0, %y1, %b#0, %y2 : tensor<1x2x2x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x1x16xf32>
}

// -----

// A rotate-half rotary whose half (2 f32 of a 16-dim head: 8 bytes) does
// not fill the kernel's 16-byte pieces stays its own kernel; the append and
// the attention still merge.
// CHECK-LABEL: func.func @partial_rotary
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.rotary
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 1 max_seq 32 : f32
func.func @partial_rotary(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %cos: tensor<1x1x2xf32>, %sin: tensor<1x1x2xf32>, %pos: tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<1x2x1x16xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x2x1x16xf32> {
  ^bb0(%a: tensor<1x2x1x16xf32>, %c: tensor<1x1x2xf32>, %s: tensor<1x1x2xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<1x2x1x16xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x2x1x16xf32>
    kiln.yield %r : tensor<1x2x1x16xf32>
  }
  %kc:2 = kiln.fusion %k, %pos : (tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  ^bb0(%a: tensor<1x2x1x16xf32>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  ^bb0(%a: tensor<1x2x1x16xf32>, %b: tensor<1x2x32x16xf32>, %c: tensor<1x2x32x16xf32>, %p: tensor<1xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32>
    kiln.yield %o : tensor<1x2x1x16xf32>
  }
  return %y : tensor<1x2x1x16xf32>
}

// -----

// A rotary with full tables (an entry per element, cos/sin fed as inputs)
// stays its own kernel: the attention kernel's hooks read an angle a pair.
// The append and the attention still merge.
// CHECK-LABEL: func.func @full_tables
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.rotary {{.*}}full_tables = true
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 1 max_seq 32 : f32
func.func @full_tables(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %cos: tensor<1x1x16xf32>, %sin: tensor<1x1x16xf32>, %pos: tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<1x2x1x16xf32>, tensor<1x1x16xf32>, tensor<1x1x16xf32>) -> tensor<1x2x1x16xf32> {
  ^bb0(%a: tensor<1x2x1x16xf32>, %c: tensor<1x1x16xf32>, %s: tensor<1x1x16xf32>):
    %r = kiln.rotary %a, %c, %s {full_tables = true} : (tensor<1x2x1x16xf32>, tensor<1x1x16xf32>, tensor<1x1x16xf32>) -> tensor<1x2x1x16xf32>
    kiln.yield %r : tensor<1x2x1x16xf32>
  }
  %kc:2 = kiln.fusion %k, %pos : (tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>) {
  ^bb0(%a: tensor<1x2x1x16xf32>, %p: tensor<1xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> (tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32> {
  ^bb0(%a: tensor<1x2x1x16xf32>, %b: tensor<1x2x32x16xf32>, %c: tensor<1x2x32x16xf32>, %p: tensor<1xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<1x2x1x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1xi64>) -> tensor<1x2x1x16xf32>
    kiln.yield %o : tensor<1x2x1x16xf32>
  }
  return %y : tensor<1x2x1x16xf32>
}

// -----

// Two batch rows fuse too: up to kFuseKvAttentionMaxBatch = 8 rows where
// the attention does not run in clusters (since session 25, from
// measurements; kiln-fuse-kv-attention-rows.mlir has the rule's edges).
// CHECK-LABEL: func.func @two_rows
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.fusion
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 2 max_seq 32 : f32
func.func @two_rows(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %pos: tensor<2xi64>) -> tensor<2x2x1x16xf32> {
  %kc:2 = kiln.fusion %k, %pos : (tensor<2x2x1x16xf32>, tensor<2xi64>) -> (tensor<2x2x32x16xf32>, tensor<2x2x32x16xf32>) {
  ^bb0(%a: tensor<2x2x1x16xf32>, %p: tensor<2xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %a at %p : (tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2xi64>) -> (tensor<2x2x32x16xf32>, tensor<2x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<2x2x32x16xf32>, tensor<2x2x32x16xf32>
  }
  %y = kiln.fusion %q, %kc#0, %kc#1, %pos : (tensor<2x2x1x16xf32>, tensor<2x2x32x16xf32>, tensor<2x2x32x16xf32>, tensor<2xi64>) -> tensor<2x2x1x16xf32> {
  ^bb0(%a: tensor<2x2x1x16xf32>, %b: tensor<2x2x32x16xf32>, %c: tensor<2x2x32x16xf32>, %p: tensor<2xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<2x2x1x16xf32>, tensor<2x2x32x16xf32>, tensor<2x2x32x16xf32>, tensor<2xi64>) -> tensor<2x2x1x16xf32>
    kiln.yield %o : tensor<2x2x1x16xf32>
  }
  return %y : tensor<2x2x1x16xf32>
}
