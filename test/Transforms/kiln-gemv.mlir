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

// bf16 rows up to kGemvMmaMaxRows (8) are GEMVs too (kiln::gemvMmaPartials,
// the tensor-core kernel); 9 bf16 rows stay a gemm.
// CHECK-LABEL: func.func @bf16_rows
// CHECK: kiln.weight "w8" {{.*}}transposed} : tensor<32x16xbf16>
// CHECK: kiln.linear {{.*}} {transpose_weight = true} : (tensor<8x16xbf16>, tensor<32x16xbf16>) -> tensor<8x32xbf16>
// CHECK: kiln.weight "w9" {{.*}}transposed} : tensor<32x16xbf16>
// CHECK-NEXT: kiln.gemm %arg1, %{{.*}} transpose_b : (tensor<9x16xbf16>, tensor<32x16xbf16>)
func.func @bf16_rows(%x8: tensor<8x16xbf16>, %x9: tensor<9x16xbf16>) -> (tensor<8x32xbf16>, tensor<9x32xbf16>) {
  %w8 = kiln.weight "w8" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xbf16>
  %a = kiln.gemm %x8, %w8 : (tensor<8x16xbf16>, tensor<16x32xbf16>) -> tensor<8x32xbf16>
  %w9 = kiln.weight "w9" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xbf16>
  %b = kiln.gemm %x9, %w9 : (tensor<9x16xbf16>, tensor<16x32xbf16>) -> tensor<9x32xbf16>
  return %a, %b : tensor<8x32xbf16>, tensor<9x32xbf16>
}

// -----

// f16 rows likewise (since session 12: the tensor-core kernel's
// mma.m16n8k16.f16 and the one-row kernel on __half): 8 rows and one row
// are GEMVs, 9 rows stay a gemm; K = 12 is not a multiple of the 16-byte
// vector (8 f16 elements), so that row stays a gemm too.
// CHECK-LABEL: func.func @f16_rows
// CHECK: kiln.linear {{.*}} {transpose_weight = true} : (tensor<8x16xf16>, tensor<32x16xf16>) -> tensor<8x32xf16>
// CHECK: kiln.weight "w9" {{.*}}transposed} : tensor<32x16xf16>
// CHECK-NEXT: kiln.gemm %arg1, %{{.*}} transpose_b : (tensor<9x16xf16>, tensor<32x16xf16>)
// CHECK: kiln.linear {{.*}} {transpose_weight = true} : (tensor<1x16xf16>, tensor<32x16xf16>) -> tensor<1x32xf16>
// CHECK: kiln.gemm %arg3, %{{.*}} transpose_b : (tensor<1x12xf16>, tensor<32x12xf16>)
func.func @f16_rows(%x8: tensor<8x16xf16>, %x9: tensor<9x16xf16>, %x1: tensor<1x16xf16>, %x12: tensor<1x12xf16>) -> (tensor<8x32xf16>, tensor<9x32xf16>, tensor<1x32xf16>, tensor<1x32xf16>) {
  %w8 = kiln.weight "w8" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xf16>
  %a = kiln.gemm %x8, %w8 : (tensor<8x16xf16>, tensor<16x32xf16>) -> tensor<8x32xf16>
  %w9 = kiln.weight "w9" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xf16>
  %b = kiln.gemm %x9, %w9 : (tensor<9x16xf16>, tensor<16x32xf16>) -> tensor<9x32xf16>
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xf16>
  %c = kiln.gemm %x1, %w1 : (tensor<1x16xf16>, tensor<16x32xf16>) -> tensor<1x32xf16>
  %w12 = kiln.weight "w12" {path = "w.bin", offset = 0 : i64, length = 1536 : i64, source_type = f32} : tensor<12x32xf16>
  %d = kiln.gemm %x12, %w12 : (tensor<1x12xf16>, tensor<12x32xf16>) -> tensor<1x32xf16>
  return %a, %b, %c, %d : tensor<8x32xf16>, tensor<9x32xf16>, tensor<1x32xf16>, tensor<1x32xf16>
}

// -----

