// RUN: quant-opt %s -split-input-file -qopt-smooth-activations -verify-diagnostics | FileCheck %s
// RUN: quant-opt %s -split-input-file -qopt-smooth-activations=alpha=1 -verify-diagnostics | FileCheck %s --check-prefix=ALPHA1
// A pattern must select a layer of each module: the splits without an fc
// layer are refused (checked in roles.test), the others still checked.
// RUN: not quant-opt %s -split-input-file -qopt-smooth-activations=skip=^fc$ 2>/dev/null | FileCheck %s --check-prefix=SKIP

// A LayerNorm-like producer, a reshape, one layer. Channel maxima |x| = [4, 1],
// weight row maxima |w| = [1, 4]: s = sqrt(4 / 1), sqrt(1 / 4) = [2, 0.5]
// (alpha 1: s = |x| = [4, 1]). The producer multiplies its result by 1/s
// = [0.5, 2] (a new input indexed by the channel), the weight rows are
// multiplied by s, both points lose their statistics and the layer records
// the input's factors 1/s.
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm_producer
// CHECK: %[[INV:.*]] = arith.constant dense_resource<smoothing> : tensor<2xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #{{.*}}]{{.*}} ins(%arg0, %{{.*}}, %[[INV]] : tensor<1x3x2xf32>, tensor<2xf32>, tensor<2xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[G:.*]]: f32, %[[F:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[IN]], %[[G]]
// CHECK-NEXT: %[[S:.*]] = arith.mulf %[[Y]], %[[F]]
// CHECK-NEXT: linalg.yield %[[S]]
// CHECK: %[[X:.*]] = qopt.observe %{{.*}} activation "fc:input" : tensor<3x2xf32>
// CHECK: %[[W:.*]] = arith.constant dense_resource<smoothed_weight> : tensor<2x2xf32>
// CHECK: %[[WO:.*]] = qopt.observe %[[W]] weight "fc:weight" : tensor<2x2xf32>
// CHECK: linalg.matmul {qopt.smoothing = dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>} ins(%[[X]], %[[WO]]
// CHECK: smoothing: "0x080000000000003F00000040"
// CHECK: smoothed_weight: "0x0800000000000040000080BF0000803F00000040"
// ALPHA1-LABEL: func.func @layer_norm_producer
// SKIP-LABEL: func.func @layer_norm_producer
// SKIP-NOT: qopt.smoothing
// SKIP: activation "fc:input" {stats
// SKIP-NOT: qopt.smoothing
// ALPHA1: linalg.matmul {qopt.smoothing = dense<[2.500000e-01, 1.000000e+00]> : tensor<2xf32>}
func.func @layer_norm_producer(%arg0: tensor<1x3x2xf32>) -> tensor<3x2xf32> {
  %gamma = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x3x2xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%arg0, %gamma : tensor<1x3x2xf32>, tensor<2xf32>) outs(%e : tensor<1x3x2xf32>) {
  ^bb0(%in: f32, %g: f32, %out: f32):
    %m = arith.mulf %in, %g : f32
    linalg.yield %m : f32
  } -> tensor<1x3x2xf32>
  %c0 = arith.constant 0 : index
  %d = tensor.dim %n, %c0 : tensor<1x3x2xf32>
  %x = tensor.collapse_shape %n [[0, 1], [2]] : tensor<1x3x2xf32> into tensor<3x2xf32>
  %w = arith.constant dense<[[1.0, -0.5], [2.0, 4.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %acc0 = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<3x2xf32>) -> tensor<3x2xf32>
  %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax", samples = 3, min = -4.0, max = 4.0, channel_absmax = dense<[4.0, 1.0]> : tensor<2xf32>>} : tensor<3x2xf32>
  %wo = qopt.observe %w weight "fc:weight" {stats = #qopt.stats<method = "constant", samples = 2, min = -0.5, max = 4.0>} : tensor<2x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<3x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Two layers read one activation (separate q and k projections): one scale
// from the larger row maxima of both weights. |x| = [16, 1, 0], |w| =
// [max(4, 1), max(1, 0.5), max(1, 2)] = [4, 1, 2]: s = [sqrt(16 / 4),
// sqrt(1 / 1), 1], the dead channel (|x| = 0) keeping s = 1. (Each layer on
// its own would have given k the scales [4, 1.41, 1].)
// CHECK-LABEL: func.func @shared_input
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.matmul {qopt.smoothing = dense<[5.000000e-01, 1.000000e+00, 1.000000e+00]> : tensor<3xf32>}
// CHECK: linalg.matmul {qopt.smoothing = dense<[5.000000e-01, 1.000000e+00, 1.000000e+00]> : tensor<3xf32>}
func.func @shared_input(%arg0: tensor<4x3xf32>) -> (tensor<4x1xf32>, tensor<4x1xf32>) {
  %e = tensor.empty() : tensor<4x3xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<4x3xf32>) outs(%e : tensor<4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x3xf32>
  %wq = arith.constant dense<[[4.0], [1.0], [1.0]]> : tensor<3x1xf32>
  %wk = arith.constant dense<[[-1.0], [0.5], [2.0]]> : tensor<3x1xf32>
  %zero = arith.constant 0.0 : f32
  %acc0 = tensor.empty() : tensor<4x1xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %xq = qopt.observe %x activation "q:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -16.0, max = 16.0, channel_absmax = dense<[16.0, 1.0, 0.0]> : tensor<3xf32>>} : tensor<4x3xf32>
  %xk = qopt.observe %x activation "k:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -16.0, max = 16.0, channel_absmax = dense<[16.0, 1.0, 0.0]> : tensor<3xf32>>} : tensor<4x3xf32>
  %wqo = qopt.observe %wq weight "q:weight" : tensor<3x1xf32>
  %wko = qopt.observe %wk weight "k:weight" : tensor<3x1xf32>
  %q = linalg.matmul ins(%xq, %wqo : tensor<4x3xf32>, tensor<3x1xf32>) outs(%acc : tensor<4x1xf32>) -> tensor<4x1xf32>
  %k = linalg.matmul ins(%xk, %wko : tensor<4x3xf32>, tensor<3x1xf32>) outs(%acc : tensor<4x1xf32>) -> tensor<4x1xf32>
  return %q, %k : tensor<4x1xf32>, tensor<4x1xf32>
}

// -----

// Left alone: the producer's result is also returned (scaling it would
// change that output), and a layer whose input is a function argument has
// no producer to take the scale. Their statistics stay.
// CHECK-LABEL: func.func @not_foldable
// CHECK-NOT: qopt.smoothing
// CHECK: qopt.observe %{{.*}} activation "a:input" {stats
// CHECK: qopt.observe %arg1 activation "b:input" {stats
// CHECK-NOT: qopt.smoothing
func.func @not_foldable(%arg0: tensor<4x2xf32>, %arg1: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %e = tensor.empty() : tensor<4x2xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<4x2xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  %xa = qopt.observe %x activation "a:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, channel_absmax = dense<[1.0, 1.0]> : tensor<2xf32>>} : tensor<4x2xf32>
  %xb = qopt.observe %arg1 activation "b:input" {stats = #qopt.stats<method = "minmax", samples = 4, min = -1.0, max = 1.0, channel_absmax = dense<[1.0, 1.0]> : tensor<2xf32>>} : tensor<4x2xf32>
  %wa = qopt.observe %w weight "a:weight" : tensor<2x2xf32>
  %wb = qopt.observe %w weight "b:weight" : tensor<2x2xf32>
  %a = linalg.matmul ins(%xa, %wa : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  %b = linalg.matmul ins(%xb, %wb : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %a, %b, %x : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

func.func @uncalibrated(%arg0: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4x2xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%arg0 : tensor<4x2xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = math.tanh %in : f32
    linalg.yield %t : f32
  } -> tensor<4x2xf32>
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x2xf32>) -> tensor<4x2xf32>
  // expected-error @below {{activation point 'g:input': smoothing needs calibrated per-channel maxima (run qopt-calibrate first)}}
  %xo = qopt.observe %x activation "g:input" : tensor<4x2xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<2x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<4x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
