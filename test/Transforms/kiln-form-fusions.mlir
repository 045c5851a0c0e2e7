// kiln-form-fusions: kiln.gemm for the matmuls and dense layers codegen
// sends to cuBLASLt; chains and trees of elementwise ops of one shape in one
// kiln.fusion, every other compute op in a fusion of its own; weights and
// constants stay outside. Running it twice changes nothing. max-ops=1 is the
// one-op-per-fusion policy.
//
// RUN: kiln-opt %s --kiln-form-fusions --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-form-fusions --split-input-file | kiln-opt --kiln-form-fusions --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-form-fusions=max-ops=1 --split-input-file | FileCheck %s --check-prefix=ONE

//===----------------------------------------------------------------------===//
// Positive
//===----------------------------------------------------------------------===//

// A chain of elementwise ops of one shape is one fusion; a repeated operand
// is one input.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[A:.+]]: tensor<4xf32>)
// ONE-LABEL: func.func @chain
func.func @chain(%a: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[A]] : (tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<4xf32>):
  // CHECK-NEXT: %[[M:.+]] = kiln.mul %[[X]], %[[X]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK-NEXT: %[[E:.+]] = kiln.exp %[[M]] : tensor<4xf32>
  // CHECK-NEXT: %[[N:.+]] = kiln.neg %[[E]] : tensor<4xf32>
  // CHECK-NEXT: kiln.yield %[[N]] : tensor<4xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  // With max-ops=1, one fusion per op, as before fusion existed.
  // ONE-NEXT: %[[F:.+]] = kiln.fusion %{{.+}} : (tensor<4xf32>) -> tensor<4xf32> {
  // ONE-NEXT: ^bb0(%[[X:.+]]: tensor<4xf32>):
  // ONE-NEXT: %[[M:.+]] = kiln.mul %[[X]], %[[X]]
  // ONE-NEXT: kiln.yield %[[M]] : tensor<4xf32>
  // ONE-NEXT: }
  // ONE-NEXT: %[[G:.+]] = kiln.fusion %[[F]] : (tensor<4xf32>) -> tensor<4xf32> {
  // ONE-NEXT: ^bb0(%[[Y:.+]]: tensor<4xf32>):
  // ONE-NEXT: kiln.exp %[[Y]] : tensor<4xf32>
  // ONE-NEXT: kiln.yield
  // ONE-NEXT: }
  // ONE-NEXT: %[[H:.+]] = kiln.fusion %[[G]]
  // ONE-NEXT: ^bb0
  // ONE-NEXT: kiln.neg
  // ONE-NEXT: kiln.yield
  // ONE-NEXT: }
  // ONE-NEXT: return %[[H]]
  %0 = kiln.mul %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = kiln.exp %0 : tensor<4xf32>
  %2 = kiln.neg %1 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// A tree: silu(gate) * up, with a broadcast operand (the fusion's inputs may
