// What the CUDA backend cannot translate from the scheduled IR is a located
// error, not a guess: a row kernel (one block per row) launched with a block
// that is not a power of two in [32, 1024]; a launch with grid or block y/z
// other than 1; a scatter_nd launch whose data buffer is not its output
// buffer; a kernel of several ops that are not all elementwise; a function with no kiln.graph; a
// kiln.gemm of an element type the runtime's gemm record cannot express
// (f64; its activations and scale are records' fields,
// test/Reference/gemm-epilogues.test).
// RUN: split-file %s %t
// RUN: not kiln-compile %t/block48.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not kiln-compile %t/grid-y.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=GRIDY
// RUN: not kiln-compile %t/scatter.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=SCATTER
// RUN: not kiln-compile %t/two-ops.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not kiln-compile %t/no-graph.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=NOGRAPH
// RUN: not kiln-compile %t/gemm-f64.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=GEMM

// BLOCK: block48.mlir:11:7: error: 'kiln.launch' op launches @k0_softmax (kiln.softmax, one block per row) with block 48; it needs a power of two in [32, 1024]
// GRIDY: grid-y.mlir:11:7: error: 'kiln.launch' op has grid [1, 2, 1] block [256, 1, 1]; the CUDA backend's kernels are 1-D (y and z must be 1)
// SCATTER: scatter.mlir:14:7: error: 'kiln.launch' op launches the scatter_nd kernel @k0_scatter_nd with a data buffer (ins #0) that is not its output buffer (outs #0); the CUDA scatter kernel updates its output in place
// TWO: two-ops.mlir:4:10: error: 'kiln.softmax' op in fused kernel @k0_fused is not elementwise; a fused kernel holds elementwise ops only (ElementwiseOpInterface, kiln.cast, kiln.where, and gathers and slices of its arguments)
// NOGRAPH: no-graph.mlir:4:3: error: 'func.func' op is not scheduled: it has no kiln.graph; run the compile pipeline (kiln-compile-pipeline, whose last pass is kiln-schedule) first
// GEMM: gemm-f64.mlir:8:7: error: 'kiln.gemm' op has element type 'f64'; the CUDA gemm (cuBLASLt) is f32, bf16 or f16

//--- block48.mlir
module {
  kiln.kernel @k0_softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    %s = kiln.softmax %x {axis = 1 : i64} : tensor<2x8xf32>
    kiln.yield %s : tensor<2x8xf32>
  }
  func.func @main() {
    %arena = kiln.arena : memref<512xi8>
    %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<2x8xf32>
    %y = kiln.view %arena[256] output "y" : memref<512xi8> to memref<2x8xf32>
    kiln.graph {
      kiln.launch @k0_softmax grid [2, 1, 1] block [48, 1, 1] smem 0 ins(%x : memref<2x8xf32>) outs(%y : memref<2x8xf32>)
    }
    return
  }
}

//--- grid-y.mlir
module {
  kiln.kernel @k0_neg(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    %s = kiln.neg %x : tensor<2x8xf32>
    kiln.yield %s : tensor<2x8xf32>
  }
  func.func @main() {
    %arena = kiln.arena : memref<512xi8>
    %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<2x8xf32>
    %y = kiln.view %arena[256] output "y" : memref<512xi8> to memref<2x8xf32>
    kiln.graph {
      kiln.launch @k0_neg grid [1, 2, 1] block [256, 1, 1] smem 0 ins(%x : memref<2x8xf32>) outs(%y : memref<2x8xf32>)
    }
    return
  }
}

//--- scatter.mlir
module {
  kiln.kernel @k0_scatter_nd(%d: tensor<4x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<4x4xf32> {
    %s = kiln.scatter_nd %d, %i, %u : (tensor<4x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<4x4xf32>
    kiln.yield %s : tensor<4x4xf32>
  }
  func.func @main() {
    %arena = kiln.arena : memref<1024xi8>
    %d = kiln.view %arena[0] input "d" : memref<1024xi8> to memref<4x4xf32>
    %i = kiln.view %arena[256] input "i" : memref<1024xi8> to memref<2x1xi64>
    %u = kiln.view %arena[512] input "u" : memref<1024xi8> to memref<2x4xf32>
    %o = kiln.view %arena[768] output "o" : memref<1024xi8> to memref<4x4xf32>
    kiln.graph {
      // Not preceded by a copy of %d into %o, and not in place.
      kiln.launch @k0_scatter_nd grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%d, %i, %u : memref<4x4xf32>, memref<2x1xi64>, memref<2x4xf32>) outs(%o : memref<4x4xf32>)
    }
    return
  }
}

//--- two-ops.mlir
module {
  kiln.kernel @k0_fused(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
    %a = kiln.exp %x : tensor<2x8xf32>
    %b = kiln.softmax %a {axis = 1 : i64} : tensor<2x8xf32>
    kiln.yield %b : tensor<2x8xf32>
  }
  func.func @main() {
    %arena = kiln.arena : memref<512xi8>
    %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<2x8xf32>
    %y = kiln.view %arena[256] output "y" : memref<512xi8> to memref<2x8xf32>
    kiln.graph {
      kiln.launch @k0_fused grid [1, 1, 1] block [256, 1, 1] smem 0 ins(%x : memref<2x8xf32>) outs(%y : memref<2x8xf32>)
    }
    return
  }
}

//--- no-graph.mlir
// @main has lost its kiln.graph (another function of the module has one, so
// kiln-compile takes the module as scheduled and translates @main).
module {
  func.func @main() {
    %arena = kiln.arena : memref<512xi8>
    %x = kiln.view %arena[0] input "x" : memref<512xi8> to memref<2x8xf32>
    return
  }
  func.func @other() {
    %arena = kiln.arena : memref<512xi8>
    kiln.graph {
    }
    return
  }
}

//--- gemm-f64.mlir
module {
  func.func @main() {
    %arena = kiln.arena : memref<1024xi8>
    %a = kiln.view %arena[0] input "a" : memref<1024xi8> to memref<2x8xf64>
    %b = kiln.view %arena[256] input "b" : memref<1024xi8> to memref<8x4xf64>
    %c = kiln.view %arena[512] output "c" : memref<1024xi8> to memref<2x4xf64>
    kiln.graph {
      kiln.gemm %a, %b outs %c activation<gelu_tanh> : (memref<2x8xf64>, memref<8x4xf64>, memref<2x4xf64>) -> ()
    }
    return
  }
}
