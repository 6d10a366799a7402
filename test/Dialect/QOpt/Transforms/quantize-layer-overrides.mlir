// RUN: quant-opt %s -qopt-quantize="activations=static float-activations=^head$" | FileCheck %s
// RUN: quant-opt %s -qopt-fake-quant="activations=static float-activations=^head$" | FileCheck %s --check-prefix=FAKE
// RUN: not quant-opt %s -qopt-quantize="activations=static" 2>&1 | FileCheck %s --check-prefix=ALL
// RUN: not quant-opt %s -qopt-quantize="activations=static float-activations=(" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: quant-opt %s -qopt-quantize="weight-bits=4 weight-granularity=group group-size=2 int8-weights=^head$" | FileCheck %s --check-prefix=INT8
// RUN: not quant-opt %s -qopt-quantize="weight-format=fp16 int8-weights=head" 2>&1 | FileCheck %s --check-prefix=INT8FLOAT
// RUN: not quant-opt %s -qopt-fake-quant="int8-weights=[" 2>&1 | FileCheck %s --check-prefix=INT8BAD

// Per-layer overrides of the scheme, by layer name.
// float-activations keeps the matching layer's input float (weight-only:
// an int8 weight, no input type), the others quantize theirs as the scheme
// says. The head's point needs no statistics then.
// CHECK-LABEL: func.func @two_layers
// CHECK: qopt.qmatmul %arg0, %{{.*}} input !quant.uniform<u8:f32
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i8
// FAKE-LABEL: func.func @two_layers
// FAKE: qopt.fake_quant %arg0
// FAKE-NOT: qopt.fake_quant
// FAKE: return
// ALL: error: activation point 'head:input'
// BAD: error: qopt-quantize: invalid float-activations regular expression '('

// int8-weights gives the matching layer INT8 per-channel weights inside an
// INT4 group scheme (the LM head of an INT4 model, as llama.cpp keeps its
// output tensor at 6-8 bits); the others keep the scheme.
// INT8: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i4<-7:7>:f32
// INT8: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i8<-127:127>:f32:1, {0.015748031437397003,0.031496062874794006}>
// INT8FLOAT: error: qopt-quantize: int8-weights applies to integer weight formats
// INT8BAD: error: qopt-fake-quant: invalid int8-weights regular expression '['
func.func @two_layers(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -0.5], [2.0, 4.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 3, min = -1.0, max = 3.0>} : tensor<3x2xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<2x2xf32>
  %h = linalg.matmul ins(%xo, %wo : tensor<3x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  %ho = qopt.observe %h activation "head:input" : tensor<3x2xf32>
  %w2 = qopt.observe %w weight "head:weight" : tensor<2x2xf32>
  %y = linalg.matmul ins(%ho, %w2 : tensor<3x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