// broadcast), a cast and a where. The inputs are in order of first use.
// CHECK-LABEL: func.func @tree
// CHECK-SAME: (%[[G:.+]]: tensor<2x8xf32>, %[[U:.+]]: tensor<2x8xf32>, %[[S:.+]]: tensor<8xf32>, %[[C:.+]]: tensor<2x8xi1>)
func.func @tree(%gate: tensor<2x8xf32>, %up: tensor<2x8xf32>, %s: tensor<8xf32>, %c: tensor<2x8xi1>) -> tensor<2x8xf64> {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[G]], %[[U]], %[[S]], %[[C]] : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xi1>) -> tensor<2x8xf64> {
  // CHECK-NEXT: ^bb0(%[[XG:.+]]: tensor<2x8xf32>, %[[XU:.+]]: tensor<2x8xf32>, %[[XS:.+]]: tensor<8xf32>, %[[XC:.+]]: tensor<2x8xi1>):
  // CHECK-NEXT: %[[A:.+]] = kiln.silu %[[XG]]
  // CHECK-NEXT: %[[B:.+]] = kiln.mul %[[XU]], %[[XS]]
  // CHECK-NEXT: %[[M:.+]] = kiln.mul %[[A]], %[[B]]
  // CHECK-NEXT: %[[W:.+]] = kiln.where %[[XC]], %[[M]], %[[XU]]
  // CHECK-NEXT: %[[R:.+]] = kiln.cast %[[W]] : tensor<2x8xf32> -> tensor<2x8xf64>
  // CHECK-NEXT: kiln.yield %[[R]] : tensor<2x8xf64>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %0 = kiln.silu %gate : tensor<2x8xf32>
  %1 = kiln.mul %up, %s : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %2 = kiln.mul %0, %1 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = kiln.where %c, %2, %up : (tensor<2x8xi1>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %4 = kiln.cast %3 : tensor<2x8xf32> -> tensor<2x8xf64>
  return %4 : tensor<2x8xf64>
}

// -----

// A diamond: a producer used twice in the group is computed once, inside.
// CHECK-LABEL: func.func @diamond
// CHECK-SAME: (%[[A:.+]]: tensor<4xf32>, %[[B:.+]]: tensor<4xf32>)
func.func @diamond(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[A]], %[[B]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.mul
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %0 = kiln.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = kiln.exp %0 : tensor<4xf32>
  %2 = kiln.mul %1, %0 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// -----

// An f32 linear becomes a gemm: its bias is the bias epilogue and
// transpose_weight is transpose_b. The weights stay outside, as operands.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>)
func.func @linear(%x: tensor<1x8x64xf32>) -> (tensor<1x8x192xf32>, tensor<1x8x192xf32>) {
  // CHECK-NEXT: %[[W:.+]] = kiln.weight "w"
  // CHECK-NEXT: %[[B:.+]] = kiln.weight "b"
  // CHECK-NEXT: %[[WT:.+]] = kiln.weight "wt"
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 49152 : i64} : tensor<64x192xf32>
  %b = kiln.weight "b" {path = "w.bin", offset = 49152 : i64, length = 768 : i64} : tensor<192xf32>
  %wt = kiln.weight "wt" {path = "w.bin", offset = 49920 : i64, length = 49152 : i64} : tensor<192x64xf32>
  // CHECK-NEXT: %[[R0:.+]] = kiln.gemm %[[X]], %[[W]], %[[B]] : (tensor<1x8x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  %0 = kiln.linear %x, %w, %b : (tensor<1x8x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  // CHECK-NEXT: %[[R1:.+]] = kiln.gemm %[[X]], %[[WT]] transpose_b : (tensor<1x8x64xf32>, tensor<192x64xf32>) -> tensor<1x8x192xf32>
  %1 = kiln.linear %x, %wt {transpose_weight = true} : (tensor<1x8x64xf32>, tensor<192x64xf32>) -> tensor<1x8x192xf32>
  // CHECK-NEXT: return %[[R0]], %[[R1]]
  return %0, %1 : tensor<1x8x192xf32>, tensor<1x8x192xf32>
}

// -----

// An f32 matmul whose operands' batch dims are the result's or all 1 is a
// gemm (attention scores, broadcast rhs).
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x8x16xf32>, %[[K:.+]]: tensor<1x4x16x8xf32>, %[[P:.+]]: tensor<16x8xf32>)
func.func @matmul(%q: tensor<1x4x8x16xf32>, %kt: tensor<1x4x16x8xf32>, %p: tensor<16x8xf32>)
    -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) {
  // CHECK-NEXT: %[[S:.+]] = kiln.gemm %[[Q]], %[[K]] : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  %0 = kiln.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  // CHECK-NEXT: %[[T:.+]] = kiln.gemm %[[Q]], %[[P]] : (tensor<1x4x8x16xf32>, tensor<16x8xf32>) -> tensor<1x4x8x8xf32>
  %1 = kiln.matmul %q, %p : (tensor<1x4x8x16xf32>, tensor<16x8xf32>) -> tensor<1x4x8x8xf32>
  // CHECK-NEXT: return %[[S]], %[[T]]
  return %0, %1 : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
}

// -----

