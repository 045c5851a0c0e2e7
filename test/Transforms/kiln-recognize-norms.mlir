// RUN: kiln-opt %s --kiln-recognize --split-input-file | FileCheck %s
// With remarks, each near miss below is a remark at its op, and nothing else is:
// RUN: kiln-opt %s --kiln-recognize=remarks=true --split-input-file --verify-diagnostics -o /dev/null
// Without them, none (kiln-opt still lists the expected ones it did not see, as errors that do not fail):
// RUN: kiln-opt %s --kiln-recognize --split-input-file -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty
// QUIET-NOT: remark: kiln-recognize

//===----------------------------------------------------------------------===//
// Positive: RMSNorm as the exporters write it.
//===----------------------------------------------------------------------===//

// torch.export (dynamo): pow, reciprocal(sqrt), weight on the left.
// CHECK-LABEL: func.func @rms_dynamo
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[W:.+]]: tensor<64xf32>)
func.func @rms_dynamo(%x: tensor<1x8x64xf32>, %w: tensor<64xf32>) -> tensor<1x8x64xf32> {
  // CHECK: %[[R:.+]] = kiln.rms_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: return %[[R]]
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %eps = kiln.constant dense<9.99999997E-7> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<1x8x1xf32>, tensor<f32>) -> tensor<1x8x1xf32>
  %s = kiln.sqrt %a : tensor<1x8x1xf32>
  %r = kiln.reciprocal %s : tensor<1x8x1xf32>
  %n = kiln.mul %x, %r : (tensor<1x8x64xf32>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
  %y = kiln.mul %w, %n : (tensor<64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

// TorchScript: div(1, sqrt), eps on the left, weight on the right.
// CHECK-LABEL: func.func @rms_torchscript
// CHECK-SAME: (%[[X:.+]]: tensor<1x1x64xf32>, %[[W:.+]]: tensor<64xf32>)
func.func @rms_torchscript(%x: tensor<1x1x64xf32>, %w: tensor<64xf32>) -> tensor<1x1x64xf32> {
  // CHECK: %[[R:.+]] = kiln.rms_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32}
  // CHECK-NEXT: return %[[R]]
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<1x1x64xf32>, tensor<f32>) -> tensor<1x1x64xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 2>} : (tensor<1x1x64xf32>) -> tensor<1x1x1xf32>
  %eps = kiln.constant dense<9.99999974E-6> : tensor<f32>
  %a = kiln.add %eps, %m : (tensor<f32>, tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %s = kiln.sqrt %a : tensor<1x1x1xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %r = kiln.div %one, %s : (tensor<f32>, tensor<1x1x1xf32>) -> tensor<1x1x1xf32>
  %n = kiln.mul %r, %x : (tensor<1x1x1xf32>, tensor<1x1x64xf32>) -> tensor<1x1x64xf32>
  %y = kiln.mul %n, %w : (tensor<1x1x64xf32>, tensor<64xf32>) -> tensor<1x1x64xf32>
  return %y : tensor<1x1x64xf32>
}

// -----

// mul(x, x), rsqrt, rank-2 input, scale of shape [1].
// CHECK-LABEL: func.func @rms_rank2_rsqrt
// CHECK-SAME: (%[[X:.+]]: tensor<4x32xf32>, %[[W:.+]]: tensor<1xf32>)
func.func @rms_rank2_rsqrt(%x: tensor<4x32xf32>, %w: tensor<1xf32>) -> tensor<4x32xf32> {
  // CHECK: %[[R:.+]] = kiln.rms_norm %[[X]], %[[W]] {axis = 1 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<4x32xf32>, tensor<1xf32>) -> tensor<4x32xf32>
  // CHECK-NEXT: return %[[R]]
  %sq = kiln.mul %x, %x : (tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %eps = kiln.constant dense<9.99999997E-7> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = kiln.rsqrt %a : tensor<4x1xf32>
  %n = kiln.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  %y = kiln.mul %n, %w : (tensor<4x32xf32>, tensor<1xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// x / sqrt(...) and Gemma's (1 + w): the add's result is the scale.
// CHECK-LABEL: func.func @rms_gemma
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>, %[[W:.+]]: tensor<8xf32>)
func.func @rms_gemma(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  // CHECK: %[[ONE:.+]] = kiln.constant dense<1.000000e+00> : tensor<f32>
  // CHECK: %[[S:.+]] = kiln.add %[[ONE]], %[[W]]
  // CHECK: %[[R:.+]] = kiln.rms_norm %[[X]], %[[S]] {axis = 1 : i64
  // CHECK-NEXT: return %[[R]]
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %s = kiln.sqrt %a : tensor<2x1xf32>
  %n = kiln.div %x, %s : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %g = kiln.add %one, %w : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  %y = kiln.mul %n, %g : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// No trailing weight mul: rms_norm requires a scale, so a ones scale.
// CHECK-LABEL: func.func @rms_no_weight
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
func.func @rms_no_weight(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK: %[[ONES:.+]] = kiln.constant dense<1.000000e+00> : tensor<1xf32>
  // CHECK: %[[R:.+]] = kiln.rms_norm %[[X]], %[[ONES]] {axis = 1 : i64
  // CHECK-NEXT: return %[[R]]
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r = kiln.rsqrt %a : tensor<2x1xf32>
  %n = kiln.mul %x, %r : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Positive: LayerNorm decomposed (opset < 17 exporters).
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @layer_norm_decomposed
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[G:.+]]: tensor<64xf32>, %[[B:.+]]: tensor<64xf32>)
func.func @layer_norm_decomposed(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<1x8x64xf32> {
  // CHECK: %[[R:.+]] = kiln.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: return %[[R]]
  %mu = kiln.reduce_mean %x {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %d = kiln.sub %x, %mu : (tensor<1x8x64xf32>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %d, %two : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %v = kiln.reduce_mean %sq {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %eps = kiln.constant dense<9.99999974E-6> : tensor<f32>
  %a = kiln.add %v, %eps : (tensor<1x8x1xf32>, tensor<f32>) -> tensor<1x8x1xf32>
  %s = kiln.sqrt %a : tensor<1x8x1xf32>
  %n = kiln.div %d, %s : (tensor<1x8x64xf32>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
  %sc = kiln.mul %n, %g : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %y = kiln.add %sc, %b : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Near misses: left alone.
//===----------------------------------------------------------------------===//

// The mean is over a non-last axis.
// CHECK-LABEL: func.func @rms_non_last_axis
// CHECK-NOT: kiln.rms_norm
// CHECK: kiln.reduce_mean
func.func @rms_non_last_axis(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> tensor<4x32xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 0>} : (tensor<4x32xf32>) -> tensor<1x32xf32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<1x32xf32>, tensor<f32>) -> tensor<1x32xf32>
  %r = kiln.rsqrt %a : tensor<1x32xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: x * invsqrt(s), but s is not mean(x^2) + eps}}
  %n = kiln.mul %x, %r : (tensor<4x32xf32>, tensor<1x32xf32>) -> tensor<4x32xf32>
  %y = kiln.mul %n, %w : (tensor<4x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The mean of squares has a second user.
// CHECK-LABEL: func.func @rms_second_user
// CHECK-NOT: kiln.rms_norm
// CHECK: kiln.reduce_mean
func.func @rms_second_user(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x1xf32>) {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = kiln.rsqrt %a : tensor<4x1xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: x * invsqrt(s), but s is not mean(x^2) + eps}}
  %n = kiln.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  %y = kiln.mul %n, %w : (tensor<4x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  return %y, %m : tensor<4x32xf32>, tensor<4x1xf32>
}

// -----

// The weight broadcasts against the input but not to the normalised shape
// [32] (it scales rows): the core is recognised, the mul stays.
// CHECK-LABEL: func.func @rms_weight_not_broadcastable
// CHECK-SAME: (%[[X:.+]]: tensor<4x32xf32>, %[[W:.+]]: tensor<4x1xf32>)
func.func @rms_weight_not_broadcastable(%x: tensor<4x32xf32>, %w: tensor<4x1xf32>) -> tensor<4x32xf32> {
  // CHECK: %[[ONES:.+]] = kiln.constant dense<1.000000e+00> : tensor<1xf32>
  // CHECK: %[[N:.+]] = kiln.rms_norm %[[X]], %[[ONES]]
  // CHECK: %[[Y:.+]] = kiln.mul %[[N]], %[[W]]
  // CHECK-NEXT: return %[[Y]]
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = kiln.rsqrt %a : tensor<4x1xf32>
  %n = kiln.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  %y = kiln.mul %n, %w : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// The normalised value has a second user: the scale is not folded in.
// CHECK-LABEL: func.func @rms_normed_second_user
// CHECK: %[[N:.+]] = kiln.rms_norm
// CHECK: %[[Y:.+]] = kiln.mul %[[N]]
// CHECK: return %[[Y]], %[[N]]
func.func @rms_normed_second_user(%x: tensor<4x32xf32>, %w: tensor<32xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>) {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r = kiln.rsqrt %a : tensor<4x1xf32>
  %n = kiln.mul %x, %r : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  %y = kiln.mul %n, %w : (tensor<4x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  return %y, %n : tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// eps is not a scalar constant; the square is of another value; pow by 3.
// CHECK-LABEL: func.func @rms_wrong_pieces
// CHECK-NOT: kiln.rms_norm
// CHECK: return
func.func @rms_wrong_pieces(%x: tensor<4x32xf32>, %z: tensor<4x32xf32>, %e: tensor<4x1xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<f32>
  %eps = kiln.constant dense<1.0E-6> : tensor<f32>
  %sq0 = kiln.pow %x, %two : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m0 = kiln.reduce_mean %sq0 {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %a0 = kiln.add %m0, %e : (tensor<4x1xf32>, tensor<4x1xf32>) -> tensor<4x1xf32>
  %r0 = kiln.rsqrt %a0 : tensor<4x1xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: x * invsqrt(s), but s is not mean(x^2) + eps}}
  %n0 = kiln.mul %x, %r0 : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  %sq1 = kiln.pow %z, %two : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m1 = kiln.reduce_mean %sq1 {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %a1 = kiln.add %m1, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r1 = kiln.rsqrt %a1 : tensor<4x1xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: x * invsqrt(s), but s is not mean(x^2) + eps}}
  %n1 = kiln.mul %x, %r1 : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  %sq2 = kiln.pow %x, %three : (tensor<4x32xf32>, tensor<f32>) -> tensor<4x32xf32>
  %m2 = kiln.reduce_mean %sq2 {axes = array<i64: 1>} : (tensor<4x32xf32>) -> tensor<4x1xf32>
  %a2 = kiln.add %m2, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %r2 = kiln.rsqrt %a2 : tensor<4x1xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: x * invsqrt(s), but s is not mean(x^2) + eps}}
  %n2 = kiln.mul %x, %r2 : (tensor<4x32xf32>, tensor<4x1xf32>) -> tensor<4x32xf32>
  return %n0, %n1, %n2 : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

// -----

// LayerNorm whose d = x - mean(x) has a third user is no layer_norm; what
// is left is an exact RMSNorm of d.
// CHECK-LABEL: func.func @layer_norm_centered_second_user
// CHECK-NOT: kiln.layer_norm
// CHECK: %[[D:.+]] = kiln.sub
// CHECK: %[[R:.+]] = kiln.rms_norm %[[D]]
// CHECK: return %[[R]], %[[D]]
func.func @layer_norm_centered_second_user(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %mu = kiln.reduce_mean %x {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %d = kiln.sub %x, %mu : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %d, %two : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %v = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<1.0E-5> : tensor<f32>
  %a = kiln.add %v, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %s = kiln.sqrt %a : tensor<2x1xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: layer_norm: x - mean(x) has other users}}
  %n = kiln.div %d, %s : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  return %n, %d : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// 16-bit exports: Hugging Face's `weight * x.to(input_dtype)` after the norm
// computed in f32 from `x.to(float32)`.
//===----------------------------------------------------------------------===//

// bf16: the widening cast, the f32 core, the narrowing cast and the scale
// become one norm of bf16 that rounds the normalised row before the scale.
// CHECK-LABEL: func.func @rms_bf16_rounded
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xbf16>, %[[W:.+]]: tensor<64xbf16>)
func.func @rms_bf16_rounded(%x: tensor<1x8x64xbf16>, %w: tensor<64xbf16>) -> tensor<1x8x64xbf16> {
  // CHECK: %[[R:.+]] = kiln.rms_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32, round_normalized} : (tensor<1x8x64xbf16>, tensor<64xbf16>) -> tensor<1x8x64xbf16>
  // CHECK-NEXT: return %[[R]]
  %xf = kiln.cast %x : tensor<1x8x64xbf16> -> tensor<1x8x64xf32>
  %two = kiln.constant dense<2.0> : tensor<f32>
  %sq = kiln.pow %xf, %two : (tensor<1x8x64xf32>, tensor<f32>) -> tensor<1x8x64xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %eps = kiln.constant dense<9.99999974E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<1x8x1xf32>, tensor<f32>) -> tensor<1x8x1xf32>
  %r = kiln.rsqrt %a : tensor<1x8x1xf32>
  %n = kiln.mul %xf, %r : (tensor<1x8x64xf32>, tensor<1x8x1xf32>) -> tensor<1x8x64xf32>
  %nb = kiln.cast %n : tensor<1x8x64xf32> -> tensor<1x8x64xbf16>
  %y = kiln.mul %w, %nb : (tensor<64xbf16>, tensor<1x8x64xbf16>) -> tensor<1x8x64xbf16>
  return %y : tensor<1x8x64xbf16>
}

// -----

// f16, the scale on the right, the inverse as reciprocal(sqrt).
// CHECK-LABEL: func.func @rms_f16_rounded
// CHECK: kiln.rms_norm %{{.+}}, %{{.+}} {axis = 1 : i64, epsilon = 9.99999997E-7 : f32, round_normalized} : (tensor<2x32xf16>, tensor<32xf16>) -> tensor<2x32xf16>
// CHECK-NOT: kiln.cast
func.func @rms_f16_rounded(%x: tensor<2x32xf16>, %w: tensor<32xf16>) -> tensor<2x32xf16> {
  %xf = kiln.cast %x : tensor<2x32xf16> -> tensor<2x32xf32>
  %sq = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<9.99999997E-7> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %s = kiln.sqrt %a : tensor<2x1xf32>
  %r = kiln.reciprocal %s : tensor<2x1xf32>
  %n = kiln.mul %xf, %r : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %nh = kiln.cast %n : tensor<2x32xf32> -> tensor<2x32xf16>
  %y = kiln.mul %nh, %w : (tensor<2x32xf16>, tensor<32xf16>) -> tensor<2x32xf16>
  return %y : tensor<2x32xf16>
}

// -----

// Near miss: the norm's input is an f32 value, not a bf16 one widened, so
// no norm of bf16 computes it; the core alone is a norm (ones scale).
// CHECK-LABEL: func.func @rms_bf16_not_widened
// CHECK: kiln.rms_norm %{{.+}}, %{{.+}} {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<2x32xf32>, tensor<1xf32>) -> tensor<2x32xf32>
// CHECK-NEXT: kiln.cast
// CHECK-NEXT: kiln.mul
func.func @rms_bf16_not_widened(%xf: tensor<2x32xf32>, %w: tensor<32xbf16>) -> tensor<2x32xbf16> {
  %sq = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<9.99999974E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r = kiln.rsqrt %a : tensor<2x1xf32>
  %n = kiln.mul %xf, %r : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %nb = kiln.cast %n : tensor<2x32xf32> -> tensor<2x32xbf16>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: a 16-bit scale times the norm rounded to it, but the norm's input is not x of that type widened by a cast, so kiln.rms_norm {round_normalized} of x would not be exact}}
  %y = kiln.mul %w, %nb : (tensor<32xbf16>, tensor<2x32xbf16>) -> tensor<2x32xbf16>
  return %y : tensor<2x32xbf16>
}

// -----

// Not matched: the rounded row has another user (it is returned), so the
// norm must still produce it; the widened input is from f16, the product
// bf16 (near miss, as above).
// CHECK-LABEL: func.func @rms_bf16_misses
// CHECK-NOT: round_normalized
func.func @rms_bf16_misses(%x: tensor<2x32xbf16>, %w: tensor<32xbf16>, %x16: tensor<2x32xf16>) -> (tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<2x32xbf16>) {
  %xf = kiln.cast %x : tensor<2x32xbf16> -> tensor<2x32xf32>
  %sq = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<9.99999974E-6> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r = kiln.rsqrt %a : tensor<2x1xf32>
  %n = kiln.mul %xf, %r : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %nb = kiln.cast %n : tensor<2x32xf32> -> tensor<2x32xbf16>
  %y = kiln.mul %w, %nb : (tensor<32xbf16>, tensor<2x32xbf16>) -> tensor<2x32xbf16>
  %hf = kiln.cast %x16 : tensor<2x32xf16> -> tensor<2x32xf32>
  %sq2 = kiln.mul %hf, %hf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m2 = kiln.reduce_mean %sq2 {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %a2 = kiln.add %m2, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r2 = kiln.rsqrt %a2 : tensor<2x1xf32>
  %n2 = kiln.mul %hf, %r2 : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %nb2 = kiln.cast %n2 : tensor<2x32xf32> -> tensor<2x32xbf16>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: a 16-bit scale times the norm rounded to it, but the norm's input is not x of that type widened by a cast, so kiln.rms_norm {round_normalized} of x would not be exact}}
  %y2 = kiln.mul %w, %nb2 : (tensor<32xbf16>, tensor<2x32xbf16>) -> tensor<2x32xbf16>
  return %y, %nb, %y2 : tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<2x32xbf16>
}

// -----

//===----------------------------------------------------------------------===//
// A 16-bit export's norm computed in f32 and rounded once (step 4):
// cast<T>(norm(cast<f32>(x), cast<f32>(w)[, cast<f32>(b)])) => the norm in T.
//===----------------------------------------------------------------------===//

// Cohere's LayerNorm in bf16: `(w.to(f32) * layer_norm(x.to(f32)) +
// b.to(f32)).to(bf16)`, the core written with div(sqrt): one layer_norm of
// bf16 on x, w and b as they are.
// CHECK-LABEL: func.func @ln_bf16_widened
// CHECK-SAME: (%[[X:.+]]: tensor<2x64xbf16>, %[[W:.+]]: tensor<64xbf16>, %[[B:.+]]: tensor<64xbf16>)
// CHECK-NEXT: %[[R:.+]] = kiln.layer_norm %[[X]], %[[W]], %[[B]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<2x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<2x64xbf16>
// CHECK-NEXT: return %[[R]]
func.func @ln_bf16_widened(%x: tensor<2x64xbf16>, %w: tensor<64xbf16>, %b: tensor<64xbf16>) -> tensor<2x64xbf16> {
  %xf = kiln.cast %x : tensor<2x64xbf16> -> tensor<2x64xf32>
  %m = kiln.reduce_mean %xf {axes = array<i64: 1>} : (tensor<2x64xf32>) -> tensor<2x1xf32>
  %d = kiln.sub %xf, %m : (tensor<2x64xf32>, tensor<2x1xf32>) -> tensor<2x64xf32>
  %sq = kiln.mul %d, %d : (tensor<2x64xf32>, tensor<2x64xf32>) -> tensor<2x64xf32>
  %v = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x64xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<1.0e-05> : tensor<f32>
  %a = kiln.add %v, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %s = kiln.sqrt %a : tensor<2x1xf32>
  %n = kiln.div %d, %s : (tensor<2x64xf32>, tensor<2x1xf32>) -> tensor<2x64xf32>
  %wf = kiln.cast %w : tensor<64xbf16> -> tensor<64xf32>
  %bf = kiln.cast %b : tensor<64xbf16> -> tensor<64xf32>
  %y = kiln.mul %wf, %n : (tensor<64xf32>, tensor<2x64xf32>) -> tensor<2x64xf32>
  %z = kiln.add %y, %bf : (tensor<2x64xf32>, tensor<64xf32>) -> tensor<2x64xf32>
  %r = kiln.cast %z : tensor<2x64xf32> -> tensor<2x64xbf16>
  return %r : tensor<2x64xbf16>
}

// -----

// An f16 RMSNorm whose weight multiplies in f32 before the one rounding
// (weight on the right): rms_norm of f16, not round_normalized.
// CHECK-LABEL: func.func @rms_f16_widened
// CHECK: kiln.rms_norm %{{.+}}, %{{.+}} {axis = 1 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<2x32xf16>, tensor<32xf16>) -> tensor<2x32xf16>
// CHECK-NOT: kiln.cast
func.func @rms_f16_widened(%x: tensor<2x32xf16>, %w: tensor<32xf16>) -> tensor<2x32xf16> {
  %xf = kiln.cast %x : tensor<2x32xf16> -> tensor<2x32xf32>
  %sq = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %eps = kiln.constant dense<9.99999997E-7> : tensor<f32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r = kiln.rsqrt %a : tensor<2x1xf32>
  %n = kiln.mul %xf, %r : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %wf = kiln.cast %w : tensor<32xf16> -> tensor<32xf32>
  %y = kiln.mul %n, %wf : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  %yb = kiln.cast %y : tensor<2x32xf32> -> tensor<2x32xf16>
  return %yb : tensor<2x32xf16>
}

// -----

// Near misses: Gemma's scale `1 + w.to(f32)` (an f32 value computed from
// w, not w widened), an f32 weight, an input computed in f32 and a bf16
// input narrowed to f16 stay f32 norms and casts, each with a remark; a
// norm whose f32 result has another user is not this idiom (no remark).
// CHECK-LABEL: func.func @widened_misses
// CHECK-COUNT-5: kiln.rms_norm %{{.+}} -> tensor<2x32xf32>
// CHECK-NOT: kiln.rms_norm
// CHECK: return
func.func @widened_misses(%x: tensor<2x32xbf16>, %w: tensor<32xbf16>, %wf32: tensor<32xf32>, %xf32: tensor<2x32xf32>) -> (tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<2x32xf16>, tensor<2x32xbf16>, tensor<2x32xf32>) {
  %xf = kiln.cast %x : tensor<2x32xbf16> -> tensor<2x32xf32>
  %wf = kiln.cast %w : tensor<32xbf16> -> tensor<32xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %g = kiln.add %one, %wf : (tensor<f32>, tensor<32xf32>) -> tensor<32xf32>
  %eps = kiln.constant dense<9.99999974E-6> : tensor<f32>
  %sq = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %a = kiln.add %m, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r = kiln.rsqrt %a : tensor<2x1xf32>
  %n = kiln.mul %xf, %r : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %y = kiln.mul %n, %g : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: an f32 norm of a widened 16-bit input rounded back, but its scale or bias is not a 16-bit value widened by a cast (an f32 weight, or a scale computed in f32 such as Gemma's 1 + w), so the norm of the 16-bit type would not be exact}}
  %yb = kiln.cast %y : tensor<2x32xf32> -> tensor<2x32xbf16>
  %sq2 = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m2 = kiln.reduce_mean %sq2 {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %a2 = kiln.add %m2, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r2 = kiln.rsqrt %a2 : tensor<2x1xf32>
  %n2 = kiln.mul %xf, %r2 : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %y2 = kiln.mul %n2, %wf32 : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: an f32 norm of a widened 16-bit input rounded back, but its scale or bias is not a 16-bit value widened by a cast (an f32 weight, or a scale computed in f32 such as Gemma's 1 + w), so the norm of the 16-bit type would not be exact}}
  %yb2 = kiln.cast %y2 : tensor<2x32xf32> -> tensor<2x32xbf16>
  %sq3 = kiln.mul %xf32, %xf32 : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m3 = kiln.reduce_mean %sq3 {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %a3 = kiln.add %m3, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r3 = kiln.rsqrt %a3 : tensor<2x1xf32>
  %n3 = kiln.mul %xf32, %r3 : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %wf3 = kiln.cast %w : tensor<32xbf16> -> tensor<32xf32>
  %y3 = kiln.mul %n3, %wf3 : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: an f32 norm rounded to a 16-bit type, but its input is not a value of that type widened by a cast, so the norm of that type would not be exact}}
  %yb3 = kiln.cast %y3 : tensor<2x32xf32> -> tensor<2x32xbf16>
  %sq4 = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m4 = kiln.reduce_mean %sq4 {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %a4 = kiln.add %m4, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r4 = kiln.rsqrt %a4 : tensor<2x1xf32>
  %n4 = kiln.mul %xf, %r4 : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %wf4 = kiln.cast %w : tensor<32xbf16> -> tensor<32xf32>
  %y4 = kiln.mul %n4, %wf4 : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  // expected-remark @below {{kiln-recognize: not rewritten: rms_norm: an f32 norm rounded to a 16-bit type, but its input is not a value of that type widened by a cast, so the norm of that type would not be exact}}
  %yh4 = kiln.cast %y4 : tensor<2x32xf32> -> tensor<2x32xf16>
  %sq5 = kiln.mul %xf, %xf : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
  %m5 = kiln.reduce_mean %sq5 {axes = array<i64: 1>} : (tensor<2x32xf32>) -> tensor<2x1xf32>
  %a5 = kiln.add %m5, %eps : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %r5 = kiln.rsqrt %a5 : tensor<2x1xf32>
  %n5 = kiln.mul %xf, %r5 : (tensor<2x32xf32>, tensor<2x1xf32>) -> tensor<2x32xf32>
  %wf5 = kiln.cast %w : tensor<32xbf16> -> tensor<32xf32>
  %y5 = kiln.mul %n5, %wf5 : (tensor<2x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  %yb5 = kiln.cast %y5 : tensor<2x32xf32> -> tensor<2x32xbf16>
  return %yb, %yb2, %yb3, %yh4, %yb5, %y5 : tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<2x32xbf16>, tensor<2x32xf16>, tensor<2x32xbf16>, tensor<2x32xf32>
}
