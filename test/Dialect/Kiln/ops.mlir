// Round-trip of every kiln op: custom form -> custom form, custom -> generic ->
// custom, and MLIR's own textual + bytecode round-trip check.
//
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC
// RUN: kiln-opt %s --verify-roundtrip > /dev/null

//===----------------------------------------------------------------------===//
// Elementwise binary
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @arith
// CHECK-SAME: (%[[A:.+]]: tensor<1x8x64xf32>, %[[B:.+]]: tensor<64xf32>, %[[C:.+]]: tensor<2x1xi32>, %[[D:.+]]: tensor<1x3xi32>, %[[E:.+]]: tensor<4xf16>, %[[F:.+]]: tensor<f16>)
// GENERIC-LABEL: sym_name = "arith"
func.func @arith(%a: tensor<1x8x64xf32>, %b: tensor<64xf32>,
                 %c: tensor<2x1xi32>, %d: tensor<1x3xi32>,
                 %e: tensor<4xf16>, %f: tensor<f16>)
    -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<2x3xi32>, tensor<4xf16>,
        tensor<4xf16>, tensor<2x3xi32>, tensor<2x3xi32>) {
  // CHECK: %[[ADD:.+]] = kiln.add %[[A]], %[[B]] : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // GENERIC: "kiln.add"(%{{.+}}, %{{.+}}) : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %0 = kiln.add %a, %b : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK: %[[SUB:.+]] = kiln.sub %[[A]], %[[B]] : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.sub %a, %b : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK: %[[MUL:.+]] = kiln.mul %[[C]], %[[D]] : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  %2 = kiln.mul %c, %d : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  // CHECK: %[[DIV:.+]] = kiln.div %[[E]], %[[F]] : (tensor<4xf16>, tensor<f16>) -> tensor<4xf16>
  %3 = kiln.div %e, %f : (tensor<4xf16>, tensor<f16>) -> tensor<4xf16>
  // CHECK: %[[POW:.+]] = kiln.pow %[[E]], %[[F]] : (tensor<4xf16>, tensor<f16>) -> tensor<4xf16>
  %4 = kiln.pow %e, %f : (tensor<4xf16>, tensor<f16>) -> tensor<4xf16>
  // CHECK: %[[MAX:.+]] = kiln.max %[[C]], %[[D]] : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  %5 = kiln.max %c, %d : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  // CHECK: %[[MIN:.+]] = kiln.min %[[C]], %[[D]] : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  %6 = kiln.min %c, %d : (tensor<2x1xi32>, tensor<1x3xi32>) -> tensor<2x3xi32>
  // CHECK: return %[[ADD]], %[[SUB]], %[[MUL]], %[[DIV]], %[[POW]], %[[MAX]], %[[MIN]]
  return %0, %1, %2, %3, %4, %5, %6
      : tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<2x3xi32>, tensor<4xf16>,
        tensor<4xf16>, tensor<2x3xi32>, tensor<2x3xi32>
}

// CHECK-LABEL: func.func @arith_other_element_types
func.func @arith_other_element_types(%a: tensor<2xbf16>, %b: tensor<2xf64>,
                                     %c: tensor<2xi8>, %d: tensor<2xi64>,
                                     %e: tensor<2xui8>)
    -> (tensor<2xbf16>, tensor<2xf64>, tensor<2xi8>, tensor<2xi64>, tensor<2xui8>) {
  // CHECK: kiln.add %{{.+}}, %{{.+}} : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<2xbf16>
  %0 = kiln.add %a, %a : (tensor<2xbf16>, tensor<2xbf16>) -> tensor<2xbf16>
  // CHECK: kiln.add %{{.+}}, %{{.+}} : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %1 = kiln.add %b, %b : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  // CHECK: kiln.add %{{.+}}, %{{.+}} : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  %2 = kiln.add %c, %c : (tensor<2xi8>, tensor<2xi8>) -> tensor<2xi8>
  // CHECK: kiln.add %{{.+}}, %{{.+}} : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %3 = kiln.add %d, %d : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  // CHECK: kiln.add %{{.+}}, %{{.+}} : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %4 = kiln.add %e, %e : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  return %0, %1, %2, %3, %4
      : tensor<2xbf16>, tensor<2xf64>, tensor<2xi8>, tensor<2xi64>, tensor<2xui8>
}

// CHECK-LABEL: func.func @compare
// CHECK-SAME: (%[[A:.+]]: tensor<2x3xf32>, %[[B:.+]]: tensor<3xf32>)
func.func @compare(%a: tensor<2x3xf32>, %b: tensor<3xf32>)
    -> (tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>,
        tensor<2x3xi1>) {
  // CHECK: %[[EQ:.+]] = kiln.equal %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %0 = kiln.equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: %[[GT:.+]] = kiln.greater %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %1 = kiln.greater %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: %[[GE:.+]] = kiln.greater_equal %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %2 = kiln.greater_equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: %[[LT:.+]] = kiln.less %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %3 = kiln.less %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: %[[LE:.+]] = kiln.less_equal %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %4 = kiln.less_equal %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: return %[[EQ]], %[[GT]], %[[GE]], %[[LT]], %[[LE]]
  return %0, %1, %2, %3, %4
      : tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>,
        tensor<2x3xi1>
}

