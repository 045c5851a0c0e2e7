// Every diagnostic of kiln.matmul_nbits (lib/Dialect/Kiln/IR/KilnQuantOps.cpp).
//
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @bits(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op bits must be 4 or 8, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 3 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @block_small(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op block_size must be a power of two >= 16, got 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 8 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @block_pow2(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op block_size must be a power of two >= 16, got 48}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 48 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @input_k(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op input [1, 8, 64] must end in K = 32}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s {K = 32 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @weight_shape(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op weight must be [32, 4, 8] (N, ceil(K / block_size), block_size * bits / 8), got [32, 2, 16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 16 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @scales(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op scales must be [32] of the input's element type, got [64]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w16, %s {K = 64 : i64, N = 16 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<16x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @zp_packed(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op packed zero_points must be [32] (N * ceil(n_blocks * bits / 8)), got [64]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s zero_points %z64 {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<64xui8>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @zp_float(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op float zero_points must be [64] of the input's element type, got [32]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s zero_points %b {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  return
}

// -----

func.func @bias(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>, %w16: tensor<16x2x16xui8>, %s: tensor<64xf32>, %z64: tensor<64xui8>, %b: tensor<32xf32>) {
  // expected-error @+2 {{'kiln.matmul_nbits' op bias must be [32] of the input's element type, got [64]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = kiln.matmul_nbits %x, %w, %s bias %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x8x32xf32>
  return
}
