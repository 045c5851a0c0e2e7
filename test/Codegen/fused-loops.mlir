// A fused kernel of several shapes (kiln-merge-siblings' small independent
// launches: a decode step's rotary table, mask and embedding row): one
// grid-stride loop per shape of its yielded values, in yield order, each
// computing only the ops its values need; the launch's grid covers the
// largest (2048 mask elements: 8 blocks of 256). With
// --merge-small-launches=false, three kernels.
// RUN: kiln-compile %s --emit=cuda -o - | FileCheck %s
// RUN: kiln-compile %s --emit=scheduled -o - | FileCheck %s --check-prefix=GRID
// RUN: kiln-compile %s --emit=scheduled --merge-small-launches=false -o - | FileCheck %s --check-prefix=OFF

// CHECK-LABEL: __global__ void __launch_bounds__(256) k0_cast_mul_cos_cast_and5(
// CHECK-NEXT:  kiln::pdlEnter();
// CHECK-NEXT:  for (int64_t i = {{.*}}; i < 8;
// CHECK-NOT:   kiln.equal
// CHECK:       kiln::op::cos_
// CHECK:       kiln::op::sin_
// CHECK:       out0[i] = v2;
// CHECK-NEXT:  out1[i] = v5;
// CHECK-NEXT:  }
// CHECK-NEXT:  for (int64_t i = {{.*}}; i < 2048;
// CHECK-NOT:   kiln::op::cos_
// CHECK:       const bool v6 = (bool)((a2 == a3));
// CHECK-NEXT:  const float v7 = (float)((v6 ? a4 : a5));
// CHECK-NEXT:  out2[i] = v7;
// CHECK-NEXT:  }
// CHECK-NEXT:  for (int64_t i = {{.*}}; i < 16;
// CHECK:       if (g8 < 0) g8 += 32;
// CHECK-NEXT:  const float v8 = (g8 >= 0 && g8 < 32) ? in6[0 + c2 * 1 + g8 * 8] : (float)(0.0f);
// CHECK-NEXT:  out3[i] = v8;
// CHECK-NEXT:  }
// CHECK-NEXT: }
// CHECK-NOT:  __global__

// GRID: kiln.launch @k0_cast_mul_cos_cast_and5 grid [8, 1, 1] block [256, 1, 1]
// GRID-NOT: kiln.launch

// OFF-COUNT-3: kiln.launch
// OFF-NOT: kiln.launch
func.func @main(%ids: tensor<2x1xi64> {kiln.name = "ids"}, %mask: tensor<2x1024xi64> {kiln.name = "mask"}, %pos: tensor<2x1xi64> {kiln.name = "pos"}) -> (tensor<2x1x4xf32>, tensor<2x1x4xf32>, tensor<2x1x1x1024xf32>, tensor<2x1x8xf32>) {
  %freq = kiln.constant dense<[1.0, 0.5, 0.25, 0.125]> : tensor<4xf32>
  %table = kiln.constant dense<0.5> : tensor<32x8xf32>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %lo = kiln.constant dense<-1.0e9> : tensor<1xf32>
  %hi = kiln.constant dense<0.0> : tensor<1xf32>
  %p = kiln.reshape %pos : tensor<2x1xi64> -> tensor<2x1x1xi64>
  %pf = kiln.cast %p : tensor<2x1x1xi64> -> tensor<2x1x1xf32>
  %a = kiln.mul %pf, %freq : (tensor<2x1x1xf32>, tensor<4xf32>) -> tensor<2x1x4xf32>
  %cos = kiln.cos %a : tensor<2x1x4xf32>
  %sin = kiln.sin %a : tensor<2x1x4xf32>
  %m = kiln.reshape %mask : tensor<2x1024xi64> -> tensor<2x1x1x1024xi64>
  %e = kiln.equal %m, %zero : (tensor<2x1x1x1024xi64>, tensor<1xi64>) -> tensor<2x1x1x1024xi1>
  %bias = kiln.where %e, %lo, %hi : (tensor<2x1x1x1024xi1>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x1x1x1024xf32>
  %row = kiln.gather %table, %ids {axis = 0 : i64} : (tensor<32x8xf32>, tensor<2x1xi64>) -> tensor<2x1x8xf32>
  return %cos, %sin, %bias, %row : tensor<2x1x4xf32>, tensor<2x1x4xf32>, tensor<2x1x1x1024xf32>, tensor<2x1x8xf32>
}