// CHECK-LABEL: func.func @logic
// CHECK-SAME: (%[[A:.+]]: tensor<4xi1>, %[[B:.+]]: tensor<1xi1>)
func.func @logic(%a: tensor<4xi1>, %b: tensor<1xi1>)
    -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  // CHECK: %[[AND:.+]] = kiln.and %[[A]], %[[B]] : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %0 = kiln.and %a, %b : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  // CHECK: %[[OR:.+]] = kiln.or %[[A]], %[[B]] : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %1 = kiln.or %a, %b : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  // CHECK: %[[XOR:.+]] = kiln.xor %[[A]], %[[B]] : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  %2 = kiln.xor %a, %b : (tensor<4xi1>, tensor<1xi1>) -> tensor<4xi1>
  // CHECK: %[[NOT:.+]] = kiln.not %[[A]] : tensor<4xi1>
  %3 = kiln.not %a : tensor<4xi1>
  // CHECK: return %[[AND]], %[[OR]], %[[XOR]], %[[NOT]]
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>, %[[I:.+]]: tensor<3xi64>)
func.func @unary(%x: tensor<2x8xf32>, %i: tensor<3xi64>) {
  // CHECK: kiln.neg %[[X]] : tensor<2x8xf32>
  %0 = kiln.neg %x : tensor<2x8xf32>
  // CHECK: kiln.neg %[[I]] : tensor<3xi64>
  %1 = kiln.neg %i : tensor<3xi64>
  // CHECK: kiln.abs %[[X]] : tensor<2x8xf32>
  %2 = kiln.abs %x : tensor<2x8xf32>
  // CHECK: kiln.abs %[[I]] : tensor<3xi64>
  %3 = kiln.abs %i : tensor<3xi64>
  // CHECK: kiln.sqrt %[[X]] : tensor<2x8xf32>
  %4 = kiln.sqrt %x : tensor<2x8xf32>
  // CHECK: kiln.rsqrt %[[X]] : tensor<2x8xf32>
  %5 = kiln.rsqrt %x : tensor<2x8xf32>
  // CHECK: kiln.reciprocal %[[X]] : tensor<2x8xf32>
  %6 = kiln.reciprocal %x : tensor<2x8xf32>
  // CHECK: kiln.exp %[[X]] : tensor<2x8xf32>
  %7 = kiln.exp %x : tensor<2x8xf32>
  // CHECK: kiln.log %[[X]] : tensor<2x8xf32>
  %8 = kiln.log %x : tensor<2x8xf32>
  // CHECK: kiln.tanh %[[X]] : tensor<2x8xf32>
  %9 = kiln.tanh %x : tensor<2x8xf32>
  // CHECK: kiln.erf %[[X]] : tensor<2x8xf32>
  %10 = kiln.erf %x : tensor<2x8xf32>
  // CHECK: kiln.sin %[[X]] : tensor<2x8xf32>
  %11 = kiln.sin %x : tensor<2x8xf32>
  // CHECK: kiln.cos %[[X]] : tensor<2x8xf32>
  %12 = kiln.cos %x : tensor<2x8xf32>
  // CHECK: kiln.sigmoid %[[X]] : tensor<2x8xf32>
  %13 = kiln.sigmoid %x : tensor<2x8xf32>
  // CHECK: kiln.silu %[[X]] : tensor<2x8xf32>
  %14 = kiln.silu %x : tensor<2x8xf32>
  // CHECK: kiln.softplus %[[X]] : tensor<2x8xf32>
  %15 = kiln.softplus %x : tensor<2x8xf32>
  return
}

// `approximate` is an enum attribute, printed after the operand as
// `approximate<tanh>`; the default, `none`, is elided.
// CHECK-LABEL: func.func @gelu
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x256xf32>)
// GENERIC-LABEL: sym_name = "gelu"
func.func @gelu(%x: tensor<1x8x256xf32>)
    -> (tensor<1x8x256xf32>, tensor<1x8x256xf32>, tensor<1x8x256xf32>) {
  // CHECK: %[[G0:.+]] = kiln.gelu %[[X]] : tensor<1x8x256xf32>
  // The generic form spells out the default property.
  // GENERIC: "kiln.gelu"(%{{.+}}) <{approximate = #kiln.approximate<none>}> : (tensor<1x8x256xf32>) -> tensor<1x8x256xf32>
  %0 = kiln.gelu %x : tensor<1x8x256xf32>
  // CHECK: %[[G1:.+]] = kiln.gelu %[[X]] : tensor<1x8x256xf32>
  // GENERIC: "kiln.gelu"(%{{.+}}) <{approximate = #kiln.approximate<none>}> : (tensor<1x8x256xf32>) -> tensor<1x8x256xf32>
  %1 = kiln.gelu %x approximate<none> : tensor<1x8x256xf32>
  // CHECK: %[[G2:.+]] = kiln.gelu %[[X]] approximate<tanh> : tensor<1x8x256xf32>
  // GENERIC: "kiln.gelu"(%{{.+}}) <{approximate = #kiln.approximate<tanh>}> : (tensor<1x8x256xf32>) -> tensor<1x8x256xf32>
  %2 = kiln.gelu %x approximate<tanh> : tensor<1x8x256xf32>
  // CHECK: return %[[G0]], %[[G1]], %[[G2]]
  return %0, %1, %2 : tensor<1x8x256xf32>, tensor<1x8x256xf32>, tensor<1x8x256xf32>
}

// CHECK-LABEL: func.func @cast
// CHECK-SAME: (%[[X:.+]]: tensor<1x8xi64>, %[[Y:.+]]: tensor<4xf32>)
func.func @cast(%x: tensor<1x8xi64>, %y: tensor<4xf32>)
    -> (tensor<1x8xf32>, tensor<4xi1>, tensor<4xbf16>, tensor<4xf32>) {
  // CHECK: %[[C0:.+]] = kiln.cast %[[X]] : tensor<1x8xi64> -> tensor<1x8xf32>
  %0 = kiln.cast %x : tensor<1x8xi64> -> tensor<1x8xf32>
  // CHECK: %[[C1:.+]] = kiln.cast %[[Y]] : tensor<4xf32> -> tensor<4xi1>
  %1 = kiln.cast %y : tensor<4xf32> -> tensor<4xi1>
  // CHECK: %[[C2:.+]] = kiln.cast %[[Y]] : tensor<4xf32> -> tensor<4xbf16>
  %2 = kiln.cast %y : tensor<4xf32> -> tensor<4xbf16>
  // Same-type cast is valid IR (kiln-simplify folds it away).
  // CHECK: %[[C3:.+]] = kiln.cast %[[Y]] : tensor<4xf32> -> tensor<4xf32>
  %3 = kiln.cast %y : tensor<4xf32> -> tensor<4xf32>
  // CHECK: return %[[C0]], %[[C1]], %[[C2]], %[[C3]]
  return %0, %1, %2, %3 : tensor<1x8xf32>, tensor<4xi1>, tensor<4xbf16>, tensor<4xf32>
}

