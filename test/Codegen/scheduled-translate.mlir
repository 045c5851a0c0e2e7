// Codegen is a translation of the scheduled IR: kiln-compile takes a module
// that already has a kiln.graph as is (no pipeline) and every artifact fact
// is read off it. Kernel functions are named by their kiln.kernel symbol; a
// kernel launched twice has one source and two launch lines; the manifest's
// launch lines are the graph's kiln.launch / kiln.gemm ops, in order; the
// grid and block are the launch's (__launch_bounds__ is the largest block);
// a kernel launched with an output that is also an input (in place) has no
// __restrict__ pointers; kernel parameters are the body op's operands then
// its results, each bound to the launch's buffer for that kernel argument.
// REQUIRES: nvcc
// RUN: rm -rf %t && mkdir -p %t && cp %s %t/s.mlir
// RUN: %python -c "open('%t/w.bin','wb').write(bytes(range(32)))"
// RUN: kiln-compile %t/s.mlir --emit=cuda -o %t/k.cu
// RUN: FileCheck %s --check-prefix=CU --input-file=%t/k.cu
// RUN: kiln-compile %t/s.mlir -o %t/s.kiln --arch sm_80
// RUN: FileCheck %s --input-file=%t/s.kiln/manifest.txt
// RUN: cmp %t/k.cu %t/s.kiln/kernels.cu
// RUN: %python -c "import os; print(os.path.getsize('%t/s.kiln/weights.bin'))" | FileCheck %s --check-prefix=SIZE

// CHECK: kiln-artifact 4
// CHECK-NEXT: arch sm_80
// The arena is kiln.arena's size; weights.bin ends at the last weight's end.
// CHECK-NEXT: arena_bytes 2048
// CHECK-NEXT: weights_file weights.bin 384 xxh64:{{[0-9a-f]{16}$}}
// CHECK-NEXT: kernels_file kernels.fatbin
// CHECK-NEXT: ir_file scheduled.mlir
// Weights: the init views, at their offsets; a constant is named by its
// index in the weight list; whitespace in a name becomes `_`.
// CHECK-NEXT: weight 0 norm_scale f32 8 0 32
// CHECK-NEXT: weight 1 constant_1 f32 8x4 256 128
// CHECK-NEXT: function main 7
// Bindings: the function's named views, at their region offsets; an output
// may be an alias view (a view of a view).
// CHECK-NEXT: input 0 x f32 2x8 0 64
// CHECK-NEXT: output 0 y f32 8 512 32
// CHECK-NEXT: output 1 z f32 2x4 1024 32
// CHECK-NEXT: launch kernel k0_rms_norm 2 1 1 32 1 1 0 3 a:0 w:0 a:256
// CHECK-NEXT: launch gemm 2 4 8 1 a:256 w:1 a:512 - 16 0 8 0
// CHECK-NEXT: launch kernel k2_silu 1 1 1 256 1 1 0 2 a:512 a:512
// CHECK-NEXT: launch kernel k3_copy 1 1 1 128 1 1 0 2 a:512 a:768
// CHECK-NEXT: launch kernel k2_silu 1 1 1 64 1 1 0 2 a:768 a:768
// The mul reads its kernel arguments swapped: in0 is ins #1 (%y).
// CHECK-NEXT: launch kernel k5_mul 1 1 1 256 1 1 0 3 a:512 a:768 a:1024
// CHECK-NEXT: launch kernel k6_neg 1 1 1 256 1 1 0 2 a:1024 a:1280
// CHECK-NEXT: end

// SIZE: 384

