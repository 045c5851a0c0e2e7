// Every verifier and type-inference diagnostic of the KV cache ops
// (kiln.kv_cache, kiln.kv_append, kiln.kv_attention), plus their ODS
// constraint errors.
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @unknown_symbol(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op 'nope' does not name a kiln.kv_cache}}
  %kc, %vc = kiln.kv_append @nope[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @layer_range(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op layer 2 is out of range: 'kv' has 2 layers}}
  %kc, %vc = kiln.kv_append @kv[2] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @batch(%k: tensor<8x2x1x16xf32>, %v: tensor<8x2x1x16xf32>, %pos: tensor<8xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op batch 8 exceeds the cache's max_batch 4}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<8x2x1x16xf32>, tensor<8x2x1x16xf32>, tensor<8xi64>) -> (tensor<8x2x64x16xf32>, tensor<8x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @heads(%k: tensor<4x4x1x16xf32>, %v: tensor<4x4x1x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op key [4, 4, 1, 16] does not match the cache's 2 kv heads of dim 16}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x4x1x16xf32>, tensor<4x4x1x16xf32>, tensor<4xi64>) -> (tensor<4x4x64x16xf32>, tensor<4x4x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @dim(%k: tensor<4x2x1x8xf32>, %v: tensor<4x2x1x8xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op key [4, 2, 1, 8] does not match the cache's 2 kv heads of dim 16}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x8xf32>, tensor<4x2x1x8xf32>, tensor<4xi64>) -> (tensor<4x2x64x8xf32>, tensor<4x2x64x8xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @too_many_tokens(%k: tensor<4x2x65x16xf32>, %v: tensor<4x2x65x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op appends 65 tokens, more than the cache's max_seq 64}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x65x16xf32>, tensor<4x2x65x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @key_elt(%k: tensor<4x2x1x16xf16>, %v: tensor<4x2x1x16xf16>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op key element type 'f16' differs from the cache's 'f32'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf16>, tensor<4x2x1x16xf16>, tensor<4xi64>) -> (tensor<4x2x64x16xf16>, tensor<4x2x64x16xf16>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @result_shape(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op results must be the layer's cache rows [4, 2, 64, 16] of 'f32', got 'tensor<4x2x32x16xf32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x32x16xf32>, tensor<4x2x32x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @result_rows(%k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x16xf32>, %pos: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op results must be the layer's cache rows [2, 2, 64, 16] of 'f32', got 'tensor<4x2x64x16xf32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @result_elt(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op results must be the layer's cache rows [4, 2, 64, 16] of 'f32', got 'tensor<4x2x64x16xf64>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf64>, tensor<4x2x64x16xf64>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @key_rank(%k: tensor<4x2x16xf32>, %v: tensor<4x2x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op key must be rank 4 [B, kv_heads, S, head_dim], got 'tensor<4x2x16xf32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x16xf32>, tensor<4x2x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @value_differs(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x2x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op value 'tensor<4x2x2x16xf32>' differs from key 'tensor<4x2x1x16xf32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x2x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @value_elt(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf64>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op value 'tensor<4x2x1x16xf64>' differs from key 'tensor<4x2x1x16xf32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf64>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @positions_shape(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4x1xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op positions must be [4] (one slot per row), got 'tensor<4x1xi64>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4x1xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @positions_batch(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op positions must be [4] (one slot per row), got 'tensor<2xi64>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<2xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @results_differ(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op key and value cache results differ}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x32x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @positions_float(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>, %pos: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.kv_append' op operand #2 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xf32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xf32>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  return
}

// -----

kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
func.func @key_int(%k: tensor<4x2x1x16xi32>, %v: tensor<4x2x1x16xi32>, %pos: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.kv_append' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4x2x1x16xi32>'}}
  %kc, %vc = kiln.kv_append @kv[0] %k, %v at %pos : (tensor<4x2x1x16xi32>, tensor<4x2x1x16xi32>, tensor<4xi64>) -> (tensor<4x2x64x16xi32>, tensor<4x2x64x16xi32>)
  return
}

// -----

// expected-error @+1 {{'kiln.kv_cache' op layout 'bshd' is not supported (only 'bhsd')}}
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 {layout = "bshd"} : f32

// -----

// expected-error @+1 {{'kiln.kv_cache' op cache of 1024 layers x 2 x 65536 x 64 x 65536 x 1024 elements is too large}}
kiln.kv_cache @kv layers 1024 kv_heads 64 head_dim 1024 max_batch 65536 max_seq 65536 : f32

// -----

// expected-error @+1 {{'kiln.kv_cache' op cache of 1 layers x 2 x 1024 x 1 x 65536 x 1048576 elements is too large}}
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 1048576 max_batch 1024 max_seq 65536 : f32

// -----

// expected-error @+1 {{'kiln.kv_cache' op attribute 'layers' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
kiln.kv_cache @kv layers 0 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32

// -----

// expected-error @+1 {{'kiln.kv_cache' op attribute 'element_type' failed to satisfy constraint: type attribute of 16-bit float or bfloat16 type or 32-bit float or 64-bit float}}
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : i32

// -----

kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32
// expected-error @+1 {{'kiln.kv_cache' op is the module's second kiln.kv_cache (one cache per module)}}
kiln.kv_cache @kv2 layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32

// -----

func.func @nested() {
  // expected-error @+1 {{'kiln.kv_cache' op expects parent op 'builtin.module'}}
  kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f32
  return
}

// -----

func.func @att_rank(%q: tensor<4x4x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op query, key and value caches must be rank 4 [B, H, S, D]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x4x16xf32>
  return
}

// -----

func.func @att_elt(%q: tensor<4x4x1x16xf64>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op element types differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x16xf64>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf64>
  return
}

// -----

func.func @att_batch(%q: tensor<2x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<2xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op batch sizes differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<2x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<2xi64>) -> tensor<2x4x1x16xf32>
  return
}

// -----

func.func @att_kv_len(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x32x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op key and value caches differ in heads or length}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x32x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_kv_heads(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x1x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op key and value caches differ in heads or length}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x1x64x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_gqa(%q: tensor<4x3x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op query heads 3 are not a multiple of kv heads 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x3x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x3x1x16xf32>
  return
}

// -----

func.func @att_dim(%q: tensor<4x4x1x8xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op query head dim 8 differs from key head dim 16}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x8xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_qlen(%q: tensor<4x4x65x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op query length 65 exceeds the cache length 64}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x65x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x4x65x16xf32>
  return
}