// CHECK-LABEL: func.func @where
// CHECK-SAME: (%[[C:.+]]: tensor<1x1x8x8xi1>, %[[A:.+]]: tensor<f32>, %[[B:.+]]: tensor<1x4x8x8xf32>)
func.func @where(%c: tensor<1x1x8x8xi1>, %a: tensor<f32>, %b: tensor<1x4x8x8xf32>)
    -> tensor<1x4x8x8xf32> {
  // CHECK: %[[W:.+]] = kiln.where %[[C]], %[[A]], %[[B]] : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %0 = kiln.where %c, %a, %b : (tensor<1x1x8x8xi1>, tensor<f32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: return %[[W]]
  return %0 : tensor<1x4x8x8xf32>
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x8x16xf32>, %[[K:.+]]: tensor<1x4x16x8xf32>, %[[W:.+]]: tensor<16x32xf32>)
func.func @matmul(%q: tensor<1x4x8x16xf32>, %kt: tensor<1x4x16x8xf32>,
                  %w: tensor<16x32xf32>)
    -> (tensor<1x4x8x8xf32>, tensor<1x4x8x32xf32>) {
  // CHECK: %[[M0:.+]] = kiln.matmul %[[Q]], %[[K]] : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  %0 = kiln.matmul %q, %kt : (tensor<1x4x8x16xf32>, tensor<1x4x16x8xf32>) -> tensor<1x4x8x8xf32>
  // Batch dims broadcast: rank 4 x rank 2.
  // CHECK: %[[M1:.+]] = kiln.matmul %[[Q]], %[[W]] : (tensor<1x4x8x16xf32>, tensor<16x32xf32>) -> tensor<1x4x8x32xf32>
  %1 = kiln.matmul %q, %w : (tensor<1x4x8x16xf32>, tensor<16x32xf32>) -> tensor<1x4x8x32xf32>
  // CHECK: return %[[M0]], %[[M1]]
  return %0, %1 : tensor<1x4x8x8xf32>, tensor<1x4x8x32xf32>
}

// `bias` is optional and `transpose_weight = false` is the elided default.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[W:.+]]: tensor<64x192xf32>, %[[WT:.+]]: tensor<192x64xf32>, %[[B:.+]]: tensor<192xf32>)
// GENERIC-LABEL: sym_name = "linear"
func.func @linear(%x: tensor<1x8x64xf32>, %w: tensor<64x192xf32>,
                  %wt: tensor<192x64xf32>, %b: tensor<192xf32>)
    -> (tensor<1x8x192xf32>, tensor<1x8x192xf32>, tensor<1x8x192xf32>,
        tensor<1x8x192xf32>) {
  // CHECK: %[[L0:.+]] = kiln.linear %[[X]], %[[W]] : (tensor<1x8x64xf32>, tensor<64x192xf32>) -> tensor<1x8x192xf32>
  // GENERIC: "kiln.linear"(%{{.+}}, %{{.+}}) <{transpose_weight = false}> : (tensor<1x8x64xf32>, tensor<64x192xf32>) -> tensor<1x8x192xf32>
  %0 = kiln.linear %x, %w : (tensor<1x8x64xf32>, tensor<64x192xf32>) -> tensor<1x8x192xf32>
  // CHECK: %[[L1:.+]] = kiln.linear %[[X]], %[[W]], %[[B]] : (tensor<1x8x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  // GENERIC: "kiln.linear"(%{{.+}}, %{{.+}}, %{{.+}}) <{transpose_weight = false}> : (tensor<1x8x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  %1 = kiln.linear %x, %w, %b {transpose_weight = false} : (tensor<1x8x64xf32>, tensor<64x192xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  // CHECK: %[[L2:.+]] = kiln.linear %[[X]], %[[WT]] {transpose_weight = true} : (tensor<1x8x64xf32>, tensor<192x64xf32>) -> tensor<1x8x192xf32>
  %2 = kiln.linear %x, %wt {transpose_weight = true} : (tensor<1x8x64xf32>, tensor<192x64xf32>) -> tensor<1x8x192xf32>
  // CHECK: %[[L3:.+]] = kiln.linear %[[X]], %[[WT]], %[[B]] {transpose_weight = true} : (tensor<1x8x64xf32>, tensor<192x64xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  %3 = kiln.linear %x, %wt, %b {transpose_weight = true} : (tensor<1x8x64xf32>, tensor<192x64xf32>, tensor<192xf32>) -> tensor<1x8x192xf32>
  // CHECK: return %[[L0]], %[[L1]], %[[L2]], %[[L3]]
  return %0, %1, %2, %3 : tensor<1x8x192xf32>, tensor<1x8x192xf32>,
      tensor<1x8x192xf32>, tensor<1x8x192xf32>
}

// A rank-1 input is a single row.
// CHECK-LABEL: func.func @linear_rank1
func.func @linear_rank1(%x: tensor<64xf16>, %w: tensor<64x8xf16>) -> tensor<8xf16> {
  // CHECK: kiln.linear %{{.+}}, %{{.+}} : (tensor<64xf16>, tensor<64x8xf16>) -> tensor<8xf16>
  %0 = kiln.linear %x, %w : (tensor<64xf16>, tensor<64x8xf16>) -> tensor<8xf16>
  return %0 : tensor<8xf16>
}

//===----------------------------------------------------------------------===//
// Reductions and normalisation
//===----------------------------------------------------------------------===//

