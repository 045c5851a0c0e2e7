// The exact rewrites kiln-form-fusions runs before grouping
// (passes/FusionPrep.cpp): views and slices of a scalar map's only use move
// onto its operands, a slice of a concat reads the operand it falls in, a
// gather of 0..n-1 over its whole axis is a reshape, and(x, true) /
// or(x, false) / x * 1 / an integer x + 0 are x, a product whose uses all
// slice its columns is one product per slice, and a matmul contracting one element is a
// broadcast product. Then the chains they line up are one fusion each.
//
// RUN: kiln-opt %s --kiln-form-fusions --split-input-file | FileCheck %s
// RUN: kiln-opt %s --kiln-form-fusions --split-input-file | kiln-opt --kiln-form-fusions --split-input-file | FileCheck %s

//===----------------------------------------------------------------------===//
// Positive
//===----------------------------------------------------------------------===//

// A rotary table as the exporters write it: position -> cast -> inv_freq x
// position (a K = 1 matmul) -> transpose -> concat(x, x) -> cos -> * 1.0 ->
// reshape -> the first half (kiln-recognize's slice). It is cos(inv_freq *
// position) over the half: one fusion, no matmul, concat or slice.
// CHECK-LABEL: func.func @rotary_table
func.func @rotary_table(%p: tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  // CHECK-NOT: kiln.gemm
  // CHECK-NOT: kiln.concat
  // CHECK-NOT: kiln.slice
  // CHECK: %[[T:.+]] = kiln.fusion %{{.+}}, %{{.+}} : (tensor<1x1x1xi64>, tensor<1x1x8xf32>) -> tensor<1x1x8xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.cast {{.*}} : tensor<1x1x1xi64> -> tensor<1x1x1xf32>
  // CHECK-NEXT: kiln.mul {{.*}} : (tensor<1x1x8xf32>, tensor<1x1x1xf32>) -> tensor<1x1x8xf32>
  // CHECK-NEXT: kiln.cos
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[T]]
  %inv = kiln.constant dense<[[[1.0], [0.5], [0.25], [0.125], [0.0625], [0.03125], [0.015625], [0.0078125]]]> : tensor<1x8x1xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %0 = kiln.reshape %p : tensor<1x1xi64> -> tensor<1x1x1xi64>
  %1 = kiln.cast %0 : tensor<1x1x1xi64> -> tensor<1x1x1xf32>
  %2 = kiln.matmul %inv, %1 : (tensor<1x8x1xf32>, tensor<1x1x1xf32>) -> tensor<1x8x1xf32>
  %3 = kiln.transpose %2 {perm = array<i64: 0, 2, 1>} : (tensor<1x8x1xf32>) -> tensor<1x1x8xf32>
  %4 = kiln.concat %3, %3 {axis = 2 : i64} : (tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x1x16xf32>
  %5 = kiln.cos %4 : tensor<1x1x16xf32>
  %6 = kiln.mul %5, %one : (tensor<1x1x16xf32>, tensor<f32>) -> tensor<1x1x16xf32>
  %7 = kiln.reshape %6 : tensor<1x1x16xf32> -> tensor<1x1x1x16xf32>
  %8 = kiln.slice %7 {starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x1x1x16xf32> -> tensor<1x1x1x8xf32>
  %9 = kiln.reshape %8 : tensor<1x1x1x8xf32> -> tensor<1x1x8xf32>
  return %9 : tensor<1x1x8xf32>
}

// -----

// The second half of the concat, with a step: a slice that falls in one
// operand reads that operand (offset by the operands before it). Two
// launches where there were three (concat, exp, slice).
// CHECK-LABEL: func.func @slice_second_operand
// CHECK-SAME: (%[[A:.+]]: tensor<2x4xf32>, %[[B:.+]]: tensor<2x6xf32>)
func.func @slice_second_operand(%a: tensor<2x4xf32>, %b: tensor<2x6xf32>) -> tensor<2x3xf32> {
  // CHECK-NEXT: %[[S:.+]] = kiln.fusion %[[B]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.slice %{{.+}} {starts = array<i64: 0, 1>, steps = array<i64: 1, 2>} : tensor<2x6xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[S]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x6xf32>) -> tensor<2x10xf32>
  %1 = kiln.exp %0 : tensor<2x10xf32>
  %2 = kiln.slice %1 {starts = array<i64: 0, 5>, steps = array<i64: 1, 2>} : tensor<2x10xf32> -> tensor<2x3xf32>
  return %2 : tensor<2x3xf32>
}

// -----

// A slice moves onto a map's operand, through maps: a broadcast dim of an
// operand is not sliced (the [1x10] row stays whole, the scalar as it is).
// CHECK-LABEL: func.func @slice_broadcast_operand
// CHECK-SAME: (%[[A:.+]]: tensor<4x10xf32>, %[[R:.+]]: tensor<1x10xf32>, %[[C:.+]]: tensor<f32>)
func.func @slice_broadcast_operand(%a: tensor<4x10xf32>, %r: tensor<1x10xf32>, %c: tensor<f32>) -> tensor<2x10xf32> {
  // CHECK-NEXT: %[[SA:.+]] = kiln.fusion %[[A]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.slice %{{.+}} {starts = array<i64: 1, 0>, steps = array<i64: 2, 1>} : tensor<4x10xf32> -> tensor<2x10xf32>
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: kiln.fusion %[[SA]], %[[C]], %[[R]] : (tensor<2x10xf32>, tensor<f32>, tensor<1x10xf32>) -> tensor<2x10xf32>
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add {{.*}} -> tensor<2x10xf32>
  // CHECK-NEXT: kiln.mul {{.*}} -> tensor<2x10xf32>
  // CHECK-NEXT: kiln.yield
  %0 = kiln.add %a, %c : (tensor<4x10xf32>, tensor<f32>) -> tensor<4x10xf32>
  %1 = kiln.mul %0, %r : (tensor<4x10xf32>, tensor<1x10xf32>) -> tensor<4x10xf32>
  %2 = kiln.slice %1 {starts = array<i64: 1, 0>, steps = array<i64: 2, 1>} : tensor<4x10xf32> -> tensor<2x10xf32>
  return %2 : tensor<2x10xf32>
}

// -----

// Not onto two operands (two slice kernels where there was one): the
// column slice would cut both [4x10] operands.
// CHECK-LABEL: func.func @slice_two_operands
func.func @slice_two_operands(%a: tensor<4x10xf32>, %b: tensor<4x10xf32>) -> tensor<4x5xf32> {
  // CHECK-NEXT: %[[M:.+]] = kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.mul
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: kiln.fusion %[[M]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.slice
  %0 = kiln.mul %a, %b : (tensor<4x10xf32>, tensor<4x10xf32>) -> tensor<4x10xf32>
  %1 = kiln.slice %0 {starts = array<i64: 0, 0>, steps = array<i64: 1, 2>} : tensor<4x10xf32> -> tensor<4x5xf32>
  return %1 : tensor<4x5xf32>
}

// -----

// A mask as a dynamic decoder export writes it after kiln-kv-cache: cast to
// bool, a gather of the constant 0..63 (the whole axis), and with true,
// where. The gather is a reshape, the and goes: cast + where, one fusion.
// CHECK-LABEL: func.func @mask
// CHECK-SAME: (%[[M:.+]]: tensor<1x64xi64>)
func.func @mask(%m: tensor<1x64xi64>) -> tensor<1x1x1x64xf32> {
  // CHECK-NOT: kiln.gather
  // CHECK-NOT: kiln.and
  // CHECK: %[[R:.+]] = kiln.reshape %[[M]] : tensor<1x64xi64> -> tensor<1x1x1x64xi64>
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[R]], %{{.+}}, %{{.+}} : (tensor<1x1x1x64xi64>, tensor<f32>, tensor<f32>) -> tensor<1x1x1x64xf32> {
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.cast
  // CHECK-NEXT: kiln.where
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[F]]
  %iota = kiln.constant dense<[[[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63]]]]> : tensor<1x1x1x64xi64>
  %true = kiln.constant dense<true> : tensor<1x1x1x64xi1>
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %min = kiln.constant dense<-3.40282347E+38> : tensor<f32>
  %0 = kiln.cast %m : tensor<1x64xi64> -> tensor<1x64xi1>
  %1 = kiln.reshape %0 : tensor<1x64xi1> -> tensor<64x1xi1>
  %2 = kiln.gather %1, %iota {axis = 0 : i64} : (tensor<64x1xi1>, tensor<1x1x1x64xi64>) -> tensor<1x1x1x64x1xi1>
  %3 = kiln.reshape %2 : tensor<1x1x1x64x1xi1> -> tensor<1x1x1x64xi1>
  %4 = kiln.and %true, %3 : (tensor<1x1x1x64xi1>, tensor<1x1x1x64xi1>) -> tensor<1x1x1x64xi1>
  %5 = kiln.where %4, %zero, %min : (tensor<1x1x1x64xi1>, tensor<f32>, tensor<f32>) -> tensor<1x1x1x64xf32>
  return %5 : tensor<1x1x1x64xf32>
}

