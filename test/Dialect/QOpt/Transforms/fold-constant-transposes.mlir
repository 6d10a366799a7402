// RUN: quant-opt %s -split-input-file -qopt-fold-constant-transposes | FileCheck %s

// A 2-D transpose of a dense constant becomes a dense_resource constant
// holding the transposed values (0x... below is the blob: alignment 8, then
// the f32 values 0 3 1 4 2 5).
// CHECK-LABEL: func.func @matrix
// CHECK-NOT: linalg.transpose
// CHECK: %[[C:.*]] = arith.constant dense_resource<transposed> : tensor<3x2xf32>
// CHECK: return %[[C]]
// CHECK: transposed: "0x0800000000000000000040400000803F00008040000000400000A040"
func.func @matrix() -> tensor<3x2xf32> {
  %c = arith.constant dense<[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]> : tensor<2x3xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%c : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}

// -----

// Rank 3, i16: result[i, j, k] = source[j, k, i].
// CHECK-LABEL: func.func @rank3
// CHECK: arith.constant dense_resource<transposed> : tensor<2x1x3xi16>
// CHECK: transposed: "0x08000000000002000400010003000500"
func.func @rank3() -> tensor<2x1x3xi16> {
  %c = arith.constant dense<[[[0, 1], [2, 3], [4, 5]]]> : tensor<1x3x2xi16>
  %e = tensor.empty() : tensor<2x1x3xi16>
  %t = linalg.transpose ins(%c : tensor<1x3x2xi16>) outs(%e : tensor<2x1x3xi16>) permutation = [2, 0, 1]
  return %t : tensor<2x1x3xi16>
}

// -----

// Transposes of non-constants and of splats (which canonicalization handles)
// stay.
// CHECK-LABEL: func.func @not_constant
// CHECK: linalg.transpose
// CHECK: linalg.transpose
func.func @not_constant(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  %s = arith.constant dense<1.0> : tensor<2x3xf32>
  %u = linalg.transpose ins(%s : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  return %t, %u : tensor<3x2xf32>, tensor<3x2xf32>
}
