// The transcendental maps on a model's own 16-bit types (bf16 and f16, not
// --precision): kiln::op::sigmoid, silu, softplus and the two GELUs compute
// in f32 (kiln::op::MathT) and round once to the element type, as the
// reference backend does. Before session 14 they computed in the 16-bit
// type and did not compile (`T(1) + exp_(-x)` mixed bf16 and float).
// RUN: kiln-compile %s --emit=cuda -o %t.cu
// RUN: FileCheck %s --input-file=%t.cu
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_90a,code=sm_90a -I%kiln_src/codegen/kernels %t.cu -o %t.90a.o %}
// RUN: %if nvcc %{ /usr/local/cuda/bin/nvcc -std=c++17 -c -gencode arch=compute_80,code=sm_80 -I%kiln_src/codegen/kernels %t.cu -o %t.80.o %}

// The bf16 and f16 groups are small independent launches of one shape:
// kiln-merge-siblings makes them one kernel of one loop.
// CHECK-LABEL: k0_sigmoid_silu_softplus_gelu_and3(const __nv_bfloat16 *__restrict__ in0, const __half *__restrict__ in1,
// CHECK: = (__nv_bfloat16)(kiln::op::sigmoid(a0));
// CHECK: = (__nv_bfloat16)(kiln::op::silu(a0));
// CHECK: = (__nv_bfloat16)(kiln::op::softplus(a0));
// CHECK: = (__nv_bfloat16)(kiln::op::gelu_erf(a0));
// CHECK: = (__nv_bfloat16)(kiln::op::gelu_tanh(a0));
// CHECK: = (__half)(kiln::op::silu(a1));
// CHECK: = (__half)(kiln::op::gelu_tanh(a1));
func.func @main(%x: tensor<4x8xbf16>, %h: tensor<4x8xf16>) -> (tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xf16>, tensor<4x8xf16>) {
  %0 = kiln.sigmoid %x : tensor<4x8xbf16>
  %1 = kiln.silu %x : tensor<4x8xbf16>
  %2 = kiln.softplus %x : tensor<4x8xbf16>
  %3 = kiln.gelu %x : tensor<4x8xbf16>
  %4 = kiln.gelu %x approximate<tanh> : tensor<4x8xbf16>
  %5 = kiln.silu %h : tensor<4x8xf16>
  %6 = kiln.gelu %h approximate<tanh> : tensor<4x8xf16>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xbf16>, tensor<4x8xf16>, tensor<4x8xf16>
}
