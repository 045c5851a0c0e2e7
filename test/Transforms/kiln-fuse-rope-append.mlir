// kiln-fuse-kv-attention's rope-append merge (on by default; the module
// attribute kiln.fuse_rope_append = false, kiln-compile
// --fuse-rope-append=false, turns it off): where the attention stays its
// own kernel (4 batch rows, above the kiln.fuse_kv_attention_max_batch of
// 1 these modules set; the default fuses up to 8 since session 25), the
// key's rotary, the KV append and the query's rotary
// become one fusion (kiln::analyzeRopeAppendKernel) yielding the append's
// results first, then the roped query; the attention reads them. With the
// attribute false the four fusions stay. A key rotary something else reads
// stays apart (the append and the query's rotary still merge, the key read
// as it is). An attribute that is not a bool is an error.
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-fuse-kv-attention))' | FileCheck %s
// The kiln-compile flag sets the attribute only when given.
// RUN: echo 'func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }' > %t.mlir
// RUN: kiln-compile %t.mlir --fuse-rope-append=false --emit=fused -o - | FileCheck %s --check-prefix=FLAGOFF
// RUN: kiln-compile %t.mlir --fuse-rope-append --emit=fused -o - | FileCheck %s --check-prefix=FLAGON
// RUN: kiln-compile %t.mlir --emit=fused -o - | FileCheck %s --check-prefix=NOFLAG
// FLAGOFF: module attributes {kiln.fuse_rope_append = false}
// FLAGON: module attributes {kiln.fuse_rope_append = true}
// NOFLAG-NOT: kiln.fuse_rope_append
// RUN: echo 'module attributes {kiln.fuse_rope_append = 1 : i64} { func.func @f() { return } }' > %t.bad.mlir
// RUN: not kiln-opt %t.bad.mlir --pass-pipeline='builtin.module(func.func(kiln-fuse-kv-attention))' 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: kiln.fuse_rope_append must be a bool, got 1 : i64

