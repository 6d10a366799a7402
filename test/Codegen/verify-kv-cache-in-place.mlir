// RUN: quant-opt %s -split-input-file -verify-diagnostics \
// RUN:   '-one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map' \
// RUN:   -qopt-verify-kv-cache-in-place | FileCheck %s

// The cache's old contents are still read after the update, so
// bufferization updates a copy: the caller's cache would never grow.
func.func @stale(%c: tensor<?x2x?x4xf32> {qopt.kv_cache}, %new: tensor<1x2x1x4xf32>, %p: index) -> (f32, f32) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{KV cache input 0 of 'stale' was copied by bufferization instead of updated in place: the caller's cache would not grow}}
  %u = tensor.insert_slice %new into %c[0, 0, %p, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x1x4xf32> into tensor<?x2x?x4xf32>
  %a = tensor.extract %u[%c0, %c0, %p, %c0] : tensor<?x2x?x4xf32>
  %b = tensor.extract %c[%c0, %c0, %p, %c0] : tensor<?x2x?x4xf32>
  return %a, %b : f32, f32
}

// -----

// Updated in place: checked, and the marker is dropped.
// CHECK-LABEL: func.func @fresh(
// CHECK-SAME:    %[[C:.*]]: memref<?x2x?x4xf32>,
// CHECK-NOT:     qopt.kv_cache
// CHECK:         %[[DST:.*]] = memref.subview %[[C]][0, 0, %{{.*}}, 0] [1, 2, 1, 4]
// CHECK:         memref.copy %{{.*}}, %[[DST]]
func.func @fresh(%c: tensor<?x2x?x4xf32> {qopt.kv_cache}, %new: tensor<1x2x1x4xf32>, %p: index) -> f32 {
  %c0 = arith.constant 0 : index
  %u = tensor.insert_slice %new into %c[0, 0, %p, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x1x4xf32> into tensor<?x2x?x4xf32>
  %a = tensor.extract %u[%c0, %c0, %p, %c0] : tensor<?x2x?x4xf32>
  return %a : f32
}
