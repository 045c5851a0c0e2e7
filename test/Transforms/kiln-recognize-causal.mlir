// RUN: kiln-opt %s --kiln-recognize --split-input-file | FileCheck %s

// kiln-recognize turns a constant mask that says exactly what `causal`
// says (query s attends key t iff t <= s + (T - S)) into the attention's
// causal flag and drops the mask: additive 0 / -inf, 0 / the lowest f32
// (what the dynamo exporter folds HF's causal mask to), or i1. Near
// misses keep their mask.

// The exporter form: scores + constant mask, the mask [1, 1, 3, 3] of 0
// and the lowest f32; the whole idiom becomes one causal attention.
// CHECK-LABEL: func.func @exported_lowest
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x3x8xf32>, %[[K:[^:]+]]: tensor<1x2x3x8xf32>, %[[V:[^:]+]]: tensor<1x2x3x8xf32>)
// CHECK-NEXT: %[[A:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]] {causal = true, scale = 5.000000e-01 : f32} : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
// CHECK-NEXT: return %[[A]]
func.func @exported_lowest(%q: tensor<1x2x3x8xf32>, %k: tensor<1x2x3x8xf32>, %v: tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32> {
  %m = kiln.constant dense<[[[[0.0, -3.40282347E+38, -3.40282347E+38], [0.0, 0.0, -3.40282347E+38], [0.0, 0.0, 0.0]]]]> : tensor<1x1x3x3xf32>
  %c = kiln.constant dense<5.000000e-01> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x3x8xf32>) -> tensor<1x2x8x3xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x3x8xf32>, tensor<1x2x8x3xf32>) -> tensor<1x2x3x3xf32>
  %s1 = kiln.mul %s0, %c : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %s2 = kiln.add %s1, %m : (tensor<1x2x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x2x3x3xf32>
  %p = kiln.softmax %s2 {axis = 3 : i64} : tensor<1x2x3x3xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return %o : tensor<1x2x3x8xf32>
}

// -----

// Two queries after two cached keys (T - S = 2), -inf fill, a mask with
// full batch and head dims whose every slice is causal.
// CHECK-LABEL: func.func @shifted_neg_inf
// CHECK-NOT: kiln.constant
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {causal = true, scale = 1.250000e-01 : f32} : (tensor<2x2x2x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>) -> tensor<2x2x2x8xf32>
func.func @shifted_neg_inf(%q: tensor<2x2x2x8xf32>, %k: tensor<2x2x4x8xf32>, %v: tensor<2x2x4x8xf32>) -> tensor<2x2x2x8xf32> {
  %m = kiln.constant dense<[[[[0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]], [[[0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0]]]]> : tensor<2x2x2x4xf32>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<2x2x2x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x4x8xf32>, tensor<2x2x2x4xf32>) -> tensor<2x2x2x8xf32>
  return %o : tensor<2x2x2x8xf32>
}

// -----

// An i1 mask (true = attend), lower triangle.
// CHECK-LABEL: func.func @bool_lower_triangle
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {causal = true, scale = 1.250000e-01 : f32} : (tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x1x3x8xf32>
func.func @bool_lower_triangle(%q: tensor<1x1x3x8xf32>, %k: tensor<1x1x3x8xf32>, %v: tensor<1x1x3x8xf32>) -> tensor<1x1x3x8xf32> {
  %m = kiln.constant dense<[[[[true, false, false], [true, true, false], [true, true, true]]]]> : tensor<1x1x3x3xi1>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x8xf32>, tensor<1x1x3x3xi1>) -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}

// -----