// `keepdims = true` is the elided default.
// CHECK-LABEL: func.func @reduce
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[I:.+]]: tensor<2x3xi32>)
func.func @reduce(%x: tensor<1x8x64xf32>, %i: tensor<2x3xi32>)
    -> (tensor<1x8x1xf32>, tensor<8xf32>, tensor<1x1x1xf32>, tensor<2xi32>,
        tensor<1x8x1xf32>) {
  // CHECK: %[[R0:.+]] = kiln.reduce_sum %[[X]] {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %0 = kiln.reduce_sum %x {axes = array<i64: 2>, keepdims = true} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  // CHECK: %[[R1:.+]] = kiln.reduce_mean %[[X]] {axes = array<i64: 0, 2>, keepdims = false} : (tensor<1x8x64xf32>) -> tensor<8xf32>
  %1 = kiln.reduce_mean %x {axes = array<i64: 0, 2>, keepdims = false} : (tensor<1x8x64xf32>) -> tensor<8xf32>
  // CHECK: %[[R2:.+]] = kiln.reduce_max %[[X]] {axes = array<i64: 2, 1, 0>} : (tensor<1x8x64xf32>) -> tensor<1x1x1xf32>
  %2 = kiln.reduce_max %x {axes = array<i64: 2, 1, 0>} : (tensor<1x8x64xf32>) -> tensor<1x1x1xf32>
  // CHECK: %[[R3:.+]] = kiln.reduce_sum %[[I]] {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xi32>) -> tensor<2xi32>
  %3 = kiln.reduce_sum %i {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xi32>) -> tensor<2xi32>
  // CHECK: %[[R4:.+]] = kiln.reduce_mean %[[X]] {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  %4 = kiln.reduce_mean %x {axes = array<i64: 2>} : (tensor<1x8x64xf32>) -> tensor<1x8x1xf32>
  // CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[R4]]
  return %0, %1, %2, %3, %4 : tensor<1x8x1xf32>, tensor<8xf32>,
      tensor<1x1x1xf32>, tensor<2xi32>, tensor<1x8x1xf32>
}

// CHECK-LABEL: func.func @softmax
// CHECK-SAME: (%[[S:.+]]: tensor<1x4x8x8xf32>)
func.func @softmax(%s: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: %[[R:.+]] = kiln.softmax %[[S]] {axis = 3 : i64} : tensor<1x4x8x8xf32>
  %0 = kiln.softmax %s {axis = 3 : i64} : tensor<1x4x8x8xf32>
  // CHECK: return %[[R]]
  return %0 : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func.func @norms
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[G:.+]]: tensor<64xf32>, %[[B:.+]]: tensor<64xf32>, %[[G2:.+]]: tensor<8x64xf32>)
// GENERIC-LABEL: sym_name = "norms"
func.func @norms(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>,
                 %g2: tensor<8x64xf32>)
    -> (tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>,
        tensor<1x8x64xf32>) {
  // CHECK: %[[N0:.+]] = kiln.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // GENERIC: "kiln.layer_norm"(%{{.+}}, %{{.+}}, %{{.+}}) <{axis = 2 : i64, epsilon = 9.99999974E-6 : f32}> : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %0 = kiln.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK: %[[N1:.+]] = kiln.layer_norm %[[X]], %[[G]] {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // GENERIC: "kiln.layer_norm"(%{{.+}}, %{{.+}}) <{axis = 2 : i64, epsilon = 9.99999974E-6 : f32}> : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.layer_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // Normalising over the last two dims; epsilon 0 is allowed.
  // CHECK: %[[N2:.+]] = kiln.layer_norm %[[X]], %[[G2]] {axis = 1 : i64, epsilon = 0.000000e+00 : f32} : (tensor<1x8x64xf32>, tensor<8x64xf32>) -> tensor<1x8x64xf32>
  %2 = kiln.layer_norm %x, %g2 {axis = 1 : i64, epsilon = 0.0 : f32} : (tensor<1x8x64xf32>, tensor<8x64xf32>) -> tensor<1x8x64xf32>
  // CHECK: %[[N3:.+]] = kiln.rms_norm %[[X]], %[[G]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %3 = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // round_normalized is a unit attribute (a property in the generic form).
  // CHECK: kiln.rms_norm %[[X]], %[[G]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32, round_normalized} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // GENERIC: "kiln.rms_norm"(%{{.+}}, %{{.+}}) <{axis = 2 : i64, epsilon = 9.99999997E-7 : f32, round_normalized}> : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %4 = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32, round_normalized} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  // CHECK: return %[[N0]], %[[N1]], %[[N2]], %[[N3]]
  return %0, %1, %2, %3 : tensor<1x8x64xf32>, tensor<1x8x64xf32>,
      tensor<1x8x64xf32>, tensor<1x8x64xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// `axis = 0` is the elided default.
// CHECK-LABEL: func.func @gather
// CHECK-SAME: (%[[T:.+]]: tensor<512x64xf32>, %[[IDS:.+]]: tensor<1x8xi64>, %[[I32:.+]]: tensor<2xi32>)
func.func @gather(%table: tensor<512x64xf32>, %ids: tensor<1x8xi64>, %i32: tensor<2xi32>)
    -> (tensor<1x8x64xf32>, tensor<512x2xf32>, tensor<1x8x64xf32>) {
  // CHECK: %[[G0:.+]] = kiln.gather %[[T]], %[[IDS]] : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
  %0 = kiln.gather %table, %ids {axis = 0 : i64} : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
  // CHECK: %[[G1:.+]] = kiln.gather %[[T]], %[[I32]] {axis = 1 : i64} : (tensor<512x64xf32>, tensor<2xi32>) -> tensor<512x2xf32>
  %1 = kiln.gather %table, %i32 {axis = 1 : i64} : (tensor<512x64xf32>, tensor<2xi32>) -> tensor<512x2xf32>
  // CHECK: %[[G2:.+]] = kiln.gather %[[T]], %[[IDS]] : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
  %2 = kiln.gather %table, %ids : (tensor<512x64xf32>, tensor<1x8xi64>) -> tensor<1x8x64xf32>
  // CHECK: return %[[G0]], %[[G1]], %[[G2]]
  return %0, %1, %2 : tensor<1x8x64xf32>, tensor<512x2xf32>, tensor<1x8x64xf32>
}

// CHECK-LABEL: func.func @shape_ops
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>)
func.func @shape_ops(%x: tensor<1x8x64xf32>)
    -> (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<512xf32>) {
  // CHECK: %[[R:.+]] = kiln.reshape %[[X]] : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %0 = kiln.reshape %x : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  // CHECK: %[[T:.+]] = kiln.transpose %[[R]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: %[[S:.+]] = kiln.slice %[[X]] {starts = array<i64: 0, 0, 8>, steps = array<i64: 1, 1, 1>} : tensor<1x8x64xf32> -> tensor<1x8x8xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 0, 8>, steps = array<i64: 1, 1, 1>} : tensor<1x8x64xf32> -> tensor<1x8x8xf32>
  // Reshape to rank 1 and to a scalar-free flat shape.
  // CHECK: %[[F:.+]] = kiln.reshape %[[X]] : tensor<1x8x64xf32> -> tensor<512xf32>
  %3 = kiln.reshape %x : tensor<1x8x64xf32> -> tensor<512xf32>
  // CHECK: return %[[T]], %[[S]], %[[F]]
  return %1, %2, %3 : tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<512xf32>
}

