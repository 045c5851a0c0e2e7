// kiln-compile --kiln-remarks: kiln-recognize's near misses as remarks at
// the ops, once each, and the compile goes on (the graph stays correct,
// unrewritten). A rotary whose cos/sin tables differ per head (kiln.rotary
// takes a table per batch row at most) stays elementwise ops. Without the
// flag, nothing is said.
// RUN: kiln-compile %s --emit=graph --kiln-remarks -o %t.mlir 2>&1 | FileCheck %s
// RUN: FileCheck %s --check-prefix=GRAPH < %t.mlir
// RUN: kiln-compile %s --emit=graph -o /dev/null 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty

// CHECK: kiln-compile-remarks.mlir:[[@LINE+12]]:8: remark: kiln-recognize: not rewritten: rotary: cos/sin shape is not [B|1, 1, S, D]
// CHECK-NOT: remark
// GRAPH-NOT: kiln.rotary
// GRAPH: kiln.concat
// QUIET-NOT: remark
func.func @main(%x: tensor<1x2x2x4xf32>, %cos: tensor<1x2x2x4xf32>, %sin: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %0 = kiln.mul %x, %cos : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %1 = kiln.slice %x {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 0, 2>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %3 = kiln.neg %2 : tensor<1x2x2x2xf32>
  %4 = kiln.concat %3, %1 {axis = 3 : i64} : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %5 = kiln.mul %4, %sin : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  %6 = kiln.add %0, %5 : (tensor<1x2x2x4xf32>, tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32>
  return %6 : tensor<1x2x2x4xf32>
}
