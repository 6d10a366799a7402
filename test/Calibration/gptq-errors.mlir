// Layer errors of qopt-gptq{sequential=false} point at the layer's input
// (missing or unusable x^T x, a Hessian or weight GPTQ cannot use) or
// weight; every bad layer is reported before the pass fails.
// RUN: quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false" -verify-diagnostics
//
// Options are checked before anything runs.
// RUN: not quant-opt %s -split-input-file -qopt-gptq="progress=false" 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not quant-opt %s -split-input-file -qopt-gptq="progress=false sequential=true data=%s tokens=%s" 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not quant-opt %s -split-input-file -qopt-gptq="progress=false tokens=%t.missing" 2>&1 | FileCheck %s --check-prefix=MISSING -DFILE=%t.missing
// RUN: echo "1 2 3" > %t.tokens
// RUN: not quant-opt %s -split-input-file -qopt-gptq="progress=false tokens=%t.tokens seq-len=8" 2>&1 | FileCheck %s --check-prefix=SHORT
// RUN: not quant-opt %s -split-input-file -qopt-gptq="progress=false tokens=%t.tokens samples=0" 2>&1 | FileCheck %s --check-prefix=SAMPLES
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-format=fp16" 2>&1 | FileCheck %s --check-prefix=FLOAT
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-bits=3 weight-format=fp16" 2>&1 | FileCheck %s --check-prefix=BITS3
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-bits=5" 2>&1 | FileCheck %s --check-prefix=BITS5
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-granularity=tensor" 2>&1 | FileCheck %s --check-prefix=TENSOR
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-granularity=group group-size=3" 2>&1 | FileCheck %s --check-prefix=ODDGROUP
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-granularity=group group-size=2 static-groups=true" 2>&1 | FileCheck %s --check-prefix=STATIC
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false damp=0" 2>&1 | FileCheck %s --check-prefix=DAMP0
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false damp=1" 2>&1 | FileCheck %s --check-prefix=DAMP1
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false damp=-0.5" 2>&1 | FileCheck %s --check-prefix=DAMPNEG
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false block-size=0" 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false weight-mse-clip=true" 2>&1 | FileCheck %s --check-prefix=MSE
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false activations=dynamic outlier-threshold=6" 2>&1 | FileCheck %s --check-prefix=OUTLIER
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false int8-weights=[" 2>&1 | FileCheck %s --check-prefix=REGEX
// NODATA: error: qopt-gptq: sequential calibration needs calibration data: give data=<text file> or tokens=<file> (or run qopt-calibrate{collect-xtx=true} and sequential=false)
// MISSING: error: qopt-gptq: cannot read '[[FILE]]': No such file or directory
// SHORT: error: qopt-gptq: the calibration data has 3 tokens, fewer than one window (seq-len 8)
// SAMPLES: error: qopt-gptq: samples must be >= 1, got 0
// FLOAT: error: qopt-gptq: GPTQ rounds integer weights (weight-format=int)
// BITS3: error: qopt-gptq: 3-bit weights are integers (weight-format=int, stored in the 4-bit container)
// BITS5: error: qopt-gptq: weight-bits must be 3, 4 or 8, got 5
// TENSOR: error: qopt-gptq: GPTQ quantizes per output channel or per group (weight-granularity=channel or group)
// ODDGROUP: error: qopt-gptq: group-size must be an even number >= 2, got 3
// STATIC: error: qopt-gptq: static-groups only applies with act-order=true
// DAMP0: error: qopt-gptq: damp must be in (0, 1), got 0.000000
// DAMP1: error: qopt-gptq: damp must be in (0, 1), got 1.000000
// DAMPNEG: error: qopt-gptq: damp must be in (0, 1), got -0.500000
// BLOCK: error: qopt-gptq: block-size must be >= 1, got 0
// MSE: error: qopt-gptq: weight-mse-clip does not apply: GPTQ's grid is each group's min/max
// OUTLIER: error: qopt-gptq: outlier-threshold does not combine with GPTQ
// REGEX: error: qopt-gptq: invalid int8-weights regular expression '['

func.func @no_stats(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{layer 'fc' has no x^T x statistics: run qopt-calibrate{collect-xtx=true} first, or give qopt-gptq calibration data (data= or tokens=)}}
  %xo = qopt.observe %x activation "fc:input" : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Statistics from qopt-calibrate without collect-xtx; the message names
// each layer that lacks them.
func.func @no_xtx(%x: tensor<?x4xf32>, %x2: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{layer 'blocks.0.attn.q' has no x^T x statistics}}
  %xo = qopt.observe %x activation "blocks.0.attn.q:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "blocks.0.attn.q:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{layer 'lm_head' has no x^T x statistics}}
  %x2o = qopt.observe %x2 activation "lm_head:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0>} : tensor<?x4xf32>
  %w2o = qopt.observe %w weight "lm_head:weight" : tensor<4x2xf32>
  %y2 = linalg.matmul ins(%x2o, %w2o : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y, %y2 : tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

func.func @xtx_wrong_size(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{layer 'fc': x^T x must be f32 [4, 4], got 'tensor<2x2xf32>'}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

func.func @xtx_f64(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{layer 'fc': x^T x must be f32 [4, 4], got 'tensor<4x4xf64>'}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf64>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Non-finite x^T x (the input overflowed during calibration): named by
// element. Both layers are reported.
func.func @xtx_not_finite(%x: tensor<?x4xf32>, %x2: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{qopt-gptq: layer 'fc': Hessian element [2, 2] is NaN}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0x7FC00000, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{qopt-gptq: layer 'head': Hessian element [3, 1] is infinite}}
  %x2o = qopt.observe %x2 activation "head:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0xFF800000, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %w2o = qopt.observe %w weight "head:weight" : tensor<4x2xf32>
  %y2 = linalg.matmul ins(%x2o, %w2o : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y, %y2 : tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// H = [[4 30] [30 4]] (+ a positive block) has a large negative eigenvalue:
// no damping below 1 of the mean diagonal makes it positive definite.
func.func @not_positive_definite(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{qopt-gptq: layer 'fc': the Hessian is not positive definite even with damping 0.640000 of its mean diagonal}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 30.0, 0.0, 0.0], [30.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

func.func @no_rows(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{layer 'fc' saw no calibration rows}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 0, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

func.func @nan_weight(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 0x7FC00000], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{qopt-gptq: layer 'fc': weight element [1, 1] is NaN}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// The layer must compute x W alone: an accumulator that is not zero adds a
// term qopt.qmatmul does not have.
func.func @accumulator_not_zero(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%one : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  // expected-error @below {{linear layer 'fc:input': the accumulator is not zero-filled}}
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// expected-error @below {{qopt-gptq: no observed linear layers (run qopt-insert-observers first)}}
module {
  func.func @no_layers(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
    return %x : tensor<?x4xf32>
  }
}