// A residual add of a gemm's only use is the gemm's residual epilogue
// (cuBLASLt's C, beta = 1), in either operand order, before any grouping:
// the add is not put in the following elementwise fusion.
// CHECK-LABEL: func.func @residual
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[R:.+]]: tensor<1x8x64xf32>)
func.func @residual(%x: tensor<1x8x64xf32>, %r: tensor<1x8x64xf32>) -> tensor<1x8x64xf32> {
  // CHECK-NEXT: %[[W:.+]] = kiln.weight "w"
  // CHECK-NEXT: %[[B:.+]] = kiln.weight "b"
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  %b = kiln.weight "b" {path = "w.bin", offset = 16384 : i64, length = 256 : i64} : tensor<64xf32>
  // CHECK-NEXT: %[[G0:.+]] = kiln.gemm %[[X]], %[[W]], %[[B]] residual %[[R]] : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %0 = kiln.linear %x, %w, %b : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.add %0, %r : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[G1:.+]] = kiln.gemm %[[G0]], %[[W]] residual %[[G0]] : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %2 = kiln.matmul %1, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.add %1, %2 : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[G1]] : (tensor<1x8x64xf32>) -> tensor<1x8x64xf32> {
  // CHECK-NEXT: ^bb0(%[[Y:.+]]: tensor<1x8x64xf32>):
  // CHECK-NEXT: %[[N:.+]] = kiln.neg %[[Y]] : tensor<1x8x64xf32>
  // CHECK-NEXT: kiln.yield %[[N]] : tensor<1x8x64xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %4 = kiln.neg %3 : tensor<1x8x64xf32>
  return %4 : tensor<1x8x64xf32>
}

// -----

// GPT-2's dense layers are 2-D: the residual add reads a reshape (a view) of
// the gemm's result. The residual is reshaped to the gemm's type instead.
// CHECK-LABEL: func.func @residual_reshape
// CHECK-SAME: (%[[X:.+]]: tensor<8x64xf32>, %[[R:.+]]: tensor<1x8x64xf32>)
func.func @residual_reshape(%x: tensor<8x64xf32>, %r: tensor<1x8x64xf32>) -> tensor<1x8x64xf32> {
  // CHECK-NEXT: %[[W:.+]] = kiln.weight "w"
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  // CHECK-NEXT: %[[R2:.+]] = kiln.reshape %[[R]] : tensor<1x8x64xf32> -> tensor<8x64xf32>
  // CHECK-NEXT: %[[G:.+]] = kiln.gemm %[[X]], %[[W]] residual %[[R2]] : (tensor<8x64xf32>, tensor<64x64xf32>, tensor<8x64xf32>) -> tensor<8x64xf32>
  // CHECK-NEXT: %[[S:.+]] = kiln.reshape %[[G]] : tensor<8x64xf32> -> tensor<1x8x64xf32>
  // CHECK-NEXT: return %[[S]]
  %0 = kiln.linear %x, %w : (tensor<8x64xf32>, tensor<64x64xf32>) -> tensor<8x64xf32>
  %1 = kiln.reshape %0 : tensor<8x64xf32> -> tensor<1x8x64xf32>
  %2 = kiln.add %r, %1 : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %2 : tensor<1x8x64xf32>
}

//===----------------------------------------------------------------------===//
// Negative: what is not fused together
//===----------------------------------------------------------------------===//

// -----

// No residual epilogue: a broadcast residual ([64] added to [1x8x64]), a
// gemm result with a second user, and a second add after a gemm that already
// has a residual. Each add is a fusion of its own.
// CHECK-LABEL: func.func @not_residual
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[V:.+]]: tensor<64xf32>, %[[R:.+]]: tensor<1x8x64xf32>)
func.func @not_residual(%x: tensor<1x8x64xf32>, %v: tensor<64xf32>, %r: tensor<1x8x64xf32>)
    -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  // CHECK-NEXT: %[[W:.+]] = kiln.weight "w"
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 16384 : i64} : tensor<64x64xf32>
  // CHECK-NEXT: %[[G0:.+]] = kiln.gemm %[[X]], %[[W]] : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[A0:.+]] = kiln.fusion %[[G0]], %[[V]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add {{.*}} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  %0 = kiln.linear %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.add %0, %v : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[G1:.+]] = kiln.gemm %[[X]], %[[W]] : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[A1:.+]] = kiln.fusion %[[G1]], %[[R]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  %2 = kiln.linear %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.add %2, %r : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[G2:.+]] = kiln.gemm %[[X]], %[[W]] residual %[[R]] : (tensor<1x8x64xf32>, tensor<64x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK-NEXT: %[[A2:.+]] = kiln.fusion %[[G2]], %[[X]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NOT: kiln.gemm
  // CHECK: return %[[A0]], %[[A1]], %[[G1]], %[[A2]]
  %4 = kiln.linear %x, %w : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>
  %5 = kiln.add %4, %r : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %6 = kiln.add %5, %x : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %1, %3, %2, %6 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// -----

