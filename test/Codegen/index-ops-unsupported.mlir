// The ops of KilnIndexOps.td that are not scalar maps have no CUDA lowering
// yet: a located error at the op, never a crash.
// RUN: split-file %s %t
// RUN: not kiln-compile %t/cumsum.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=CUMSUM
// RUN: not kiln-compile %t/topk.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=TOPK
// RUN: not kiln-compile %t/argmax.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=ARGMAX
// RUN: not kiln-compile %t/gather.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=GATHER
// RUN: not kiln-compile %t/rmin.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=RMIN
// CUMSUM: cumsum.mlir:2:8: error: 'kiln.cumsum' op in kernel @{{.*}} has no CUDA lowering
// TOPK: topk.mlir:2:10: error: 'kiln.top_k' op in kernel @{{.*}} has no CUDA lowering
// ARGMAX: argmax.mlir:2:8: error: 'kiln.arg_max' op in kernel @{{.*}} has no CUDA lowering
// GATHER: gather.mlir:2:8: error: 'kiln.gather_elements' op in kernel @{{.*}} has no CUDA lowering
// RUN: not kiln-compile %t/scatter.mlir --emit=cuda -o /dev/null 2>&1 | FileCheck %s --check-prefix=SCATTER
// SCATTER: scatter.mlir:2:8: error: 'kiln.scatter_elements' op in kernel @{{.*}} has no CUDA lowering
// RMIN: rmin.mlir:2:8: error: 'kiln.reduce_min' op in kernel @{{.*}} has no CUDA lowering

//--- cumsum.mlir
func.func @main(%x: tensor<8xf32> {kiln.name = "x"}) -> tensor<8xf32> {
  %0 = kiln.cumsum %x {axis = 0 : i64} : tensor<8xf32>
  return %0 : tensor<8xf32>
}
//--- topk.mlir
func.func @main(%x: tensor<8xf32> {kiln.name = "x"}) -> (tensor<2xf32>, tensor<2xi64>) {
  %0:2 = kiln.top_k %x {axis = 0 : i64, k = 2 : i64} : (tensor<8xf32>) -> (tensor<2xf32>, tensor<2xi64>)
  return %0#0, %0#1 : tensor<2xf32>, tensor<2xi64>
}
//--- argmax.mlir
func.func @main(%x: tensor<8xf32> {kiln.name = "x"}) -> tensor<1xi64> {
  %0 = kiln.arg_max %x {axis = 0 : i64} : (tensor<8xf32>) -> tensor<1xi64>
  return %0 : tensor<1xi64>
}
//--- gather.mlir
func.func @main(%x: tensor<8xf32> {kiln.name = "x"}, %i: tensor<2xi64> {kiln.name = "i"}) -> tensor<2xf32> {
  %0 = kiln.gather_elements %x, %i {axis = 0 : i64} : (tensor<8xf32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
//--- rmin.mlir
func.func @main(%x: tensor<8xf32> {kiln.name = "x"}) -> tensor<1xf32> {
  %0 = kiln.reduce_min %x {axes = array<i64: 0>} : (tensor<8xf32>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}
//--- scatter.mlir
func.func @main(%x: tensor<8xf32> {kiln.name = "x"}, %i: tensor<2xi64> {kiln.name = "i"}, %u: tensor<2xf32> {kiln.name = "u"}) -> tensor<8xf32> {
  %0 = kiln.scatter_elements %x, %i, %u {axis = 0 : i64} : (tensor<8xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
