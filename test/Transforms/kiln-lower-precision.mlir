// RUN: kiln-opt %s --split-input-file --kiln-lower-precision=precision=bf16 | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-lower-precision=precision=f16 | FileCheck %s --check-prefix=F16
// RUN: kiln-opt %s --split-input-file --kiln-lower-precision | FileCheck %s --check-prefix=F32

// Weights and everything computed from them are stored as bf16; positions
// computed from inputs and constants stay f32; an elementwise body widens
// and narrows around an f32 chain; a structured body is retyped; the f32
// result is widened by one conversion kernel.

// CHECK-LABEL: func.func @step
// CHECK-SAME: -> tensor<1x1x8xf32>
// CHECK-DAG: %[[ONE:.*]] = kiln.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK-DAG: %[[ONE16:.*]] = kiln.constant dense<1.000000e+00> : tensor<8xbf16>
// CHECK-DAG: %[[THIRD:.*]] = kiln.constant dense<0.333333343> : tensor<f32>
// CHECK: %[[EMB:.*]] = kiln.weight "emb" {length = 512 : i64, offset = 0 : i64, path = "w.bin", source_type = f32} : tensor<16x8xbf16>
// CHECK: %[[X:.*]] = kiln.fusion %[[EMB]], %arg0 : (tensor<16x8xbf16>, tensor<1x1xi64>) -> tensor<1x1x8xbf16>
// CHECK: kiln.gather {{.*}} -> tensor<1x1x8xbf16>
// CHECK: kiln.fusion %arg1, %[[THIRD]] : (tensor<1x1xi64>, tensor<f32>) -> tensor<1x1xf32>
// CHECK-NOT: bf16
// CHECK: kiln.yield %{{.*}} : tensor<1x1xf32>
// CHECK: %[[N:.*]] = kiln.fusion %[[X]], %[[ONE16]] : (tensor<1x1x8xbf16>, tensor<8xbf16>) -> tensor<1x1x8xbf16>
// CHECK: kiln.rms_norm {{.*}} : (tensor<1x1x8xbf16>, tensor<8xbf16>) -> tensor<1x1x8xbf16>
// CHECK: %[[E:.*]] = kiln.fusion %[[N]], %[[ONE]] : (tensor<1x1x8xbf16>, tensor<8xf32>) -> tensor<1x1x8xbf16>
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<1x1x8xbf16>, %[[S:.*]]: tensor<8xf32>):
// CHECK-NEXT: %[[W:.*]] = kiln.cast %[[A]] : tensor<1x1x8xbf16> -> tensor<1x1x8xf32>
// CHECK-NEXT: %[[SI:.*]] = kiln.silu %[[W]] : tensor<1x1x8xf32>
// CHECK-NEXT: %[[M:.*]] = kiln.mul %[[SI]], %[[S]] : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32>
// CHECK-NEXT: %[[NA:.*]] = kiln.cast %[[M]] : tensor<1x1x8xf32> -> tensor<1x1x8xbf16>
// CHECK-NEXT: kiln.yield %[[NA]] : tensor<1x1x8xbf16>
// CHECK: %[[HEAD:.*]] = kiln.weight "head" {{.*}}source_type = f32} : tensor<8x8xbf16>
// CHECK: %[[Y:.*]] = kiln.gemm %[[E]], %[[HEAD]] : (tensor<1x1x8xbf16>, tensor<8x8xbf16>) -> tensor<1x1x8xbf16>
// CHECK: %[[OUT:.*]] = kiln.fusion %[[Y]] : (tensor<1x1x8xbf16>) -> tensor<1x1x8xf32>
// CHECK: kiln.cast %{{.*}} : tensor<1x1x8xbf16> -> tensor<1x1x8xf32>
// CHECK: return %[[OUT]] : tensor<1x1x8xf32>

// F16: kiln.weight "emb" {{.*}}source_type = f32} : tensor<16x8xf16>
// F16: kiln.gemm {{.*}} -> tensor<1x1x8xf16>

