// A group size that does not divide K is refused with the power of two that
// does (GPT-2 XL: K = 1600 takes groups of 64, not 128); none below 16 is
// offered.
// RUN: not quant-opt %s -qopt-quantize=weight-bits=4\ weight-granularity=group\ group-size=32 2>&1 | FileCheck %s --check-prefix=HINT
// RUN: not quant-opt %s -qopt-quantize=weight-bits=4\ weight-granularity=group\ group-size=10 2>&1 | FileCheck %s --check-prefix=NOHINT
// HINT: error: weight point 'fc:weight': group size 32 does not divide the input channels (K = 48); a group size of 16 does
// NOHINT: error: weight point 'fc:weight': group size 10 does not divide the input channels (K = 48){{$}}

func.func @main(%x: tensor<3x48xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<48x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<48x2xf32>
  %y = linalg.matmul ins(%x, %wo : tensor<3x48xf32>, tensor<48x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
