// Input of kv-attention-split.test: D = 12 (f32, 48 bytes: 3 pieces).
func.func @main(%q: tensor<1x4x1x12xf32>, %k: tensor<1x2x64x12xf32>, %v: tensor<1x2x64x12xf32>, %p: tensor<1xi64>) -> tensor<1x4x1x12xf32> {
  %y = kiln.kv_attention %q, %k, %v at %p {scale = 0.25 : f32} : (tensor<1x4x1x12xf32>, tensor<1x2x64x12xf32>, tensor<1x2x64x12xf32>, tensor<1xi64>) -> tensor<1x4x1x12xf32>
  return %y : tensor<1x4x1x12xf32>
}
