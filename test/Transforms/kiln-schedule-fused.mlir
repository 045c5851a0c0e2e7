// kiln-schedule on fusions of several elementwise ops (kiln-form-fusions'
// groups): the fusion's body becomes the kernel's body, whole; the kernel
// is named by its ops; the launch is a grid-stride launch over the result;
// an input every body op reads at its own index (and whose value dies
// there) may be the output buffer (in place).
//
// RUN: kiln-opt %s --kiln-compile-pipeline | FileCheck %s
// The one-op policy gives one launch per op instead.
// RUN: kiln-opt %s --pass-pipeline='builtin.module(kiln-graph-pipeline, func.func(kiln-form-fusions{max-ops=1}, kiln-plan-memory, kiln-verify-plan), kiln-schedule)' | FileCheck %s --check-prefix=ONE
// RUN: kiln-opt %s --kiln-compile-pipeline | kiln-opt --verify-roundtrip > /dev/null

// CHECK-LABEL: kiln.kernel @k0_rms_norm
// CHECK-LABEL: kiln.kernel @k1_silu_mul_mul_add(%arg0: tensor<2x8xf32>, %arg1: tensor<8xf32>, %arg2: tensor<2x8xf32>, %arg3: tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %[[A:.+]] = silu %arg0 : tensor<2x8xf32>
// CHECK-NEXT:    %[[B:.+]] = mul %[[A]], %arg1 : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %[[C:.+]] = mul %[[B]], %arg2
// CHECK-NEXT:    %[[D:.+]] = add %[[C]], %arg3
// CHECK-NEXT:    yield %[[D]] : tensor<2x8xf32>
// CHECK-LABEL: func.func @main() {
// CHECK:      %[[X:.+]] = kiln.view %{{.+}} input "x"
// CHECK:      %[[S:.+]] = kiln.view %{{.+}} input "s"
// CHECK-NEXT: %[[UP:.+]] = kiln.view %{{.+}} input "up"
// CHECK:      kiln.graph {
// CHECK-NEXT:   kiln.launch @k0_rms_norm grid [2, 1, 1] block [32, 1, 1] smem 0 ins(%[[X]], %{{.+}}) outs(%[[N:.+]] : memref<2x8xf32>)
// The normalised value dies in the fused kernel: its buffer is the output.
// CHECK-NEXT:   kiln.launch @k1_silu_mul_mul_add grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%[[N]], %[[S]], %[[UP]], %[[X]] : memref<2x8xf32>, memref<8xf32>, memref<2x8xf32>, memref<2x8xf32>) outs(%[[N]] : memref<2x8xf32>)
// CHECK-NEXT: }

// ONE:      kiln.graph {
// ONE-NEXT:   kiln.launch @k0_rms_norm
// ONE-NEXT:   kiln.launch @k1_silu
// ONE-NEXT:   kiln.launch @k2_mul
// ONE-NEXT:   kiln.launch @k3_mul
// ONE-NEXT:   kiln.launch @k4_add
// ONE-NEXT: }

func.func @main(%x: tensor<2x8xf32> {kiln.name = "x"}, %s: tensor<8xf32> {kiln.name = "s"}, %up: tensor<2x8xf32> {kiln.name = "up"}) -> (tensor<2x8xf32> {kiln.name = "y"}) {
  %g = kiln.constant dense<1.0> : tensor<8xf32>
  %n = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %a = kiln.silu %n : tensor<2x8xf32>
  %b = kiln.mul %a, %s : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %c = kiln.mul %b, %up : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %d = kiln.add %c, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %d : tensor<2x8xf32>
}
