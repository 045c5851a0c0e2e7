// Every verifier and type-inference diagnostic of the kiln ops, plus the ODS
// type-constraint errors (dynamic/unranked shapes, wrong element types).
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

func.func @dynamic_shape(%a: tensor<?x4xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor}}
  %0 = kiln.add %a, %a : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @unranked(%a: tensor<*xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor}}
  %0 = "kiln.exp"(%a) : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @dynamic_result(%a: tensor<8xf32>) {
  // expected-error @+1 {{result #0 must be statically shaped tensor}}
  %0 = kiln.reshape %a : tensor<8xf32> -> tensor<?xf32>
  return
}

// -----

func.func @dynamic_weight() {
  // expected-error @+1 {{result #0 must be statically shaped tensor}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 0 : i64} : tensor<?x4xf32>
  return
}

// -----

func.func @float_op_on_int(%a: tensor<4xi32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %0 = kiln.sqrt %a : tensor<4xi32>
  return
}

// -----

func.func @arith_on_bool(%a: tensor<4xi1>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float or 8-bit signless integer or 32-bit signless integer or 64-bit signless integer or 8-bit unsigned integer values}}
  %0 = kiln.add %a, %a : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  return
}

// -----

func.func @logic_on_float(%a: tensor<4xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = kiln.and %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @unsupported_element_type(%a: tensor<4xi16>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor}}
  %0 = kiln.reshape %a : tensor<4xi16> -> tensor<2x2xi16>
  return
}

// -----

func.func @unsupported_float_type(%a: tensor<4xf8E4M3FN>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor}}
  %0 = kiln.cast %a : tensor<4xf8E4M3FN> -> tensor<4xf32>
  return
}

// -----

func.func @matmul_int(%a: tensor<2x2xi32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %0 = kiln.matmul %a, %a : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
  return
}

// -----