// -----

// Negative indices count from the end: [-4, 1, 2, 3] over an axis of 4 is
// 0..3 too. or(x, false) is x.
// CHECK-LABEL: func.func @gather_negative_iota
// CHECK-SAME: (%[[D:.+]]: tensor<4x3xf32>, %[[B:.+]]: tensor<2x3xi1>)
func.func @gather_negative_iota(%d: tensor<4x3xf32>, %b: tensor<2x3xi1>) -> (tensor<2x2x3xf32>, tensor<2x3xi1>) {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[D]] : tensor<4x3xf32> -> tensor<2x2x3xf32>
  // CHECK-NEXT: return %[[R]], %[[B]]
  %i = kiln.constant dense<[[-4, 1], [2, 3]]> : tensor<2x2xi64>
  %f = kiln.constant dense<false> : tensor<2x3xi1>
  %0 = kiln.gather %d, %i {axis = 0 : i64} : (tensor<4x3xf32>, tensor<2x2xi64>) -> tensor<2x2x3xf32>
  %1 = kiln.or %b, %f : (tensor<2x3xi1>, tensor<2x3xi1>) -> tensor<2x3xi1>
  return %0, %1 : tensor<2x2x3xf32>, tensor<2x3xi1>
}

//===----------------------------------------------------------------------===//
// Negative: near misses that keep their ops
//===----------------------------------------------------------------------===//

