// Views planned as aliases (docs/memory-plan.md; views of views in the
// scheduled IR) get no kernel: a reshape of
// the input is read in place by the exp, the reshape of the exp's result by
// the transpose, and the returned reshape of the transpose is the
// transpose's own output bytes. A returned reshape of the input stays a
// copy (inputs and outputs must not share bytes), and a transpose of
// non-unit dims is a kernel as always.
// REQUIRES: nvcc, onnx
// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln-compile %s -o %t/v.kiln --arch sm_80
// RUN: FileCheck %s --input-file=%t/v.kiln/manifest.txt
// RUN: kiln-compile %s --emit=cuda -o - | FileCheck %s --check-prefix=CU
// The reference backend runs the artifact's IR through the planned arena:
// the same outputs as the unplanned function, value by value.
// RUN: %python %S/../Reference/Inputs/write_tensor.py %t/x.pb x 2x8 f32
// RUN: kiln-run %s --input %t/x.pb --output-dir %t/graph
// RUN: kiln-run %t/v.kiln --backend=ref --input %t/x.pb --expect %t/graph/output_0.pb %t/graph/output_1.pb | FileCheck %s --check-prefix=REF

// CHECK: function main 3
// CHECK-NEXT: input 0 x f32 2x8 [[X:[0-9]+]] 64
// CHECK-NEXT: output 0 y f32 16 [[Y:[0-9]+]] 64
// CHECK-NEXT: output 1 z f32 4x4 [[Z:[0-9]+]] 64
// CHECK-NEXT: launch kernel k0_exp {{.*}} a:[[X]] a:[[E:[0-9]+]]{{$}}
// CHECK-NEXT: launch kernel k1_transpose {{.*}} a:[[E]] a:[[Y]]{{$}}
// CHECK-NEXT: launch kernel k2_reshape {{.*}} a:[[X]] a:[[Z]]{{$}}
// CHECK-NEXT: end

// REF: output y: max_abs_err=0 max_rel_err=0 PASS
// REF: output z: max_abs_err=0 max_rel_err=0 PASS

// An alias is a view of a view in the scheduled IR: no kernel, no source.
// CU: k0_exp(
// CU: k1_transpose(
// CU: k2_reshape(
// CU-NOT: reshape(
func.func @main(%x: tensor<2x8xf32> {kiln.name = "x"}) -> (tensor<16xf32> {kiln.name = "y"}, tensor<4x4xf32> {kiln.name = "z"}) {
  %r = kiln.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %e = kiln.exp %r : tensor<16xf32>
  %v = kiln.reshape %e : tensor<16xf32> -> tensor<4x4xf32>
  %t = kiln.transpose %v {perm = array<i64: 1, 0>} : (tensor<4x4xf32>) -> tensor<4x4xf32>
  %y = kiln.reshape %t : tensor<4x4xf32> -> tensor<16xf32>
  %z = kiln.reshape %x : tensor<2x8xf32> -> tensor<4x4xf32>
  return %y, %z : tensor<16xf32>, tensor<4x4xf32>
}