// Near miss: a finite fill above -1e30 (old exports' -10000) can leave a
// masked key a share of the softmax: the mask stays.
// CHECK-LABEL: func.func @finite_fill
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {scale
// CHECK-NOT: causal
func.func @finite_fill(%q: tensor<1x1x2x8xf32>, %k: tensor<1x1x2x8xf32>, %v: tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32> {
  %m = kiln.constant dense<[[[[0.0, -1.0e+04], [0.0, 0.0]]]]> : tensor<1x1x2x2xf32>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x8xf32>
  return %o : tensor<1x1x2x8xf32>
}

// -----

// Near miss: one visible entry is not 0 (a bias, not just a mask).
// CHECK-LABEL: func.func @bias_inside
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {scale
// CHECK-NOT: causal
func.func @bias_inside(%q: tensor<1x1x2x8xf32>, %k: tensor<1x1x2x8xf32>, %v: tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32> {
  %m = kiln.constant dense<[[[[0.0, 0xFF800000], [0.5, 0.0]]]]> : tensor<1x1x2x2xf32>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x8xf32>
  return %o : tensor<1x1x2x8xf32>
}

// -----

// Near miss: an upper triangle (anti-causal) i1 mask.
// CHECK-LABEL: func.func @bool_upper
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {scale
// CHECK-NOT: causal
func.func @bool_upper(%q: tensor<1x1x2x8xf32>, %k: tensor<1x1x2x8xf32>, %v: tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32> {
  %m = kiln.constant dense<[[[[true, true], [false, true]]]]> : tensor<1x1x2x2xi1>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x2xi1>) -> tensor<1x1x2x8xf32>
  return %o : tensor<1x1x2x8xf32>
}

// -----

// Edge: more queries than keys (T < S): the first query would see no key,
// where the additive mask and `causal` differ; the mask stays.
// CHECK-LABEL: func.func @row_sees_nothing
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {scale
// CHECK-NOT: causal
func.func @row_sees_nothing(%q: tensor<1x1x2x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>) -> tensor<1x1x2x8xf32> {
  %m = kiln.constant dense<[[[[0xFF800000], [0.0]]]]> : tensor<1x1x2x1xf32>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1x1x2x1xf32>) -> tensor<1x1x2x8xf32>
  return %o : tensor<1x1x2x8xf32>
}

// -----

// Near miss: a mask computed at run time (an input), even if causal.
// CHECK-LABEL: func.func @runtime_mask
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {scale
// CHECK-NOT: causal
func.func @runtime_mask(%q: tensor<1x1x2x8xf32>, %k: tensor<1x1x2x8xf32>, %v: tensor<1x1x2x8xf32>, %m: tensor<1x1x2x2xf32>) -> tensor<1x1x2x8xf32> {
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x8xf32>
  return %o : tensor<1x1x2x8xf32>
}

// -----

// Edge: a splat 0 mask over S = T = 1 (one query, one key) is causal; a
// splat 0 over 2 x 2 is not (query 0 would see key 1).
// CHECK-LABEL: func.func @splats
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {causal = true
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {scale
func.func @splats(%q: tensor<1x1x1x8xf32>, %k: tensor<1x1x1x8xf32>, %v: tensor<1x1x1x8xf32>, %q2: tensor<1x1x2x8xf32>, %k2: tensor<1x1x2x8xf32>) -> (tensor<1x1x1x8xf32>, tensor<1x1x2x8xf32>) {
  %m = kiln.constant dense<0.0> : tensor<1x1x1x1xf32>
  %m2 = kiln.constant dense<0.0> : tensor<1x1x2x2xf32>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1x1x1x8xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x1x8xf32>
  %o2 = kiln.attention %q2, %k2, %k2, %m2 {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x2xf32>) -> tensor<1x1x2x8xf32>
  return %o, %o2 : tensor<1x1x1x8xf32>, tensor<1x1x2x8xf32>
}

// -----

// A rank-2 mask [S, T] (broadcast over batch and heads).
// CHECK-LABEL: func.func @rank2
// CHECK: kiln.attention %{{[^,]+}}, %{{[^,]+}}, %{{[^ ]+}} {causal = true
func.func @rank2(%q: tensor<1x1x2x8xf32>, %k: tensor<1x1x2x8xf32>, %v: tensor<1x1x2x8xf32>) -> tensor<1x1x2x8xf32> {
  %m = kiln.constant dense<[[0.0, 0xFF800000], [0.0, 0.0]]> : tensor<2x2xf32>
  %o = kiln.attention %q, %k, %v, %m {scale = 1.250000e-01 : f32} : (tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<1x1x2x8xf32>, tensor<2x2xf32>) -> tensor<1x1x2x8xf32>
  return %o : tensor<1x1x2x8xf32>
}
