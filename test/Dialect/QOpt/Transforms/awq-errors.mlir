// Layer errors of qopt-awq point at the layer's input (missing or unusable
// x^T x) or weight (a scheme that does not fit it); the pass stops at the
// first one, before changing anything.
// RUN: quant-opt %s -split-input-file -qopt-awq="weight-bits=4 weight-granularity=group group-size=8" -verify-diagnostics
//
// Options are checked before anything runs (module-level errors).
// RUN: not quant-opt %s -split-input-file -qopt-awq="grid=0" 2>&1 | FileCheck %s --check-prefix=GRID0
// RUN: not quant-opt %s -split-input-file -qopt-awq="grid=1001" 2>&1 | FileCheck %s --check-prefix=GRID1001
// RUN: not quant-opt %s -split-input-file -qopt-awq="grid=-3" 2>&1 | FileCheck %s --check-prefix=GRIDNEG
// The bounds themselves are accepted (the splits without usable statistics
// still fail, hence `not`; the progress lines show the layers that ran).
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-bits=4 grid=1000 clip=false" -o /dev/null 2>&1 | FileCheck %s --check-prefix=GRIDMAX
// RUN: not quant-opt %s -split-input-file -qopt-awq="max-shrink=1" 2>&1 | FileCheck %s --check-prefix=SHRINK1
// RUN: not quant-opt %s -split-input-file -qopt-awq="max-shrink=-0.1" 2>&1 | FileCheck %s --check-prefix=SHRINKNEG
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-bits=4 max-shrink=0" -o /dev/null 2>&1 | FileCheck %s --check-prefix=SHRINK0
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-format=fp16" 2>&1 | FileCheck %s --check-prefix=FLOAT
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-format=fp8-e4m3" 2>&1 | FileCheck %s --check-prefix=FLOAT
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-bits=5" 2>&1 | FileCheck %s --check-prefix=BITS5
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-granularity=tensor" 2>&1 | FileCheck %s --check-prefix=TENSOR
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-granularity=group group-size=3" 2>&1 | FileCheck %s --check-prefix=ODDGROUP
// RUN: not quant-opt %s -split-input-file -qopt-awq="int8-weights=[" 2>&1 | FileCheck %s --check-prefix=REGEX
// An INT8 per-channel override takes the layers out of the group scheme.
// RUN: not quant-opt %s -split-input-file -qopt-awq="weight-bits=4 weight-granularity=group group-size=8 int8-weights=^(fc|proj)$" -o /dev/null 2>&1 | FileCheck %s --check-prefix=INT8
//
// TENSOR: error: qopt-awq: AWQ scales and clips per output channel or per group (weight-granularity=channel or group)
// GRID0: error: qopt-awq: grid must be in [1, 1000], got 0
// GRID1001: error: qopt-awq: grid must be in [1, 1000], got 1001
// GRIDNEG: error: qopt-awq: grid must be in [1, 1000], got -3
// GRIDMAX: qopt-awq: layer 'fc': alpha
// SHRINK1: error: qopt-awq: max-shrink must be in [0, 1), got 1.000000
// SHRINKNEG: error: qopt-awq: max-shrink must be in [0, 1), got -0.100000
// SHRINK0: qopt-awq: layer 'fc': alpha {{.*}}, 0 groups clipped
// SHRINK0: qopt-awq: layer 'proj': no producer to fold a scale into; 0 groups clipped
// FLOAT: error: qopt-awq: AWQ scales integer weights (weight-format=int)
// BITS5: error: qopt-awq: weight-bits must be 3, 4 or 8, got 5
// ODDGROUP: error: qopt-awq: group-size must be an even number >= 2, got 3
// REGEX: error: qopt-awq: invalid int8-weights regular expression '['
// INT8-NOT: error: qopt-awq: layer {{.*}}: group size
// INT8: qopt-awq: layer 'fc': alpha
// INT8-NOT: error: qopt-awq: layer {{.*}}: group size
// INT8: qopt-awq: layer 'proj': no producer to fold a scale into;
// INT8-NOT: error: qopt-awq: layer {{.*}}: group size

// The statistics carry no x^T x (qopt-calibrate without collect-xtx).
func.func @no_xtx(%arg0: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4x4xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error @below {{layer 'blocks.0.mlp.fc' has no x^T x statistics: run qopt-calibrate{collect-xtx=true} before qopt-awq}}
  %xo = qopt.observe %n activation "blocks.0.mlp.fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0>} : tensor<4x4xf32>
  %wo = qopt.observe %w weight "blocks.0.mlp.fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<4x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// No statistics at all, on a layer without producer (it would only be
// clipped, which needs x^T x too).
func.func @no_stats(%x: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error @below {{layer 'lm_head' has no x^T x statistics: run qopt-calibrate{collect-xtx=true} before qopt-awq}}
  %xo = qopt.observe %x activation "lm_head:input" : tensor<4x4xf32>
  %wo = qopt.observe %w weight "lm_head:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<4x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

func.func @xtx_wrong_size(%x: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error @below {{layer 'fc': x^T x must be f32 [4, 4], got 'tensor<2x2xf32>'}}
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>>} : tensor<4x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<4x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Groups of 8 on K = 4 are one group per column (no error), for a layer
// that is scaled (fc) ...
func.func @group_scaled(%arg0: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4x4xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x4xf32>
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %xo = qopt.observe %n activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<4x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<4x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// ... and for a layer that is only clipped (proj).
func.func @group_clipped(%x: tensor<4x4xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
  %xo = qopt.observe %x activation "proj:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, xtx = dense<[[4.0, 3.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.5], [0.0, 0.0, 0.5, 2.0]]> : tensor<4x4xf32>>} : tensor<4x4xf32>
  %wo = qopt.observe %w weight "proj:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<4x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Nothing observed (qopt-insert-observers has not run).
// expected-error @below {{qopt-awq: no observed linear layers (run qopt-insert-observers first)}}
module {
  func.func @unobserved(%x: tensor<4x4xf32>) -> tensor<4x2xf32> {
    %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
    %zero = arith.constant 0.0 : f32
    %e2 = tensor.empty() : tensor<4x2xf32>
    %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32>
    %y = linalg.matmul ins(%x, %w : tensor<4x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
    return %y : tensor<4x2xf32>
  }
}