// CHECK-LABEL: func.func @slice_edge_cases
// CHECK-SAME: (%[[X:.+]]: tensor<8x4xf32>)
func.func @slice_edge_cases(%x: tensor<8x4xf32>)
    -> (tensor<8x4xf32>, tensor<4x2xf32>, tensor<0x4xf32>) {
  // Negative step walks backwards: rows 7..0.
  // CHECK: %[[REV:.+]] = kiln.slice %[[X]] {starts = array<i64: 7, 0>, steps = array<i64: -1, 1>} : tensor<8x4xf32> -> tensor<8x4xf32>
  %0 = kiln.slice %x {starts = array<i64: 7, 0>, steps = array<i64: -1, 1>} : tensor<8x4xf32> -> tensor<8x4xf32>
  // CHECK: %[[STR:.+]] = kiln.slice %[[X]] {starts = array<i64: 1, 0>, steps = array<i64: 2, 3>} : tensor<8x4xf32> -> tensor<4x2xf32>
  %1 = kiln.slice %x {starts = array<i64: 1, 0>, steps = array<i64: 2, 3>} : tensor<8x4xf32> -> tensor<4x2xf32>
  // An empty slice reads nothing, so its start is not bounds-checked.
  // CHECK: %[[EMPTY:.+]] = kiln.slice %[[X]] {starts = array<i64: 8, 0>, steps = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<0x4xf32>
  %2 = kiln.slice %x {starts = array<i64: 8, 0>, steps = array<i64: 1, 1>} : tensor<8x4xf32> -> tensor<0x4xf32>
  // CHECK: return %[[REV]], %[[STR]], %[[EMPTY]]
  return %0, %1, %2 : tensor<8x4xf32>, tensor<4x2xf32>, tensor<0x4xf32>
}

// CHECK-LABEL: func.func @concat_split
// CHECK-SAME: (%[[P:.+]]: tensor<1x2x7x16xf32>, %[[N:.+]]: tensor<1x2x1x16xf32>, %[[QKV:.+]]: tensor<1x8x192xf32>)
// GENERIC-LABEL: sym_name = "concat_split"
func.func @concat_split(%past: tensor<1x2x7x16xf32>, %new: tensor<1x2x1x16xf32>,
                        %qkv: tensor<1x8x192xf32>)
    -> (tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>, tensor<1x8x64xf32>,
        tensor<1x8x128xf32>, tensor<1x8x192xf32>) {
  // CHECK: %[[C0:.+]] = kiln.concat %[[P]], %[[N]] {axis = 2 : i64} : (tensor<1x2x7x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x8x16xf32>
  // GENERIC: "kiln.concat"(%{{.+}}, %{{.+}}) <{axis = 2 : i64}> : (tensor<1x2x7x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x8x16xf32>
  %0 = kiln.concat %past, %new {axis = 2 : i64} : (tensor<1x2x7x16xf32>, tensor<1x2x1x16xf32>) -> tensor<1x2x8x16xf32>
  // A single input is allowed.
  // CHECK: %[[C1:.+]] = kiln.concat %[[P]] {axis = 0 : i64} : (tensor<1x2x7x16xf32>) -> tensor<1x2x7x16xf32>
  %1 = kiln.concat %past {axis = 0 : i64} : (tensor<1x2x7x16xf32>) -> tensor<1x2x7x16xf32>
  // CHECK: %[[S:.+]]:2 = kiln.split %[[QKV]] {axis = 2 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>, tensor<1x8x128xf32>
  // GENERIC: "kiln.split"(%{{.+}}) <{axis = 2 : i64}> : (tensor<1x8x192xf32>) -> (tensor<1x8x64xf32>, tensor<1x8x128xf32>)
  %2:2 = kiln.split %qkv {axis = 2 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>, tensor<1x8x128xf32>
  // CHECK: %[[S1:.+]] = kiln.split %[[QKV]] {axis = 1 : i64} : tensor<1x8x192xf32> -> tensor<1x8x192xf32>
  %3 = kiln.split %qkv {axis = 1 : i64} : tensor<1x8x192xf32> -> tensor<1x8x192xf32>
  // CHECK: return %[[C0]], %[[C1]], %[[S]]#0, %[[S]]#1, %[[S1]]
  return %0, %1, %2#0, %2#1, %3 : tensor<1x2x8x16xf32>, tensor<1x2x7x16xf32>,
      tensor<1x8x64xf32>, tensor<1x8x128xf32>, tensor<1x8x192xf32>
}

// CHECK-LABEL: func.func @expand
// CHECK-SAME: (%[[X:.+]]: tensor<1x2x1x8x16xf32>, %[[S:.+]]: tensor<i1>)
func.func @expand(%x: tensor<1x2x1x8x16xf32>, %s: tensor<i1>)
    -> (tensor<1x2x2x8x16xf32>, tensor<3x1x2x2x8x16xf32>, tensor<4x4xi1>) {
  // CHECK: %[[E0:.+]] = kiln.expand %[[X]] : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  %0 = kiln.expand %x : tensor<1x2x1x8x16xf32> -> tensor<1x2x2x8x16xf32>
  // Rank grows on the left.
  // CHECK: %[[E1:.+]] = kiln.expand %[[X]] : tensor<1x2x1x8x16xf32> -> tensor<3x1x2x2x8x16xf32>
  %1 = kiln.expand %x : tensor<1x2x1x8x16xf32> -> tensor<3x1x2x2x8x16xf32>
  // CHECK: %[[E2:.+]] = kiln.expand %[[S]] : tensor<i1> -> tensor<4x4xi1>
  %2 = kiln.expand %s : tensor<i1> -> tensor<4x4xi1>
  // CHECK: return %[[E0]], %[[E1]], %[[E2]]
  return %0, %1, %2 : tensor<1x2x2x8x16xf32>, tensor<3x1x2x2x8x16xf32>, tensor<4x4xi1>
}

// `diagonal = 0` is the elided default; `upper` is required.
// CHECK-LABEL: func.func @trilu
// CHECK-SAME: (%[[M:.+]]: tensor<8x8xf32>, %[[B:.+]]: tensor<2x4x8xi1>)
func.func @trilu(%m: tensor<8x8xf32>, %b: tensor<2x4x8xi1>)
    -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<2x4x8xi1>) {
  // CHECK: %[[T0:.+]] = kiln.trilu %[[M]] {diagonal = 1 : i64, upper = true} : tensor<8x8xf32>
  %0 = kiln.trilu %m {upper = true, diagonal = 1 : i64} : tensor<8x8xf32>
  // CHECK: %[[T1:.+]] = kiln.trilu %[[M]] {upper = false} : tensor<8x8xf32>
  %1 = kiln.trilu %m {upper = false, diagonal = 0 : i64} : tensor<8x8xf32>
  // CHECK: %[[T2:.+]] = kiln.trilu %[[B]] {diagonal = -2 : i64, upper = false} : tensor<2x4x8xi1>
  %2 = kiln.trilu %b {upper = false, diagonal = -2 : i64} : tensor<2x4x8xi1>
  // CHECK: return %[[T0]], %[[T1]], %[[T2]]
  return %0, %1, %2 : tensor<8x8xf32>, tensor<8x8xf32>, tensor<2x4x8xi1>
}

