// A group size that does not divide K leaves a shorter last group, as ONNX's
// blocked quantization and MatMulNBits do (GPT-2 XL: K = 1600 in groups of
// 128 is 12 groups and one of 64). K = 5 in groups of 2: rows {1, 2}, {3, 4}
// and {10} of the one column, symmetric 4-bit scales 2/7, 4/7 and 10/7; codes
// round(w / scale) = 3 (1 / float(2/7) = 3.4999998), 7, 5 (5.25), 7, 7.
// A group as wide as K or wider is one group per column (per axis).
// RUN: quant-opt %s -qopt-quantize=weight-bits=4\ weight-granularity=group\ group-size=2 | FileCheck %s
// RUN: quant-opt %s -qopt-quantize=weight-bits=4\ weight-granularity=group\ group-size=8 | FileCheck %s --check-prefix=WIDE

// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{\{\{}}0.285714298}, {0.571428597}, {1.42857146}}> : tensor<3x5xf32>, tensor<5x1xi8> -> tensor<3x1xf32>
// The codes, one per row (4-bit, one column: one byte each).
// CHECK: qweight: "0x080000000307050707"
// WIDE: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i4<-7:7>:f32:1, {1.4285714626312256}> : tensor<3x5xf32>, tensor<5x1xi8> -> tensor<3x1xf32>

func.func @main(%x: tensor<3x5xf32>) -> tensor<3x1xf32> {
  %w = arith.constant dense<[[1.0], [2.0], [3.0], [4.0], [10.0]]> : tensor<5x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x1xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x1xf32>) -> tensor<3x1xf32>
  %xo = qopt.observe %x activation "fc:input" : tensor<3x5xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<5x1xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x5xf32>, tensor<5x1xf32>) outs(%acc : tensor<3x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