// A small producer that broadcasts into the group (the [8] exp, broadcast
// by the add into [2x8]) joins it: it is computed per element of the loop
// from its broadcast operand, which saves its launch and its stored row.
// CHECK-LABEL: func.func @broadcast_intermediate
func.func @broadcast_intermediate(%a: tensor<8xf32>, %b: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %{{.+}}, %{{.+}} : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp {{.*}} : tensor<8xf32>
  // CHECK-NEXT: kiln.tanh
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %0 = kiln.exp %a : tensor<8xf32>
  %1 = kiln.tanh %b : tensor<2x8xf32>
  %2 = kiln.add %1, %0 : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %2 : tensor<2x8xf32>
}

// -----

// No large broadcast intermediate: an [8192] exp (above the 4096 elements a
// group may compute again per element) broadcast into [2x8192] is a kernel
// of its own.
// CHECK-LABEL: func.func @broadcast_intermediate_large
func.func @broadcast_intermediate_large(%a: tensor<8192xf32>, %b: tensor<2x8192xf32>) -> tensor<2x8192xf32> {
  // CHECK-NEXT: %[[E:.+]] = kiln.fusion %{{.+}} : (tensor<8192xf32>) -> tensor<8192xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %{{.+}}, %[[E]] : (tensor<2x8192xf32>, tensor<8192xf32>) -> tensor<2x8192xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.tanh
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  %0 = kiln.exp %a : tensor<8192xf32>
  %1 = kiln.tanh %b : tensor<2x8192xf32>
  %2 = kiln.add %1, %0 : (tensor<2x8192xf32>, tensor<8192xf32>) -> tensor<2x8192xf32>
  return %2 : tensor<2x8192xf32>
}

// -----

// A small producer read by two elementwise groups (a rotary table's angle,
// read by cos and by sin) is computed again in each: no kernel of its own.
// CHECK-LABEL: func.func @copied_into_two_groups
func.func @copied_into_two_groups(%p: tensor<1x1xi64>, %f: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  // CHECK-NEXT: %[[C:.+]] = kiln.fusion %{{.+}}, %{{.+}} : (tensor<1x1xi64>, tensor<1x8xf32>) -> tensor<1x8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.cast {{.*}} -> tensor<1x1xf32>
  // CHECK-NEXT: kiln.mul
  // CHECK-NEXT: kiln.cos
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[S:.+]] = kiln.fusion %{{.+}}, %{{.+}} : (tensor<1x1xi64>, tensor<1x8xf32>) -> tensor<1x8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.cast
  // CHECK-NEXT: kiln.mul
  // CHECK-NEXT: kiln.sin
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[C]], %[[S]]
  %0 = kiln.cast %p : tensor<1x1xi64> -> tensor<1x1xf32>
  %1 = kiln.mul %f, %0 : (tensor<1x8xf32>, tensor<1x1xf32>) -> tensor<1x8xf32>
  %2 = kiln.cos %1 : tensor<1x8xf32>
  %3 = kiln.sin %1 : tensor<1x8xf32>
  return %2, %3 : tensor<1x8xf32>, tensor<1x8xf32>
}

// -----

