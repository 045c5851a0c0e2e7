// kiln-merge-siblings' second rule (option independent, on by default):
// small independent elementwise launches (scalar maps and gathers or slices
// of their arguments, every yielded value of at most kTargetSms x 2048 =
// 270336 elements) become one fusion, in any shapes, with or without a
// common input, where the merged fusion can stand at the earlier one's
// place; reshapes and weights that define the later one's inputs between
// them move up first.
//
// RUN: kiln-opt %s --kiln-merge-siblings --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-merge-siblings --split-input-file | kiln-opt --kiln-merge-siblings --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-merge-siblings=independent=false --split-input-file | FileCheck %s --check-prefix=OFF

// A decode step's start: the rotary table (cos and sin, already siblings),
// the mask and the embedding row, three shapes, no common input; the mask's
// reshape and the table's weight sit between the fusions and move up.
// CHECK-LABEL: func.func @step_start
// CHECK-SAME: (%[[IDS:.+]]: tensor<1x1xi64>, %[[MASK:.+]]: tensor<1x16xi64>, %[[POS:.+]]: tensor<1x1xi64>)
// CHECK-NEXT: %[[F0:.+]] = kiln.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NEXT: %[[Z:.+]] = kiln.constant dense<0> : tensor<1xi64>
// CHECK-NEXT: %[[P:.+]] = kiln.reshape %[[POS]]
// CHECK-NEXT: %[[M:.+]] = kiln.reshape %[[MASK]]
// CHECK-NEXT: %[[T:.+]] = kiln.weight "embed"
// CHECK-NEXT: %[[F:.+]]:4 = kiln.fusion %[[P]], %[[F0]], %[[M]], %[[Z]], %[[T]], %[[IDS]] : {{.*}} -> (tensor<1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x1x16xf32>, tensor<1x1x8xf32>) {
// CHECK: kiln.cos
// CHECK: kiln.sin
// CHECK: kiln.equal
// CHECK: kiln.cast
// CHECK: kiln.gather
// CHECK: kiln.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]#0, %[[F]]#1, %[[F]]#2, %[[F]]#3
// OFF-LABEL: func.func @step_start
// OFF-COUNT-3: = kiln.fusion
// OFF-NOT: = kiln.fusion
// OFF: return
func.func @step_start(%ids: tensor<1x1xi64>, %mask: tensor<1x16xi64>, %pos: tensor<1x1xi64>) -> (tensor<1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x1x16xf32>, tensor<1x1x8xf32>) {
  %freq = kiln.constant dense<1.0> : tensor<4xf32>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %p = kiln.reshape %pos : tensor<1x1xi64> -> tensor<1x1x1xi64>
  %cs:2 = kiln.fusion %p, %freq : (tensor<1x1x1xi64>, tensor<4xf32>) -> (tensor<1x1x4xf32>, tensor<1x1x4xf32>) {
  ^bb0(%a: tensor<1x1x1xi64>, %b: tensor<4xf32>):
    %c = kiln.cast %a : tensor<1x1x1xi64> -> tensor<1x1x1xf32>
    %m = kiln.mul %c, %b : (tensor<1x1x1xf32>, tensor<4xf32>) -> tensor<1x1x4xf32>
    %cos = kiln.cos %m : tensor<1x1x4xf32>
    %sin = kiln.sin %m : tensor<1x1x4xf32>
    kiln.yield %cos, %sin : tensor<1x1x4xf32>, tensor<1x1x4xf32>
  }
  %m4 = kiln.reshape %mask : tensor<1x16xi64> -> tensor<1x1x1x16xi64>
  %bias = kiln.fusion %m4, %zero : (tensor<1x1x1x16xi64>, tensor<1xi64>) -> tensor<1x1x1x16xf32> {
  ^bb0(%a: tensor<1x1x1x16xi64>, %z: tensor<1xi64>):
    %e = kiln.equal %a, %z : (tensor<1x1x1x16xi64>, tensor<1xi64>) -> tensor<1x1x1x16xi1>
    %c = kiln.cast %e : tensor<1x1x1x16xi1> -> tensor<1x1x1x16xf32>
    kiln.yield %c : tensor<1x1x1x16xf32>
  }
  %table = kiln.weight "embed" {path = "w.bin", offset = 0 : i64, length = 128 : i64} : tensor<4x8xf32>
  %row = kiln.fusion %table, %ids : (tensor<4x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  ^bb0(%t: tensor<4x8xf32>, %i: tensor<1x1xi64>):
    %g = kiln.gather %t, %i {axis = 0 : i64} : (tensor<4x8xf32>, tensor<1x1xi64>) -> tensor<1x1x8xf32>
    kiln.yield %g : tensor<1x1x8xf32>
  }
  return %cs#0, %cs#1, %bias, %row : tensor<1x1x4xf32>, tensor<1x1x4xf32>, tensor<1x1x1x16xf32>, tensor<1x1x8xf32>
}

