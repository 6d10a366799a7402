// RUN: quant-opt %s -split-input-file -qopt-fake-quant | FileCheck %s
// RUN: quant-opt %s -split-input-file -qopt-fake-quant=activations=static | FileCheck %s --check-prefix=STATIC
// RUN: quant-opt %s -split-input-file -qopt-fake-quant=activations=dynamic\ activation-symmetric=true | FileCheck %s --check-prefix=DYN
// RUN: quant-opt %s -split-input-file -qopt-fake-quant=weight-format=fp8-e4m3 | FileCheck %s --check-prefix=FP8

// Weight points become constants holding dequantize(quantize(w)) (the
// numbers are qopt-quantize's, see quantize.mlir); activation points vanish
// (weight-only), become qopt.fake_quant with the calibrated per-tensor type
// (static: [-1, 3] -> 4/255, zero point 64), or qopt.dynamic_fake_quant.
// CHECK-LABEL: func.func @linear
// CHECK-NOT: qopt.
// CHECK: %[[W:.*]] = arith.constant dense_resource<fake_quant_weight> : tensor<4x2xf32>
// CHECK: linalg.matmul ins(%arg0, %[[W]] : tensor<3x4xf32>, tensor<4x2xf32>)
// STATIC-LABEL: func.func @linear
// STATIC: %[[X:.*]] = qopt.fake_quant %arg0 : tensor<3x4xf32> as !quant.uniform<u8:f32, 0.015686275437474251:64>
// STATIC: linalg.matmul ins(%[[X]],
// DYN-LABEL: func.func @linear
// DYN: %[[X:.*]] = qopt.dynamic_fake_quant %arg0 symmetric : tensor<3x4xf32>
// DYN: linalg.matmul ins(%[[X]],
func.func @linear(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 3, min = -1.0, max = 3.0>} : tensor<3x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// An embedding table is fake-quantized per row (per token); an all-zero row
// keeps its zeros. Values computed with numpy: row 0 scale 4/127 gives
// [1.0079 2.0157 2.9921 4], row 1 scale 1/127 gives [0.5039 -1 0.2520 0].
// CHECK-LABEL: func.func @gather
// CHECK: %[[T:.*]] = arith.constant dense_resource<fake_quant_weight> : tensor<3x4xf32>
// CHECK: tensor.extract %[[T]]
// CHECK: fake_quant_weight: "0x080000000402813F04020140FE7E3F40000080400402013F000080BF0402813E0000000000000000000000000000000000000000"
// In FP8 E4M3, per row too (scale max|row| / 448): row 0 is [1 2 2.857 4]
// (3 * 448/4 = 336 ties to 320), row 1 is exact.
// FP8-LABEL: func.func @gather
// FP8: fake_quant_weight: "0x080000000000803F000000406EDB3640000080400000003F000080BF0000803E0000000000000000000000000000000000000000"
func.func @gather(%ids: tensor<2xindex>) -> tensor<2x4xf32> {
  %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.25, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %o = qopt.observe %table weight "wte:table" : tensor<3x4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<2xindex>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%id: index, %out: f32):
    %j = linalg.index 1 : index
    %v = tensor.extract %o[%id, %j] : tensor<3x4xf32>
    linalg.yield %v : f32
  } -> tensor<2x4xf32>
  return %g : tensor<2x4xf32>
}