// Not copied where the original must be stored anyway (a reader that is not
// elementwise, here the return) or where an operand is large (it would be
// read twice): the producer is a kernel of its own.
// CHECK-LABEL: func.func @not_copied
func.func @not_copied(%a: tensor<8xf32>, %b: tensor<8192xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8192xf32>, tensor<8192xf32>) {
  // CHECK-NEXT: %[[E:.+]] = kiln.fusion %{{.+}} : (tensor<8xf32>) -> tensor<8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[N:.+]] = kiln.fusion %[[E]] : (tensor<8xf32>) -> tensor<8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.neg
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[L:.+]] = kiln.fusion %{{.+}} : (tensor<8192xf32>) -> tensor<8192xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[LN:.+]] = kiln.fusion %[[L]] : (tensor<8192xf32>) -> tensor<8192xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.neg
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[LA:.+]] = kiln.fusion %[[L]] : (tensor<8192xf32>) -> tensor<8192xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.abs
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[E]], %[[N]], %[[LN]], %[[LA]]
  %0 = kiln.exp %a : tensor<8xf32>
  %1 = kiln.neg %0 : tensor<8xf32>
  %2 = kiln.exp %b : tensor<8192xf32>
  %3 = kiln.neg %2 : tensor<8192xf32>
  %4 = kiln.abs %2 : tensor<8192xf32>
  return %0, %1, %3, %4 : tensor<8xf32>, tensor<8xf32>, tensor<8192xf32>, tensor<8192xf32>
}

// -----

// A producer with a user outside the group (here the return, a residual
// stream) stays a fusion of its own: its result must be stored anyway.
// CHECK-LABEL: func.func @outside_user
func.func @outside_user(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // CHECK-NEXT: %[[S:.+]] = kiln.fusion %{{.+}}, %{{.+}} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[T:.+]] = kiln.fusion %[[S]] : (tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.sigmoid
  // CHECK-NEXT: kiln.neg
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[S]], %[[T]]
  %0 = kiln.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = kiln.sigmoid %0 : tensor<4xf32>
  %2 = kiln.neg %1 : tensor<4xf32>
  return %0, %2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// A non-elementwise op between elementwise ones splits the chain: exp,
// then the softmax, then mul + add (a group that does not reach across).
// CHECK-LABEL: func.func @not_elementwise_between
func.func @not_elementwise_between(%a: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK-NEXT: %[[E:.+]] = kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[S:.+]] = kiln.fusion %[[E]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.softmax
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[M:.+]] = kiln.fusion %[[S]], %{{.+}}
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.mul
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[M]]
  %0 = kiln.exp %a : tensor<2x8xf32>
  %1 = kiln.softmax %0 {axis = 1 : i64} : tensor<2x8xf32>
  %2 = kiln.mul %1, %1 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = kiln.add %2, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %3 : tensor<2x8xf32>
}

// -----

// A view of a scalar map's result moves onto the map's operand, so the
// maps on either side of it are one group.
// CHECK-LABEL: func.func @view_into_map
func.func @view_into_map(%a: tensor<2x8xf32>) -> tensor<16xf32> {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %{{.+}} : tensor<2x8xf32> -> tensor<16xf32>
  // CHECK-NEXT: %[[N:.+]] = kiln.fusion %[[R]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.neg
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[N]]
  %0 = kiln.exp %a : tensor<2x8xf32>
  %1 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<16xf32>
  %2 = kiln.neg %1 : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// A view stays outside, between two fusions, where the map it reads has
// a computed operand that is not a map (the softmax: a product or a norm
// keeps its elementwise epilogue next to it) or another reader.
// CHECK-LABEL: func.func @view_between
func.func @view_between(%a: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<16xf32>, tensor<16xf32>) {
  // CHECK: %[[E:.+]] = kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[E]]
  // CHECK-NEXT: %[[N:.+]] = kiln.fusion %[[R]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.neg
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK: kiln.softmax
  // CHECK: %[[E2:.+]] = kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[R2:.+]] = kiln.reshape %[[E2]]
  // CHECK-NEXT: %[[N2:.+]] = kiln.fusion %[[R2]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.neg
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[E]], %[[N]], %[[N2]]
  %0 = kiln.exp %a : tensor<2x8xf32>
  %1 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<16xf32>
  %2 = kiln.neg %1 : tensor<16xf32>
  %s = kiln.softmax %a {axis = 1 : i64} : tensor<2x8xf32>
  %4 = kiln.exp %s : tensor<2x8xf32>
  %5 = kiln.reshape %4 : tensor<2x8xf32> -> tensor<16xf32>
  %6 = kiln.neg %5 : tensor<16xf32>
  return %0, %2, %6 : tensor<2x8xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Negative: what is not wrapped, and products cuBLASLt does not run
//===----------------------------------------------------------------------===//

// -----