// Near misses stay cuBLASLt gemms: 2 f32 rows (kGemvMaxRows is 1, from the
// measurements in bench/RESULTS.md); a scale with a bias (the linear would
// add the bias before the scale); a weight another op
// reads too; K not a multiple of the vector (f32: 4); a B that is not a
// weight. The gemms left read a single-use weight transposed
// too (`transpose_b` on [N, K]), so step functions share one copy of it; the
// weight another op reads and the B that is no weight keep theirs.
// CHECK-LABEL: func.func @near_misses
// CHECK-NOT: kiln.linear
// CHECK: kiln.weight "w1" {{.*}}transposed} : tensor<32x8xf32>
// CHECK-NEXT: kiln.gemm %arg0, %{{.*}} transpose_b : (tensor<2x8xf32>, tensor<32x8xf32>)
// CHECK: kiln.weight "w3" {{.*}}transposed} : tensor<32x8xf32>
// CHECK-NEXT: kiln.gemm %arg1, %{{.*}}, %arg4 transpose_b {scale = 5.000000e-01 : f32}
// CHECK: kiln.weight "w4" {length = 1024 : i64, offset = 0 : i64, path = "w.bin"} : tensor<8x32xf32>
// CHECK-NEXT: kiln.gemm %arg1, %{{.*}} : (tensor<1x8xf32>, tensor<8x32xf32>)
// CHECK: kiln.weight "w5" {{.*}}transposed} : tensor<32x6xf32>
// CHECK-NEXT: kiln.gemm %arg2, %{{.*}} transpose_b
// CHECK: kiln.gemm %arg1, %arg3 : (tensor<1x8xf32>, tensor<8x32xf32>)
// CHECK-NOT: kiln.linear
func.func @near_misses(%x9: tensor<2x8xf32>, %x: tensor<1x8xf32>, %x6: tensor<1x6xf32>, %b: tensor<8x32xf32>, %bias: tensor<32xf32>) -> (tensor<2x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<8x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %a = kiln.gemm %x9, %w1 : (tensor<2x8xf32>, tensor<8x32xf32>) -> tensor<2x32xf32>
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %d = kiln.gemm %x, %w3, %bias {scale = 5.000000e-01 : f32} : (tensor<1x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<1x32xf32>
  %w4 = kiln.weight "w4" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %e = kiln.gemm %x, %w4 : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %e2 = kiln.add %w4, %w4 : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %w5 = kiln.weight "w5" {path = "w.bin", offset = 0 : i64, length = 768 : i64} : tensor<6x32xf32>
  %f = kiln.gemm %x6, %w5 : (tensor<1x6xf32>, tensor<6x32xf32>) -> tensor<1x32xf32>
  %g = kiln.gemm %x, %b : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  return %a, %d, %e, %e2, %f, %g : tensor<2x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<8x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// A gemm that reads an [N, K] weight with transpose_b (a tied lm head: the
// embedding table, which the embedding gather reads too) is a GEMV reading
// the weight as it is stored: no transposed copy, the gather keeps it.
// CHECK-LABEL: func.func @read_as_stored
// CHECK: %[[W:.*]] = kiln.weight "wte" {length = 1024 : i64, offset = 0 : i64, path = "w.bin"} : tensor<32x8xf32>
// CHECK-NOT: transposed
// CHECK: kiln.fusion %[[W]], %arg1
// CHECK: kiln.fusion %{{.*}}, %[[W]] : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.linear {{.*}} {transpose_weight = true} : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
// CHECK-NOT: kiln.gemm
func.func @read_as_stored(%x: tensor<1x8xf32>, %ids: tensor<1xi64>) -> (tensor<1x8xf32>, tensor<1x32xf32>) {
  %w = kiln.weight "wte" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<32x8xf32>
  %e = kiln.fusion %w, %ids : (tensor<32x8xf32>, tensor<1xi64>) -> tensor<1x8xf32> {
  ^bb0(%t: tensor<32x8xf32>, %i: tensor<1xi64>):
    %r = kiln.gather %t, %i {axis = 0 : i64} : (tensor<32x8xf32>, tensor<1xi64>) -> tensor<1x8xf32>
    kiln.yield %r : tensor<1x8xf32>
  }
  %h = kiln.gemm %x, %w transpose_b : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
  return %e, %h : tensor<1x8xf32>, tensor<1x32xf32>
}

// -----

// Siblings: q, k and v read one input; one fusion with three results, the
// later weights moved up to it. The residual product of another input
// stays apart.
// CHECK-LABEL: func.func @siblings
// CHECK: %[[WQ:.*]] = kiln.weight "wq" {{.*}}transposed} : tensor<32x8xf32>
// CHECK: %[[WK:.*]] = kiln.weight "wk" {{.*}}transposed} : tensor<16x8xf32>
// CHECK: %[[WV:.*]] = kiln.weight "wv" {{.*}}transposed} : tensor<16x8xf32>
// CHECK: %[[QKV:.*]]:3 = kiln.fusion %arg0, %[[WQ]], %[[WK]], %[[WV]] : (tensor<1x8xf32>, tensor<32x8xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x8xf32>, %[[A:.*]]: tensor<32x8xf32>, %[[B:.*]]: tensor<16x8xf32>, %[[C:.*]]: tensor<16x8xf32>):
// CHECK-NEXT: %[[Q:.*]] = kiln.linear %[[X]], %[[A]] {transpose_weight = true}
// CHECK-NEXT: %[[K:.*]] = kiln.linear %[[X]], %[[B]] {transpose_weight = true}
// CHECK-NEXT: %[[V:.*]] = kiln.linear %[[X]], %[[C]] {transpose_weight = true}
// CHECK-NEXT: kiln.yield %[[Q]], %[[K]], %[[V]]
// CHECK: kiln.fusion %arg1, {{.*}} : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
// CHECK: return %[[QKV]]#0, %[[QKV]]#1, %[[QKV]]#2
func.func @siblings(%x: tensor<1x8xf32>, %x2: tensor<1x8xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x32xf32>) {
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %q = kiln.gemm %x, %wq : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wo = kiln.weight "wo" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %o = kiln.gemm %x2, %wo : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wk = kiln.weight "wk" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<8x16xf32>
  %k = kiln.gemm %x, %wk : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
  %wv = kiln.weight "wv" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<8x16xf32>
  %v = kiln.gemm %x, %wv : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
  return %q, %k, %v, %o : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x32xf32>
}

// -----

// An epilogue: SwiGLU's fusion reads the gate and up products of one input
// and nothing else reads them; one fusion computes both products and the
// epilogue, which reads a one-element argument too.
// CHECK-LABEL: func.func @swiglu
// CHECK: %[[Y:.*]] = kiln.fusion %arg0, %{{.*}}, %{{.*}}, %arg1 : (tensor<1x8xbf16>, tensor<32x8xbf16>, tensor<32x8xbf16>, tensor<1xf32>) -> tensor<1x32xbf16>
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x8xbf16>, %[[G:.*]]: tensor<32x8xbf16>, %[[U:.*]]: tensor<32x8xbf16>, %[[S:.*]]: tensor<1xf32>):
// CHECK-NEXT: %[[LG:.*]] = kiln.linear %[[X]], %[[G]] {transpose_weight = true}
// CHECK-NEXT: %[[LU:.*]] = kiln.linear %[[X]], %[[U]] {transpose_weight = true}
// CHECK-NEXT: %[[CG:.*]] = kiln.cast %[[LG]]
// CHECK-NEXT: %[[CU:.*]] = kiln.cast %[[LU]]
// CHECK-NEXT: %[[SG:.*]] = kiln.silu %[[CG]]
// CHECK-NEXT: %[[M:.*]] = kiln.mul %[[SG]], %[[CU]]
// CHECK-NEXT: %[[M2:.*]] = kiln.mul %[[M]], %[[S]]
// CHECK-NEXT: %[[R:.*]] = kiln.cast %[[M2]]
// CHECK-NEXT: kiln.yield %[[R]]
// CHECK-NOT: kiln.fusion
// CHECK: return %[[Y]]
func.func @swiglu(%x: tensor<1x8xbf16>, %s: tensor<1xf32>) -> tensor<1x32xbf16> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 1024 : i64, source_type = f32} : tensor<8x32xbf16>
  %g = kiln.gemm %x, %wg : (tensor<1x8xbf16>, tensor<8x32xbf16>) -> tensor<1x32xbf16>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 0 : i64, length = 1024 : i64, source_type = f32} : tensor<8x32xbf16>
  %u = kiln.gemm %x, %wu : (tensor<1x8xbf16>, tensor<8x32xbf16>) -> tensor<1x32xbf16>
  %y = kiln.fusion %g, %u, %s : (tensor<1x32xbf16>, tensor<1x32xbf16>, tensor<1xf32>) -> tensor<1x32xbf16> {
  ^bb0(%a: tensor<1x32xbf16>, %b: tensor<1x32xbf16>, %c: tensor<1xf32>):
    %a32 = kiln.cast %a : tensor<1x32xbf16> -> tensor<1x32xf32>
    %b32 = kiln.cast %b : tensor<1x32xbf16> -> tensor<1x32xf32>
    %sa = kiln.silu %a32 : tensor<1x32xf32>
    %m = kiln.mul %sa, %b32 : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
    %m2 = kiln.mul %m, %c : (tensor<1x32xf32>, tensor<1xf32>) -> tensor<1x32xf32>
    %r = kiln.cast %m2 : tensor<1x32xf32> -> tensor<1x32xbf16>
    kiln.yield %r : tensor<1x32xbf16>
  }
  return %y : tensor<1x32xbf16>
}

