// A model that adds a constant to its input: the smallest compiled model.
func.func @main(%x: tensor<4x64xf32> {onnx.name = "x"}) -> (tensor<4x64xf32> {onnx.name = "y"}) {
  %w = arith.constant dense<1.5> : tensor<4x64xf32>
  %e = tensor.empty() : tensor<4x64xf32>
  %y = linalg.add ins(%x, %w : tensor<4x64xf32>, tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