// -----

// Indices that are not 0..n-1 in order, or do not cover the axis: gathers.
// CHECK-LABEL: func.func @gather_not_iota
func.func @gather_not_iota(%d: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<3x3xf32>) {
  // CHECK-COUNT-2: kiln.gather
  %i = kiln.constant dense<[1, 0, 2, 3]> : tensor<4xi64>
  %j = kiln.constant dense<[0, 1, 2]> : tensor<3xi64>
  %0 = kiln.gather %d, %i {axis = 0 : i64} : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
  %1 = kiln.gather %d, %j {axis = 0 : i64} : (tensor<4x3xf32>, tensor<3xi64>) -> tensor<3x3xf32>
  return %0, %1 : tensor<4x3xf32>, tensor<3x3xf32>
}

// -----

// An integer x + 0 (GroupQueryAttention's past length seqlens_k + 1 - S at
// S = 1, either operand order) is x: the cast is all that is left. A float
// x + 0.0 stays (-0.0 + 0.0 is +0.0), as does an integer x + 1.
// CHECK-LABEL: func.func @add_zero
func.func @add_zero(%a: tensor<1xi32>, %x: tensor<4xf32>) -> (tensor<1xi64>, tensor<4xf32>, tensor<1xi64>) {
  // CHECK: kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.cast
  // CHECK-NEXT: kiln.yield
  // CHECK: kiln.add {{.*}} : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  // CHECK: kiln.add {{.*}} : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %z = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %fz = kiln.constant dense<0.0> : tensor<4xf32>
  %0 = kiln.cast %a : tensor<1xi32> -> tensor<1xi64>
  %1 = kiln.add %0, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %2 = kiln.add %z, %1 : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %3 = kiln.add %x, %fz : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %4 = kiln.cast %a : tensor<1xi32> -> tensor<1xi64>
  %5 = kiln.add %4, %one : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %2, %3, %5 : tensor<1xi64>, tensor<4xf32>, tensor<1xi64>
}

// -----

