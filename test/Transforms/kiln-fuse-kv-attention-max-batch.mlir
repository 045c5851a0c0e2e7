// kiln.fuse_kv_attention_max_batch (kiln-compile --fuse-kv-attention-max-batch)
// replaces kFuseKvAttentionMaxBatch: with 2, a step of two batch rows fuses
// its append into the attention; with 1 (the default's value) it does not;
// a value below 1, or not an integer, is an error at the module.
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-fuse-kv-attention))' --verify-diagnostics | FileCheck %s
// The kiln-compile flag sets the attribute; a negative value is an error.
// RUN: echo 'func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }' > %t.mlir
// RUN: kiln-compile %t.mlir --fuse-kv-attention-max-batch=8 --emit=fused -o - | FileCheck %s --check-prefix=FLAG
// RUN: not kiln-compile %t.mlir --fuse-kv-attention-max-batch=-1 --emit=fused -o /dev/null 2>&1 | FileCheck %s --check-prefix=NEG
// FLAG: module attributes {kiln.fuse_kv_attention_max_batch = 8 : i64}
// NEG: kiln-compile: error: --fuse-kv-attention-max-batch=-1 must be at least 0

// CHECK-LABEL: func.func @two_rows_fused
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.kv_attention
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.fusion
module attributes {kiln.fuse_kv_attention_max_batch = 2 : i64} {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 2 max_seq 32 : f32
func.func @two_rows_fused(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %pos: tensor<2xi64>) -> tensor<2x2x1x16xf32> {
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
}

// -----

// CHECK-LABEL: func.func @two_rows_kept
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_append
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.kv_attention
module attributes {kiln.fuse_kv_attention_max_batch = 1 : i64} {
kiln.kv_cache @kv layers 1 kv_heads 2 head_dim 16 max_batch 2 max_seq 32 : f32
func.func @two_rows_kept(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %pos: tensor<2xi64>) -> tensor<2x2x1x16xf32> {
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
}

// -----

// expected-error @+1 {{kiln.fuse_kv_attention_max_batch must be an integer of at least 1, got 0 : i64}}
module attributes {kiln.fuse_kv_attention_max_batch = 0 : i64} {
func.func @zero() {
  return
}
}

// -----

// expected-error @+1 {{kiln.fuse_kv_attention_max_batch must be an integer of at least 1, got "two"}}
module attributes {kiln.fuse_kv_attention_max_batch = "two"} {
func.func @not_an_integer() {
  return
}
}