// -----

// Near misses of the merges, each left as separate kernels:
// - @shared_product: the gate product is read by the epilogue and returned,
//   so it must reach memory: the epilogue does not take it in (the up
//   product alone joins it);
// - @other_input: the epilogue combines products of two inputs: those of
//   the first input join it, the other stays a kernel of its own;
// - @late_residual: v's residual is computed after q: q and v stay apart
//   (k joins q).
// CHECK-LABEL: func.func @shared_product
// CHECK: %[[G:.*]] = kiln.fusion %arg0, %{{.*}} : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
// CHECK: %[[Y:.*]] = kiln.fusion %arg0, %{{.*}}, %[[G]] : (tensor<1x8xf32>, tensor<32x8xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.linear
// CHECK-NEXT: kiln.mul
// CHECK-NEXT: kiln.yield
// CHECK: return %[[Y]], %[[G]]
func.func @shared_product(%x: tensor<1x8xf32>) -> (tensor<1x32xf32>, tensor<1x32xf32>) {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %g = kiln.gemm %x, %wg : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %u = kiln.gemm %x, %wu : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %y = kiln.fusion %g, %u : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32> {
  ^bb0(%a: tensor<1x32xf32>, %b: tensor<1x32xf32>):
    %m = kiln.mul %a, %b : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
    kiln.yield %m : tensor<1x32xf32>
  }
  return %y, %g : tensor<1x32xf32>, tensor<1x32xf32>
}

