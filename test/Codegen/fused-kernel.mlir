// A fused elementwise kernel (kiln-form-fusions' group of silu, two muls, a
// where, two casts and an add after an rms_norm) in CUDA: one grid-stride
// loop; per element, each argument is loaded once (the [8] scale through
// the output coordinates), each op is a local scalar of its element type
// with the single-op kernel's expression, and the yielded value is stored
// last. The normalised value dies here, so the kernel writes over it (no
// __restrict__). The source compiles with nvcc for sm_80 and sm_90a.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln-compile %s --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --input-file=%t/k.cu
// RUN: kiln-compile %s --emit=scheduled -o - | grep -c "kiln.launch @" | FileCheck %s --check-prefix=LAUNCHES
// LAUNCHES: 2
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.80.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t/k.cu -o %t/k.90a.o %}

// CHECK: k0_rms_norm(
// CHECK-LABEL: // @k1_silu_mul_mul_where_and3: fusion of kiln.silu kiln.mul kiln.mul kiln.where kiln.cast kiln.cast kiln.add at
// CHECK-NEXT: extern "C" __global__ void __launch_bounds__(256) k1_silu_mul_mul_where_and3(const float *in0, const float *in1, const float *in2, const bool *in3, const float *in4, float *out0) {
// CHECK-NEXT:   kiln::pdlEnter();
// CHECK-NEXT:   for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < 16;
// CHECK-NEXT:        i += (int64_t)gridDim.x * blockDim.x) {
// CHECK-NEXT:     int64_t c_rem = i; {{.*}} const int64_t c1 = c_rem % 8; {{.*}}
// CHECK-NEXT:     const float a0 = in0[i];
// CHECK-NEXT:     const float a1 = in1[c1];
// CHECK-NEXT:     const float a2 = in2[i];
// CHECK-NEXT:     const bool a3 = in3[i];
// CHECK-NEXT:     const float a4 = in4[i];
// CHECK-NEXT:     const float v0 = (float)(kiln::op::silu(a0));
// CHECK-NEXT:     const float v1 = (float)(kiln::op::mul(v0, a1));
// CHECK-NEXT:     const float v2 = (float)(kiln::op::mul(v1, a2));
// CHECK-NEXT:     const float v3 = (float)((a3 ? v2 : a0));
// CHECK-NEXT:     const int32_t v4 = (int32_t)(kiln::op::cast<int32_t>(v3));
// CHECK-NEXT:     const float v5 = (float)(kiln::op::cast<float>(v4));
// CHECK-NEXT:     const float v6 = (float)(kiln::op::add(v5, a4));
// CHECK-NEXT:     out0[i] = v6;
// CHECK-NEXT:   }
// CHECK-NEXT: }

func.func @main(%x: tensor<2x8xf32> {kiln.name = "x"}, %up: tensor<2x8xf32> {kiln.name = "up"}, %s: tensor<8xf32> {kiln.name = "s"}, %c: tensor<2x8xi1> {kiln.name = "c"}) -> (tensor<2x8xf32> {kiln.name = "y"}) {
  %g = kiln.constant dense<1.0> : tensor<8xf32>
  %n = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %a = kiln.silu %n : tensor<2x8xf32>
  %b = kiln.mul %a, %s : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %m = kiln.mul %b, %up : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %w = kiln.where %c, %m, %n : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %ci = kiln.cast %w : tensor<2x8xf32> -> tensor<2x8xi32>
  %cf = kiln.cast %ci : tensor<2x8xi32> -> tensor<2x8xf32>
  %r = kiln.add %cf, %x : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}