// precision=f32 (the default) changes nothing.
// F32-LABEL: func.func @step
// F32-NOT: bf16
// F32-NOT: source_type
// F32: kiln.gemm {{.*}} -> tensor<1x1x8xf32>
func.func @step(%ids: tensor<1x1xi64>, %pos: tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  %one = kiln.constant dense<1.000000e+00> : tensor<8xf32>
  %third = kiln.constant dense<0.333333343> : tensor<f32>
  %emb = kiln.weight "emb" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<16x8xf32>
  %x = kiln.fusion %emb, %ids : (tensor<16x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  ^bb0(%a: tensor<16x8xf32>, %b: tensor<1x1xi64>):
    %g = kiln.gather %a, %b : (tensor<16x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32>
    kiln.yield %g : tensor<1x1x8xf32>
  }
  %p = kiln.fusion %pos, %third : (tensor<1x1xi64>, tensor<f32>) -> tensor<1x1xf32> {
  ^bb0(%a: tensor<1x1xi64>, %t: tensor<f32>):
    %c = kiln.cast %a : tensor<1x1xi64> -> tensor<1x1xf32>
    %m = kiln.mul %c, %t : (tensor<1x1xf32>, tensor<f32>) -> tensor<1x1xf32>
    kiln.yield %m : tensor<1x1xf32>
  }
  %n = kiln.fusion %x, %one : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32> {
  ^bb0(%a: tensor<1x1x8xf32>, %s: tensor<8xf32>):
    %r = kiln.rms_norm %a, %s {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32>
    kiln.yield %r : tensor<1x1x8xf32>
  }
  %e = kiln.fusion %n, %one : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32> {
  ^bb0(%a: tensor<1x1x8xf32>, %s: tensor<8xf32>):
    %r = kiln.silu %a : tensor<1x1x8xf32>
    %m = kiln.mul %r, %s : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32>
    kiln.yield %m : tensor<1x1x8xf32>
  }
  %w = kiln.weight "head" {path = "w.bin", offset = 512 : i64, length = 256 : i64} : tensor<8x8xf32>
  %y = kiln.gemm %e, %w : (tensor<1x1x8xf32>, tensor<8x8xf32>) -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}

// -----

// Rotary tables and an additive mask computed from inputs stay f32 beside
// bf16 data; an f32 argument meeting a gemm with a bf16 weight is narrowed
// first; the KV cache is stored as bf16.

// CHECK: kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 4 max_batch 1 max_seq 8 : bf16
// CHECK-LABEL: func.func @attend
// CHECK: %[[H:.*]] = kiln.fusion %arg0 : (tensor<1x1x4xf32>) -> tensor<1x1x4xbf16>
// CHECK: kiln.cast %{{.*}} : tensor<1x1x4xf32> -> tensor<1x1x4xbf16>
// CHECK: %[[Q:.*]] = kiln.gemm %[[H]], %{{.*}} : (tensor<1x1x4xbf16>, tensor<4x4xbf16>) -> tensor<1x1x4xbf16>
// CHECK: kiln.rotary %{{.*}} : (tensor<1x1x1x4xbf16>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x1x1x4xbf16>
// CHECK: kiln.kv_append @kv[0] {{.*}} -> (tensor<1x1x8x4xbf16>, tensor<1x1x8x4xbf16>)
// CHECK: kiln.kv_attention {{.*}} : (tensor<1x1x1x4xbf16>, tensor<1x1x8x4xbf16>, tensor<1x1x8x4xbf16>, tensor<1xi64>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x4xbf16>
kiln.kv_cache @kv layers 1 kv_heads 1 head_dim 4 max_batch 1 max_seq 8 : f32
func.func @attend(%h: tensor<1x1x4xf32>, %cos: tensor<1x1x2xf32>, %sin: tensor<1x1x2xf32>, %mask: tensor<1x1x1x8xf32>, %pos: tensor<1xi64>) -> tensor<1x1x1x4xf32> {
  %w = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 64 : i64} : tensor<4x4xf32>
  %q = kiln.gemm %h, %w : (tensor<1x1x4xf32>, tensor<4x4xf32>) -> tensor<1x1x4xf32>
  %q4 = kiln.reshape %q : tensor<1x1x4xf32> -> tensor<1x1x1x4xf32>
  %r = kiln.fusion %q4, %cos, %sin : (tensor<1x1x1x4xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x1x1x4xf32> {
  ^bb0(%a: tensor<1x1x1x4xf32>, %c: tensor<1x1x2xf32>, %s: tensor<1x1x2xf32>):
    %o = kiln.rotary %a, %c, %s : (tensor<1x1x1x4xf32>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x1x1x4xf32>
    kiln.yield %o : tensor<1x1x1x4xf32>
  }
  %kv:2 = kiln.fusion %r, %r, %pos : (tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi64>) -> (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>) {
  ^bb0(%k: tensor<1x1x1x4xf32>, %v: tensor<1x1x1x4xf32>, %p: tensor<1xi64>):
    %kc, %vc = kiln.kv_append @kv[0] %k, %v at %p : (tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi64>) -> (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>)
    kiln.yield %kc, %vc : tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>
  }
  %o = kiln.fusion %r, %kv#0, %kv#1, %pos, %mask : (tensor<1x1x1x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1xi64>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x4xf32> {
  ^bb0(%a: tensor<1x1x1x4xf32>, %kc: tensor<1x1x8x4xf32>, %vc: tensor<1x1x8x4xf32>, %p: tensor<1xi64>, %m: tensor<1x1x1x8xf32>):
    %att = kiln.kv_attention %a, %kc, %vc at %p mask %m {scale = 5.000000e-01 : f32} : (tensor<1x1x1x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1xi64>, tensor<1x1x1x8xf32>) -> tensor<1x1x1x4xf32>
    kiln.yield %att : tensor<1x1x1x4xf32>
  }
  return %o : tensor<1x1x1x4xf32>
}

// -----

// A function of integers only is left alone.
// CHECK-LABEL: func.func @ints
// CHECK-NEXT: kiln.add %arg0, %arg0 : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
func.func @ints(%a: tensor<4xi64>) -> tensor<4xi64> {
  %0 = kiln.add %a, %a : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// An elementwise fusion with gather leaves (token + position embeddings):
// the 16-bit tables are gathered as stored and what is read is widened;
// the sum is computed in f32 and rounded once.
// CHECK-LABEL: func.func @gather_leaves
// CHECK: kiln.fusion %{{.*}}, %arg0, %{{.*}}, %arg1 : (tensor<16x8xbf16>, tensor<1x1xi64>, tensor<4x8xbf16>, tensor<1x1xi64>) -> tensor<1x1x8xbf16>
// CHECK-NEXT: ^bb0(%[[T:.*]]: tensor<16x8xbf16>, %[[I:.*]]: tensor<1x1xi64>, %[[P:.*]]: tensor<4x8xbf16>, %[[J:.*]]: tensor<1x1xi64>):
// CHECK-NEXT: %[[G:.*]] = kiln.gather %[[T]], %[[I]] {{.*}} -> tensor<1x1x8xbf16>
// CHECK-NEXT: %[[GW:.*]] = kiln.cast %[[G]] : tensor<1x1x8xbf16> -> tensor<1x1x8xf32>
// CHECK-NEXT: %[[H:.*]] = kiln.gather %[[P]], %[[J]] {{.*}} -> tensor<1x1x8xbf16>
// CHECK-NEXT: %[[HW:.*]] = kiln.cast %[[H]] : tensor<1x1x8xbf16> -> tensor<1x1x8xf32>
// CHECK-NEXT: %[[S:.*]] = kiln.add %[[GW]], %[[HW]] : (tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
// CHECK-NEXT: %[[N:.*]] = kiln.cast %[[S]] : tensor<1x1x8xf32> -> tensor<1x1x8xbf16>
// CHECK-NEXT: kiln.yield %[[N]] : tensor<1x1x8xbf16>
func.func @gather_leaves(%ids: tensor<1x1xi64>, %pos: tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  %wte = kiln.weight "wte" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<16x8xf32>
  %wpe = kiln.weight "wpe" {path = "w.bin", offset = 512 : i64, length = 128 : i64} : tensor<4x8xf32>
  %e = kiln.fusion %wte, %ids, %wpe, %pos : (tensor<16x8xf32>, tensor<1x1xi64>, tensor<4x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  ^bb0(%t: tensor<16x8xf32>, %i: tensor<1x1xi64>, %p: tensor<4x8xf32>, %j: tensor<1x1xi64>):
    %g = kiln.gather %t, %i {axis = 0 : i64} : (tensor<16x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32>
    %h = kiln.gather %p, %j {axis = 0 : i64} : (tensor<4x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32>
    %s = kiln.add %g, %h : (tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x1x8xf32>
    kiln.yield %s : tensor<1x1x8xf32>
  }
  return %e : tensor<1x1x8xf32>
}
