// Round-trip of the KV cache ops (docs/kv-cache.md): custom form -> custom
// form, and custom -> generic -> custom.
//
// RUN: kiln-opt %s -split-input-file | kiln-opt -split-input-file | FileCheck %s
// RUN: kiln-opt %s -split-input-file --mlir-print-op-generic | kiln-opt -split-input-file | FileCheck %s

// CHECK: kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32
kiln.kv_cache @kv layers 2 kv_heads 2 head_dim 16 max_batch 4 max_seq 64 : f32

// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%[[K:.+]]: tensor<4x2x1x16xf32>, %[[V:.+]]: tensor<4x2x1x16xf32>, %[[Q:.+]]: tensor<4x4x1x16xf32>, %[[POS:.+]]: tensor<4xi64>, %[[M:.+]]: tensor<4x1x1x64xf32>)
func.func @decode(%k: tensor<4x2x1x16xf32>, %v: tensor<4x2x1x16xf32>,
                  %q: tensor<4x4x1x16xf32>, %pos: tensor<4xi64>,
                  %m: tensor<4x1x1x64xf32>) -> (tensor<4x4x1x16xf32>, tensor<4x4x1x16xf32>) {
  // CHECK: %[[KC:.+]], %[[VC:.+]] = kiln.kv_append @kv[1] %[[K]], %[[V]] at %[[POS]] : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  %kc, %vc = kiln.kv_append @kv[1] %k, %v at %pos : (tensor<4x2x1x16xf32>, tensor<4x2x1x16xf32>, tensor<4xi64>) -> (tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>)
  // CHECK: kiln.kv_attention %[[Q]], %[[KC]], %[[VC]] at %[[POS]] mask %[[M]] {scale = 2.500000e-01 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>, tensor<4x1x1x64xf32>) -> tensor<4x4x1x16xf32>
  %o = kiln.kv_attention %q, %kc, %vc at %pos mask %m {scale = 0.25 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>, tensor<4x1x1x64xf32>) -> tensor<4x4x1x16xf32>
  // No mask.
  // CHECK: kiln.kv_attention %[[Q]], %[[KC]], %[[VC]] at %[[POS]] {scale = 1.250000e-01 : f32}
  %o2 = kiln.kv_attention %q, %kc, %vc at %pos {scale = 0.125 : f32} : (tensor<4x4x1x16xf32>, tensor<4x2x64x16xf32>, tensor<4x2x64x16xf32>, tensor<4xi64>) -> tensor<4x4x1x16xf32>
  return %o, %o2 : tensor<4x4x1x16xf32>, tensor<4x4x1x16xf32>
}

// A smaller batch bucket (rows 0..1), a prefill of 8 tokens, i32 positions
// and a boolean mask.
// CHECK-LABEL: func.func @prefill_b2
func.func @prefill_b2(%k: tensor<2x2x8x16xf32>, %q: tensor<2x4x8x16xf32>,
                      %pos: tensor<2xi32>, %m: tensor<2x1x8x64xi1>) -> tensor<2x4x8x16xf32> {
  // CHECK: kiln.kv_append @kv[0] %{{.+}}, %{{.+}} at %{{.+}} : (tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi32>) -> (tensor<2x2x64x16xf32>, tensor<2x2x64x16xf32>)
  %kc, %vc = kiln.kv_append @kv[0] %k, %k at %pos : (tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2xi32>) -> (tensor<2x2x64x16xf32>, tensor<2x2x64x16xf32>)
  // CHECK: kiln.kv_attention {{.+}} mask %{{.+}} {scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x2x64x16xf32>, tensor<2x2x64x16xf32>, tensor<2xi32>, tensor<2x1x8x64xi1>) -> tensor<2x4x8x16xf32>
  %o = kiln.kv_attention %q, %kc, %vc at %pos mask %m {scale = 0.25 : f32} : (tensor<2x4x8x16xf32>, tensor<2x2x64x16xf32>, tensor<2x2x64x16xf32>, tensor<2xi32>, tensor<2x1x8x64xi1>) -> tensor<2x4x8x16xf32>
  return %o : tensor<2x4x8x16xf32>
}

// The scheduled level declares the cache's bytes (2 layers x 2 x 4 x 2 x 64
// x 16 x 4 bytes).
// CHECK-LABEL: func.func @region
// CHECK: kiln.kv_region : memref<131072xi8>
func.func @region() {
  %kv = kiln.kv_region : memref<131072xi8>
  return
}

// -----

// Every float element type (one cache per module).
// CHECK: kiln.kv_cache @kv16 layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f16
kiln.kv_cache @kv16 layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f16

// -----

// CHECK: kiln.kv_cache @kvbf layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : bf16
kiln.kv_cache @kvbf layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : bf16

// -----

// CHECK: kiln.kv_cache @kv64 layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f64
kiln.kv_cache @kv64 layers 1 kv_heads 1 head_dim 8 max_batch 1 max_seq 4 : f64
