// One attention block of a tiny decoder at graph level, as an importer might
// leave it: the head split goes through a redundant flatten, K is transposed
// twice, and a scalar constant goes through a pointless reshape/expand.
// scripts/demo.sh runs it through `kiln-opt --kiln-simplify`.
func.func @attention_block(%x: tensor<1x8x64xf32>, %cos: tensor<1x8x8xf32>,
                           %sin: tensor<1x8x8xf32>) -> tensor<1x8x64xf32> {
  %g = kiln.weight "layers.0.input_layernorm.weight" {path = "model.bin", offset = 0 : i64, length = 256 : i64} : tensor<64xf32>
  %wqkv = kiln.weight "layers.0.attn.qkv.weight" {path = "model.bin", offset = 256 : i64, length = 49152 : i64} : tensor<64x192xf32>
  %wo = kiln.weight "layers.0.attn.o.weight" {path = "model.bin", offset = 49408 : i64, length = 16384 : i64} : tensor<64x64xf32>

  %h = kiln.rms_norm %x, %g {axis = 2 : i64, epsilon = 1.0e-06 : f32} : (tensor<1x8x64xf32>, tensor<64xf32>) -> tensor<1x8x64xf32>
  %qkv = kiln.linear %h, %wqkv : (tensor<1x8x64xf32>, tensor<64x192xf32>) -> tensor<1x8x192xf32>
  %q0, %k0, %v0 = kiln.split %qkv {axis = 2 : i64} : tensor<1x8x192xf32> -> tensor<1x8x64xf32>, tensor<1x8x64xf32>, tensor<1x8x64xf32>

  // [1, 8, 64] -> [1, 512] -> [1, 8, 4, 16] -> [1, 4, 8, 16]
  %qf = kiln.reshape %q0 : tensor<1x8x64xf32> -> tensor<1x512xf32>
  %qh = kiln.reshape %qf : tensor<1x512xf32> -> tensor<1x8x4x16xf32>
  %q = kiln.transpose %qh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>
  %kh = kiln.reshape %k0 : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  // Transposed to [B, H, D, S] and back again.
  %kt = kiln.transpose %kh {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x16x8xf32>
  %k = kiln.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x16x8xf32>) -> tensor<1x4x8x16xf32>
  %vh = kiln.reshape %v0 : tensor<1x8x64xf32> -> tensor<1x8x4x16xf32>
  %v = kiln.transpose %vh {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x8x4x16xf32>) -> tensor<1x4x8x16xf32>

  %qr = kiln.rotary %q, %cos, %sin : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  %kr = kiln.rotary %k, %cos, %sin : (tensor<1x4x8x16xf32>, tensor<1x8x8xf32>, tensor<1x8x8xf32>) -> tensor<1x4x8x16xf32>
  %a = kiln.attention %qr, %kr, %v {scale = 0.25 : f32, causal = true} : (tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>) -> tensor<1x4x8x16xf32>

  %at = kiln.transpose %a {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x4x8x16xf32>) -> tensor<1x8x4x16xf32>
  %am = kiln.reshape %at : tensor<1x8x4x16xf32> -> tensor<1x8x64xf32>
  %o = kiln.linear %am, %wo : (tensor<1x8x64xf32>, tensor<64x64xf32>) -> tensor<1x8x64xf32>

  // A residual scale of 1.0 spelled the long way.
  %one = kiln.constant dense<1.0> : tensor<1xf32>
  %one_s = kiln.reshape %one : tensor<1xf32> -> tensor<1x1x1xf32>
  %one_b = kiln.expand %one_s : tensor<1x1x1xf32> -> tensor<1x8x64xf32>
  %os = kiln.mul %o, %one_b : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  %same = kiln.cast %os : tensor<1x8x64xf32> -> tensor<1x8x64xf32>
  %y = kiln.add %x, %same : (tensor<1x8x64xf32>, tensor<1x8x64xf32>) -> tensor<1x8x64xf32>
  return %y : tensor<1x8x64xf32>
}
