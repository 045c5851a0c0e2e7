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

// A rotary reading a merged product's heads in place (kiln-merge-gemms
// head-split) needs the split's exact form: a slice of every step 1 of a
// kernel argument, the reshape into heads, the transpose (0, 2, 1, 3). A
// slice of every other row is none, so the fusion has no kernel.
func.func @strided_heads(%y: tensor<2x2x16xf32> {kiln.arena = 0 : i64}, %c: tensor<1x1x4xf32> {kiln.arena = 256 : i64}, %s: tensor<1x1x4xf32> {kiln.arena = 512 : i64}) -> tensor<1x2x1x8xf32> attributes {kiln.arena_bytes = 1024 : i64} {
  // expected-error @+1 {{holds 4 ops, and kiln.reshape is not elementwise}}
  %r = kiln.fusion %y, %c, %s {kiln.arena = array<i64: 768>} : (tensor<2x2x16xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<1x2x1x8xf32> {
  ^bb0(%a: tensor<2x2x16xf32>, %ca: tensor<1x1x4xf32>, %sa: tensor<1x1x4xf32>):
    %sl = kiln.slice %a {starts = array<i64: 0, 0, 0>, steps = array<i64: 2, 2, 1>} : tensor<2x2x16xf32> -> tensor<1x1x16xf32>
    %h = kiln.reshape %sl : tensor<1x1x16xf32> -> tensor<1x1x2x8xf32>
    %t = kiln.transpose %h {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x2x8xf32>) -> tensor<1x2x1x8xf32>
    %o = kiln.rotary %t, %ca, %sa : (tensor<1x2x1x8xf32>, tensor<1x1x4xf32>, tensor<1x1x4xf32>) -> tensor<1x2x1x8xf32>
    kiln.yield %o : tensor<1x2x1x8xf32>
  }
  return %r : tensor<1x2x1x8xf32>
}

// -----

// An op of another dialect in a planned kiln function.
func.func @foreign(%x: tensor<4xf32> {kiln.arena = 0 : i64}) -> tensor<4xf32> attributes {kiln.arena_bytes = 512 : i64} {
  // expected-error @+1 {{is not a kiln op; kiln-schedule lowers kiln fused-level functions only}}
  %y = "test.foreign"(%x) {kiln.arena = array<i64: 256>} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