// CHECK-LABEL: func.func @scatter_nd
// CHECK-SAME: (%[[D:.+]]: tensor<4x8xf32>, %[[I:.+]]: tensor<2x1xi64>, %[[U:.+]]: tensor<2x8xf32>, %[[I2:.+]]: tensor<3x2xi32>, %[[U2:.+]]: tensor<3xf32>)
func.func @scatter_nd(%data: tensor<4x8xf32>, %idx: tensor<2x1xi64>, %upd: tensor<2x8xf32>,
                      %idx2: tensor<3x2xi32>, %upd2: tensor<3xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: %[[S0:.+]] = kiln.scatter_nd %[[D]], %[[I]], %[[U]] : (tensor<4x8xf32>, tensor<2x1xi64>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %0 = kiln.scatter_nd %data, %idx, %upd : (tensor<4x8xf32>, tensor<2x1xi64>, tensor<2x8xf32>) -> tensor<4x8xf32>
  // Full-depth indices address single elements.
  // CHECK: %[[S1:.+]] = kiln.scatter_nd %[[D]], %[[I2]], %[[U2]] : (tensor<4x8xf32>, tensor<3x2xi32>, tensor<3xf32>) -> tensor<4x8xf32>
  %1 = kiln.scatter_nd %data, %idx2, %upd2 : (tensor<4x8xf32>, tensor<3x2xi32>, tensor<3xf32>) -> tensor<4x8xf32>
  // CHECK: return %[[S0]], %[[S1]]
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @values
// GENERIC-LABEL: sym_name = "values"
func.func @values() -> (tensor<4xi64>, tensor<f32>, tensor<2x2xi1>,
                        tensor<4096x512xf16>, tensor<512x64xf32>, tensor<3xi1>,
                        tensor<64x32xf32>, tensor<32x64xf32>) {
  // CHECK: %[[C0:.+]] = kiln.constant dense<[1, 8, 4, 16]> : tensor<4xi64>
  // GENERIC: "kiln.constant"() <{value = dense<[1, 8, 4, 16]> : tensor<4xi64>}> : () -> tensor<4xi64>
  %0 = kiln.constant dense<[1, 8, 4, 16]> : tensor<4xi64>
  // CHECK: %[[C1:.+]] = kiln.constant dense<2.500000e-01> : tensor<f32>
  %1 = kiln.constant dense<0.25> : tensor<f32>
  // CHECK: %[[C2:.+]] = kiln.constant dense<{{\[\[}}true, false], [false, true]]> : tensor<2x2xi1>
  %2 = kiln.constant dense<[[true, false], [false, true]]> : tensor<2x2xi1>
  // A splat may be larger than the non-splat limit (2^20 elements).
  // CHECK: %[[C3:.+]] = kiln.constant dense<0.000000e+00> : tensor<4096x512xf16>
  %3 = kiln.constant dense<0.0> : tensor<4096x512xf16>
  // CHECK: %[[W:.+]] = kiln.weight "model.embed_tokens.weight" {length = 131072 : i64, offset = 0 : i64, path = "model.onnx.data"} : tensor<512x64xf32>
  // GENERIC: "kiln.weight"() <{length = 131072 : i64, name = "model.embed_tokens.weight", offset = 0 : i64, path = "model.onnx.data"}> : () -> tensor<512x64xf32>
  %4 = kiln.weight "model.embed_tokens.weight" {path = "model.onnx.data", offset = 0 : i64, length = 131072 : i64} : tensor<512x64xf32>
  // i1 weights take one byte per element.
  // CHECK: %[[WB:.+]] = kiln.weight "mask" {length = 3 : i64, offset = 4096 : i64, path = "m.bin"} : tensor<3xi1>
  %5 = kiln.weight "mask" {path = "m.bin", offset = 4096 : i64, length = 3 : i64} : tensor<3xi1>
  // Columns [16, 48) of a stored [64, 96] matrix: length covers all 96
  // columns; read transposed, the result is [32, 64].
  // CHECK: %[[WC:.+]] = kiln.weight "qkv" {columns = array<i64: 16, 48, 96>, length = 24576 : i64, offset = 0 : i64, path = "w.bin"} : tensor<64x32xf32>
  %6 = kiln.weight "qkv" {path = "w.bin", offset = 0 : i64, length = 24576 : i64, columns = array<i64: 16, 48, 96>} : tensor<64x32xf32>
  // CHECK: %[[WT:.+]] = kiln.weight "qkv" {columns = array<i64: 16, 48, 96>, length = 24576 : i64, offset = 0 : i64, path = "w.bin", transposed} : tensor<32x64xf32>
  %7 = kiln.weight "qkv" {path = "w.bin", offset = 0 : i64, length = 24576 : i64, columns = array<i64: 16, 48, 96>, transposed} : tensor<32x64xf32>
  // CHECK: return %[[C0]], %[[C1]], %[[C2]], %[[C3]], %[[W]], %[[WB]], %[[WC]], %[[WT]]
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<4xi64>, tensor<f32>, tensor<2x2xi1>,
      tensor<4096x512xf16>, tensor<512x64xf32>, tensor<3xi1>, tensor<64x32xf32>, tensor<32x64xf32>
}

//===----------------------------------------------------------------------===//
// Transformer blocks
//===----------------------------------------------------------------------===//

// `mask` is optional; `causal = false` is the elided default.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:.+]]: tensor<1x4x8x16xf32>, %[[K:.+]]: tensor<1x2x8x16xf32>, %[[V:.+]]: tensor<1x2x8x16xf32>, %[[M:.+]]: tensor<1x1x8x8xi1>, %[[AM:.+]]: tensor<8xf32>)
// GENERIC-LABEL: sym_name = "attention"
func.func @attention(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                     %v: tensor<1x2x8x16xf32>, %m: tensor<1x1x8x8xi1>,
                     %am: tensor<8xf32>)
    -> (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) {
  // CHECK: %[[A0:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]] {causal = true, scale = 2.500000e-01 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  // GENERIC: "kiln.attention"(%{{.+}}, %{{.+}}, %{{.+}}) <{causal = true, scale = 2.500000e-01 : f32}>
  %0 = kiln.attention %q, %k, %v {scale = 0.25 : f32, causal = true} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: %[[A1:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 2.500000e-01 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xi1>) -> tensor<1x4x8x16xf32>
  // GENERIC: "kiln.attention"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) <{causal = false, scale = 2.500000e-01 : f32}>
  %1 = kiln.attention %q, %k, %v, %m {scale = 0.25 : f32, causal = false} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x1x8x8xi1>) -> tensor<1x4x8x16xf32>
  // An additive float mask over the key positions only.
  // CHECK: %[[A2:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]], %[[AM]] {scale = 1.250000e-01 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8xf32>) -> tensor<1x4x8x16xf32>
  %2 = kiln.attention %q, %k, %v, %am {scale = 0.125 : f32} : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>, tensor<8xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: return %[[A0]], %[[A1]], %[[A2]]
  return %0, %1, %2 : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>
}

// Decode step: one query against a longer KV, value head dim differs.
// CHECK-LABEL: func.func @attention_decode
func.func @attention_decode(%q: tensor<2x8x1x64xf16>, %k: tensor<2x1x128x64xf16>,
                            %v: tensor<2x1x128x32xf16>) -> tensor<2x8x1x32xf16> {
  // CHECK: kiln.attention %{{.+}}, %{{.+}}, %{{.+}} {causal = true, scale = 1.250000e-01 : f32} : (tensor<2x8x1x64xf16>, tensor<2x1x128x64xf16>, tensor<2x1x128x32xf16>) -> tensor<2x8x1x32xf16>
  %0 = kiln.attention %q, %k, %v {scale = 0.125 : f32, causal = true} : (tensor<2x8x1x64xf16>, tensor<2x1x128x64xf16>, tensor<2x1x128x32xf16>) -> tensor<2x8x1x32xf16>
  return %0 : tensor<2x8x1x32xf16>
}

// `interleaved = false` is the elided default.
// CHECK-LABEL: func.func @rotary
// CHECK-SAME: (%[[X:.+]]: tensor<1x4x8x16xf32>, %[[C:.+]]: tensor<1x8x8xf32>, %[[S:.+]]: tensor<1x8x8xf32>, %[[CP:.+]]: tensor<1x8x4xf32>, %[[SP:.+]]: tensor<1x8x4xf32>)
func.func @rotary(%x: tensor<1x4x8x16xf32>, %cos: tensor<1x8x8xf32>, %sin: tensor<1x8x8xf32>,
                  %cosp: tensor<1x8x4xf32>, %sinp: tensor<1x8x4xf32>)
    -> (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) {
  // CHECK: %[[R0:.+]] = kiln.rotary %[[X]], %[[C]], %[[S]] : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  %0 = kiln.rotary %x, %cos, %sin : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: %[[R1:.+]] = kiln.rotary %[[X]], %[[C]], %[[S]] {interleaved = true} : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  %1 = kiln.rotary %x, %cos, %sin {interleaved = true} : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  // Partial rotary: R = 8 of D = 16.
  // CHECK: %[[R2:.+]] = kiln.rotary %[[X]], %[[CP]], %[[SP]] : (tensor<1x4x8x16xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> tensor<1x4x8x16xf32>
  %2 = kiln.rotary %x, %cosp, %sinp {interleaved = false} : (tensor<1x4x8x16xf32>, tensor<1x8x4xf32>, tensor<1x8x4xf32>) -> tensor<1x4x8x16xf32>
  // CHECK: return %[[R0]], %[[R1]], %[[R2]]
  return %0, %1, %2 : tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>
}

// Full tables: an entry per element, [B|1, S, R] (R = D = 16, and a partial
// R = 8 of the tables above read whole).
// CHECK-LABEL: func.func @rotary_full_tables
func.func @rotary_full_tables(%x: tensor<2x4x8x16xf32>, %cos: tensor<2x8x16xf32>, %c8: tensor<1x8x8xf32>)
    -> (tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) {
  // CHECK: kiln.rotary %{{.+}}, %{{.+}}, %{{.+}} {full_tables = true} : (tensor<2x4x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x4x8x16xf32>
  %0 = kiln.rotary %x, %cos, %cos {full_tables = true} : (tensor<2x4x8x16xf32>, tensor<2x8x16xf32>, tensor<2x8x16xf32>) -> tensor<2x4x8x16xf32>
  // CHECK: kiln.rotary %{{.+}}, %{{.+}}, %{{.+}} {full_tables = true, interleaved = true} : (tensor<2x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = kiln.rotary %x, %c8, %c8 {full_tables = true, interleaved = true} : (tensor<2x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<2x4x8x16xf32>
  return %0, %1 : tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>
}

//===----------------------------------------------------------------------===//
// Fused level
//===----------------------------------------------------------------------===//

// A fusion reads only its operands (bound to the block arguments) and returns
// what kiln.yield yields; several results and no inputs are allowed.
// CHECK-LABEL: func.func @fusion
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[G:.+]]: tensor<64xf32>)
// GENERIC-LABEL: sym_name = "fusion"
func.func @fusion(%x: tensor<1x8x64xf32>, %g: tensor<64xf32>)
    -> (tensor<1x8x64xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<2xi64>) {
  // CHECK: %[[N:.+]] = kiln.fusion %[[X]], %[[G]] : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32> {
  // CHECK-NEXT: ^bb0(%[[A:.+]]: tensor<1x8x64xf32>, %[[B:.+]]: tensor<64xf32>):
  // CHECK-NEXT: %[[R:.+]] = kiln.rms_norm %[[A]], %[[B]]
  // CHECK-NEXT: kiln.yield %[[R]] : tensor<1x8x64xf32>
  // CHECK-NEXT: }
  // GENERIC: "kiln.fusion"(%{{.+}}, %{{.+}}) ({
  // GENERIC: "kiln.yield"(%{{.+}}) : (tensor<1x8x64xf32>) -> ()
  %0 = kiln.fusion %x, %g : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32> {
  ^bb0(%a: tensor<1x8x64xf32>, %b: tensor<64xf32>):
    %n = kiln.rms_norm %a, %b {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
    kiln.yield %n : tensor<1x8x64xf32>
  }
  // CHECK: %[[S:.+]]:2 = kiln.fusion %[[N]] : (tensor<1x8x64xf32>) -> (tensor<1x8x32xf32>, tensor<1x8x32xf32>) {
  // CHECK: kiln.yield %{{.+}}, %{{.+}} : tensor<1x8x32xf32>, tensor<1x8x32xf32>
  %1:2 = kiln.fusion %0 : (tensor<1x8x64xf32>) -> (tensor<1x8x32xf32>, tensor<1x8x32xf32>) {
  ^bb0(%a: tensor<1x8x64xf32>):
    %p:2 = kiln.split %a {axis = 2 : i64} : tensor<1x8x64xf32> -> tensor<1x8x32xf32>, tensor<1x8x32xf32>
    %e = kiln.exp %p#1 : tensor<1x8x32xf32>
    kiln.yield %p#0, %e : tensor<1x8x32xf32>, tensor<1x8x32xf32>
  }
  // CHECK: %[[C:.+]] = kiln.fusion : () -> tensor<2xi64> {
  // CHECK-NEXT: kiln.constant
  %2 = kiln.fusion : () -> tensor<2xi64> {
    %c = kiln.constant dense<[1, 8]> : tensor<2xi64>
    kiln.yield %c : tensor<2xi64>
  }
  // CHECK: return %[[N]], %[[S]]#0, %[[S]]#1, %[[C]]
  return %0, %1#0, %1#1, %2 : tensor<1x8x64xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<2xi64>
}

// Defaults (no bias, no residual, transpose_b off, activation none, no scale)
// are elided.
// CHECK-LABEL: func.func @gemm
// CHECK-SAME: (%[[X:.+]]: tensor<1x8x64xf32>, %[[W:.+]]: tensor<256x64xf32>, %[[B:.+]]: tensor<256xf32>, %[[W2:.+]]: tensor<256x64xf32>, %[[Q:.+]]: tensor<2x4x8x16xf32>, %[[K:.+]]: tensor<1x1x16x8xf32>)
// GENERIC-LABEL: sym_name = "gemm"
func.func @gemm(%x: tensor<1x8x64xf32>, %w: tensor<256x64xf32>, %b: tensor<256xf32>,
                %w2: tensor<256x64xf32>, %q: tensor<2x4x8x16xf32>, %k: tensor<1x1x16x8xf32>)
    -> (tensor<1x8x256xf32>, tensor<1x8x64xf32>, tensor<2x4x8x8xf32>, tensor<1x8x256xf32>) {
  // CHECK: %[[Y:.+]] = kiln.gemm %[[X]], %[[W]], %[[B]] transpose_b activation<gelu_tanh> : (tensor<1x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x8x256xf32>
  // GENERIC: "kiln.gemm"(%{{.+}}, %{{.+}}, %{{.+}}) <{activation = #kiln.activation<gelu_tanh>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, transpose_b}>
  %0 = kiln.gemm %x, %w, %b transpose_b activation<gelu_tanh> : (tensor<1x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x8x256xf32>
  // CHECK: %[[Z:.+]] = kiln.gemm %[[Y]], %[[W2]] residual %[[X]] {scale = 5.000000e-01 : f32} : (tensor<1x8x256xf32>, tensor<256x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %1 = kiln.gemm %0, %w2 residual %x {scale = 5.0e-01 : f32} : (tensor<1x8x256xf32>, tensor<256x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  // Batched, the rhs broadcast over every batch (stride 0).
  // CHECK: %[[S:.+]] = kiln.gemm %[[Q]], %[[K]] : (tensor<2x4x8x16xf32>, tensor<1x1x16x8xf32>) -> tensor<2x4x8x8xf32>
  %2 = kiln.gemm %q, %k : (tensor<2x4x8x16xf32>, tensor<1x1x16x8xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: %[[R:.+]] = kiln.gemm %[[X]], %[[W]], %[[B]] transpose_b activation<relu> : (tensor<1x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x8x256xf32>
  %3 = kiln.gemm %x, %w, %b transpose_b activation<relu> : (tensor<1x8x64xf32>, tensor<256x64xf32>, tensor<256xf32>) -> tensor<1x8x256xf32>
  // CHECK: return %[[Y]], %[[Z]], %[[S]], %[[R]]
  return %0, %1, %2, %3 : tensor<1x8x256xf32>, tensor<1x8x64xf32>, tensor<2x4x8x8xf32>, tensor<1x8x256xf32>
}
