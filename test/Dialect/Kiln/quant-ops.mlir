// kiln.matmul_nbits (docs/dialect.md, "Quantised matmul"): round trip of
// every operand combination and of 8-bit weights in the custom and the
// generic form.
//
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @matmul_nbits
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x8x64xf32>, %[[W:[^:]+]]: tensor<32x2x16xui8>, %[[S:[^:]+]]: tensor<64xf32>, %[[Z:[^:]+]]: tensor<32xui8>, %[[ZF:[^:]+]]: tensor<64xf32>, %[[B:[^:]+]]: tensor<32xf32>
func.func @matmul_nbits(%x: tensor<1x8x64xf32>, %w: tensor<32x2x16xui8>,
                        %s: tensor<64xf32>, %z: tensor<32xui8>,
                        %zf: tensor<64xf32>, %b: tensor<32xf32>)
    -> (tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>) {
  // CHECK: %[[R0:.+]] = kiln.matmul_nbits %[[X]], %[[W]], %[[S]] {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  %0 = kiln.matmul_nbits %x, %w, %s {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>) -> tensor<1x8x32xf32>
  // CHECK: %[[R1:.+]] = kiln.matmul_nbits %[[X]], %[[W]], %[[S]] zero_points %[[Z]] {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64}
  %1 = kiln.matmul_nbits %x, %w, %s zero_points %z {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xui8>) -> tensor<1x8x32xf32>
  // CHECK: %[[R2:.+]] = kiln.matmul_nbits %[[X]], %[[W]], %[[S]] zero_points %[[ZF]] bias %[[B]] {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64}
  %2 = kiln.matmul_nbits %x, %w, %s zero_points %zf bias %b {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<64xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  // CHECK: %[[R3:.+]] = kiln.matmul_nbits %[[X]], %[[W]], %[[S]] bias %[[B]] {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64}
  %3 = kiln.matmul_nbits %x, %w, %s bias %b {K = 64 : i64, N = 32 : i64, bits = 4 : i64, block_size = 32 : i64} : (tensor<1x8x64xf32>, tensor<32x2x16xui8>, tensor<64xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  // CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]]
  return %0, %1, %2, %3 : tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>
}

// 8-bit weights: a byte per value, [N, n_blocks, block_size]; packed zero
// points a byte per block.
// CHECK-LABEL: func.func @matmul_8bits
func.func @matmul_8bits(%x: tensor<2x64xf32>, %w: tensor<16x2x32xui8>,
                        %s: tensor<32xf32>, %z: tensor<32xui8>) -> tensor<2x16xf32> {
  // CHECK: kiln.matmul_nbits %{{.+}}, %{{.+}}, %{{.+}} zero_points %{{.+}} {K = 64 : i64, N = 16 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<16x2x32xui8>, tensor<32xf32>, tensor<32xui8>) -> tensor<2x16xf32>
  %0 = kiln.matmul_nbits %x, %w, %s zero_points %z {K = 64 : i64, N = 16 : i64, bits = 8 : i64, block_size = 32 : i64} : (tensor<2x64xf32>, tensor<16x2x32xui8>, tensor<32xf32>, tensor<32xui8>) -> tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}
