// RUN: kiln-opt %s --kiln-recognize --split-input-file | FileCheck %s

//===----------------------------------------------------------------------===//
// SiLU
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @silu_both_orders
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x128xf32>, %[[Z:.+]]: tensor<4x16xf32>)
func.func @silu_both_orders(%x: tensor<1x8x128xf32>, %z: tensor<4x16xf32>) -> (tensor<1x8x128xf32>, tensor<4x16xf32>) {
  // CHECK-DAG: %[[A:.+]] = kiln.silu %[[X]] : tensor<1x8x128xf32>
  // CHECK-DAG: %[[B:.+]] = kiln.silu %[[Z]] : tensor<4x16xf32>
  // CHECK: return %[[A]], %[[B]]
  %s = kiln.sigmoid %x : tensor<1x8x128xf32>
  %a = kiln.mul %x, %s : (tensor<1x8x128xf32>, tensor<1x8x128xf32>) -> tensor<1x8x128xf32>
  %t = kiln.sigmoid %z : tensor<4x16xf32>
  %b = kiln.mul %t, %z : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %a, %b : tensor<1x8x128xf32>, tensor<4x16xf32>
}

// -----

// The sigmoid has a second user, or is of another value: left alone.
// CHECK-LABEL: func.func @silu_near_misses
// CHECK-NOT: kiln.silu
// CHECK: return
func.func @silu_near_misses(%x: tensor<8xf32>, %y: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %s = kiln.sigmoid %x : tensor<8xf32>
  %a = kiln.mul %x, %s : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %t = kiln.sigmoid %y : tensor<8xf32>
  %b = kiln.mul %x, %t : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %a, %s, %b : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// GELU, erf form
//===----------------------------------------------------------------------===//

// TorchScript: mul(mul(x, add(erf(div(x, 1.4142)), 1)), 0.5).
// CHECK-LABEL: func.func @gelu_erf_torchscript
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x256xf32>)
func.func @gelu_erf_torchscript(%x: tensor<1x8x256xf32>) -> tensor<1x8x256xf32> {
  // CHECK: %[[G:.+]] = kiln.gelu %[[X]] : tensor<1x8x256xf32>
  // CHECK-NEXT: return %[[G]]
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %u = kiln.div %x, %sqrt2 : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %e = kiln.erf %u : tensor<1x8x256xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %s = kiln.add %e, %one : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %p = kiln.mul %x, %s : (tensor<1x8x256xf32>, tensor<1x8x256xf32>) -> tensor<1x8x256xf32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %g = kiln.mul %p, %half : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  return %g : tensor<1x8x256xf32>
}

// -----

// Dynamo (onnxscript): mul(x, mul(0.5, add(1, erf(mul(x, 0.7071))))), rank 2.
// CHECK-LABEL: func.func @gelu_erf_dynamo
// CHECK-SAME: (%[[X:.+]]: tensor<8x256xf32>)
func.func @gelu_erf_dynamo(%x: tensor<8x256xf32>) -> tensor<8x256xf32> {
  // CHECK: %[[G:.+]] = kiln.gelu %[[X]] : tensor<8x256xf32>
  // CHECK-NEXT: return %[[G]]
  %c = kiln.constant dense<0.707106769> : tensor<f32>
  %u = kiln.mul %c, %x : (tensor<f32>, tensor<8x256xf32>) -> tensor<8x256xf32>
  %e = kiln.erf %u : tensor<8x256xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %s = kiln.add %one, %e : (tensor<f32>, tensor<8x256xf32>) -> tensor<8x256xf32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %h = kiln.mul %half, %s : (tensor<f32>, tensor<8x256xf32>) -> tensor<8x256xf32>
  %g = kiln.mul %x, %h : (tensor<8x256xf32>, tensor<8x256xf32>) -> tensor<8x256xf32>
  return %g : tensor<8x256xf32>
}

// -----

//===----------------------------------------------------------------------===//
// GELU, tanh form
//===----------------------------------------------------------------------===//

// GPT-2's NewGELU as both exporters write it.
// CHECK-LABEL: func.func @gelu_tanh_gpt2
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x256xf32>)
func.func @gelu_tanh_gpt2(%x: tensor<1x8x256xf32>) -> tensor<1x8x256xf32> {
  // CHECK: %[[G:.+]] = kiln.gelu %[[X]] approximate<tanh> : tensor<1x8x256xf32>
  // CHECK-NEXT: return %[[G]]
  %half = kiln.constant dense<5.000000e-01> : tensor<f32>
  %hx = kiln.mul %x, %half : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %three = kiln.constant dense<3.000000e+00> : tensor<f32>
  %cube = kiln.pow %x, %three : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %kappa = kiln.constant dense<4.471500e-02> : tensor<f32>
  %kc = kiln.mul %cube, %kappa : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %in = kiln.add %x, %kc : (tensor<1x8x256xf32>, tensor<1x8x256xf32>) -> tensor<1x8x256xf32>
  %beta = kiln.constant dense<0.797884583> : tensor<f32>
  %u = kiln.mul %in, %beta : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %t = kiln.tanh %u : tensor<1x8x256xf32>
  %one = kiln.constant dense<1.000000e+00> : tensor<f32>
  %s = kiln.add %t, %one : (tensor<1x8x256xf32>, tensor<f32>) -> tensor<1x8x256xf32>
  %g = kiln.mul %hx, %s : (tensor<1x8x256xf32>, tensor<1x8x256xf32>) -> tensor<1x8x256xf32>
  return %g : tensor<1x8x256xf32>
}

