// kiln-schedule's located errors: what it cannot lower yet, and input that
// is not planned.
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics -allow-unregistered-dialect --kiln-schedule

// expected-error @+1 {{is not planned (no kiln.arena_bytes); run kiln-plan-memory first}}
func.func @unplanned(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = kiln.exp %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// A fusion of several ops is one elementwise kernel; one that mixes in a
// non-elementwise op (kiln-form-fusions never forms it) has no kernel.
func.func @mixed_fusion(%x: tensor<2x4xf32> {kiln.arena = 0 : i64}) -> tensor<2x4xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @+1 {{holds 2 ops, and kiln.softmax is not elementwise; kiln-schedule lowers fusions of several ops only when every op is elementwise}}
  %r = kiln.fusion %x {kiln.arena = array<i64: 256>} : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %e = kiln.exp %a : tensor<2x4xf32>
    %n = kiln.softmax %e {axis = 1 : i64} : tensor<2x4xf32>
    kiln.yield %n : tensor<2x4xf32>
  }
  return %r : tensor<2x4xf32>
}

// -----

// An op of another dialect in a planned kiln function.
func.func @foreign(%x: tensor<4xf32> {kiln.arena = 0 : i64}) -> tensor<4xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @+1 {{is not a kiln op; kiln-schedule lowers kiln fused-level functions only}}
  %y = "test.foreign"(%x) {kiln.arena = array<i64: 256>} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
