// qopt-ptq{recipe=w3}: linear layers get 3-bit symmetric per-channel
// weights, codes in [-3, 3] stored in the 4-bit container
// (!quant.uniform<i4<-3:3>...>, two codes per byte); w3-g64, scales per
// group of 64 input channels.
// RUN: rm -rf %t && split-file %s %t
// RUN: quant-opt %t/linear.mlir '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3})' | FileCheck %s
// RUN: quant-opt %t/linear.mlir '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3 symmetric=false})' | FileCheck %s --check-prefix=ASYM
// RUN: quant-opt %t/linear128.mlir '--pass-pipeline=builtin.module(qopt-ptq{recipe=w3-g64})' | FileCheck %s --check-prefix=G64

// W = [[1 2] [3 4] [5 6] [7 8]]: scales 7/3 and 8/3; codes by row
// [0 1] [1 2] [2 2] [3 3] (1 / (7/3) = 0.43 -> 0, 5 / (7/3) = 2.14 -> 2,
// 6 / (8/3) = 2.25 -> 2), low nibble = column 0: 10 21 22 33.
// CHECK-LABEL: func.func @linear
// CHECK: %[[Q:.*]] = arith.constant dense_resource<[[QW:qweight[_0-9]*]]> : tensor<4x1xi8>
// CHECK: qopt.qmatmul %arg0, %[[Q]] weight !quant.uniform<i4<-3:3>:f32:1, {2.3333332538604736,2.6666667461395264}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
// CHECK-NOT: linalg.matmul
// CHECK: [[QW]]: "0x0800000010212233"

// Asymmetric: u4 storage narrowed to [0, 7] (3 bits), the range [0, max]:
// scales 7/7 and 8/7, zero points 0; codes [1 2] [3 3] [5 5] [7 7]
// (f32(8/7) is above 8/7, so 4 / f32(8/7) rounds down to 3).
// ASYM: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<u4<0:7>:f32:1, {1.000000e+00,1.1428571939468384}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
// ASYM: qweight: "0x0800000021335577"

// Groups of 64 along K = 128: two scales per column (0.5 / 3), every code 3.
// G64: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i4<-3:3>:f32:{0:64, 1:1}, {{[{][{]}}0.166666672, 0.166666672}, {0.166666672, 0.166666672{{[}][}]}}> : tensor<?x128xf32>, tensor<128x1xi8> -> tensor<?x2xf32>
// G64: qweight: "0x08000000{{(33)+}}"

//--- linear.mlir
func.func @linear(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

//--- linear128.mlir
func.func @linear128(%x: tensor<?x128xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<0.5> : tensor<128x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x128xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x128xf32>, tensor<128x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