// A slice across two concat operands keeps the concat; a contraction of
// two elements stays a product (cuBLASLt's); and(x, false), x * 2 and a
// mul whose constant 1 broadcasts x stay.
// CHECK-LABEL: func.func @not_identities
func.func @not_identities(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>, %l: tensor<3x2xf32>, %r: tensor<2x5xf32>, %m: tensor<4xi1>, %x: tensor<4xf32>) -> (tensor<2x4xf32>, tensor<3x5xf32>, tensor<4xi1>, tensor<4xf32>, tensor<2x4xf32>) {
  // CHECK: kiln.concat
  // CHECK: kiln.slice
  // CHECK: kiln.gemm
  // CHECK: kiln.and
  // CHECK: kiln.mul
  // CHECK: kiln.mul
  %f = kiln.constant dense<false> : tensor<4xi1>
  %two = kiln.constant dense<2.0> : tensor<4xf32>
  %one = kiln.constant dense<1.0> : tensor<2x4xf32>
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  %1 = kiln.slice %0 {starts = array<i64: 0, 2>, steps = array<i64: 1, 1>} : tensor<2x8xf32> -> tensor<2x4xf32>
  %2 = kiln.matmul %l, %r : (tensor<3x2xf32>, tensor<2x5xf32>) -> tensor<3x5xf32>
  %3 = kiln.and %m, %f : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %4 = kiln.mul %x, %two : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %5 = kiln.mul %x, %one : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %1, %2, %3, %4, %5 : tensor<2x4xf32>, tensor<3x5xf32>, tensor<4xi1>, tensor<4xf32>, tensor<2x4xf32>
}

// -----

// A map with another reader keeps its slice (moving it would compute the
// map twice).
// CHECK-LABEL: func.func @kept_in_place
func.func @kept_in_place(%a: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x4xf32>) {
  // CHECK: %[[E:.+]] = kiln.fusion
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.exp
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: kiln.fusion %[[E]]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.slice
  %0 = kiln.exp %a : tensor<2x8xf32>
  %1 = kiln.slice %0 {starts = array<i64: 0, 0>, steps = array<i64: 1, 2>} : tensor<2x8xf32> -> tensor<2x4xf32>
  return %0, %1 : tensor<2x8xf32>, tensor<2x4xf32>
}

// -----

// A view of a norm over its last dim that keeps that dim moves onto the
// norm's input: GPT-2's [1, 1, C] LayerNorm read as [1, C] by its Conv1D
// product feeds the product directly (kiln-gemv's prologue). A view that
// splits the normalised dim stays after the norm.
// CHECK-LABEL: func.func @view_into_norm
// CHECK-SAME: (%[[X:.+]]: tensor<1x1x8xf32>, %[[G:.+]]: tensor<8xf32>)
func.func @view_into_norm(%x: tensor<1x1x8xf32>, %g: tensor<8xf32>) -> (tensor<1x8xf32>, tensor<1x1x2x4xf32>) {
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]] : tensor<1x1x8xf32> -> tensor<1x8xf32>
  // CHECK-NEXT: kiln.fusion %[[R]], %[[G]] :
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.layer_norm {{.*}} {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
  // CHECK: kiln.rms_norm {{.*}} {axis = 2 : i64, {{.*}}} : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32>
  // CHECK: kiln.reshape %{{.+}} : tensor<1x1x8xf32> -> tensor<1x1x2x4xf32>
  %0 = kiln.layer_norm %x, %g, %g {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x1x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32>
  %1 = kiln.reshape %0 : tensor<1x1x8xf32> -> tensor<1x8xf32>
  %2 = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x1x8xf32>, tensor<8xf32>) -> tensor<1x1x8xf32>
  %3 = kiln.reshape %2 : tensor<1x1x8xf32> -> tensor<1x1x2x4xf32>
  return %1, %3 : tensor<1x8xf32>, tensor<1x1x2x4xf32>
}

// -----

