// RUN: quant-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-elementwise-in-place))' | FileCheck %s
// RUN: quant-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-elementwise-in-place),one-shot-bufferize{bufferize-function-boundaries})' | FileCheck %s --check-prefix=BUF

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// Scaled and masked scores overwrite the raw scores: one buffer, not two.
// CHECK-LABEL: func @scores
// CHECK: %[[S:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}} ins(%[[S]], %{{.*}} : tensor<8x8xf32>, tensor<8xi1>) outs(%[[S]] : tensor<8x8xf32>)
// BUF-LABEL: func @scores
// BUF-COUNT-1: memref.alloc
// BUF-NOT: memref.alloc
func.func @scores(%q: tensor<8x4xf32>, %k: tensor<4x8xf32>, %mask: tensor<8xi1>) -> tensor<8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %low = arith.constant -1.0e9 : f32
  %e0 = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.matmul ins(%q, %k : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e1 = tensor.empty() : tensor<8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s, %mask : tensor<8x8xf32>, tensor<8xi1>) outs(%e1 : tensor<8x8xf32>) {
  ^bb0(%x: f32, %m: i1, %o: f32):
    %y = arith.select %m, %x, %low : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>

// The input is read again later: its buffer must survive, so the init stays.
// CHECK-LABEL: func @used_later
// BUF-LABEL: func @used_later
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<16xf32>)
func.func @used_later(%a: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %e0 = tensor.empty() : tensor<16xf32>
  %x = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<16xf32>) outs(%e0 : tensor<16xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = arith.addf %v, %v : f32
    linalg.yield %y : f32
  } -> tensor<16xf32>
  %e1 = tensor.empty() : tensor<16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<16xf32>) outs(%e1 : tensor<16xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = arith.mulf %v, %v : f32
    linalg.yield %y : f32
  } -> tensor<16xf32>
  return %r, %x : tensor<16xf32>, tensor<16xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>

// A function argument (the caller's buffer) and a constant are not written.
// CHECK-LABEL: func @argument_and_constant
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: linalg.generic {{.*}} outs(%[[E]] : tensor<16xf32>)
func.func @argument_and_constant(%a: tensor<16xf32>) -> tensor<16xf32> {
  %c = arith.constant dense<2.0> : tensor<16xf32>
  %e = tensor.empty() : tensor<16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%a, %c : tensor<16xf32>, tensor<16xf32>) outs(%e : tensor<16xf32>) {
  ^bb0(%v: f32, %w: f32, %o: f32):
    %y = arith.mulf %v, %w : f32
    linalg.yield %y : f32
  } -> tensor<16xf32>
  return %r : tensor<16xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#red = affine_map<(d0, d1) -> (d0)>

// Not elementwise (a transposed read, a reduction), a body that reads its
// init, another element type: unchanged.
// CHECK-LABEL: func @not_elementwise
// CHECK: linalg.copy
// CHECK: %[[E0:.*]] = tensor.empty() : tensor<8x8xf32>
// CHECK: outs(%[[E0]] : tensor<8x8xf32>)
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<8xf32>
// CHECK: outs(%[[E1]] : tensor<8xf32>)
// CHECK: linalg.copy
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<8x8xf32>
// CHECK: outs(%[[E2]] : tensor<8x8xf32>)
// CHECK: linalg.copy
// CHECK: %[[E3:.*]] = tensor.empty() : tensor<8x8xi8>
// CHECK: outs(%[[E3]] : tensor<8x8xi8>)
func.func @not_elementwise(%a: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xi8>) {
  %c0 = tensor.empty() : tensor<8x8xf32>
  %p0 = linalg.copy ins(%a : tensor<8x8xf32>) outs(%c0 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e0 = tensor.empty() : tensor<8x8xf32>
  %t = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p0 : tensor<8x8xf32>) outs(%e0 : tensor<8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %c1 = tensor.empty() : tensor<8x8xf32>
  %p1 = linalg.copy ins(%a : tensor<8x8xf32>) outs(%c1 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e1 = tensor.empty() : tensor<8xf32>
  %s = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
      ins(%p1 : tensor<8x8xf32>) outs(%e1 : tensor<8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = arith.addf %v, %o : f32
    linalg.yield %y : f32
  } -> tensor<8xf32>
  %c2 = tensor.empty() : tensor<8x8xf32>
  %p2 = linalg.copy ins(%a : tensor<8x8xf32>) outs(%c2 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e2 = tensor.empty() : tensor<8x8xf32>
  %acc = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p2 : tensor<8x8xf32>) outs(%e2 : tensor<8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = arith.addf %v, %o : f32
    linalg.yield %y : f32
  } -> tensor<8x8xf32>
  %c3 = tensor.empty() : tensor<8x8xf32>
  %p3 = linalg.copy ins(%a : tensor<8x8xf32>) outs(%c3 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %e3 = tensor.empty() : tensor<8x8xi8>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p3 : tensor<8x8xf32>) outs(%e3 : tensor<8x8xi8>) {
  ^bb0(%v: f32, %o: i8):
    %y = arith.fptosi %v : f32 to i8
    linalg.yield %y : i8
  } -> tensor<8x8xi8>
  return %t, %s, %acc, %q : tensor<8x8xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8x8xi8>
}
