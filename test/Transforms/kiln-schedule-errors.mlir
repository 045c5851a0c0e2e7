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

// A fusion of two ops (the next issue's fusion pass) has no kernel yet.
func.func @two_op_fusion(%x: tensor<4xf32> {kiln.arena = 0 : i64}) -> tensor<4xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @+1 {{holds 2 ops; kiln-schedule lowers fusions of one op}}
  %r = kiln.fusion %x {kiln.arena = array<i64: 256>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.exp %a : tensor<4xf32>
    %n = kiln.neg %e : tensor<4xf32>
    kiln.yield %n : tensor<4xf32>
  }
  return %r : tensor<4xf32>
}

// -----

// An op of another dialect in a planned kiln function.
func.func @foreign(%x: tensor<4xf32> {kiln.arena = 0 : i64}) -> tensor<4xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @+1 {{is not a kiln op; kiln-schedule lowers kiln fused-level functions only}}
  %y = "test.foreign"(%x) {kiln.arena = array<i64: 256>} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