// Weights and constants are not kernels: they stay outside and become
// operands of the fusion that reads them.
// CHECK-LABEL: func.func @weights_and_constants
// CHECK-SAME: (%[[X:.+]]: tensor<8x64xf32>)
func.func @weights_and_constants(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: %[[G:.+]] = kiln.weight "g"
  // CHECK-NEXT: %[[C:.+]] = kiln.constant dense<2.000000e+00> : tensor<f32>
  // CHECK-NOT: kiln.fusion{{.*}}kiln.weight
  // CHECK-NEXT: %[[N:.+]] = kiln.fusion %[[X]], %[[G]] : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32> {
  // CHECK: kiln.rms_norm
  // CHECK: %[[M:.+]] = kiln.fusion %[[N]], %[[C]] : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32> {
  // CHECK-NEXT: ^bb0(%{{.+}}: tensor<8x64xf32>, %{{.+}}: tensor<f32>):
  // CHECK-NEXT: kiln.mul
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[M]]
  %g = kiln.weight "g" {path = "w.bin", offset = 0 : i64, length = 256 : i64} : tensor<64xf32>
  %c = kiln.constant dense<2.0> : tensor<f32>
  %0 = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-06 : f32} : (tensor<8x64xf32>, tensor<64xf32>) -> tensor<8x64xf32>
  %1 = kiln.mul %0, %c : (tensor<8x64xf32>, tensor<f32>) -> tensor<8x64xf32>
  return %1 : tensor<8x64xf32>
}

// -----

// Products codegen does not send to cuBLASLt stay generated kernels, each in
// its own fusion: an f64 matmul, a matmul whose lhs batch [2x1] broadcasts to
// [2x3], and a linear with a 1-D input.
// CHECK-LABEL: func.func @not_gemm
func.func @not_gemm(%a: tensor<2x8xf64>, %b: tensor<8x4xf64>,
                    %c: tensor<2x1x8x4xf32>, %d: tensor<1x3x4x8xf32>,
                    %x: tensor<64xf32>, %w: tensor<64x8xf32>)
    -> (tensor<2x4xf64>, tensor<2x3x8x8xf32>, tensor<8xf32>) {
  // CHECK-NOT: kiln.gemm
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.matmul {{.*}} -> tensor<2x4xf64>
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.matmul {{.*}} -> tensor<2x3x8x8xf32>
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.linear {{.*}} -> tensor<8xf32>
  // CHECK-NOT: kiln.gemm
  // CHECK: return
  %0 = kiln.matmul %a, %b : (tensor<2x8xf64>, tensor<8x4xf64>) -> tensor<2x4xf64>
  %1 = kiln.matmul %c, %d : (tensor<2x1x8x4xf32>, tensor<1x3x4x8xf32>) -> tensor<2x3x8x8xf32>
  %2 = kiln.linear %x, %w : (tensor<64xf32>, tensor<64x8xf32>) -> tensor<8xf32>
  return %0, %1, %2 : tensor<2x4xf64>, tensor<2x3x8x8xf32>, tensor<8xf32>
}

// -----

// A model exported in bf16: its products are cuBLASLt gemms too (as an f32
// product lowered by --precision bf16 is), but the add after one stays an
// elementwise kernel: the graph rounds the product to bf16 and then the
// sum, where a residual epilogue would round once.
// CHECK-LABEL: func.func @bf16_gemm
// CHECK: %[[P:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<2x8xbf16>, tensor<8x4xbf16>) -> tensor<2x4xbf16>
// CHECK-NEXT: %[[L:.+]] = kiln.gemm %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2x8xbf16>, tensor<8x4xbf16>, tensor<4xbf16>) -> tensor<2x4xbf16>
// CHECK-NEXT: kiln.fusion %[[P]], %{{.+}}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.add
func.func @bf16_gemm(%a: tensor<2x8xbf16>, %b: tensor<8x4xbf16>, %bias: tensor<4xbf16>, %r: tensor<2x4xbf16>)
    -> (tensor<2x4xbf16>, tensor<2x4xbf16>) {
  %0 = kiln.matmul %a, %b : (tensor<2x8xbf16>, tensor<8x4xbf16>) -> tensor<2x4xbf16>
  %1 = kiln.linear %a, %b, %bias : (tensor<2x8xbf16>, tensor<8x4xbf16>, tensor<4xbf16>) -> tensor<2x4xbf16>
  %2 = kiln.add %0, %r : (tensor<2x4xbf16>, tensor<2x4xbf16>) -> tensor<2x4xbf16>
  return %2, %1 : tensor<2x4xbf16>, tensor<2x4xbf16>
}