// CHECK-LABEL: func.func @other_input
// CHECK: %[[P:.*]] = kiln.fusion %arg1, %{{.*}} : (tensor<1x8xf32>, tensor<32x8xf32>) -> tensor<1x32xf32>
// CHECK: kiln.fusion %arg0, %{{.*}}, %[[P]] : (tensor<1x8xf32>, tensor<32x8xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.linear
// CHECK-NEXT: kiln.mul
func.func @other_input(%x: tensor<1x8xf32>, %x2: tensor<1x8xf32>) -> tensor<1x32xf32> {
  %wg = kiln.weight "wg" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %g = kiln.gemm %x, %wg : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wu = kiln.weight "wu" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %u = kiln.gemm %x2, %wu : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %y = kiln.fusion %g, %u : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32> {
  ^bb0(%a: tensor<1x32xf32>, %b: tensor<1x32xf32>):
    %m = kiln.mul %a, %b : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
    kiln.yield %m : tensor<1x32xf32>
  }
  return %y : tensor<1x32xf32>
}

// CHECK-LABEL: func.func @late_residual
// CHECK: kiln.fusion %arg0, {{.*}} -> (tensor<1x32xf32>, tensor<1x16xf32>)
// CHECK: kiln.exp
// CHECK: kiln.fusion %arg0, {{.*}} -> tensor<1x32xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.linear
// CHECK-NEXT: kiln.add
func.func @late_residual(%x: tensor<1x8xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x32xf32>) {
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %q = kiln.gemm %x, %wq : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wk = kiln.weight "wk" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<8x16xf32>
  %k = kiln.gemm %x, %wk : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
  %r = kiln.exp %q : tensor<1x32xf32>
  %wv = kiln.weight "wv" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %v = kiln.gemm %x, %wv residual %r : (tensor<1x8xf32>, tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  return %q, %k, %v : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x32xf32>
}

// -----

// A prologue: the norm that only the q/k products read joins their
// kernel (after the siblings merge).
// CHECK-LABEL: func.func @prologue
// CHECK: %[[Y:.*]]:2 = kiln.fusion %arg0, %arg1, %{{.*}}, %{{.*}} : (tensor<1x8xf32>, tensor<8xf32>, tensor<32x8xf32>, tensor<16x8xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x8xf32>, %[[S:.*]]: tensor<8xf32>, %{{.*}}: tensor<32x8xf32>, %{{.*}}: tensor<16x8xf32>):
// CHECK-NEXT: %[[N:.*]] = kiln.rms_norm %[[X]], %[[S]]
// CHECK-NEXT: kiln.linear %[[N]]
// CHECK-NEXT: kiln.linear %[[N]]
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.fusion
// CHECK: return %[[Y]]#0, %[[Y]]#1
func.func @prologue(%x: tensor<1x8xf32>, %s: tensor<8xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>) {
  %n = kiln.fusion %x, %s : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>, %b: tensor<8xf32>):
    %r = kiln.rms_norm %a, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
    kiln.yield %r : tensor<1x8xf32>
  }
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %q = kiln.gemm %n, %wq : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wk = kiln.weight "wk" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<8x16xf32>
  %k = kiln.gemm %n, %wk : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
  return %q, %k : tensor<1x32xf32>, tensor<1x16xf32>
}

