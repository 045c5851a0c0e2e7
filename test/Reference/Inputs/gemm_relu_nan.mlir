func.func @main(%x: tensor<2x4xf32> {kiln.name = "x"}, %w: tensor<4x3xf32> {kiln.name = "w"}) -> (tensor<2x3xf32> {kiln.name = "y"}) {
  %zero = kiln.constant dense<0.0> : tensor<f32>
  %0 = kiln.matmul %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %y = kiln.max %0, %zero : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