// -----

// And in f16 (since session 12 the CUDA backend has f16 gemms: cuBLASLt's
// CUDA_R_16F with f32 compute): the same two gemms, the add not folded.
// CHECK-LABEL: func.func @f16_gemm
// CHECK: %[[P:.+]] = kiln.gemm %{{.+}}, %{{.+}} : (tensor<2x8xf16>, tensor<8x4xf16>) -> tensor<2x4xf16>
// CHECK-NEXT: %[[L:.+]] = kiln.gemm %{{.+}}, %{{.+}}, %{{.+}} : (tensor<2x8xf16>, tensor<8x4xf16>, tensor<4xf16>) -> tensor<2x4xf16>
// CHECK-NEXT: kiln.fusion %[[P]], %{{.+}}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.add
func.func @f16_gemm(%a: tensor<2x8xf16>, %b: tensor<8x4xf16>, %bias: tensor<4xf16>, %r: tensor<2x4xf16>)
    -> (tensor<2x4xf16>, tensor<2x4xf16>) {
  %0 = kiln.matmul %a, %b : (tensor<2x8xf16>, tensor<8x4xf16>) -> tensor<2x4xf16>
  %1 = kiln.linear %a, %b, %bias : (tensor<2x8xf16>, tensor<8x4xf16>, tensor<4xf16>) -> tensor<2x4xf16>
  %2 = kiln.add %0, %r : (tensor<2x4xf16>, tensor<2x4xf16>) -> tensor<2x4xf16>
  return %2, %1 : tensor<2x4xf16>, tensor<2x4xf16>
}

// -----

// IR already at the fused level is left alone.
// CHECK-LABEL: func.func @already_fused
// CHECK-SAME: (%[[A:.+]]: tensor<4xf32>)
func.func @already_fused(%a: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[A]]
  // CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<4xf32>):
  // CHECK-NEXT: %[[E:.+]] = kiln.exp %[[X]]
  // CHECK-NEXT: %[[N:.+]] = kiln.neg %[[E]]
  // CHECK-NEXT: kiln.yield %[[N]]
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %0 = kiln.fusion %a : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%x: tensor<4xf32>):
    %e = kiln.exp %x : tensor<4xf32>
    %n = kiln.neg %e : tensor<4xf32>
    kiln.yield %n : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Edge cases
//===----------------------------------------------------------------------===//

// -----

// A multi-result op is one fusion with several results.
// CHECK-LABEL: func.func @multi_result
// CHECK-SAME: (%[[A:.+]]: tensor<1x8x192xf32>)
func.func @multi_result(%a: tensor<1x8x192xf32>)
    -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  // CHECK-NEXT: %[[S:.+]]:3 = kiln.fusion %[[A]] : (tensor<1x8x192xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>) {
  // CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<1x8x192xf32>):
  // CHECK-NEXT: %[[P:.+]]:3 = kiln.split %[[X]]
  // CHECK-NEXT: kiln.yield %[[P]]#0, %[[P]]#1, %[[P]]#2 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[S]]#0, %[[S]]#1, %[[S]]#2
  %0:3 = kiln.split %a {axis = 2 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
  return %0#0, %0#1, %0#2 : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

// -----

// A gather reading a weight (embedding lookup): the weight is an operand.
// CHECK-LABEL: func.func @weight_operand
// CHECK-SAME: (%[[I:.+]]: tensor<1x8xi64>)
func.func @weight_operand(%ids: tensor<1x8xi64>) -> tensor<1x8x64xf32> {
  // CHECK-NEXT: %[[T:.+]] = kiln.weight "embed"
  // CHECK-NEXT: %[[E:.+]] = kiln.fusion %[[T]], %[[I]] : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<512x64xf32>, %[[Y:.+]]: tensor<1x8xi64>):
  // CHECK-NEXT: kiln.gather %[[X]], %[[Y]]
  %t = kiln.weight "embed" {path = "w.bin", offset = 0 : i64, length = 131072 : i64} : tensor<512x64xf32>
  %0 = kiln.gather %t, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
  return %0 : tensor<1x8x64xf32>
}

// -----

// Zero-size tensors are wrapped like any other (and a zero-row linear is
// still a gemm).
// CHECK-LABEL: func.func @zero_size
// CHECK-SAME: (%[[A:.+]]: tensor<0x4xf32>, %[[W:.+]]: tensor<4x8xf32>)
func.func @zero_size(%a: tensor<0x4xf32>, %w: tensor<4x8xf32>) -> (tensor<0x4xf32>, tensor<0x8xf32>) {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[A]] : (tensor<0x4xf32>) -> tensor<0x4xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<0x4xf32>):
  // CHECK-NEXT: kiln.tanh %[[X]] : tensor<0x4xf32>
  // CHECK: %[[G:.+]] = kiln.gemm %[[A]], %[[W]] : (tensor<0x4xf32>, tensor<4x8xf32>) -> tensor<0x8xf32>
  // CHECK-NEXT: return %[[F]], %[[G]]
  %0 = kiln.tanh %a : tensor<0x4xf32>
  %1 = kiln.linear %a, %w : (tensor<0x4xf32>, tensor<4x8xf32>) -> tensor<0x8xf32>
  return %0, %1 : tensor<0x4xf32>, tensor<0x8xf32>
}