// -----

func.func @att_pos(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4x1xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op positions must be [4], got 'tensor<4x1xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4x1xi64>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_mask_elt(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>, %m: tensor<4x1x1x64xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op mask must be i1 or the query's element type, got 'i64'}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos mask %m {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>, tensor<4x1x1x64xi64>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_mask_shape(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>, %m: tensor<4x1x1x32xf32>) {
  // expected-error @+2 {{'kiln.kv_attention' op mask shape [4, 1, 1, 32] does not broadcast to [4, 4, 1, 64]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos mask %m {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>, tensor<4x1x1x32xf32>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_mask_rank(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>, %m: tensor<1x4x1x1x64xi1>) {
  // expected-error @+2 {{'kiln.kv_attention' op mask shape [1, 4, 1, 1, 64] does not broadcast to [4, 4, 1, 64]}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos mask %m {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>, tensor<1x4x1x1x64xi1>) -> tensor<4x4x1x16xf32>
  return
}

// -----

func.func @att_result(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.kv_attention' op inferred type(s) 'tensor<4x4x1x16xf32>' are incompatible with return type(s) of operation 'tensor<4x4x1x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x4x1x8xf32>
  return
}

// -----

func.func @att_pos_elt(%q: tensor<4x4x1x16xf32>, %k: tensor<4x2x64x16xf32>, %v: tensor<4x2x64x16xf32>, %pos: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.kv_attention' op operand #3 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<4xf32>'}}
  %o = kiln.kv_attention %q, %k, %v at %pos {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xf32>) -> tensor<4x4x1x16xf32>
  return
}
