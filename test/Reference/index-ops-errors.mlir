// An index out of range in kiln.gather_elements or kiln.scatter_elements, and an integer mod by zero,
// are located errors of the reference backend, never an out-of-bounds read.
// RUN: split-file %s %t
// RUN: not kiln-run %t/gather.mlir --backend=ref 2>&1 | FileCheck %s --check-prefix=GATHER
// RUN: not kiln-run %t/mod.mlir --backend=ref 2>&1 | FileCheck %s --check-prefix=MOD
// RUN: not kiln-run %t/scatter.mlir --backend=ref 2>&1 | FileCheck %s --check-prefix=SCATTER
// GATHER: gather.mlir:4:8: error: index 4 is out of range [-4, 4) of axis 1
// MOD: mod.mlir:4:8: error: integer modulo by zero
// SCATTER: scatter.mlir:5:8: error: index -5 is out of range [-4, 4) of axis 1

//--- gather.mlir
func.func @main() -> tensor<2x1xf32> {
  %x = kiln.constant dense<[[1.0, 3.0, 3.0, -2.0], [0.5, -1.0, 4.0, 4.0]]> : tensor<2x4xf32>
  %idx = kiln.constant dense<[[0], [4]]> : tensor<2x1xi64>
  %0 = kiln.gather_elements %x, %idx {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x1xi64>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}
//--- mod.mlir
func.func @main() -> tensor<2xi32> {
  %a = kiln.constant dense<[5, 6]> : tensor<2xi32>
  %b = kiln.constant dense<[2, 0]> : tensor<2xi32>
  %0 = kiln.mod %a, %b : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  return %0 : tensor<2xi32>
}
//--- scatter.mlir
func.func @main() -> tensor<2x4xf32> {
  %x = kiln.constant dense<0.0> : tensor<2x4xf32>
  %idx = kiln.constant dense<[[0], [-5]]> : tensor<2x1xi64>
  %u = kiln.constant dense<1.0> : tensor<2x1xf32>
  %0 = kiln.scatter_elements %x, %idx, %u {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x1xi64>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