// -----

// Near misses of the prologue, each norm left as its own kernel: the
// normalised row is also returned; the norm is over a leading axis; the
// row (16384 f32, 64 KB) does not fit kGemvPrologueBytes of shared memory,
// where its scale (one value, broadcast) does not fold into the dots.
// CHECK-LABEL: func.func @prologue_misses
// CHECK: kiln.rms_norm
// CHECK-NEXT: kiln.yield
// CHECK: kiln.rms_norm
// CHECK-NEXT: kiln.yield
// CHECK: kiln.rms_norm
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.rms_norm
func.func @prologue_misses(%x: tensor<1x8xf32>, %s: tensor<8xf32>, %x2: tensor<1x8xf32>, %s2: tensor<1x1xf32>, %x3: tensor<1x16384xf32>, %s3: tensor<1xf32>) -> (tensor<1x32xf32>, tensor<1x8xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %n = kiln.fusion %x, %s : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>, %b: tensor<8xf32>):
    %r = kiln.rms_norm %a, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
    kiln.yield %r : tensor<1x8xf32>
  }
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %q = kiln.gemm %n, %wq : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %n2 = kiln.fusion %x2, %s2 : (tensor<1x8xf32>, tensor<1x1xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>, %b: tensor<1x1xf32>):
    %r = kiln.rms_norm %a, %b {axis = 0 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8xf32>, tensor<1x1xf32>) -> tensor<1x8xf32>
    kiln.yield %r : tensor<1x8xf32>
  }
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %q2 = kiln.gemm %n2, %w2 : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %n3 = kiln.fusion %x3, %s3 : (tensor<1x16384xf32>, tensor<1xf32>) -> tensor<1x16384xf32> {
  ^bb0(%a: tensor<1x16384xf32>, %b: tensor<1xf32>):
    %r = kiln.rms_norm %a, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x16384xf32>, tensor<1xf32>) -> tensor<1x16384xf32>
    kiln.yield %r : tensor<1x16384xf32>
  }
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 2097152 : i64} : tensor<16384x32xf32>
  %q3 = kiln.gemm %n3, %w3 : (tensor<1x16384xf32>, tensor<16384x32xf32>) -> tensor<1x32xf32>
  return %q, %n, %q2, %q3 : tensor<1x32xf32>, tensor<1x8xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// A folded RMSNorm (its scale K contiguous values, kiln::GemvRmsX) reads x
