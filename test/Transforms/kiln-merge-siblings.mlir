// kiln-merge-siblings: elementwise fusions of one index space that read a
// common value become one fusion yielding all their results, where the
// merged fusion can stand at the earlier one's place.
//
// The sibling rule alone (independent=false); the small independent
// launches' rule is kiln-merge-siblings-independent.mlir.
//
// RUN: kiln-opt %s --kiln-merge-siblings=independent=false --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-merge-siblings=independent=false --split-input-file | kiln-opt --kiln-merge-siblings=independent=false --split-input-file | FileCheck %s

// A rotary table's cos and sin, from the same angles: one kernel.
// CHECK-LABEL: func.func @cos_sin
// CHECK-SAME: (%[[X:.+]]: tensor<1x8xf32>, %[[S:.+]]: tensor<f32>)
func.func @cos_sin(%x: tensor<1x8xf32>, %s: tensor<f32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  // CHECK-NEXT: %[[F:.+]]:2 = kiln.fusion %[[X]], %[[S]] : (tensor<1x8xf32>, tensor<f32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  // CHECK-NEXT: ^bb0(%[[A:.+]]: tensor<1x8xf32>, %[[B:.+]]: tensor<f32>):
  // CHECK-NEXT: %[[C:.+]] = kiln.cos %[[A]]
  // CHECK-NEXT: %[[CM:.+]] = kiln.mul %[[C]], %[[B]]
  // CHECK-NEXT: %[[N:.+]] = kiln.sin %[[A]]
  // CHECK-NEXT: kiln.yield %[[CM]], %[[N]]
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]#0, %[[F]]#1
  %0 = kiln.fusion %x, %s : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>, %b: tensor<f32>):
    %c = kiln.cos %a : tensor<1x8xf32>
    %m = kiln.mul %c, %b : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
    kiln.yield %m : tensor<1x8xf32>
  }
  %1 = kiln.fusion %x : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %n = kiln.sin %a : tensor<1x8xf32>
    kiln.yield %n : tensor<1x8xf32>
  }
  return %0, %1 : tensor<1x8xf32>, tensor<1x8xf32>
}

// -----

// Three siblings become one; an op between them that reads the first stays
// after the merged fusion.
// CHECK-LABEL: func.func @three
func.func @three(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // CHECK-NEXT: %[[F:.+]]:3 = kiln.fusion
  // CHECK: kiln.exp
  // CHECK: kiln.neg
  // CHECK: kiln.abs
  // CHECK: }
  // CHECK-NEXT: kiln.fusion %[[F]]#0
  // CHECK: return
  %0 = kiln.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.exp %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %t = kiln.fusion %0 : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.tanh %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %1 = kiln.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.neg %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %2 = kiln.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.abs %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  return %0, %t, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Not merged: another index space ([4] and [2x4]); no common input; the
// later one reads the earlier one (a chain, not siblings) or a value
// defined between them; a body that is not elementwise.
// CHECK-LABEL: func.func @not_siblings
func.func @not_siblings(%x: tensor<4xf32>, %y: tensor<4xf32>, %z: tensor<2x4xf32>) -> (tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  // CHECK-COUNT-6: = kiln.fusion
  // CHECK-NOT: = kiln.fusion
  %0 = kiln.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.exp %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %1 = kiln.fusion %x, %z : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<2x4xf32>):
    %e = kiln.add %b, %a : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    kiln.yield %e : tensor<2x4xf32>
  }
  %2 = kiln.fusion %y : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = kiln.neg %a : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %3 = kiln.fusion %0, %z : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<2x4xf32>):
    %e = kiln.softmax %a {axis = 0 : i64} : tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %4 = kiln.fusion %3, %y : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %e = kiln.mul %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  %5 = kiln.fusion %4, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %e = kiln.sub %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    kiln.yield %e : tensor<4xf32>
  }
  return %0, %1, %2, %3, %4, %5 : tensor<4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
