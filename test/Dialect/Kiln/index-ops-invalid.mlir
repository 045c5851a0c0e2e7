// Every verifier and type-inference diagnostic of the ops of
// KilnIndexOps.td.
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @gather_elements_axis(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>) {
  // expected-error @+2 {{'kiln.gather_elements' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gather_elements %d, %i {axis = 2 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  return
}

// -----

func.func @gather_elements_rank(%d: tensor<3x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{'kiln.gather_elements' op indices have rank 1, expected the data's rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gather_elements %d, %i {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_elements_shape(%d: tensor<3x4xf32>, %i: tensor<4x2xi64>) {
  // expected-error @+2 {{'kiln.gather_elements' op indices shape [4x2] is larger than the data shape [3x4] in dim 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<4x2xi64>) -> tensor<4x2xf32>
  return
}

// -----

func.func @arg_max_axis(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{'kiln.arg_max' op axis -1 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.arg_max %x {axis = -1 : i64} : (tensor<3x4xf32>) -> tensor<3x1xi64>
  return
}

// -----

func.func @arg_min_empty(%x: tensor<3x0xf32>) {
  // expected-error @+2 {{'kiln.arg_min' op reduces an empty axis 1 (nothing to select)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.arg_min %x {axis = 1 : i64} : (tensor<3x0xf32>) -> tensor<3x1xi64>
  return
}

// -----

func.func @cumsum_axis(%x: tensor<5xf32>) {
  // expected-error @+1 {{'kiln.cumsum' op axis 1 is out of range [0, 1)}}
  %0 = kiln.cumsum %x {axis = 1 : i64} : tensor<5xf32>
  return
}

// -----

func.func @top_k_k(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{'kiln.top_k' op k = 5 is out of range [0, 4] (the size of axis 1)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = kiln.top_k %x {axis = 1 : i64, k = 5 : i64} : (tensor<3x4xf32>) -> (tensor<3x5xf32>, tensor<3x5xi64>)
  return
}

// -----

func.func @top_k_axis(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{'kiln.top_k' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = kiln.top_k %x {axis = 2 : i64, k = 1 : i64} : (tensor<3x4xf32>) -> (tensor<3x1xf32>, tensor<3x1xi64>)
  return
}

// -----

func.func @mod_types(%a: tensor<4xi64>, %b: tensor<4xi32>) {
  // expected-error @+2 {{'kiln.mod' op operands have different element types}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.mod %a, %b : (tensor<4xi64>, tensor<4xi32>) -> tensor<4xi64>
  return
}

// -----

func.func @round_int(%a: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.round' op operand #0 must be statically shaped tensor of 16-bit float or bfloat16 type or 32-bit float or 64-bit float values, but got 'tensor<4xi64>'}}
  %0 = kiln.round %a : tensor<4xi64>
  return
}

// -----

func.func @scatter_elements_updates(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x1xf32>) {
  // expected-error @+2 {{'kiln.scatter_elements' op updates must be [3x2] (the indices' shape) of the data's element type, got [3x1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x1xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_elements_shape(%d: tensor<3x4xf32>, %i: tensor<4x2xi64>, %u: tensor<4x2xf32>) {
  // expected-error @+2 {{'kiln.scatter_elements' op indices shape [4x2] is larger than the data shape [3x4] in dim 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 1 : i64} : (tensor<3x4xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_elements_rank(%d: tensor<3x4xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) {
  // expected-error @+2 {{'kiln.scatter_elements' op indices have rank 1, expected the data's rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_elements_axis(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) {
  // expected-error @+2 {{'kiln.scatter_elements' op axis 2 is out of range [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.scatter_elements %d, %i, %u {axis = 2 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @bit_and_float(%a: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.bit_and' op operand #0 must be statically shaped tensor of 8-bit signless integer or 32-bit signless integer or 64-bit signless integer or 8-bit unsigned integer values, but got 'tensor<4xf32>'}}
  %0 = kiln.bit_and %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}