// -----

// The size bound: a fusion yielding 270336 elements (the bound) merges with
// a small one; one of 270337 (past it) does not.
// CHECK-LABEL: func.func @bound
// CHECK-NEXT: %[[F:.+]]:2 = kiln.fusion
// CHECK: kiln.exp
// CHECK: kiln.neg
// CHECK: }
// CHECK-NEXT: kiln.fusion
// CHECK: kiln.abs
// CHECK: }
// CHECK-NOT: kiln.fusion
// CHECK: return
func.func @bound(%x: tensor<270336xf32>, %y: tensor<4xf32>, %z: tensor<270337xf32>) -> (tensor<270336xf32>, tensor<4xf32>, tensor<270337xf32>) {
  %0 = kiln.fusion %x : (tensor<270336xf32>) -> tensor<270336xf32> {
  ^bb0(%a: tensor<270336xf32>):
    %e = kiln.exp %a : tensor<270336xf32>
    kiln.yield %e : tensor<270336xf32>
  }
  %1 = kiln.fusion %y : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.neg %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %2 = kiln.fusion %z : (tensor<270337xf32>) -> tensor<270337xf32> {
  ^bb0(%a: tensor<270337xf32>):
    %e = kiln.abs %a : tensor<270337xf32>
    kiln.yield %e : tensor<270337xf32>
  }
  return %0, %1, %2 : tensor<270336xf32>, tensor<4xf32>, tensor<270337xf32>
}

// -----

// Not merged: the later one reads the earlier one (a chain), or a value a
// kernel defines between them (a fusion cannot move up); a body that is not
// elementwise (softmax); a gather whose indices the body computes (not a
// leaf of the kernel's arguments); a body holding a constant (kiln-simplify
// hoists them; codegen's fused kernels take no constant op).
// CHECK-LABEL: func.func @not_independent
// CHECK-COUNT-7: = kiln.fusion
// CHECK-NOT: = kiln.fusion
func.func @not_independent(%x: tensor<4xf32>, %y: tensor<2x4xf32>, %t: tensor<4x4xf32>, %i: tensor<2xi64>) -> (tensor<4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>) {
  %0 = kiln.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.softmax %a {axis = 0 : i64} : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %1 = kiln.fusion %0 : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.exp %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %2 = kiln.fusion %y, %1 : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>, %b: tensor<4xf32>):
    %e = kiln.add %a, %b : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    kiln.yield %e : tensor<2x4xf32>
  }
  %3 = kiln.fusion %2 : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %e = kiln.tanh %a : tensor<2x4xf32>
    kiln.yield %e : tensor<2x4xf32>
  }
  %4 = kiln.fusion %3 : (tensor<2x4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    %e = kiln.reduce_sum %a {axes = array<i64: 0>, keepdims = false} : (tensor<2x4xf32>) -> tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %5 = kiln.fusion %t, %i, %4 : (tensor<4x4xf32>, tensor<2xi64>, tensor<4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<4x4xf32>, %b: tensor<2xi64>, %c: tensor<4xf32>):
    %n = kiln.neg %b : tensor<2xi64>
    %g = kiln.gather %a, %n {axis = 0 : i64} : (tensor<4x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
    %s = kiln.add %g, %c : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    kiln.yield %s : tensor<2x4xf32>
  }
  %6 = kiln.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %one = kiln.constant dense<1.0> : tensor<4xf32>
    %e = kiln.add %a, %one : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  return %0, %1, %2, %3, %4, %5, %6 : tensor<4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>
}
