// A gather leaf in a fused elementwise kernel (kiln-form-fusions): element
// i of the gather is read from the table at the index read for i's
// coordinates (negative from the end, out of range zero, as kiln::gather),
// in the same loop as the add. A gather whose indices are computed in the
// kernel is a located error.
// RUN: kiln-compile %s --emit=cuda -o - | FileCheck %s
// RUN: not kiln-compile %S/Inputs/fused-gather-bad.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK-LABEL: k0_gather_gather_add(const float *__restrict__ in0, const int64_t *__restrict__ in1, const float *__restrict__ in2, const int64_t *__restrict__ in3, float *__restrict__ out0)
// CHECK:      i < 48;
// CHECK:      int64_t g0 = (int64_t)in1[0 + c0 * 3 + c1 * 1];
// CHECK-NEXT: if (g0 < 0) g0 += 32;
// CHECK-NEXT: const float v0 = (g0 >= 0 && g0 < 32) ? in0[0 + c2 * 1 + g0 * 8] : (float)(0.0f);
// CHECK-NEXT: int64_t g1 = (int64_t)in3[0 + c0 * 3 + c1 * 1];
// CHECK-NEXT: if (g1 < 0) g1 += 16;
// CHECK-NEXT: const float v1 = (g1 >= 0 && g1 < 16) ? in2[0 + c2 * 1 + g1 * 8] : (float)(0.0f);
// CHECK-NEXT: const float v2 = (float)(kiln::op::add(v0, v1));
// CHECK-NEXT: out0[i] = v2;
// CHECK-NOT: __global__
// BAD: fused-gather-bad.mlir:{{[0-9]+}}:{{[0-9]+}}: error: 'kiln.gather' op in a fused kernel reads its data and indices from the kernel's arguments and has the loop's shape
func.func @main(%ids: tensor<2x3xi64> {kiln.name = "ids"}, %pos: tensor<2x3xi64> {kiln.name = "pos"}) -> tensor<2x3x8xf32> {
  %wte = kiln.constant dense<0.5> : tensor<32x8xf32>
  %wpe = kiln.constant dense<0.25> : tensor<16x8xf32>
  %0 = kiln.gather %wte, %ids {axis = 0 : i64} : (tensor<32x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  %1 = kiln.gather %wpe, %pos {axis = 0 : i64} : (tensor<16x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
  %2 = kiln.add %0, %1 : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  return %2 : tensor<2x3x8xf32>
}
