// kiln-schedule: two equal constants of one function (a rewrite after the
// last CSE can leave them; GroupQueryAttention's `+ 0` offsets did) have
// one place in the weights layout, so they get one view: two views of the
// same bytes would be two live buffers overlapping, which kiln-verify-plan
// rejects. A different constant keeps its own view.
//
// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-plan-memory, kiln-verify-plan), kiln-schedule)' | FileCheck %s

// CHECK-LABEL: func.func @main() {
// CHECK:      %[[W:.+]] = kiln.weights : memref<264xi8>
// CHECK-NEXT: kiln.constant dense<0>
// CHECK-NEXT: kiln.constant dense<0>
// CHECK-NEXT: kiln.constant dense<2>
// CHECK-NEXT: %[[ZERO:.+]] = kiln.view %[[W]][0] init(
// CHECK-NEXT: %[[TWO:.+]] = kiln.view %[[W]][256] init(
// CHECK-NOT:  kiln.view %[[W]]
// CHECK:      kiln.launch @{{.+}} ins(%{{.+}}, %[[ZERO]], %[[ZERO]], %[[TWO]] :

func.func @main(%x: tensor<1x1xi64> {kiln.name = "x"}) -> (tensor<1x1xi64> {kiln.name = "y"}) {
  %a = kiln.constant dense<0> : tensor<1x1xi64>
  %b = kiln.constant dense<0> : tensor<1x1xi64>
  %c = kiln.constant dense<2> : tensor<1x1xi64>
  %r = kiln.fusion %x, %a, %b, %c : (tensor<1x1xi64>, tensor<1x1xi64>, tensor<1x1xi64>, tensor<1x1xi64>) -> tensor<1x1xi64> {
  ^bb0(%p: tensor<1x1xi64>, %q: tensor<1x1xi64>, %s: tensor<1x1xi64>, %t: tensor<1x1xi64>):
    %0 = kiln.add %p, %q : (tensor<1x1xi64>, tensor<1x1xi64>) -> tensor<1x1xi64>
    %1 = kiln.add %0, %s : (tensor<1x1xi64>, tensor<1x1xi64>) -> tensor<1x1xi64>
    %2 = kiln.mul %1, %t : (tensor<1x1xi64>, tensor<1x1xi64>) -> tensor<1x1xi64>
    kiln.yield %2 : tensor<1x1xi64>
  }
  return %r : tensor<1x1xi64>
}
