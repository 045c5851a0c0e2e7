// Unsupported element types are located errors, not crashes.
// RUN: not kiln-compile %s --emit=cuda -o /dev/null 2>&1 | FileCheck %s

func.func @main(%x: tensor<4xf16>) -> tensor<4xf16> {
  // CHECK: unsupported.mlir:[[@LINE+1]]:8: error: 'kiln.exp' op has element type 'f16', which the CUDA backend does not support yet
  %0 = kiln.exp %x : tensor<4xf16>
  return %0 : tensor<4xf16>
}
