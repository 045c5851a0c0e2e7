// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-gemv))' | FileCheck %s

// A one-row product on a weight nothing else reads becomes a kernel of one
// kiln.linear on the weight read transposed.
// CHECK-LABEL: func.func @decode
// CHECK: %[[W:.*]] = kiln.weight "w" {length = 1024 : i64, offset = 0 : i64, path = "w.bin", source_type = f32, transposed} : tensor<16x16xbf16>
// CHECK: %[[Y:.*]] = kiln.fusion %arg0, %[[W]] : (tensor<1x1x16xbf16>, tensor<16x16xbf16>) -> tensor<1x1x16xbf16>
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x1x16xbf16>, %[[WA:.*]]: tensor<16x16xbf16>):
// CHECK-NEXT: %[[L:.*]] = kiln.linear %[[X]], %[[WA]] {transpose_weight = true} : (tensor<1x1x16xbf16>, tensor<16x16xbf16>) -> tensor<1x1x16xbf16>
// CHECK-NEXT: kiln.yield %[[L]]
// CHECK-NOT: kiln.gemm
// CHECK: return %[[Y]]
func.func @decode(%x: tensor<1x1x16xbf16>) -> tensor<1x1x16xbf16> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 1024 : i64, source_type = f32} : tensor<16x16xbf16>
  %y = kiln.gemm %x, %w : (tensor<1x1x16xbf16>, tensor<16x16xbf16>) -> tensor<1x1x16xbf16>
  return %y : tensor<1x1x16xbf16>
}

// -----

// f32 qualifies too (K a multiple of 4); the weight's [K, N] = [8, 32]
// becomes [32, 8].
// CHECK-LABEL: func.func @f32_row
// CHECK: kiln.weight "w" {{.*}}transposed} : tensor<32x8xf32>
// CHECK: kiln.linear {{.*}} {transpose_weight = true} : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
func.func @f32_row(%x: tensor<1x8xf32>) -> tensor<1x32xf32> {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %y = kiln.gemm %x, %w : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

// A residual epilogue stays a kiln.add after the product, in the same kernel
// (kiln::gemv adds it).
// CHECK-LABEL: func.func @residual
// CHECK: kiln.fusion %arg0, %{{.*}}, %arg1 : (tensor<1x8xf32>, tensor<32x8xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x8xf32>, %[[W:.*]]: tensor<32x8xf32>, %[[R:.*]]: tensor<1x32xf32>):
// CHECK-NEXT: %[[L:.*]] = kiln.linear %[[X]], %[[W]] {transpose_weight = true}
// CHECK-NEXT: %[[S:.*]] = kiln.add %[[L]], %[[R]]
// CHECK-NEXT: kiln.yield %[[S]]
func.func @residual(%x: tensor<1x8xf32>, %r: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %c = kiln.gemm %x, %w2 residual %r : (tensor<1x8xf32>, tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  return %c : tensor<1x32xf32>
}

// -----

// Near misses stay cuBLASLt gemms: 2 rows (kGemvMaxRows is 1, from the
// measurements in bench/RESULTS.md); a bias; a weight another op
// reads too; K not a multiple of the vector (f32: 4); a B that is not a
// weight; transpose_b.
// CHECK-LABEL: func.func @near_misses
// CHECK-NOT: kiln.linear
// CHECK-NOT: transposed
// CHECK-COUNT-6: kiln.gemm
// CHECK-NOT: kiln.linear
func.func @near_misses(%x9: tensor<2x8xf32>, %x: tensor<1x8xf32>, %x6: tensor<1x6xf32>, %b: tensor<8x32xf32>) -> (tensor<2x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<8x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %a = kiln.gemm %x9, %w1 : (tensor<2x8xf32>, tensor<8x32xf32>) -> tensor<2x32xf32>
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %bias = kiln.weight "bias" {path = "w.bin", offset = 0 : i64, length = 128 : i64} : tensor<32xf32>
  %d = kiln.gemm %x, %w3, %bias : (tensor<1x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<1x32xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %e = kiln.gemm %x, %w4 : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %e2 = kiln.add %w4, %w4 : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %w5 = kiln.weight "w5" {path = "w.bin", offset = 0 : i64, length = 768 : i64} : tensor<6x32xf32>
  %f = kiln.gemm %x6, %w5 : (tensor<1x6xf32>, tensor<6x32xf32>) -> tensor<1x32xf32>
  %g = kiln.gemm %x, %b : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %w6 = kiln.weight "w6" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<32x8xf32>
  %h = kiln.gemm %x, %w6 transpose_b : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
  return %a, %d, %e, %e2, %f, %g, %h : tensor<2x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<8x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}
