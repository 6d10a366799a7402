// RUN: quant-opt %s -qopt-quantize=activations=static | FileCheck %s

// Static activations take the calibrated range: [-1, 3] -> asymmetric
// uint8 with scale 4/255 and zero point round(1 / (4/255)) = 64. An
// all-zero weight (a dead layer) gets scale 1 and quantizes to zeros.
// CHECK-LABEL: func.func @static
// CHECK: qopt.qmatmul %arg0, %{{.*}} input !quant.uniform<u8:f32, 0.015686275437474251:64> weight !quant.uniform<i8<-127:127>:f32:1, {1.000000e+00,1.000000e+00}>
// CHECK: qweight: "0x080000000000000000000000"
func.func @static(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<0.0> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 3, min = -1.0, max = 3.0>} : tensor<3x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