func.func @gather_float_indices(%t: tensor<8x4xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{operand #1 must be statically shaped tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = kiln.gather %t, %i : (tensor<8x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @where_float_condition(%c: tensor<4xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 1-bit signless integer values}}
  %0 = kiln.where %c, %a, %a : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @unary_type_mismatch(%a: tensor<4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "kiln.exp"(%a) : (tensor<4xf32>) -> tensor<4xf16>
  return
}

// -----

func.func @missing_required_attr(%a: tensor<4x4xf32>) {
  // expected-error @+1 {{requires attribute 'axis'}}
  %0 = "kiln.softmax"(%a) : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @missing_scale(%q: tensor<1x1x1x4xf32>) {
  // expected-error @+1 {{requires attribute 'scale'}}
  %0 = "kiln.attention"(%q, %q, %q) : (tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  return
}

// -----

// The written result type must match the inferred one.
func.func @inferred_type_mismatch(%a: tensor<2x1xf32>, %b: tensor<1x3xf32>) {
  // expected-error @+2 {{'kiln.add' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.add %a, %b : (tensor<2x1xf32>, tensor<1x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @compare_result_not_bool(%a: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.less' op inferred type(s) 'tensor<4xi1>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.less %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// -----

func.func @binary_element_types(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+2 {{'kiln.mul' op operands have different element types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.mul %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_element_types(%a: tensor<4xi32>, %b: tensor<4xi64>) {
  // expected-error @+2 {{'kiln.equal' op operands have different element types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.equal %a, %b : (tensor<4xi32>, tensor<4xi64>) -> tensor<4xi1>
  return
}

// -----

func.func @binary_broadcast(%a: tensor<2x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+2 {{'kiln.sub' op operand shapes [2x3] and [2] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.sub %a, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @logic_broadcast(%a: tensor<4xi1>, %b: tensor<3xi1>) {
  // expected-error @+2 {{'kiln.xor' op operand shapes [4] and [3] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.xor %a, %b : (tensor<4xi1>, tensor<3xi1>) -> tensor<4xi1>
  return
}

// -----

// `approximate` is an enum: an unknown case is a parse error.
func.func @gelu_approximate(%a: tensor<4xf32>) {
  // expected-error @+2 {{expected ::kiln::GeluApproximation to be one of: none, tanh}}
  // expected-error @+1 {{failed to parse Kiln_GeluApproximationAttr parameter 'value'}}
  %0 = kiln.gelu %a approximate<fast> : tensor<4xf32>
  return
}

// -----

// The old string spelling is rejected by the attribute's constraint.
func.func @gelu_approximate_string(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.gelu' op attribute 'approximate' failed to satisfy constraint: GELU approximation: `none` (erf) or `tanh`}}
  %0 = kiln.gelu %a {approximate = "tanh"} : tensor<4xf32>
  return
}

// -----

func.func @cast_shape(%a: tensor<2x4xi64>) {
  // expected-error @+1 {{'kiln.cast' op result shape [8] differs from input shape [2x4]}}
  %0 = kiln.cast %a : tensor<2x4xi64> -> tensor<8xf32>
  return
}

// -----

func.func @where_element_types(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+2 {{'kiln.where' op on_true and on_false have different element types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @where_broadcast(%c: tensor<5xi1>, %a: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.where' op operand shapes [5] and [4] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.where %c, %a, %a : (tensor<5xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+2 {{'kiln.matmul' op operands must have rank >= 2, got 1 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<4xf32>, tensor<4x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<2x4xf32>, %b: tensor<4x2xf16>) {
  // expected-error @+2 {{'kiln.matmul' op operands have different element types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<2x4xf32>, tensor<4x2xf16>) -> tensor<2x2xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x4xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+2 {{'kiln.matmul' op contraction dims differ: lhs K = 4, rhs K = 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<2x4xf32>, tensor<3x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<3x2x4xf32>, %b: tensor<2x4x2xf32>) {
  // expected-error @+2 {{'kiln.matmul' op batch dims [3] and [2] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul %a, %b : (tensor<3x2x4xf32>, tensor<2x4x2xf32>) -> tensor<3x2x2xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<1x4xf32>) {
  // expected-error @+2 {{'kiln.linear' op input must have rank >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w : (tensor<f32>, tensor<1x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x4xf32>, %w: tensor<1x4x8xf32>) {
  // expected-error @+2 {{'kiln.linear' op weight must be 2-D, got rank 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<1x4x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_element_types(%x: tensor<2x4xf32>, %w: tensor<4x8xbf16>) {
  // expected-error @+2 {{'kiln.linear' op input and weight element types differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<4x8xbf16>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<2x4xf32>, %w: tensor<8x4xf32>) {
  // `transpose_weight = false`: the weight is [K, N] = [8, 4].
  // expected-error @+2 {{'kiln.linear' op weight K = 8 does not match input K = 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_k_transposed(%x: tensor<2x4xf32>, %w: tensor<4x8xf32>) {
  // `transpose_weight = true`: the weight is [N, K] = [4, 8].
  // expected-error @+2 {{'kiln.linear' op weight K = 8 does not match input K = 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w {transpose_weight = true} : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<2x4xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.linear' op bias must be [8], got [4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<2x4xf32>, %w: tensor<4x8xf32>, %b: tensor<1x8xf32>) {
  // expected-error @+2 {{'kiln.linear' op bias must be [8], got [1x8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_bias_element_type(%x: tensor<2x4xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf16>) {
  // expected-error @+2 {{'kiln.linear' op bias element type differs from input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.linear %x, %w, %b : (tensor<2x4xf32>, tensor<4x8xf32>, tensor<8xf16>) -> tensor<2x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// Reductions and normalisation
//===----------------------------------------------------------------------===//

// -----

func.func @reduce_axis_range(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{'kiln.reduce_sum' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.reduce_sum %x {axes = array<i64: 2>} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @reduce_axis_negative(%x: tensor<2x4xf32>) {
  // Axes are normalised by the importer; the op takes them in [0, rank).
  // expected-error @+2 {{'kiln.reduce_mean' op axis -1 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.reduce_mean %x {axes = array<i64: -1>} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @reduce_axis_repeated(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{'kiln.reduce_max' op axis 1 is repeated}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.reduce_max %x {axes = array<i64: 1, 1>} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @reduce_keepdims_result(%x: tensor<2x4xf32>) {
  // expected-error @+2 {{'kiln.reduce_sum' op inferred type(s) 'tensor<2xf32>' are incompatible with return type(s) of operation 'tensor<2x1xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.softmax' op axis 2 is out of range [0, 2)}}
  %0 = kiln.softmax %x {axis = 2 : i64} : tensor<2x4xf32>
  return
}

// -----

func.func @softmax_axis_negative(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.softmax' op axis -1 is out of range [0, 2)}}
  %0 = kiln.softmax %x {axis = -1 : i64} : tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.layer_norm' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.layer_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_scale_element_type(%x: tensor<2x4xf32>, %g: tensor<4xf16>) {
  // expected-error @+2 {{'kiln.layer_norm' op scale/bias element type differs from input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4xf32>, tensor<4xf16>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_bias_element_type(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf64>) {
  // expected-error @+2 {{'kiln.layer_norm' op scale/bias element type differs from input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf64>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_bias_shape(%x: tensor<2x4xf32>, %g: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'kiln.layer_norm' op scale/bias shape [3] does not broadcast to normalised shape [4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op epsilon must be non-negative}}
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64, epsilon = -1.0e-5 : f32} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @rms_norm_axis(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.rms_norm' op axis -1 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rms_norm %x, %g {axis = -1 : i64, epsilon = 1.0e-6 : f32} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @rms_norm_scale_element_type(%x: tensor<2x4xbf16>, %g: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.rms_norm' op scale/bias element type differs from input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-6 : f32} : (tensor<2x4xbf16>, tensor<4xf32>) -> tensor<2x4xbf16>
  return
}

// -----

func.func @rms_norm_scale_shape(%x: tensor<2x8x4xf32>, %g: tensor<4x4xf32>) {
  // expected-error @+2 {{'kiln.rms_norm' op scale/bias shape [4x4] does not broadcast to normalised shape [8x4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-6 : f32} : (tensor<2x8x4xf32>, tensor<4x4xf32>) -> tensor<2x8x4xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<2x4xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.rms_norm' op epsilon must be non-negative}}
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = -1.0 : f32} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

func.func @gather_axis(%t: tensor<8x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{'kiln.gather' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gather %t, %i {axis = 2 : i64} : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<8x4xf32>
  return
}

// -----

func.func @gather_result(%t: tensor<8x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{'kiln.gather' op inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<8x2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gather %t, %i : (tensor<8x4xf32>, tensor<2xi64>) -> tensor<8x2xf32>
  return
}

// -----

func.func @reshape_element_type(%a: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.reshape' op element type changes from 'f32' to 'f16'}}
  %0 = kiln.reshape %a : tensor<8xf32> -> tensor<2x4xf16>
  return
}

// -----

func.func @reshape_count(%a: tensor<1x8x64xf32>) {
  // expected-error @+1 {{'kiln.reshape' op element count changes from 512 [1x8x64] to 256 [8x32]}}
  %0 = kiln.reshape %a : tensor<1x8x64xf32> -> tensor<8x32xf32>
  return
}

// -----

func.func @transpose_perm_size(%a: tensor<2x3x4xf32>) {
  // expected-error @+2 {{'kiln.transpose' op perm has 2 entries for rank 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return
}

// -----

func.func @transpose_perm_repeated(%a: tensor<2x3x4xf32>) {
  // expected-error @+2 {{'kiln.transpose' op perm is not a permutation of [0, 3)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.transpose %a {perm = array<i64: 0, 1, 1>} : (tensor<2x3x4xf32>) -> tensor<2x3x3xf32>
  return
}

// -----

func.func @transpose_perm_range(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'kiln.transpose' op perm is not a permutation of [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.transpose %a {perm = array<i64: 2, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_result(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{'kiln.transpose' op inferred type(s) 'tensor<3x2xf32>' are incompatible with return type(s) of operation 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @slice_entries(%a: tensor<8x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op starts and steps need 2 entries each, got 1 and 2}}
  %0 = kiln.slice %a {starts = array<i64: 0>, steps = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @slice_result_rank(%a: tensor<8x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op result must have the input's rank and element type}}
  %0 = kiln.slice %a {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<32xf32>
  return
}

// -----

func.func @slice_result_element_type(%a: tensor<8x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op result must have the input's rank and element type}}
  %0 = kiln.slice %a {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<8x4xf16>
  return
}

// -----

func.func @slice_zero_step(%a: tensor<8x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op step of dim 1 is zero}}
  %0 = kiln.slice %a {starts = array<i64: 0, 0>, steps = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<8x4xf32>
  return
}

// -----

func.func @slice_past_end(%a: tensor<1x8x16xf32>) {
  // expected-error @+1 {{'kiln.slice' op dim 2 reads indices 12 to 19, outside [0, 16)}}
  %0 = kiln.slice %a {starts = array<i64: 0, 0, 12>, steps = array<i64: 1, 1, 1>} : tensor<1x8x16xf32> -> tensor<1x8x8xf32>
  return
}

// -----

func.func @slice_start_out_of_range(%a: tensor<8x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op dim 0 reads indices -1 to 0, outside [0, 8)}}
  %0 = kiln.slice %a {starts = array<i64: -1, 0>, steps = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @slice_negative_step_past_begin(%a: tensor<8x4xf32>) {
  // expected-error @+1 {{'kiln.slice' op dim 0 reads indices 2 to -2, outside [0, 8)}}
  %0 = kiln.slice %a {starts = array<i64: 2, 0>, steps = array<i64: -2, 1>} : tensor<8x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @concat_no_inputs() {
  // expected-error @+2 {{'kiln.concat' op needs at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "kiln.concat"() <{axis = 0 : i64}> : () -> tensor<1xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x4xf32>) {
  // expected-error @+2 {{'kiln.concat' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.concat %a, %a {axis = 2 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<2x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.concat' op inputs differ in rank or element type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @concat_element_type(%a: tensor<2x4xf32>, %b: tensor<2x4xf16>) {
  // expected-error @+2 {{'kiln.concat' op inputs differ in rank or element type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x4xf16>) -> tensor<4x4xf32>
  return
}

// -----

func.func @concat_off_axis(%a: tensor<1x2x7x16xf32>, %b: tensor<1x2x1x8xf32>) {
  // expected-error @+2 {{'kiln.concat' op input shapes [1x2x7x16] and [1x2x1x8] differ off axis 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 2 : i64} : (tensor<1x2x7x16xf32>, tensor<1x2x1x8xf32>) -> tensor<1x2x8x16xf32>
  return
}

// -----

func.func @split_axis(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op axis 2 is out of range [0, 2)}}
  %0:2 = kiln.split %a {axis = 2 : i64} : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xf32>
  return
}

// -----

func.func @split_no_results(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op needs at least one result}}
  "kiln.split"(%a) <{axis = 1 : i64}> : (tensor<2x4xf32>) -> ()
  return
}

// -----

func.func @split_result_rank(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op results must have the input's rank and element type}}
  %0:2 = kiln.split %a {axis = 1 : i64} : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<4xf32>
  return
}

// -----

func.func @split_result_element_type(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op results must have the input's rank and element type}}
  %0:2 = kiln.split %a {axis = 1 : i64} : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<2x2xf16>
  return
}

// -----

func.func @split_off_axis(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op result shape [3x2] differs from input [2x4] off axis 1}}
  %0:2 = kiln.split %a {axis = 1 : i64} : tensor<2x4xf32> -> tensor<2x2xf32>, tensor<3x2xf32>
  return
}

// -----

func.func @split_sizes(%qkv: tensor<1x8x192xf32>) {
  // expected-error @+1 {{'kiln.split' op result sizes along axis 2 add up to 128, input has 192}}
  %0:2 = kiln.split %qkv {axis = 2 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return
}

// -----

func.func @expand_element_type(%a: tensor<1x4xf32>) {
  // expected-error @+1 {{'kiln.expand' op element type changes}}
  %0 = kiln.expand %a : tensor<1x4xf32> -> tensor<3x4xf16>
  return
}

// -----

func.func @expand_shape(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.expand' op input shape [2x4] does not broadcast to [3x4]}}
  %0 = kiln.expand %a : tensor<2x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @expand_rank(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.expand' op input shape [2x4] does not broadcast to [8]}}
  %0 = kiln.expand %a : tensor<2x4xf32> -> tensor<8xf32>
  return
}

// -----

func.func @trilu_rank(%a: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.trilu' op input must have rank >= 2}}
  %0 = kiln.trilu %a {upper = true} : tensor<8xf32>
  return
}

// -----

func.func @scatter_nd_indices_rank(%d: tensor<4x8xf32>, %i: tensor<i64>, %u: tensor<8xf32>) {
  // expected-error @+2 {{'kiln.scatter_nd' op indices must have rank >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<4x8xf32>, tensor<i64>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_nd_depth(%d: tensor<4x8xf32>, %i: tensor<2x3xi64>, %u: tensor<2xf32>) {
  // expected-error @+2 {{'kiln.scatter_nd' op index depth 3 exceeds data rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<4x8xf32>, tensor<2x3xi64>, tensor<2xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_nd_updates_shape(%d: tensor<4x8xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) {
  // expected-error @+2 {{'kiln.scatter_nd' op updates must be [2x8] of the data's element type, got [2x4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<4x8xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_nd_updates_element_type(%d: tensor<4x8xf32>, %i: tensor<2x1xi32>, %u: tensor<2x8xf16>) {
  // expected-error @+2 {{'kiln.scatter_nd' op updates must be [2x8] of the data's element type, got [2x8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_nd %d, %i, %u : (tensor<4x8xf32>, tensor<2x1xi32>, tensor<2x8xf16>) -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

// -----

func.func @constant_not_tensor() {
  // expected-error @+2 {{'kiln.constant' op value must be a ranked tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "kiln.constant"() <{value = dense<1> : vector<4xi32>}> : () -> tensor<4xi32>
  return
}

// -----

func.func @constant_type_mismatch() {
  // expected-error @+2 {{'kiln.constant' op inferred type(s) 'tensor<4xi32>' are incompatible with return type(s) of operation 'tensor<4xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "kiln.constant"() <{value = dense<1> : tensor<4xi32>}> : () -> tensor<4xi64>
  return
}

// -----

func.func @constant_too_large() {
  // A non-splat payload over 2^20 elements (a resource blob that need not be
  // present to be parsed) belongs in kiln.weight.
  // expected-error @+1 {{'kiln.constant' op holds 2097152 elements; non-splat constants above 1048576 elements must be kiln.weight references}}
  %0 = kiln.constant dense_resource<big_blob> : tensor<2048x1024xf32>
  return
}

// -----

func.func @weight_name() {
  // expected-error @+1 {{'kiln.weight' op needs a non-empty name}}
  %0 = kiln.weight "" {path = "w.bin", offset = 0 : i64, length = 16 : i64} : tensor<4xf32>
  return
}

// -----

func.func @weight_offset() {
  // expected-error @+1 {{'kiln.weight' op offset must be non-negative, got -8}}
  %0 = kiln.weight "w" {path = "w.bin", offset = -8 : i64, length = 16 : i64} : tensor<4xf32>
  return
}

// -----

func.func @weight_length() {
  // expected-error @+1 {{'kiln.weight' op length 16 does not match the tensor's 8 bytes}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64} : tensor<4xf16>
  return
}

// -----

func.func @weight_missing_path() {
  // expected-error @+1 {{requires attribute 'path'}}
  %0 = kiln.weight "w" {offset = 0 : i64, length = 16 : i64} : tensor<4xf32>
  return
}

//===----------------------------------------------------------------------===//
// Transformer blocks
//===----------------------------------------------------------------------===//

// -----

func.func @attention_rank(%q: tensor<4x8x16xf32>, %k: tensor<1x2x8x16xf32>) {
  // expected-error @+2 {{'kiln.attention' op query, key and value must be rank 4 [B, H, S, D]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k {scale = 0.25 : f32} : (tensor<4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<4x8x16xf32>
  return
}

// -----

func.func @attention_element_types(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf16>) {
  // expected-error @+2 {{'kiln.attention' op query, key and value element types differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf16>, tensor<1x2x8x16xf16>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<1x2x8x16xf32>) {
  // expected-error @+2 {{'kiln.attention' op batch sizes differ}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k {scale = 0.25 : f32} : (tensor<2x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

func.func @attention_kv_length(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x7x16xf32>) {
  // expected-error @+2 {{'kiln.attention' op key and value differ in heads or length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @attention_kv_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x4x8x16xf32>) {
  // expected-error @+2 {{'kiln.attention' op key and value differ in heads or length}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>) {
  // expected-error @+2 {{'kiln.attention' op query heads 4 are not a multiple of kv heads 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x3x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @attention_zero_kv_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x0x8x16xf32>) {
  // expected-error @+2 {{'kiln.attention' op query heads 4 are not a multiple of kv heads 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x0x8x16xf32>, tensor<1x0x8x16xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x8xf32>) {
  // expected-error @+2 {{'kiln.attention' op query head dim 16 differs from key head dim 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %m: tensor<1x1x8x7xi1>) {
  // expected-error @+2 {{'kiln.attention' op mask shape [1x1x8x7] does not broadcast to [1x4x8x8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k, %m {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x7xi1>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @attention_mask_element_type(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %m: tensor<8xi64>) {
  // expected-error @+2 {{'kiln.attention' op mask must be i1 or the query's element type, got 'i64'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %k, %k, %m {scale = 0.25 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8xi64>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rotary_rank(%x: tensor<4x8x16xf32>, %c: tensor<1x8x8xf32>) {
  // expected-error @+2 {{'kiln.rotary' op input must be rank 4 [B, H, S, D]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<4x8x16xf32>
  return
}

// -----

func.func @rotary_cos_sin_differ(%x: tensor<1x4x8x16xf32>, %c: tensor<1x8x8xf32>, %s: tensor<1x8x4xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos and sin must be the same rank-3 type [B, S, R/2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %s : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x4xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rotary_cos_rank(%x: tensor<1x4x8x16xf32>, %c: tensor<8x8xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos and sin must be the same rank-3 type [B, S, R/2]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rotary_element_type(%x: tensor<1x4x8x16xf32>, %c: tensor<1x8x8xf16>) {
  // expected-error @+2 {{'kiln.rotary' op cos/sin element type differs from input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<1x8x8xf16>, tensor<1x8x8xf16>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rotary_dim_too_large(%x: tensor<1x4x8x16xf32>, %c: tensor<1x8x9xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos/sin shape [1x8x9] does not fit input [1x4x8x16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<1x8x9xf32>, tensor<1x8x9xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rotary_seq_len(%x: tensor<1x4x8x16xf32>, %c: tensor<1x7x8xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos/sin shape [1x7x8] does not fit input [1x4x8x16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<1x4x8x16xf32>, tensor<1x7x8xf32>, tensor<1x7x8xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

func.func @rotary_batch(%x: tensor<2x4x8x16xf32>, %c: tensor<3x8x8xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos/sin shape [3x8x8] does not fit input [2x4x8x16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<2x4x8x16xf32>, tensor<3x8x8xf32>, tensor<3x8x8xf32>) -> tensor<2x4x8x16xf32>
  return
}

// -----

// Full tables wider than the head.
func.func @rotary_full_too_wide(%x: tensor<1x4x8x16xf32>, %c: tensor<1x8x32xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos/sin shape [1x8x32] does not fit input [1x4x8x16] (full_tables: [B|1, S, R], R even, R <= D)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c {full_tables = true} : (tensor<1x4x8x16xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>) -> tensor<1x4x8x16xf32>
  return
}

// -----

// Full tables of an odd width: no pairs.
func.func @rotary_full_odd(%x: tensor<1x4x8x16xf32>, %c: tensor<1x8x7xf32>) {
  // expected-error @+2 {{'kiln.rotary' op cos/sin shape [1x8x7] does not fit input [1x4x8x16] (full_tables: [B|1, S, R], R even, R <= D)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c {full_tables = true} : (tensor<1x4x8x16xf32>, tensor<1x8x7xf32>, tensor<1x8x7xf32>) -> tensor<1x4x8x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// Fused level: kiln.fusion, kiln.yield
//===----------------------------------------------------------------------===//

// -----

func.func @fusion_arg_count(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op has 1 inputs but its body has 0 block arguments}}
  %0 = kiln.fusion %a : (tensor<4xf32>) -> tensor<4xf32> {
    %c = kiln.constant dense<1.0> : tensor<4xf32>
    kiln.yield %c : tensor<4xf32>
  }
  return
}

// -----

func.func @fusion_arg_type(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op block argument #0 has type 'tensor<4xf16>', input #0 has type 'tensor<4xf32>'}}
  %0 = kiln.fusion %a : (tensor<4xf32>) -> tensor<4xf16> {
  ^bb0(%x: tensor<4xf16>):
    kiln.yield %x : tensor<4xf16>
  }
  return
}

// -----

// The body must end in kiln.yield (MLIR's own terminator check).
func.func @fusion_no_yield(%a: tensor<4xf32>) {
  %0 = "kiln.fusion"(%a) ({
  ^bb0(%x: tensor<4xf32>):
    // expected-error @+1 {{block with no terminator}}
    %e = kiln.exp %x : tensor<4xf32>
  }) : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @fusion_foreign_op(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op body op 'func.call' is not a graph-level kiln op}}
  %0 = kiln.fusion %a : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %e = func.call @g(%x) : (tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  return
}
func.func private @g(tensor<4xf32>) -> tensor<4xf32>

// -----

func.func @fusion_nested_gemm(%a: tensor<4x4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op body holds 'kiln.gemm': fusions and library calls do not nest}}
  %0 = kiln.fusion %a : (tensor<4x4xf32>) -> tensor<4x4xf32> {
  ^bb0(%x: tensor<4x4xf32>):
    %g = kiln.gemm %x, %x : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
    kiln.yield %g : tensor<4x4xf32>
  }
  return
}

// -----

func.func @fusion_weight() {
  // expected-error @+1 {{'kiln.fusion' op body holds a kiln.weight: weights are operands of the fusion}}
  %0 = kiln.fusion : () -> tensor<4xf32> {
    %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64} : tensor<4xf32>
    kiln.yield %w : tensor<4xf32>
  }
  return
}

// -----

func.func @fusion_yield_count(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op yields 1 values but has 2 results}}
  %0:2 = kiln.fusion %a : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%x: tensor<4xf32>):
    kiln.yield %x : tensor<4xf32>
  }
  return
}

// -----

func.func @fusion_yield_type(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.fusion' op yields 'tensor<4xf32>' as result #0 of type 'tensor<2x2xf32>'}}
  %0 = kiln.fusion %a : (tensor<4xf32>) -> tensor<2x2xf32> {
  ^bb0(%x: tensor<4xf32>):
    kiln.yield %x : tensor<4xf32>
  }
  return
}

// -----

func.func @fusion_isolated(%a: tensor<4xf32>) {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = kiln.fusion : () -> tensor<4xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    %e = kiln.exp %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  return
}

// -----

func.func @yield_outside(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.yield' op expects parent op to be one of 'kiln.fusion, kiln.kernel'}}
  kiln.yield %a : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Fused level: kiln.gemm
//===----------------------------------------------------------------------===//

// -----

func.func @gemm_rank(%a: tensor<4xf32>, %b: tensor<4x2xf32>) {
  // expected-error @+2 {{'kiln.gemm' op operands must have rank >= 2, got 1 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<4xf32>, tensor<4x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @gemm_element_types(%a: tensor<2x4xf32>, %b: tensor<4x2xf16>) {
  // expected-error @+2 {{'kiln.gemm' op a and b have different element types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<2x4xf32>, tensor<4x2xf16>) -> tensor<2x2xf32>
  return
}

// -----

func.func @gemm_int(%a: tensor<2x4xi32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values}}
  %0 = kiln.gemm %a, %a : (tensor<2x4xi32>, tensor<2x4xi32>) -> tensor<2x2xi32>
  return
}

// -----

func.func @gemm_contraction(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{'kiln.gemm' op contraction dims differ: a K = 4, b K = 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

// With transpose_b the same shapes contract over b's last dim.
func.func @gemm_transposed_result(%a: tensor<2x4xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{'kiln.gemm' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gemm %a, %b transpose_b : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @gemm_batch_broadcast(%a: tensor<2x8x4xf32>, %b: tensor<3x4x8xf32>) {
  // expected-error @+2 {{'kiln.gemm' op batch dims [2] and [3] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<2x8x4xf32>, tensor<3x4x8xf32>) -> tensor<2x8x8xf32>
  return
}

// -----

// cuBLASLt's strided batches cannot broadcast a [2x1] batch to [2x3].
func.func @gemm_batch_stride(%a: tensor<2x1x8x4xf32>, %b: tensor<1x3x4x8xf32>) {
  // expected-error @+1 {{'kiln.gemm' op batch dims of a [2x1] are neither the result's [2x3] nor all 1, which a strided batched GEMM cannot read}}
  %0 = kiln.gemm %a, %b : (tensor<2x1x8x4xf32>, tensor<1x3x4x8xf32>) -> tensor<2x3x8x8xf32>
  return
}

// -----

func.func @gemm_bias_type(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %c: tensor<3xf16>) {
  // expected-error @+1 {{'kiln.gemm' op bias element type 'f16' differs from a's 'f32'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf16>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_bias_shape(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %c: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.gemm' op bias must be [3], got [2x3]}}
  %0 = kiln.gemm %a, %b, %c : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_residual(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>, %r: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.gemm' op residual must have the result's type 'tensor<2x3xf32>', got 'tensor<3xf32>'}}
  %0 = kiln.gemm %a, %b residual %r : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_activation(%a: tensor<2x4xf32>, %b: tensor<4x3xf32>) {
  // expected-error @+2 {{expected ::kiln::GemmActivation to be one of: none, relu, gelu_tanh}}
  // expected-error @+1 {{failed to parse Kiln_GemmActivationAttr parameter 'value'}}
  %0 = kiln.gemm %a, %b activation<sigmoid> : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @weight_source_type_pair() {
  // expected-error @+1 {{'kiln.weight' op source_type 'f32' cannot be read as 'f32' (supported: f32 stored, read as bf16 or f16)}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64, source_type = f32} : tensor<4xf32>
  return
}

// -----

func.func @weight_source_length() {
  // A bf16 weight stored as f32 has 4 bytes per element in the file.
  // expected-error @+1 {{'kiln.weight' op length 8 does not match the tensor's 16 bytes (4 x 'f32')}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 8 : i64, source_type = f32} : tensor<4xbf16>
  return
}

// -----

func.func @rotary_f32_tables_f64_input(%x: tensor<1x1x1x4xf64>, %c: tensor<1x1x2xf32>) -> tensor<1x1x1x4xf64> {
  // f32 tables are allowed beside bf16/f16 data only.
  // expected-error @+2 {{'kiln.rotary' op cos/sin element type differs from input (and is not f32 beside a bf16/f16 input)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.rotary %x, %c, %c : (tensor<1x1x1x4xf64>, tensor<1x1x2xf32>, tensor<1x1x2xf32>) -> tensor<1x1x1x4xf64>
  return %0 : tensor<1x1x1x4xf64>
}

// -----

func.func @attention_f16_mask_bf16(%q: tensor<1x1x1x4xbf16>, %m: tensor<1x1x1x1xf16>) -> tensor<1x1x1x4xbf16> {
  // expected-error @+2 {{'kiln.attention' op mask must be i1 or the query's element type, got 'f16'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.attention %q, %q, %q, %m {scale = 5.000000e-01 : f32} : (tensor<1x1x1x4xbf16>, tensor<1x1x1x4xbf16>, tensor<1x1x1x4xbf16>, tensor<1x1x1x1xf16>) -> tensor<1x1x1x4xbf16>
  return %0 : tensor<1x1x1x4xbf16>
}

// -----

func.func @weight_transposed_rank() {
  // expected-error @+1 {{'kiln.weight' op transposed needs a rank-2 result, got rank 1}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16 : i64, transposed} : tensor<4xf32>
  return
}

// -----

func.func @weight_columns_size() {
  // expected-error @+1 {{'kiln.weight' op columns needs [begin, end, stored columns] and a rank-2 result}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 64 : i64, columns = array<i64: 0, 4>} : tensor<4x4xf32>
  return
}

// -----

func.func @weight_columns_rank() {
  // expected-error @+1 {{'kiln.weight' op columns needs [begin, end, stored columns] and a rank-2 result}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 32 : i64, columns = array<i64: 0, 4, 8>} : tensor<4xf32>
  return
}

// -----

func.func @weight_columns_width() {
  // expected-error @+1 {{'kiln.weight' op columns [0, 3) of 8 stored columns do not give the result's 4}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 128 : i64, columns = array<i64: 0, 3, 8>} : tensor<4x4xf32>
  return
}

// -----

func.func @weight_columns_past_end() {
  // expected-error @+1 {{'kiln.weight' op columns [6, 10) of 8 stored columns do not give the result's 4}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 128 : i64, columns = array<i64: 6, 10, 8>} : tensor<4x4xf32>
  return
}

// -----

func.func @weight_columns_length() {
  // The length is the whole stored [4, 8] matrix's, 128 bytes.
  // expected-error @+1 {{'kiln.weight' op length 64 does not match the tensor's 128 bytes}}
  %0 = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 64 : i64, columns = array<i64: 0, 4, 8>} : tensor<4x4xf32>
  return
}

// -----

func.func @pool_kind(%x: tensor<1x1x4xf32>) {
  // expected-error @+1 {{'kiln.pool' op kind must be max, avg or lp, got 'min'}}
  %0 = kiln.pool %x {kind = "min", kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>) -> tensor<1x1x3xf32>
  return
}

// -----

func.func @pool_avg_int(%x: tensor<1x1x4xi8>) {
  // expected-error @+1 {{'kiln.pool' op avg pooling needs a float input}}
  %0 = kiln.pool %x {kind = "avg", kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xi8>) -> tensor<1x1x3xi8>
  return
}

// -----

func.func @pool_rank(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{'kiln.pool' op input and result must be [N, C, spatial...] of one rank >= 3}}
  %0 = kiln.pool %x {kind = "max", kernel_shape = array<i64>, strides = array<i64>, pads = array<i64>, dilations = array<i64>} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return
}

// -----

func.func @pool_attr_counts(%x: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{'kiln.pool' op kernel_shape, strides and dilations need 2 values and pads 4}}
  %0 = kiln.pool %x {kind = "max", kernel_shape = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32>
  return
}

// -----

func.func @pool_output_dim(%x: tensor<1x1x5xf32>) {
  // expected-error @+1 {{'kiln.pool' op spatial dim 0: 4 outputs, expected 2 (or one more whose window starts in the input)}}
  %0 = kiln.pool %x {kind = "max", kernel_shape = array<i64: 2>, strides = array<i64: 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x5xf32>) -> tensor<1x1x4xf32>
  return
}

// -----

func.func @pool_window_too_large(%x: tensor<1x1x3xf32>) {
  // expected-error @+1 {{'kiln.pool' op spatial dim 0: the window (5) is larger than the padded input (3)}}
  %0 = kiln.pool %x {kind = "max", kernel_shape = array<i64: 3>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 2>} : (tensor<1x1x3xf32>) -> tensor<1x1x1xf32>
  return
}

// -----

func.func @pool_lp_p(%x: tensor<1x1x4xf32>) {
  // expected-error @+1 {{'kiln.pool' op p must be >= 1, got 0}}
  %0 = kiln.pool %x {kind = "lp", p = 0 : i64, kernel_shape = array<i64: 2>, strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x4xf32>) -> tensor<1x1x3xf32>
  return
}

// -----

func.func @conv_group(%x: tensor<1x3x5xf32>, %w: tensor<4x1x2xf32>) {
  // expected-error @+1 {{'kiln.conv' op group 2 must divide the input's 3 channels and the weight's 4 filters, each reading 1 channels}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>, group = 2 : i64} : (tensor<1x3x5xf32>, tensor<4x1x2xf32>) -> tensor<1x4x4xf32>
  return
}

// -----

func.func @conv_output(%x: tensor<1x1x5xf32>, %w: tensor<1x1x2xf32>) {
  // expected-error @+1 {{'kiln.conv' op spatial dim 0: 5 outputs, expected 4}}
  %0 = kiln.conv %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x5xf32>, tensor<1x1x2xf32>) -> tensor<1x1x5xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x1x5xf32>, %w: tensor<2x1x2xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.conv' op bias must be [2]}}
  %0 = kiln.conv %x, %w, %b {strides = array<i64: 1>, pads = array<i64: 0, 0>, dilations = array<i64: 1>} : (tensor<1x1x5xf32>, tensor<2x1x2xf32>, tensor<3xf32>) -> tensor<1x2x4xf32>
  return
}

// -----

func.func @det_square(%x: tensor<2x3x4xf32>) {
  // expected-error @+1 {{'kiln.det' op input must be [..., M, M], got [2, 3, 4]}}
  %0 = kiln.det %x : (tensor<2x3x4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @det_result(%x: tensor<2x3x3xf32>) {
  // expected-error @+1 {{'kiln.det' op result must be the input's batch dims [2] of its element type}}
  %0 = kiln.det %x : (tensor<2x3x3xf32>) -> tensor<3xf32>
  return
}