// CHECK-LABEL: func.func @merged
// CHECK: %[[F:.+]]:3 = kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: %[[K:.+]] = kiln.rotary
// CHECK-NEXT: %[[KC:.+]], %[[VC:.+]] = kiln.kv_append @kv[0] %[[K]],
// CHECK-NEXT: %[[Q:.+]] = kiln.rotary
// CHECK-NEXT: kiln.yield %[[KC]], %[[VC]], %[[Q]]
// CHECK: kiln.fusion %[[F]]#2, %[[F]]#0, %[[F]]#1
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_attention
// CHECK-NOT: kiln.rotary
module attributes {kiln.fuse_kv_attention_max_batch = 1 : i64} {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 4 max_seq 32 : f32
func.func @merged(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %cos: tensor<4x1x8xf32>, %sin: tensor<4x1x8xf32>, %pos: tensor<4xi64>) -> tensor<4x4x1x16xf32> {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<4x4x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x4x1x16xf32> {
  ^bb0(%a: tensor<4x4x1x16xf32>, %c: tensor<4x1x8xf32>, %s: tensor<4x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<4x4x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x4x1x16xf32>
    kiln.yield %r : tensor<4x4x1x16xf32>
  }
  %kr = kiln.fusion %k, %cos, %sin : (tensor<4x2x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x1x16xf32> {
  ^bb0(%a: tensor<4x2x1x16xf32>, %c: tensor<4x1x8xf32>, %s: tensor<4x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<4x2x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x1x16xf32>
    kiln.yield %r : tensor<4x2x1x16xf32>
  }
  %kc:2 = kiln.fusion %kr, %v, %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>) {
  ^bb0(%a: tensor<4x2x1x16xf32>, %b: tensor<4x2x1x16xf32>, %p: tensor<4xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos : (tensor<4x4x1x16xf32>, tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32> {
  ^bb0(%a: tensor<4x4x1x16xf32>, %b: tensor<4x2x32x16xf32>, %c: tensor<4x2x32x16xf32>, %p: tensor<4xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
    kiln.yield %o : tensor<4x4x1x16xf32>
  }
  return %y : tensor<4x4x1x16xf32>
}
}

// -----

// CHECK-LABEL: func.func @off
// CHECK-COUNT-4: kiln.fusion
module attributes {kiln.fuse_kv_attention_max_batch = 1 : i64, kiln.fuse_rope_append = false} {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 4 max_seq 32 : f32
func.func @off(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %cos: tensor<4x1x8xf32>, %sin: tensor<4x1x8xf32>, %pos: tensor<4xi64>) -> tensor<4x4x1x16xf32> {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<4x4x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x4x1x16xf32> {
  ^bb0(%a: tensor<4x4x1x16xf32>, %c: tensor<4x1x8xf32>, %s: tensor<4x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<4x4x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x4x1x16xf32>
    kiln.yield %r : tensor<4x4x1x16xf32>
  }
  %kr = kiln.fusion %k, %cos, %sin : (tensor<4x2x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x1x16xf32> {
  ^bb0(%a: tensor<4x2x1x16xf32>, %c: tensor<4x1x8xf32>, %s: tensor<4x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<4x2x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x1x16xf32>
    kiln.yield %r : tensor<4x2x1x16xf32>
  }
  %kc:2 = kiln.fusion %kr, %v, %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>) {
  ^bb0(%a: tensor<4x2x1x16xf32>, %b: tensor<4x2x1x16xf32>, %p: tensor<4xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos : (tensor<4x4x1x16xf32>, tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32> {
  ^bb0(%a: tensor<4x4x1x16xf32>, %b: tensor<4x2x32x16xf32>, %c: tensor<4x2x32x16xf32>, %p: tensor<4xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
    kiln.yield %o : tensor<4x4x1x16xf32>
  }
  return %y : tensor<4x4x1x16xf32>
}
}

// -----

// CHECK-LABEL: func.func @key_read_elsewhere
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.rotary
// CHECK-NEXT: kiln.yield
// CHECK: %[[F:.+]]:3 = kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.rotary
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion %[[F]]#2, %[[F]]#0, %[[F]]#1
module attributes {kiln.fuse_kv_attention_max_batch = 1 : i64, kiln.fuse_rope_append = true} {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 4 max_seq 32 : f32
func.func @key_read_elsewhere(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %cos: tensor<4x1x8xf32>, %sin: tensor<4x1x8xf32>, %pos: tensor<4xi64>) -> (tensor<4x4x1x16xf32>, tensor<4x2x1x16xf32>) {
  %qr = kiln.fusion %q, %cos, %sin : (tensor<4x4x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x4x1x16xf32> {
  ^bb0(%a: tensor<4x4x1x16xf32>, %c: tensor<4x1x8xf32>, %s: tensor<4x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<4x4x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x4x1x16xf32>
    kiln.yield %r : tensor<4x4x1x16xf32>
  }
  %kr = kiln.fusion %k, %cos, %sin : (tensor<4x2x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x1x16xf32> {
  ^bb0(%a: tensor<4x2x1x16xf32>, %c: tensor<4x1x8xf32>, %s: tensor<4x1x8xf32>):
    %r = kiln.rotary %a, %c, %s : (tensor<4x2x1x16xf32>, tensor<4x1x8xf32>, tensor<4x1x8xf32>) -> tensor<4x2x1x16xf32>
    kiln.yield %r : tensor<4x2x1x16xf32>
  }
  %kc:2 = kiln.fusion %kr, %v, %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>) {
  ^bb0(%a: tensor<4x2x1x16xf32>, %b: tensor<4x2x1x16xf32>, %p: tensor<4xi64>):
    %kc0, %vc0 = kiln.kv_append @kv[0] %a, %b at %p : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>)
    kiln.yield %kc0, %vc0 : tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>
  }
  %y = kiln.fusion %qr, %kc#0, %kc#1, %pos : (tensor<4x4x1x16xf32>, tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32> {
  ^bb0(%a: tensor<4x4x1x16xf32>, %b: tensor<4x2x32x16xf32>, %c: tensor<4x2x32x16xf32>, %p: tensor<4xi64>):
    %o = kiln.kv_attention %a, %b, %c at %p {scale = 2.500000e-01 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
    kiln.yield %o : tensor<4x4x1x16xf32>
  }
  return %y, %kr : tensor<4x4x1x16xf32>, tensor<4x2x1x16xf32>
}
}
