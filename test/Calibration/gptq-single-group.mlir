// One group spanning K with act-order: no group index (the weight type is
// per-axis, which a group index cannot accompany).
// RUN: quant-opt %s -qopt-gptq="sequential=false progress=false weight-bits=4 weight-granularity=group group-size=4 act-order=true" | FileCheck %s
// CHECK: qopt.qmatmul %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} weight !quant.uniform<i4<-7:7>:f32:1,
// CHECK-NOT: group_index

func.func @f(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[1.0, 0.5, 0.0, 0.0], [0.5, 4.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.5], [0.0, 0.0, 0.5, 3.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