// A product of a 2-D weight's transpose (a tied lm head, as a matmul or as
// a linear) reads the weight as stored: transpose_b, no transpose kernel.
// The transpose of an input stays.
// CHECK-LABEL: func.func @transposed_weight
func.func @transposed_weight(%x: tensor<1x1x8xf32>, %y: tensor<1x8xf32>, %a: tensor<32x8xf32>) -> (tensor<1x1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  // CHECK: %[[W:.+]] = kiln.weight "wte"
  // CHECK-NEXT: kiln.gemm %{{.+}}, %[[W]] transpose_b : (tensor<1x1x8xf32>, tensor<32x8xf32>) -> tensor<1x1x32xf32>
  // CHECK-NEXT: kiln.gemm %{{.+}}, %[[W]] transpose_b : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
  // CHECK: kiln.transpose
  // CHECK: kiln.gemm
  %w = kiln.weight "wte" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<32x8xf32>
  %t = kiln.transpose %w {perm = array<i64: 1, 0>} : (tensor<32x8xf32>) -> tensor<8x32xf32>
  %0 = kiln.linear %x, %t : (tensor<1x1x8xf32>, tensor<8x32xf32>) -> tensor<1x1x32xf32>
  %1 = kiln.matmul %y, %t : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %ta = kiln.transpose %a {perm = array<i64: 1, 0>} : (tensor<32x8xf32>) -> tensor<8x32xf32>
  %2 = kiln.matmul %y, %ta : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  return %0, %1, %2 : tensor<1x1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// A product by a weight whose every use slices its last dim (a packed q/k/v
// split afterwards) is one product per slice, on those columns of the
// weight, and the slices go; a weight that already names columns composes.
// CHECK-LABEL: func.func @split_sliced_product
func.func @split_sliced_product(%x: tensor<1x1x8xf32>, %y: tensor<2x8xf32>) -> (tensor<1x1x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>, tensor<2x4xf32>, tensor<2x12xf32>) {
  // CHECK-DAG: %[[Q:.+]] = kiln.weight "qkv" {columns = array<i64: 0, 16, 32>, length = 1024 : i64, offset = 0 : i64, path = "w.bin"} : tensor<8x16xf32>
  // CHECK-DAG: %[[K:.+]] = kiln.weight "qkv" {columns = array<i64: 16, 24, 32>, length = 1024 : i64, offset = 0 : i64, path = "w.bin"} : tensor<8x8xf32>
  // CHECK-DAG: %[[V:.+]] = kiln.weight "qkv" {columns = array<i64: 24, 32, 32>, length = 1024 : i64, offset = 0 : i64, path = "w.bin"} : tensor<8x8xf32>
  // CHECK-DAG: %[[A:.+]] = kiln.weight "gu" {columns = array<i64: 8, 12, 64>, length = 2048 : i64, offset = 0 : i64, path = "w.bin"} : tensor<8x4xf32>
  // CHECK-DAG: %[[B:.+]] = kiln.weight "gu" {columns = array<i64: 12, 24, 64>, length = 2048 : i64, offset = 0 : i64, path = "w.bin"} : tensor<8x12xf32>
  // CHECK-DAG: kiln.gemm %{{.+}}, %[[Q]] : (tensor<1x1x8xf32>, tensor<8x16xf32>) -> tensor<1x1x16xf32>
  // CHECK-DAG: kiln.gemm %{{.+}}, %[[K]] : (tensor<1x1x8xf32>, tensor<8x8xf32>) -> tensor<1x1x8xf32>
  // CHECK-DAG: kiln.gemm %{{.+}}, %[[V]] : (tensor<1x1x8xf32>, tensor<8x8xf32>) -> tensor<1x1x8xf32>
  // CHECK-DAG: kiln.gemm %{{.+}}, %[[A]] : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  // CHECK-DAG: kiln.gemm %{{.+}}, %[[B]] : (tensor<2x8xf32>, tensor<8x12xf32>) -> tensor<2x12xf32>
  // CHECK-NOT: kiln.slice
  %w = kiln.weight "qkv" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %p = kiln.linear %x, %w : (tensor<1x1x8xf32>, tensor<8x32xf32>) -> tensor<1x1x32xf32>
  %q = kiln.slice %p {starts = array<i64: 0, 0, 0>, steps = array<i64: 1, 1, 1>} : tensor<1x1x32xf32> -> tensor<1x1x16xf32>
  %k = kiln.slice %p {starts = array<i64: 0, 0, 16>, steps = array<i64: 1, 1, 1>} : tensor<1x1x32xf32> -> tensor<1x1x8xf32>
  %v = kiln.slice %p {starts = array<i64: 0, 0, 24>, steps = array<i64: 1, 1, 1>} : tensor<1x1x32xf32> -> tensor<1x1x8xf32>
  %g = kiln.weight "gu" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, columns = array<i64: 8, 24, 64>} : tensor<8x16xf32>
  %r = kiln.linear %y, %g : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %a = kiln.slice %r {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<2x16xf32> -> tensor<2x4xf32>
  %b = kiln.slice %r {starts = array<i64: 0, 4>, steps = array<i64: 1, 1>} : tensor<2x16xf32> -> tensor<2x12xf32>
  return %q, %k, %v, %a, %b : tensor<1x1x16xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>, tensor<2x4xf32>, tensor<2x12xf32>
}

// -----

// Near misses keep one product and its slices: the product also returned,
// a slice of rows, a strided slice, a bias, a constant weight.
// CHECK-LABEL: func.func @split_sliced_product_not
func.func @split_sliced_product_not(%x: tensor<2x8xf32>, %bias: tensor<32xf32>) -> (tensor<2x32xf32>, tensor<2x16xf32>, tensor<1x32xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>) {
  // CHECK-COUNT-5: kiln.slice
  // CHECK-NOT: columns
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %p0 = kiln.linear %x, %w : (tensor<2x8xf32>, tensor<8x32xf32>) -> tensor<2x32xf32>
  %s0 = kiln.slice %p0 {starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<2x32xf32> -> tensor<2x16xf32>
  %p1 = kiln.linear %x, %w : (tensor<2x8xf32>, tensor<8x32xf32>) -> tensor<2x32xf32>
  %s1 = kiln.slice %p1 {starts = array<i64: 1, 0>, steps = array<i64: 1, 1>} : tensor<2x32xf32> -> tensor<1x32xf32>
  %p2 = kiln.linear %x, %w : (tensor<2x8xf32>, tensor<8x32xf32>) -> tensor<2x32xf32>
  %s2 = kiln.slice %p2 {starts = array<i64: 0, 0>, steps = array<i64: 1, 2>} : tensor<2x32xf32> -> tensor<2x16xf32>
  %p3 = kiln.linear %x, %w, %bias : (tensor<2x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<2x32xf32>
  %s3 = kiln.slice %p3 {starts = array<i64: 0, 16>, steps = array<i64: 1, 1>} : tensor<2x32xf32> -> tensor<2x16xf32>
  %c = kiln.constant dense<0.5> : tensor<8x32xf32>
  %p4 = kiln.linear %x, %c : (tensor<2x8xf32>, tensor<8x32xf32>) -> tensor<2x32xf32>
  %s4 = kiln.slice %p4 {starts = array<i64: 0, 16>, steps = array<i64: 1, 1>} : tensor<2x32xf32> -> tensor<2x16xf32>
  return %p0, %s0, %s1, %s2, %s3, %s4 : tensor<2x32xf32>, tensor<2x16xf32>, tensor<1x32xf32>, tensor<2x16xf32>, tensor<2x16xf32>, tensor<2x16xf32>
}

// -----

// A view of a map one of whose operands broadcasts (the [8] row into
// [2x8]) stays after the map: nothing is built for the other operand.
// CHECK-LABEL: func.func @view_of_broadcast_map
// CHECK-SAME: (%[[A:.+]]: tensor<2x8xf32>, %[[B:.+]]: tensor<8xf32>)
func.func @view_of_broadcast_map(%a: tensor<2x8xf32>, %b: tensor<8xf32>) -> tensor<16xf32> {
  // CHECK-NEXT: %[[F:.+]] = kiln.fusion %[[A]], %[[B]] : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: kiln.add
  // CHECK-NEXT: kiln.yield
  // CHECK-NEXT: }
  // CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[F]] : tensor<2x8xf32> -> tensor<16xf32>
  // CHECK-NEXT: return %[[R]]
  %0 = kiln.add %a, %b : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %1 = kiln.reshape %0 : tensor<2x8xf32> -> tensor<16xf32>
  return %1 : tensor<16xf32>
}