// -----

// torch's gelu(approximate='tanh') TorchScript symbolic: x * x * x, the
// constants on the left, 0.5 applied last.
// CHECK-LABEL: func.func @gelu_tanh_symbolic
// CHECK-SAME: (%[[X:.+]]: tensor<4x64xf32>)
func.func @gelu_tanh_symbolic(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  // CHECK: %[[G:.+]] = kiln.gelu %[[X]] approximate<tanh> : tensor<4x64xf32>
  // CHECK-NEXT: return %[[G]]
  %xx = kiln.mul %x, %x : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %cube = kiln.mul %x, %xx : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %kappa = kiln.constant dense<4.471500e-02> : tensor<f32>
  %kc = kiln.mul %kappa, %cube : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %in = kiln.add %kc, %x : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %beta = kiln.constant dense<0.797884583> : tensor<f32>
  %u = kiln.mul %beta, %in : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %t = kiln.tanh %u : tensor<4x64xf32>
  %one = kiln.constant dense<1.000000e+00> : tensor<f32>
  %s = kiln.add %one, %t : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %p = kiln.mul %x, %s : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %half = kiln.constant dense<5.000000e-01> : tensor<f32>
  %g = kiln.mul %half, %p : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  return %g : tensor<4x64xf32>
}

// -----

// HF's FastGELU: tanh(x * 0.7978845608 * (1 + 0.044715 * x * x)).
// CHECK-LABEL: func.func @gelu_tanh_fast
// CHECK-SAME: (%[[X:.+]]: tensor<4x64xf32>)
func.func @gelu_tanh_fast(%x: tensor<4x64xf32>) -> tensor<4x64xf32> {
  // CHECK: %[[G:.+]] = kiln.gelu %[[X]] approximate<tanh> : tensor<4x64xf32>
  // CHECK-NEXT: return %[[G]]
  %half = kiln.constant dense<5.000000e-01> : tensor<f32>
  %hx = kiln.mul %half, %x : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %beta = kiln.constant dense<0.797884583> : tensor<f32>
  %bx = kiln.mul %x, %beta : (tensor<4x64xf32>, tensor<f32>) -> tensor<4x64xf32>
  %kappa = kiln.constant dense<4.471500e-02> : tensor<f32>
  %kx = kiln.mul %kappa, %x : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %kxx = kiln.mul %kx, %x : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %one = kiln.constant dense<1.000000e+00> : tensor<f32>
  %w = kiln.add %one, %kxx : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %u = kiln.mul %bx, %w : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %t = kiln.tanh %u : tensor<4x64xf32>
  %s = kiln.add %one, %t : (tensor<f32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %g = kiln.mul %hx, %s : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  return %g : tensor<4x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// GELU near misses: left alone.
//===----------------------------------------------------------------------===//

// Wrong constants: 0.6 instead of 0.5; 0.05 instead of 0.044715.
// CHECK-LABEL: func.func @gelu_wrong_constants
// CHECK-NOT: kiln.gelu
// CHECK: return
func.func @gelu_wrong_constants(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %u = kiln.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = kiln.erf %u : tensor<8xf32>
  %s = kiln.add %e, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %p = kiln.mul %x, %s : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %c6 = kiln.constant dense<0.6> : tensor<f32>
  %g = kiln.mul %p, %c6 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %half = kiln.constant dense<5.000000e-01> : tensor<f32>
  %hx = kiln.mul %x, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %three = kiln.constant dense<3.000000e+00> : tensor<f32>
  %cube = kiln.pow %x, %three : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %kappa = kiln.constant dense<5.000000e-02> : tensor<f32>
  %kc = kiln.mul %cube, %kappa : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %in = kiln.add %x, %kc : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %beta = kiln.constant dense<0.797884583> : tensor<f32>
  %v = kiln.mul %in, %beta : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %t = kiln.tanh %v : tensor<8xf32>
  %s2 = kiln.add %t, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %g2 = kiln.mul %hx, %s2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %g, %g2 : tensor<8xf32>, tensor<8xf32>
}

// -----

// The erf result has a second user; erf of another value.
// CHECK-LABEL: func.func @gelu_second_user
// CHECK-NOT: kiln.gelu
// CHECK: return
func.func @gelu_second_user(%x: tensor<8xf32>, %y: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<5.000000e-01> : tensor<f32>
  %u = kiln.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = kiln.erf %u : tensor<8xf32>
  %s = kiln.add %e, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %p = kiln.mul %x, %s : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %g = kiln.mul %p, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %u2 = kiln.div %y, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e2 = kiln.erf %u2 : tensor<8xf32>
  %s2 = kiln.add %e2, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %p2 = kiln.mul %x, %s2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %g2 = kiln.mul %p2, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  return %g, %e, %g2 : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// The scalar 0.5 has rank 2 and broadcasts x up to [1x8]: the product's
// type is not x's.
// CHECK-LABEL: func.func @gelu_broadcasting_half
// CHECK-NOT: kiln.gelu
// CHECK: return
func.func @gelu_broadcasting_half(%x: tensor<8xf32>) -> tensor<1x8xf32> {
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<5.000000e-01> : tensor<1x1xf32>
  %u = kiln.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %e = kiln.erf %u : tensor<8xf32>
  %s = kiln.add %e, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %p = kiln.mul %x, %s : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %g = kiln.mul %p, %half : (tensor<8xf32>, tensor<1x1xf32>) -> tensor<1x8xf32>
  return %g : tensor<1x8xf32>
}
