// RUN: quant-opt %s -split-input-file -qopt-quantize=activations=static -verify-diagnostics
// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-bits=5 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-bits=3\ weight-format=fp16 2>&1 | FileCheck %s --check-prefix=BITS3
// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-granularity=group\ group-size=3 2>&1 | FileCheck %s --check-prefix=ODDGROUP
// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-granularity=row 2>&1 | FileCheck %s --check-prefix=GRAN
// RUN: not quant-opt %s -split-input-file -qopt-quantize=activations=static\ weight-bits=4\ outlier-threshold=6 2>&1 | FileCheck %s --check-prefix=A8W4

// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-format=fp4 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-format=fp8-e4m3\ weight-granularity=group 2>&1 | FileCheck %s --check-prefix=FPGROUP
// RUN: not quant-opt %s -split-input-file -qopt-quantize=weight-format=fp16\ activations=dynamic 2>&1 | FileCheck %s --check-prefix=FPACT

// RUN: not quant-opt %s -split-input-file -qopt-quantize=activations=dynamic\ outlier-threshold=2 2>&1 | FileCheck %s --check-prefix=OUTLIER
// RUN: not quant-opt %s -split-input-file -qopt-quantize=outlier-threshold=2 2>&1 | FileCheck %s --check-prefix=OUTLIERW
// OUTLIER: error: activation point 'fc:input': outlier-threshold needs calibration statistics (run qopt-calibrate first)
// OUTLIERW: error: qopt-quantize: outlier-threshold applies to integer weights with quantized activations (static or dynamic)
// FORMAT: error: qopt-quantize: weight-format must be int, fp16, bf16, fp8-e4m3 or fp8-e5m2, got 'fp4'
// FPGROUP: error: qopt-quantize: float weight formats scale per output channel (weight-granularity=channel)
// FPACT: error: qopt-quantize: float weight formats are weight-only (activations=none)
// BITS: error: qopt-quantize: weight-bits must be 3, 4 or 8, got 5
// BITS3: error: qopt-quantize: 3-bit weights are integers (weight-format=int, stored in the 4-bit container)
// ODDGROUP: error: qopt-quantize: group-size must be an even number >= 2, got 3
// GRAN: error: qopt-quantize: weight-granularity must be tensor, channel or group, got 'row'
// A8W4: error: qopt-quantize: outlier-threshold needs 8-bit per-tensor or per-channel weights

func.func @uncalibrated(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  // expected-error @below {{activation point 'fc:input' has no calibration statistics (run qopt-calibrate first, or use activations=dynamic)}}
  %xo = qopt.observe %x activation "fc:input" : tensor<3x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @nan_weight(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 0x7FC00000], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 3, min = -1.0, max = 3.0>} : tensor<3x4xf32>
  // expected-error @below {{weight point 'fc:weight': weight element [1, 1] is NaN}}
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @inf_weight(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [0x7F800000, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 3, min = -1.0, max = 3.0>} : tensor<3x4xf32>
  // expected-error @below {{weight point 'fc:weight': weight element [2, 0] is infinite}}
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