// -----

// An unused op is erased, as by every pass that runs the greedy driver.
// CHECK-LABEL: func.func @dead
// CHECK-SAME: (%[[A:.+]]: tensor<4xf32>)
func.func @dead(%a: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: return %[[A]]
  %0 = kiln.exp %a : tensor<4xf32>
  return %a : tensor<4xf32>
}

// -----

// Gathers of the group's shape that only the group reads are its leaves
// (GPT-2's token and position embeddings and their sum: one kernel); their
// data and indices stay operands, and the group does not grow through
// them (the position cast stays a kernel of its own).
// CHECK-LABEL: func.func @gather_leaves
// CHECK-SAME: (%[[IDS:.+]]: tensor<1x4xi64>, %[[P:.+]]: tensor<1x4xi32>)
func.func @gather_leaves(%ids: tensor<1x4xi64>, %p: tensor<1x4xi32>) -> tensor<1x4x8xf32> {
  // CHECK: %[[PC:.+]] = kiln.fusion %[[P]] : (tensor<1x4xi32>) -> tensor<1x4xi64> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.cast
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %{{.+}}, %[[IDS]], %{{.+}}, %[[PC]] : (tensor<32x8xf32>, tensor<1x4xi64>, tensor<16x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.gather
  // CHECK-NEXT: kiln.gather
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %wte = kiln.weight "wte" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<32x8xf32>
  %wpe = kiln.weight "wpe" {path = "w.bin", offset = 1024 : i64, length = 512 : i64} : tensor<16x8xf32>
  %0 = kiln.gather %wte, %ids {axis = 0 : i64} : (tensor<32x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %pc = kiln.cast %p : tensor<1x4xi32> -> tensor<1x4xi64>
  %1 = kiln.gather %wpe, %pc {axis = 0 : i64} : (tensor<16x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %2 = kiln.add %0, %1 : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %2 : tensor<1x4x8xf32>
}

// -----

// Not leaves: a gather another op reads too (its result is stored anyway),
// and one whose result broadcasts into the group.
// CHECK-LABEL: func.func @gather_not_leaves
func.func @gather_not_leaves(%ids: tensor<1x4xi64>, %x: tensor<2x4x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<2x4x8xf32>) {
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.gather
  // CHECK-NEXT: kiln.yield
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.gather
  // CHECK-NEXT: kiln.yield
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  %wte = kiln.weight "wte" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<32x8xf32>
  %0 = kiln.gather %wte, %ids {axis = 0 : i64} : (tensor<32x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %1 = kiln.exp %0 : tensor<1x4x8xf32>
  %2 = kiln.gather %wte, %ids {axis = 0 : i64} : (tensor<32x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  %3 = kiln.add %x, %2 : (tensor<2x4x8xf32>, tensor<1x4x8xf32>) -> tensor<2x4x8xf32>
  return %0, %1, %3 : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<2x4x8xf32>
}
