// A W8A8 (dynamic), a W4 and a W4A8 (dynamic) linear layer, K = 64, N = 32.
func.func @w8a8(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %w = arith.constant dense<3> : tensor<64x32xi8>
  %0 = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
func.func @w4(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %w = arith.constant dense<37> : tensor<64x16xi8>
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i4<-7:7>:f32, 0.1> : tensor<?x64xf32>, tensor<64x16xi8> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
func.func @w4a8(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %w = arith.constant dense<37> : tensor<64x16xi8>
  %0 = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<i4<-7:7>:f32, 0.1> : tensor<?x64xf32>, tensor<64x16xi8> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}
