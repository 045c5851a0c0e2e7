// f16 tensors are emitted as __half (since session 12; the kernels compute
// in f32 and round once on store, as for bf16): an elementwise kernel, a
// reduction and a cast. Every element type the dialect allows has a CUDA
// type now; the emitter's "does not support" error stays for types it may
// admit later.
// RUN: kiln-compile %s --emit=cuda -o - | FileCheck %s
// RUN: kiln-compile %s -o %t.kiln
// RUN: FileCheck %s --check-prefix=MANIFEST < %t.kiln/manifest.txt

// MANIFEST: input 0 input_0 f16 4x8
// MANIFEST: output 0 output_0 f16 4x8
// CHECK-LABEL: k0_exp(const __half *__restrict__ in0, __half *__restrict__ out0)
// CHECK: return (__half)(kiln::op::exp_(in0[i]));
// CHECK-LABEL: k1_softmax(const __half *__restrict__ in0, __half *__restrict__ out0)
// CHECK-LABEL: k2_cast(const __half *__restrict__ in0, float *__restrict__ out0)
func.func @main(%x: tensor<4x8xf16>) -> (tensor<4x8xf16>, tensor<4x8xf32>) {
  %0 = kiln.exp %x : tensor<4x8xf16>
  %1 = kiln.softmax %0 {axis = 1 : i64} : tensor<4x8xf16>
  %2 = kiln.cast %1 : tensor<4x8xf16> -> tensor<4x8xf32>
  return %0, %2 : tensor<4x8xf16>, tensor<4x8xf32>
}
