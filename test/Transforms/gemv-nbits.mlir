// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-form-fusions,kiln-gemv))' | FileCheck %s

// kiln-gemv's merges on int4 products (kiln.matmul_nbits on one decode
// row, kiln::isNBitsGemv and kNBitsGemvMergeMaxRows): q and k one sibling
// kernel after the norm's own kernel (never a prologue: the norm's kernel
// rounds the normalised row to its type); gate, up and SwiGLU one kernel,
// with the product whose residual add is its epilogue - four launches
// where there were eight. codegen emits them with kiln::nbitsDots
// (test/Codegen/gemv-nbits.mlir).
// CHECK-LABEL: func.func @merged
// CHECK: %[[N:.*]] = kiln.fusion
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.rms_norm
// CHECK-NEXT: kiln.yield
// CHECK: %[[A:.*]]:2 = kiln.fusion %[[N]],
// CHECK-NEXT: ^bb0(%[[H:[^:]*]]:
// CHECK-NEXT: %[[Q:.*]] = kiln.matmul_nbits %[[H]],
// CHECK-NEXT: %[[K:.*]] = kiln.matmul_nbits %[[H]],
// CHECK-NEXT: kiln.yield %[[Q]], %[[K]]
// CHECK: %[[B:.*]]:2 = kiln.fusion
// CHECK-NEXT: ^bb0(%[[X:[^:]*]]:
// CHECK-NEXT: %[[G:.*]] = kiln.matmul_nbits %[[X]],
// CHECK-NEXT: %[[U:.*]] = kiln.matmul_nbits %[[X]],
// CHECK-NEXT: %[[S:.*]] = kiln.silu %[[G]]
// CHECK-NEXT: %[[SW:.*]] = kiln.mul %[[S]], %[[U]]
// CHECK-NEXT: %[[O:.*]] = kiln.matmul_nbits %[[X]],
// CHECK-NEXT: %[[R:.*]] = kiln.add %[[O]],
// CHECK-NEXT: kiln.yield %[[SW]], %[[R]]
// CHECK-NOT: kiln.fusion
// CHECK: return %[[A]]#0, %[[A]]#1, %[[B]]#0, %[[B]]#1
func.func @merged(%x: tensor<1x64xf32>, %g: tensor<64xf32>, %r: tensor<1x32xf32>, %wq: tensor<32x2x16xui8>, %sq: tensor<64xf32>, %wk: tensor<16x2x16xui8>, %sk: tensor<32xf32>, %wg: tensor<32x2x16xui8>, %sg: tensor<64xf32>, %wu: tensor<32x2x16xui8>, %su: tensor<64xf32>, %wo: tensor<32x2x16xui8>, %so: tensor<64xf32>) -> (tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %h = kiln.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
  %q = kiln.matmul_nbits %h, %wq, %sq {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %k = kiln.matmul_nbits %h, %wk, %sk {K = 64 : i64, N = 16 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<16x2x16xui8>, tensor<32xf32>) -> tensor<1x16xf32>
  %gt = kiln.matmul_nbits %x, %wg, %sg {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %up = kiln.matmul_nbits %x, %wu, %su {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %s = kiln.silu %gt : tensor<1x32xf32>
  %sw = kiln.mul %s, %up : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  %o = kiln.matmul_nbits %x, %wo, %so {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %res = kiln.add %o, %r : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  return %q, %k, %sw, %res : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// Near misses, each left as its own kernels: 9 rows (no GEMV: the
// one-thread kernel), 2 rows under a SiLU (a GEMV, kiln::matmulNBitsGemv,
// but merged only at one row: kNBitsGemvMergeMaxRows), siblings of 4- and 8-bit weights, or of a float and
// a packed zero point (one nbitsDots serves a kernel: one bits, block size
// and kind of zero point), and a packed row of 8 bytes (no whole 16-byte
// piece) under a SiLU.
// CHECK-LABEL: func.func @near_misses
// CHECK: %[[A:.*]] = kiln.fusion %arg0, %arg3, %arg5 :
// CHECK: kiln.fusion %[[A]] :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.silu
// CHECK: %[[R2:.*]] = kiln.fusion %arg11, %arg3, %arg5 :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion %[[R2]] :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.silu
// CHECK: %[[B:.*]] = kiln.fusion %arg1, %arg3, %arg5 :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits {{.*}}bits = 4
// CHECK-NEXT: kiln.yield
// CHECK: %[[C:.*]] = kiln.fusion %arg1, %arg4, %arg5 :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits {{.*}}bits = 8
// CHECK-NEXT: kiln.yield
// CHECK: %[[D:.*]] = kiln.fusion %arg10, %arg6, %arg7 :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion %[[D]] :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.silu
// CHECK: %[[E:.*]] = kiln.fusion %arg2, %arg3, %arg5, %arg8 :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits
// CHECK-NEXT: kiln.yield
// CHECK: %[[F:.*]] = kiln.fusion %arg2, %arg3, %arg5, %arg9 :
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits
// CHECK-NEXT: kiln.yield
func.func @near_misses(%x9: tensor<9x64xf32>, %x: tensor<1x64xf32>, %x2: tensor<1x64xf32>, %w: tensor<32x2x16xui8>, %w8: tensor<32x2x32xui8>, %s: tensor<64xf32>, %ws: tensor<32x1x8xui8>, %s1: tensor<32xf32>, %zf: tensor<64xf32>, %zp: tensor<32xui8>, %x16: tensor<1x16xf32>, %x2r: tensor<2x64xf32>) -> (tensor<9x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<2x32xf32>) {
  %a = kiln.matmul_nbits %x9, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<9x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<9x32xf32>
  %a1 = kiln.silu %a : tensor<9x32xf32>
  %r2 = kiln.matmul_nbits %x2r, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<2x32xf32>
  %r21 = kiln.silu %r2 : tensor<2x32xf32>
  %b = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %c = kiln.matmul_nbits %x, %w8, %s {K = 64 : i64, N = 32 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x32xui8>, tensor<64xf32>) -> tensor<1x32xf32>
  %d = kiln.matmul_nbits %x16, %ws, %s1 {K = 16 : i64, N = 32 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<1x16xf32>, tensor<32x1x8xui8>, tensor<32xf32>) -> tensor<1x32xf32>
  %d1 = kiln.silu %d : tensor<1x32xf32>
  %e = kiln.matmul_nbits %x2, %w, %s zero_points %zf {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x32xf32>
  %f = kiln.matmul_nbits %x2, %w, %s zero_points %zp {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xui8>) -> tensor<1x32xf32>
  return %a1, %b, %c, %d1, %e, %f, %r21 : tensor<9x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>, tensor<2x32xf32>
}

// -----

// A bf16 linear and an int4 product of one row are not merged: a kernel's
// products are all kiln.linear or all kiln.matmul_nbits.
// CHECK-LABEL: func.func @mixed
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.linear
// CHECK-NEXT: kiln.yield
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: kiln.matmul_nbits
// CHECK-NEXT: kiln.yield
func.func @mixed(%x: tensor<1x64xbf16>, %w: tensor<32x2x16xui8>, %s: tensor<64xbf16>) -> (tensor<1x32xbf16>, tensor<1x32xbf16>) {
  %wl = kiln.weight "w" {path = "w.bin", offset = 0 : i64, length = 4096 : i64} : tensor<64x32xbf16>
  %l = kiln.matmul %x, %wl : (tensor<1x64xbf16>, tensor<64x32xbf16>) -> tensor<1x32xbf16>
  %q = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xbf16>, tensor<32x2x16xui8>, tensor<64xbf16>) -> tensor<1x32xbf16>
  return %l, %q : tensor<1x32xbf16>, tensor<1x32xbf16>
}

// -----

// A residual cast to f32 before the add (a bf16 model's residual stream):
// the cast reads a block argument only, and the add that reads it depends
// on the product, so both are the product's epilogue - one kernel.
// CHECK-LABEL: func.func @residual_cast
// CHECK: kiln.fusion
// CHECK-NEXT: ^bb0(%[[X:[^:]*]]: {{.*}}, %[[R:[^:]*]]: tensor<1x32xbf16>):
// CHECK-NEXT: %[[P:.*]] = kiln.matmul_nbits %[[X]],
// CHECK-NEXT: %[[PF:.*]] = kiln.cast %[[P]]
// CHECK-NEXT: %[[RF:.*]] = kiln.cast %[[R]]
// CHECK-NEXT: %[[S:.*]] = kiln.add %[[PF]], %[[RF]]
// CHECK-NEXT: %[[Y:.*]] = kiln.cast %[[S]]
// CHECK-NEXT: kiln.yield %[[Y]]
// CHECK-NOT: kiln.fusion
func.func @residual_cast(%x: tensor<1x64xbf16>, %w: tensor<32x2x16xui8>, %s: tensor<64xbf16>, %r: tensor<1x32xbf16>) -> tensor<1x32xbf16> {
  %p = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x64xbf16>, tensor<32x2x16xui8>, tensor<64xbf16>) -> tensor<1x32xbf16>
  %pf = kiln.cast %p : tensor<1x32xbf16> -> tensor<1x32xf32>
  %rf = kiln.cast %r : tensor<1x32xbf16> -> tensor<1x32xf32>
  %a = kiln.add %pf, %rf : (tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<1x32xf32>
  %y = kiln.cast %a : tensor<1x32xf32> -> tensor<1x32xbf16>
  return %y : tensor<1x32xbf16>
}
