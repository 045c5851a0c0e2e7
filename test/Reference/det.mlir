// RUN: kiln-run %s --backend=ref | FileCheck %s
// RUN: not kiln-compile %s --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=CUDA
// CUDA: error: 'kiln.det' op in kernel @{{k[0-9]+}}_det has no CUDA lowering

// det [[2, 0, 1], [1, 3, 2], [1, 1, 1]] = 2 * (3 - 2) - 0 + 1 * (1 - 3) = 0;
// [[0, 1, 0], [1, 0, 0], [0, 0, 4]] (a row swap first) = -4.
// CHECK: output 0: f32 2 [0, -4]

func.func @main() -> tensor<2xf32> {
  %m = kiln.constant dense<[[[2.0, 0.0, 1.0], [1.0, 3.0, 2.0], [1.0, 1.0, 1.0]], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 4.0]]]> : tensor<2x3x3xf32>
  %0 = kiln.det %m : (tensor<2x3x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
