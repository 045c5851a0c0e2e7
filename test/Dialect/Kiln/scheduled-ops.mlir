// The scheduled-level ops round-trip (print, parse, print again), and a
// well-formed plan verifies: an in-place elementwise update, an alias view
// bound as an output, a buffer-form gemm reading a weight, a kernel
// launched twice, a copy kernel.
//
// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: kiln.kernel @k0_rms_norm(%arg0: tensor<2x8xf32>, %arg1: tensor<8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    rms_norm %arg0, %arg1
// CHECK-NEXT:    yield %{{.*}} : tensor<2x8xf32>
kiln.kernel @k0_rms_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>) -> tensor<2x8xf32> {
  %n = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  kiln.yield %n : tensor<2x8xf32>
}
// CHECK-LABEL: kiln.kernel @k2_silu
kiln.kernel @k2_silu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %n = kiln.silu %x : tensor<2x4xf32>
  kiln.yield %n : tensor<2x4xf32>
}
// CHECK-LABEL: kiln.kernel @k4_copy
// CHECK-NEXT:    yield %arg0 : tensor<2x4xf32>
kiln.kernel @k4_copy(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  kiln.yield %x : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @main()
func.func @main() {
  // CHECK: %[[ARENA:.*]] = kiln.arena : memref<1280xi8>
  // CHECK: %[[WEIGHTS:.*]] = kiln.weights : memref<512xi8>
  %arena = kiln.arena : memref<1280xi8>
  %weights = kiln.weights : memref<512xi8>
  %g = kiln.constant dense<1.0> : tensor<8xf32>
  %w = kiln.constant dense<0.5> : tensor<8x4xf32>
  // CHECK: kiln.view %[[WEIGHTS]][0] init(%{{.*}} : tensor<8xf32>) : memref<512xi8> to memref<8xf32>
  %gb = kiln.view %weights[0] init(%g : tensor<8xf32>) : memref<512xi8> to memref<8xf32>
  %wb = kiln.view %weights[256] init(%w : tensor<8x4xf32>) : memref<512xi8> to memref<8x4xf32>
  // CHECK: kiln.view %[[ARENA]][0] input "x" : memref<1280xi8> to memref<2x8xf32>
  %x = kiln.view %arena[0] input "x" : memref<1280xi8> to memref<2x8xf32>
  %n = kiln.view %arena[256] : memref<1280xi8> to memref<2x8xf32>
  %y = kiln.view %arena[512] : memref<1280xi8> to memref<2x4xf32>
  %z = kiln.view %arena[768] : memref<1280xi8> to memref<2x4xf32>
  %c = kiln.view %arena[1024] : memref<1280xi8> to memref<2x4xf32>
  // CHECK: kiln.view %{{.*}}[0] output "y" : memref<2x4xf32> to memref<8xf32>
  %y8 = kiln.view %y[0] output "y" : memref<2x4xf32> to memref<8xf32>
  %c2 = kiln.view %c[0] output "c" : memref<2x4xf32> to memref<2x4xf32>
  // CHECK: kiln.graph {
  kiln.graph {
    // CHECK-NEXT: kiln.launch @k0_rms_norm grid [2, 1, 1] block [32, 1, 1] smem 0 ins(%{{.*}}, %{{.*}} : memref<2x8xf32>, memref<8xf32>) outs(%{{.*}} : memref<2x8xf32>)
    kiln.launch @k0_rms_norm grid [2, 1, 1] block [32, 1, 1] smem 0 ins(%x, %gb : memref<2x8xf32>, memref<8xf32>) outs(%n : memref<2x8xf32>)
    // CHECK-NEXT: kiln.gemm %{{.*}}, %{{.*}} outs %{{.*}} : (memref<2x8xf32>, memref<8x4xf32>, memref<2x4xf32>) -> ()
    kiln.gemm %n, %wb outs %y : (memref<2x8xf32>, memref<8x4xf32>, memref<2x4xf32>) -> ()
    // CHECK-NEXT: kiln.launch @k2_silu {{.*}} ins(%[[Y:.*]] : memref<2x4xf32>) outs(%[[Y]] : memref<2x4xf32>)
    kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%y : memref<2x4xf32>) outs(%y : memref<2x4xf32>)
    kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%y : memref<2x4xf32>) outs(%z : memref<2x4xf32>)
    // CHECK: kiln.launch @k4_copy
    kiln.launch @k4_copy grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%z : memref<2x4xf32>) outs(%c : memref<2x4xf32>)
  }
  return
}

// A plan may reuse bytes once their buffer is dead: %b reuses %a's bytes
// after the launch that last reads %a.
// CHECK-LABEL: func.func @reuse()
func.func @reuse() {
  %arena = kiln.arena : memref<768xi8>
  %x = kiln.view %arena[0] input "x" : memref<768xi8> to memref<2x4xf32>
  %a = kiln.view %arena[256] : memref<768xi8> to memref<2x4xf32>
  %b = kiln.view %arena[512] : memref<768xi8> to memref<2x4xf32>
  %c = kiln.view %arena[256] output "c" : memref<768xi8> to memref<2x4xf32>
  kiln.graph {
    kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<2x4xf32>) outs(%a : memref<2x4xf32>)
    kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%a : memref<2x4xf32>) outs(%b : memref<2x4xf32>)
    kiln.launch @k2_silu grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%b : memref<2x4xf32>) outs(%c : memref<2x4xf32>)
  }
  return
}
