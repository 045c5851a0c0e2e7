// RUN: kiln-opt %s --kiln-recognize --split-input-file | FileCheck %s
// With remarks, each near miss below is a remark at its op, and nothing else is:
// RUN: kiln-opt %s --kiln-recognize=remarks=true --split-input-file --verify-diagnostics -o /dev/null
// Without them, none (kiln-opt still lists the expected ones it did not see, as errors that do not fail):
// RUN: kiln-opt %s --kiln-recognize --split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: remark: kiln-recognize

//===----------------------------------------------------------------------===//
// Positive: attention as the exporters write it.
//===----------------------------------------------------------------------===//

// TorchScript-style GQA decode (s = 1): K/V expanded from 2 to 4 heads by
// reshape/expand/reshape, K^T a transpose of the last two dims of the
// expanded K, scale after the matmul, additive mask [1, 1, 1, T].
// CHECK-LABEL: func.func @gqa_decode
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x4x1x16xf32>, %[[K:[^:]+]]: tensor<1x2x8x16xf32>, %[[V:[^:]+]]: tensor<1x2x8x16xf32>, %[[M:[^:]+]]: tensor<1x1x1x8xf32>)
func.func @gqa_decode(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>, %mask: tensor<1x1x1x8xf32>) -> tensor<1x4x1x16xf32> {
  // CHECK-NEXT: %[[A:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 2.500000e-01 : f32} : (tensor<1x4x1x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x1x8xf32>) -> tensor<1x4x1x16xf32>
  // CHECK-NEXT: return %[[A]]
  %c = kiln.constant dense<2.500000e-01> : tensor<f32>
  %k0 = kiln.reshape %k : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %k1 = kiln.expand %k0 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %k2 = kiln.reshape %k1 : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %v0 = kiln.reshape %v : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %v1 = kiln.expand %v0 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %v2 = kiln.reshape %v1 : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %kt = kiln.transpose %k2 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32>
  %s1 = kiln.mul %s0, %c : (tensor<1x4x1x8xf32>, tensor<f32>) -> tensor<1x4x1x8xf32>
  %s2 = kiln.add %s1, %mask : (tensor<1x4x1x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x4x1x8xf32>
  %p = kiln.softmax %s2 {axis = 3 : i64} : tensor<1x4x1x8xf32>
  %o = kiln.matmul %p, %v2 : (tensor<1x4x1x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Dynamo-style GPT-2 MHA prefill: K^T is transpose(k [B, S, H, D], 0 2 3 1)
// (becomes K = transpose 0 2 1 3), mask first in the add, scale on q as a
// division, no other scale.
// CHECK-LABEL: func.func @mha_prefill_composite_transpose
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x4x8x16xf32>, %[[K:[^:]+]]: tensor<1x8x4x16xf32>, %[[V:[^:]+]]: tensor<1x4x8x16xf32>)
func.func @mha_prefill_composite_transpose(%q: tensor<1x4x8x16xf32>, %k: tensor<1x8x4x16xf32>, %v: tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // CHECK-DAG: %[[M:.+]] = kiln.constant dense<{{.*}}> : tensor<1x1x8x8xf32>
  // CHECK-DAG: %[[KT:.+]] = kiln.transpose %[[K]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: %[[A:.+]] = kiln.attention %[[Q]], %[[KT]], %[[V]], %[[M]] {scale = 1.250000e-01 : f32}
  // CHECK-NEXT: return %[[A]]
  %c = kiln.constant dense<8.0> : tensor<f32>
  %mask = kiln.constant dense<-1.0e+09> : tensor<1x1x8x8xf32>
  %q1 = kiln.div %q, %c : (tensor<1x4x8x16xf32>, tensor<f32>) -> tensor<1x4x8x16xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x16x8xf32>
  %s0 = kiln.matmul %q1, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  %s2 = kiln.add %mask, %s0 : (tensor<1x1x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %p = kiln.softmax %s2 {axis = 3 : i64} : tensor<1x4x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x8x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

// No mask, scale split over q and the scores (0.5 * 0.5), t = 1.
// CHECK-LABEL: func.func @no_mask_t1
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x2x3x4xf32>, %[[K:[^:]+]]: tensor<2x2x1x4xf32>, %[[V:[^:]+]]: tensor<2x2x1x8xf32>)
func.func @no_mask_t1(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x1x4xf32>, %v: tensor<2x2x1x8xf32>) -> tensor<2x2x3x8xf32> {
  // CHECK-NEXT: %[[A:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<2x2x3x4xf32>, tensor<2x2x1x4xf32>, tensor<2x2x1x8xf32>) -> tensor<2x2x3x8xf32>
  // CHECK-NEXT: return %[[A]]
  %c = kiln.constant dense<0.5> : tensor<1xf32>
  %q1 = kiln.mul %c, %q : (tensor<1xf32>, tensor<2x2x3x4xf32>) -> tensor<2x2x3x4xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x2x1x4xf32>) -> tensor<2x2x4x1xf32>
  %s0 = kiln.matmul %q1, %kt : (tensor<2x2x3x4xf32>, tensor<2x2x4x1xf32>) -> tensor<2x2x3x1xf32>
  %s1 = kiln.mul %s0, %c : (tensor<2x2x3x1xf32>, tensor<1xf32>) -> tensor<2x2x3x1xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<2x2x3x1xf32>
  %o = kiln.matmul %p, %v : (tensor<2x2x3x1xf32>, tensor<2x2x1x8xf32>) -> tensor<2x2x3x8xf32>
  return %o : tensor<2x2x3x8xf32>
}

// -----

// Boolean mask: where(mask, scores, -inf), a rank-2 mask padded to rank 4.
// CHECK-LABEL: func.func @bool_mask_where
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x4x8xf32>, %[[V:[^:]+]]: tensor<1x2x4x8xf32>, %[[M:[^:]+]]: tensor<4x4xi1>)
func.func @bool_mask_where(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<4x4xi1>) -> tensor<1x2x4x8xf32> {
  // CHECK: %[[M4:.+]] = kiln.reshape %[[M]] : tensor<4x4xi1> -> tensor<1x1x4x4xi1>
  // CHECK-NEXT: %[[A:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]], %[[M4]] {scale = 1.000000e+00 : f32}
  // CHECK-NEXT: return %[[A]]
  %ninf = kiln.constant dense<0xFF800000> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.where %mask, %s0, %ninf : (tensor<4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Boolean mask the other way round: where(masked_out, -inf, scores).
// CHECK-LABEL: func.func @bool_mask_inverted
// CHECK-SAME: (%{{[^:]+}}: tensor<1x2x4x8xf32>, %{{[^:]+}}: tensor<1x2x4x8xf32>, %{{[^:]+}}: tensor<1x2x4x8xf32>, %[[M:[^:]+]]: tensor<1x1x4x4xi1>)
func.func @bool_mask_inverted(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<1x1x4x4xi1>) -> tensor<1x2x4x8xf32> {
  // CHECK: %[[N:.+]] = kiln.not %[[M]] : tensor<1x1x4x4xi1>
  // CHECK-NEXT: kiln.attention %{{.*}}, %[[N]] {scale = 1.000000e+00 : f32}
  %ninf = kiln.constant dense<0xFF800000> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.where %mask, %ninf, %s0 : (tensor<1x1x4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Boolean mask with a finite fill (GPT-2's older where(causal, scores,
// finfo.min)): the fill is at most -1e30, so the where becomes the additive
// mask where(mask, 0, fill), which gives the same scores (a score plus the
// fill rounds to the fill), even for a row masked whole.
// CHECK-LABEL: func.func @bool_mask_lowest_fill
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x4x8xf32>, %[[K:[^:]+]]: tensor<1x2x4x8xf32>, %[[V:[^:]+]]: tensor<1x2x4x8xf32>, %[[M:[^:]+]]: tensor<1x1x4x4xi1>)
func.func @bool_mask_lowest_fill(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<1x1x4x4xi1>) -> tensor<1x2x4x8xf32> {
  // CHECK-DAG: %[[Z:.+]] = kiln.constant dense<0.000000e+00> : tensor<f32>
  // CHECK-DAG: %[[F:.+]] = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  // CHECK: %[[AM:.+]] = kiln.where %[[M]], %[[Z]], %[[F]] : (tensor<1x1x4x4xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x4x4xf32>
  // CHECK-NEXT: %[[A:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]], %[[AM]] {scale = 1.000000e+00 : f32}
  // CHECK-NEXT: return %[[A]]
  %lowest = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.where %mask, %s0, %lowest : (tensor<1x1x4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// The same the other way round, fill -1e30 (the bound): where(masked_out,
// fill, scores) becomes where(masked_out, fill, 0).
// CHECK-LABEL: func.func @bool_mask_fill_inverted
// CHECK-SAME: %[[M:[^:]+]]: tensor<4x4xi1>)
func.func @bool_mask_fill_inverted(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<4x4xi1>) -> tensor<1x2x4x8xf32> {
  // CHECK-DAG: %[[Z:.+]] = kiln.constant dense<0.000000e+00> : tensor<f32>
  // CHECK-DAG: %[[F:.+]] = kiln.constant dense<-1.000000e+30> : tensor<f32>
  // CHECK: %[[AM:.+]] = kiln.where %[[M]], %[[F]], %[[Z]] : (tensor<4x4xi1>, tensor<f32>, tensor<f32>) -> tensor<4x4xf32>
  // CHECK-NEXT: %[[AM4:.+]] = kiln.reshape %[[AM]] : tensor<4x4xf32> -> tensor<1x1x4x4xf32>
  // CHECK-NEXT: kiln.attention %{{.*}}, %[[AM4]] {scale = 1.000000e+00 : f32}
  // CHECK-NOT: kiln.not
  %fill = kiln.constant dense<-1.0e+30> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.where %mask, %fill, %s0 : (tensor<4x4xi1>, tensor<f32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// Near miss: a finite fill above -1e30 (-1e9): a score plus it need not
// round to it, so a row masked whole would differ; not matched.
// CHECK-LABEL: func.func @bool_mask_small_fill
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @bool_mask_small_fill(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %mask: tensor<1x1x4x4xi1>) -> tensor<1x2x4x8xf32> {
  %fill = kiln.constant dense<-1.0e+09> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.where %mask, %s0, %fill : (tensor<1x1x4x4xi1>, tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: attention: the where's fill -1.000000e+09 is above -1e30}}
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// The expanded K has a second user: the expansion stays and kiln.attention
// reads the expanded K and V (Hq = Hkv = 4), still correct.
// CHECK-LABEL: func.func @expanded_key_shared
// CHECK: %[[K2:.+]] = kiln.reshape %{{.*}} : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
// CHECK: %[[V2:.+]] = kiln.reshape %{{.*}} : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
// CHECK: kiln.attention %{{.*}}, %[[K2]], %[[V2]] {scale = 2.500000e-01 : f32}
func.func @expanded_key_shared(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x4x8x16xf32>) {
  %c = kiln.constant dense<2.500000e-01> : tensor<f32>
  %k0 = kiln.reshape %k : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %k1 = kiln.expand %k0 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %k2 = kiln.reshape %k1 : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %v0 = kiln.reshape %v : tensor<1x2x8x16xf32> -> tensor<1x2x1x8x16xf32>
  %v1 = kiln.expand %v0 : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %v2 = kiln.reshape %v1 : tensor<1x2x2x8x16xf32> -> tensor<1x4x8x16xf32>
  %kt = kiln.transpose %k2 {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x8x16xf32>) -> tensor<1x4x16x8xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x1x8xf32>
  %s1 = kiln.mul %s0, %c : (tensor<1x4x1x8xf32>, tensor<f32>) -> tensor<1x4x1x8xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x4x1x8xf32>
  %o = kiln.matmul %p, %v2 : (tensor<1x4x1x8xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x1x16xf32>
  return %o, %k2 : tensor<1x4x1x16xf32>, tensor<1x4x8x16xf32>
}

//===----------------------------------------------------------------------===//
// Near-misses: left alone.
//===----------------------------------------------------------------------===//

// -----

// Softmax over another axis than the last.
// CHECK-LABEL: func.func @softmax_wrong_axis
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @softmax_wrong_axis(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s0 {axis = 2 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// The scores have a second user.
// CHECK-LABEL: func.func @scores_second_user
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @scores_second_user(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %c = kiln.constant dense<2.500000e-01> : tensor<f32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.mul %s0, %c : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o, %s0 : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// The probabilities have a second user.
// CHECK-LABEL: func.func @probs_second_user
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @probs_second_user(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>) {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s0 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o, %p : tensor<1x2x4x8xf32>, tensor<1x2x4x4xf32>
}

// -----

// The scale is not a scalar (one factor per key).
// CHECK-LABEL: func.func @non_scalar_scale
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @non_scalar_scale(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32> {
  %c = kiln.constant dense<[0.5, 0.25, 0.5, 0.25]> : tensor<4xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.mul %s0, %c : (tensor<1x2x4x4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// The scale is not a constant.
// CHECK-LABEL: func.func @runtime_scale
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @runtime_scale(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %c: tensor<f32>) -> tensor<1x2x4x8xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.mul %s0, %c : (tensor<1x2x4x4xf32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return %o : tensor<1x2x4x8xf32>
}

// -----

// The mask does not broadcast to the scores (it enlarges them).
// CHECK-LABEL: func.func @mask_enlarges_scores
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @mask_enlarges_scores(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x8xf32>, %m: tensor<2x1x4x4xf32>) -> tensor<2x2x4x8xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x4x8xf32>) -> tensor<1x2x8x4xf32>
  %s0 = kiln.matmul %q, %kt : (tensor<1x2x4x8xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x4x4xf32>
  %s1 = kiln.add %s0, %m : (tensor<1x2x4x4xf32>, tensor<2x1x4x4xf32>) -> tensor<2x2x4x4xf32>
  %p = kiln.softmax %s1 {axis = 3 : i64} : tensor<2x2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<2x2x4x4xf32>, tensor<1x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return %o : tensor<2x2x4x8xf32>
}