// CU: #include "kiln_kernels.cuh"
// CU: // @k0_rms_norm: kiln.rms_norm
// CU-NEXT: extern "C" __global__ void __launch_bounds__(32) k0_rms_norm(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0)
// CU: kiln::norm<true, 2, 8>
// Launched twice (block 256 and 64), in place: one function, no restrict.
// CU: // @k2_silu: kiln.silu
// CU-NEXT: extern "C" __global__ void __launch_bounds__(256) k2_silu(const float *in0, float *out0)
// CU: // @k3_copy: copy
// CU-NEXT: extern "C" __global__ void __launch_bounds__(128) k3_copy(const float *__restrict__ in0, float *__restrict__ out0)
// CU-NEXT: kiln::pdlEnter();
// CU-NEXT: kiln::mapCopy<8>(in0, out0,
// CU: k5_mul(const float *__restrict__ in0, const float *__restrict__ in1, float *__restrict__ out0)
// CU: kiln::op::mul(in0[i], in1[i])
// CU-NOT: k2_silu(
// CU-NOT: k4
// CU-NOT: unused
module {
  kiln.kernel @k0_rms_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>) -> tensor<2x8xf32> {
    %n = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    kiln.yield %n : tensor<2x8xf32>
  }
  kiln.kernel @k2_silu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
    %s = kiln.silu %x : tensor<2x4xf32>
    kiln.yield %s : tensor<2x4xf32>
  }
  kiln.kernel @k3_copy(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
    kiln.yield %x : tensor<2x4xf32>
  }
  kiln.kernel @k5_mul(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>) -> tensor<2x4xf32> {
    %m = kiln.mul %b, %a : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    kiln.yield %m : tensor<2x4xf32>
  }
  kiln.kernel @k6_neg(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
    %m = kiln.neg %a : tensor<2x4xf32>
    kiln.yield %m : tensor<2x4xf32>
  }
  // Not launched: no source.
  kiln.kernel @unused(%a: tensor<2x4xf32>) -> tensor<2x4xf32> {
    %m = kiln.neg %a : tensor<2x4xf32>
    kiln.yield %m : tensor<2x4xf32>
  }
  func.func @main() {
    %arena = kiln.arena : memref<2048xi8>
    %weights = kiln.weights : memref<512xi8>
    %g = kiln.weight "norm scale" {path = "w.bin", offset = 0 : i64, length = 32 : i64} : tensor<8xf32>
    %w = kiln.constant dense<1.0> : tensor<8x4xf32>
    %gb = kiln.view %weights[0] init(%g : tensor<8xf32>) : memref<512xi8> to memref<8xf32>
    %wb = kiln.view %weights[256] init(%w : tensor<8x4xf32>) : memref<512xi8> to memref<8x4xf32>
    %x = kiln.view %arena[0] input "x" : memref<2048xi8> to memref<2x8xf32>
    %n = kiln.view %arena[256] : memref<2048xi8> to memref<2x8xf32>
    %y = kiln.view %arena[512] : memref<2048xi8> to memref<2x4xf32>
    %u = kiln.view %arena[768] : memref<2048xi8> to memref<2x4xf32>
    %p = kiln.view %arena[1024] : memref<2048xi8> to memref<2x4xf32>
    %q = kiln.view %arena[1280] : memref<2048xi8> to memref<2x4xf32>
    %y8 = kiln.view %y[0] output "y" : memref<2x4xf32> to memref<8xf32>
    %z = kiln.view %p[0] output "z" : memref<2x4xf32> to memref<2x4xf32>
    kiln.graph {
      kiln.launch @k0_rms_norm grid [2, 1, 1] block [32, 1, 1] smem 0 ins(%x, %gb : memref<2x8xf32>, memref<8xf32>) outs(%n : memref<2x8xf32>)
      kiln.gemm %n, %wb outs %y : (memref<2x8xf32>, memref<8x4xf32>, memref<2x4xf32>) -> ()
      kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%y : memref<2x4xf32>) outs(%y : memref<2x4xf32>)
      kiln.launch @k3_copy grid [1, 1, 1] block [128, 1, 1] smem 0 ins(%y : memref<2x4xf32>) outs(%u : memref<2x4xf32>)
      kiln.launch @k2_silu grid [1, 1, 1] block [64, 1, 1] smem 0 ins(%u : memref<2x4xf32>) outs(%u : memref<2x4xf32>)
      kiln.launch @k5_mul grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%u, %y : memref<2x4xf32>, memref<2x4xf32>) outs(%p : memref<2x4xf32>)
      kiln.launch @k6_neg grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%p : memref<2x4xf32>) outs(%q : memref<2x4xf32>)
    }
    return
  }
}