// from memory, not shared memory, so kGemvPrologueBytes does not bound it:
// 8 rows of 4096 bf16 (Llama-3-8B's hidden size at batch 8, 64 KB) and one
// row of 16384 f32 (64 KB) join their products.
// CHECK-LABEL: func.func @prologue_folded_large
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.rms_norm
// CHECK-NEXT: kiln.linear
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.rms_norm
// CHECK-NEXT: kiln.linear
// CHECK-NEXT: kiln.yield
// CHECK-NOT: kiln.fusion
func.func @prologue_folded_large(%x: tensor<8x4096xbf16>, %s: tensor<4096xbf16>, %x3: tensor<1x16384xf32>, %s3: tensor<16384xf32>) -> (tensor<8x32xbf16>, tensor<1x32xf32>) {
  %n = kiln.fusion %x, %s : (tensor<8x4096xbf16>, tensor<4096xbf16>) -> tensor<8x4096xbf16> {
  ^bb0(%a: tensor<8x4096xbf16>, %b: tensor<4096xbf16>):
    %r = kiln.rms_norm %a, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<8x4096xbf16>, tensor<4096xbf16>) -> tensor<8x4096xbf16>
    kiln.yield %r : tensor<8x4096xbf16>
  }
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 262144 : i64} : tensor<4096x32xbf16>
  %q = kiln.gemm %n, %w : (tensor<8x4096xbf16>, tensor<4096x32xbf16>) -> tensor<8x32xbf16>
  %n3 = kiln.fusion %x3, %s3 : (tensor<1x16384xf32>, tensor<16384xf32>) -> tensor<1x16384xf32> {
  ^bb0(%a: tensor<1x16384xf32>, %b: tensor<16384xf32>):
    %r = kiln.rms_norm %a, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x16384xf32>, tensor<16384xf32>) -> tensor<1x16384xf32>
    kiln.yield %r : tensor<1x16384xf32>
  }
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 2097152 : i64} : tensor<16384x32xf32>
  %q3 = kiln.gemm %n3, %w3 : (tensor<1x16384xf32>, tensor<16384x32xf32>) -> tensor<1x32xf32>
  return %q, %q3 : tensor<8x32xbf16>, tensor<1x32xf32>
}

// -----

// A bias: a gemm's [N] bias becomes the linear's, and an add of a [N]
// vector after a product (Qwen2's exported q/k/v bias) is an epilogue.
// CHECK-LABEL: func.func @bias
// CHECK: kiln.fusion %arg0, %{{.*}}, %arg1, %{{.*}}, %arg2 : (tensor<1x8xf32>, tensor<32x8xf32>, tensor<32xf32>, tensor<16x8xf32>, tensor<16xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<1x8xf32>, %[[W:.*]]: tensor<32x8xf32>, %[[B:.*]]: tensor<32xf32>, %[[W2:.*]]: tensor<16x8xf32>, %[[B2:.*]]: tensor<16xf32>):
// CHECK-NEXT: kiln.linear %[[X]], %[[W]], %[[B]] {transpose_weight = true}
// CHECK-NEXT: %[[L:.*]] = kiln.linear %[[X]], %[[W2]] {transpose_weight = true}
// CHECK-NEXT: kiln.add %[[L]], %[[B2]]
// CHECK-NEXT: kiln.yield
func.func @bias(%x: tensor<1x8xf32>, %b: tensor<32xf32>, %b2: tensor<16xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>) {
  %w = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %y = kiln.gemm %x, %w, %b : (tensor<1x8xf32>, tensor<8x32xf32>, tensor<32xf32>) -> tensor<1x32xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<8x16xf32>
  %p = kiln.gemm %x, %w2 : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
  %z = kiln.fusion %p, %b2 : (tensor<1x16xf32>, tensor<16xf32>) -> tensor<1x16xf32> {
  ^bb0(%a: tensor<1x16xf32>, %c: tensor<16xf32>):
    %s = kiln.add %a, %c : (tensor<1x16xf32>, tensor<16xf32>) -> tensor<1x16xf32>
    kiln.yield %s : tensor<1x16xf32>
  }
  return %y, %z : tensor<1x32xf32>, tensor<1x16xf32>
}

// -----

