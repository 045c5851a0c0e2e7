// A fusion (written by hand: kiln-form-fusions never makes it) whose
// gather's result broadcasts into the loop instead of having its shape.
func.func @main(%ids: tensor<2x3xi64> {kiln.name = "ids"}, %x: tensor<4x2x3x8xf32> {kiln.name = "x"}) -> tensor<4x2x3x8xf32> {
  %wte = kiln.constant dense<0.5> : tensor<32x8xf32>
  %0 = kiln.fusion %wte, %ids, %x : (tensor<32x8xf32>, tensor<2x3xi64>, tensor<4x2x3x8xf32>) -> tensor<4x2x3x8xf32> {
  ^bb0(%t: tensor<32x8xf32>, %i: tensor<2x3xi64>, %y: tensor<4x2x3x8xf32>):
    %g = kiln.gather %t, %i {axis = 0 : i64} : (tensor<32x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32>
    %e = kiln.add %y, %g : (tensor<4x2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<4x2x3x8xf32>
    kiln.yield %e : tensor<4x2x3x8xf32>
  }
  return %0 : tensor<4x2x3x8xf32>
}
