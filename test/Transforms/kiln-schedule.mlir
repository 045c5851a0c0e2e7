// kiln-schedule: a planned fused-level function becomes the explicit
// scheduled level (docs/scheduled-ir.md): regions, views at the planned
// offsets, one kernel symbol and launch per fusion, buffer-form gemms, an
// alias view for a planned reshape, a copy + in-place update for scatter_nd,
// bindings by name, all launches in one kiln.graph.
//
// RUN: kiln-opt %s --kiln-compile-pipeline | FileCheck %s
// Without library calls the projection is a generated kernel instead.
// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-compile-pipeline{library-calls=false})' | FileCheck %s --check-prefix=NOGEMM
// Generic passes after scheduling cannot drop, merge or reorder launches
// (memory effects on kiln's buffer resource), nor merge two root views of
// the same bytes (a root is an allocation); the plan still verifies.
// RUN: kiln-opt %s --kiln-compile-pipeline --canonicalize --cse --symbol-dce | FileCheck %s --check-prefix=GENERIC
// GENERIC:      kiln.graph {
// GENERIC-NEXT:   kiln.launch @k0_rms_norm
// GENERIC-NEXT:   kiln.gemm
// GENERIC-NEXT:   kiln.launch @k2_silu
// GENERIC-NEXT:   kiln.launch @k3_copy
// GENERIC-NEXT:   kiln.launch @k4_scatter_nd
// GENERIC-NEXT:   kiln.launch @k5_add
// GENERIC-NEXT: }
// The output is a fixed point of parsing and verification.
// RUN: kiln-opt %s --kiln-compile-pipeline | kiln-opt --verify-roundtrip > /dev/null

// CHECK-LABEL: kiln.kernel @k0_rms_norm(%arg0: tensor<2x8xf32>, %arg1: tensor<8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    rms_norm %arg0, %arg1
// CHECK-NEXT:    yield
// CHECK-LABEL: kiln.kernel @k2_silu
// CHECK-LABEL: kiln.kernel @k3_copy(%arg0: tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    yield %arg0 : tensor<2x8xf32>
// CHECK-LABEL: kiln.kernel @k4_scatter_nd
// CHECK-NEXT:    scatter_nd
// CHECK-LABEL: kiln.kernel @k5_add

// CHECK-LABEL: func.func @main() {
// CHECK:      %[[ARENA:.+]] = kiln.arena : memref<[[ARENA_BYTES:[0-9]+]]xi8>
// The weights in program order, 256-byte aligned.
// CHECK-NEXT: %[[WEIGHTS:.+]] = kiln.weights : memref<512xi8>
// CHECK-NEXT: %[[G:.+]] = kiln.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK-NEXT: %[[W:.+]] = kiln.constant dense<5.000000e-01> : tensor<8x8xf32>
// CHECK-NEXT: %[[GB:.+]] = kiln.view %[[WEIGHTS]][0] init(%[[G]] : tensor<8xf32>)
// CHECK-NEXT: %[[WB:.+]] = kiln.view %[[WEIGHTS]][256] init(%[[W]] : tensor<8x8xf32>)
// Inputs in argument order, by name.
// CHECK-NEXT: %[[X:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] input "x" : memref<[[ARENA_BYTES]]xi8> to memref<2x8xf32>
// CHECK-NEXT: %[[IDX:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] input "idx"
// CHECK-NEXT: %[[UPD:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] input "upd"
// One root view per planned value; the reshape is an alias of silu's
// buffer (a view of a view, no kernel).
// CHECK-NEXT: %[[N:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] : memref<[[ARENA_BYTES]]xi8> to memref<2x8xf32>
// CHECK-NEXT: %[[P:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] : memref<[[ARENA_BYTES]]xi8> to memref<2x8xf32>
// CHECK-NEXT: %[[A:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] : memref<[[ARENA_BYTES]]xi8> to memref<2x8xf32>
// CHECK-NEXT: %[[R:.+]] = kiln.view %[[A]][0] : memref<2x8xf32> to memref<16xf32>
// CHECK-NEXT: %[[S:.+]] = kiln.view %[[ARENA]][{{[0-9]+}}] : memref<[[ARENA_BYTES]]xi8> to memref<2x8xf32>
// The sum gets no view of its own: it is written in place over its dead
// operand (the scatter result). Outputs last, in result order.
// CHECK-NEXT: kiln.view %[[R]][0] output "y" : memref<16xf32> to memref<16xf32>
// CHECK-NEXT: kiln.view %[[S]][0] output "s" : memref<2x8xf32> to memref<2x8xf32>
// CHECK-NEXT: kiln.graph {
// CHECK-NEXT:   kiln.launch @k0_rms_norm grid [2, 1, 1] block [32, 1, 1] smem 0 ins(%[[X]], %[[GB]] : memref<2x8xf32>, memref<8xf32>) outs(%[[N]] : memref<2x8xf32>)
// CHECK-NEXT:   kiln.gemm %[[N]], %[[WB]] outs %[[P]] : (memref<2x8xf32>, memref<8x8xf32>, memref<2x8xf32>) -> ()
// CHECK-NEXT:   kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%[[P]] : memref<2x8xf32>) outs(%[[A]] : memref<2x8xf32>)
// CHECK-NEXT:   kiln.launch @k3_copy grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%[[P]] : memref<2x8xf32>) outs(%[[S]] : memref<2x8xf32>)
// CHECK-NEXT:   kiln.launch @k4_scatter_nd grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%[[S]], %[[IDX]], %[[UPD]] : memref<2x8xf32>, memref<1x1xi64>, memref<1x8xf32>) outs(%[[S]] : memref<2x8xf32>)
// CHECK-NEXT:   kiln.launch @k5_add {{.*}} ins(%[[S]], %[[P]] : memref<2x8xf32>, memref<2x8xf32>) outs(%[[S]] : memref<2x8xf32>)
// CHECK-NEXT: }
// CHECK-NEXT: return

// NOGEMM-NOT: kiln.gemm
// NOGEMM:     kiln.kernel @k1_linear
// NOGEMM:     kiln.launch @k1_linear

func.func @main(%x: tensor<2x8xf32> {kiln.name = "x"}, %idx: tensor<1x1xi64> {kiln.name = "idx"}, %upd: tensor<1x8xf32> {kiln.name = "upd"}) -> (tensor<16xf32> {kiln.name = "y"}, tensor<2x8xf32> {kiln.name = "s"}) {
  %g = kiln.constant dense<1.0> : tensor<8xf32>
  %w = kiln.constant dense<0.5> : tensor<8x8xf32>
  %n = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %p = kiln.linear %n, %w : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
  %a = kiln.silu %p : tensor<2x8xf32>
  %r = kiln.reshape %a : tensor<2x8xf32> -> tensor<16xf32>
  %s = kiln.scatter_nd %p, %idx, %upd : (tensor<2x8xf32>, tensor<1x1xi64>, tensor<1x8xf32>) -> tensor<2x8xf32>
  %t = kiln.add %s, %p : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r, %t : tensor<16xf32>, tensor<2x8xf32>
}