// A gemm's epilogue act(scale * (a x b) + residual) becomes ops after the
// GEMV's linear in its kernel: a scale is a kiln.mul by a rank-0 f32
// constant, ReLU a kiln.max with a rank-0 f32 zero, GELU a kiln.gelu; in f32
// a residual follows the scale. In bf16 the scale and activation are f32
// (casts around them), a residual without a scale is added in bf16 first,
// and a scale with a residual leaves the gemm to cuBLASLt.
// CHECK-LABEL: func.func @epilogues
// CHECK: %[[S:.+]] = kiln.constant dense<2.500000e-01> : tensor<f32>
// CHECK: %[[Z:.+]] = kiln.constant dense<0.000000e+00> : tensor<f32>
// CHECK: kiln.fusion %arg0, %{{.+}}, %arg1, %[[S]], %[[Z]]
// CHECK: %[[L:.+]] = kiln.linear
// CHECK-NEXT: %[[M:.+]] = kiln.mul %[[L]], %{{.+}} : (tensor<1x32xf32>, tensor<f32>) -> tensor<1x32xf32>
// CHECK-NEXT: %[[A:.+]] = kiln.add %[[M]], %{{.+}} : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
// CHECK-NEXT: %[[R:.+]] = kiln.max %[[A]], %{{.+}} : (tensor<1x32xf32>, tensor<f32>) -> tensor<1x32xf32>
// CHECK-NEXT: kiln.yield %[[R]]
// CHECK: kiln.fusion %arg2, %{{.+}}, %arg3 :
// CHECK: %[[L2:.+]] = kiln.linear
// CHECK-NEXT: %[[A2:.+]] = kiln.add %[[L2]], %{{.+}} : (tensor<4x32xbf16>, tensor<4x32xbf16>) -> tensor<4x32xbf16>
// CHECK-NEXT: %[[W:.+]] = kiln.cast %[[A2]] : tensor<4x32xbf16> -> tensor<4x32xf32>
// CHECK-NEXT: %[[G:.+]] = kiln.gelu %[[W]] approximate<tanh> : tensor<4x32xf32>
// CHECK-NEXT: %[[N:.+]] = kiln.cast %[[G]] : tensor<4x32xf32> -> tensor<4x32xbf16>
// CHECK-NEXT: kiln.yield %[[N]]
// CHECK: kiln.gemm %arg2, %{{.+}} residual %arg3 transpose_b {scale = 2.500000e-01 : f32}
func.func @epilogues(%x: tensor<1x8xf32>, %r: tensor<1x32xf32>, %xb: tensor<4x16xbf16>, %rb: tensor<4x32xbf16>) -> (tensor<1x32xf32>, tensor<4x32xbf16>, tensor<4x32xbf16>) {
  %w1 = kiln.weight "w1" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %a = kiln.gemm %x, %w1 residual %r activation<relu> {scale = 2.500000e-01 : f32} : (tensor<1x8xf32>, tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  %w2 = kiln.weight "w2" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xbf16>
  %b = kiln.gemm %xb, %w2 residual %rb activation<gelu_tanh> : (tensor<4x16xbf16>, tensor<16x32xbf16>, tensor<4x32xbf16>) -> tensor<4x32xbf16>
  %w3 = kiln.weight "w3" {path = "w.bin", offset = 0 : i64, length = 2048 : i64, source_type = f32} : tensor<16x32xbf16>
  %c = kiln.gemm %xb, %w3 residual %rb {scale = 2.500000e-01 : f32} : (tensor<4x16xbf16>, tensor<16x32xbf16>, tensor<4x32xbf16>) -> tensor<4x32xbf16>
  return %a, %b, %c : tensor<1x32xf32>, tensor<4x32xbf16>, tensor<4x32xbf16>
}

// -----

// Edge: the pass run again over its own output changes nothing (a kernel
// with a prologue has no input row of its own to merge siblings on).
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-gemv,kiln-gemv))' | FileCheck %s --check-prefix=TWICE
// TWICE-LABEL: func.func @prologue_twice
// TWICE: kiln.fusion %arg0, %arg1
// TWICE-NEXT: ^bb0
// TWICE-NEXT: kiln.rms_norm
// TWICE-NEXT: kiln.linear
// TWICE-NEXT: kiln.linear
// TWICE-NEXT: kiln.yield
// TWICE-NOT: kiln.fusion
// CHECK-LABEL: func.func @prologue_twice
func.func @prologue_twice(%x: tensor<1x8xf32>, %s: tensor<8xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>) {
  %n = kiln.fusion %x, %s : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>, %b: tensor<8xf32>):
    %r = kiln.rms_norm %a, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x8xf32>, tensor<8xf32>) -> tensor<1x8xf32>
    kiln.yield %r : tensor<1x8xf32>
  }
  %wq = kiln.weight "wq" {path = "w.bin", offset = 0 : i64, length = 1024 : i64} : tensor<8x32xf32>
  %q = kiln.gemm %n, %wq : (tensor<1x8xf32>, tensor<8x32xf32>) -> tensor<1x32xf32>
  %wk = kiln.weight "wk" {path = "w.bin", offset = 0 : i64, length = 512 : i64} : tensor<8x16xf32>
  %k = kiln.gemm %n, %wk : (tensor<1x8xf32>, tensor<8x16xf32>) -> tensor<1x16xf32>
  return %q, %k : tensor<1x32xf32>, tensor<1x16xf32>
}

