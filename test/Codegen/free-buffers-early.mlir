// RUN: quant-opt %s -split-input-file -qopt-free-buffers-early | FileCheck %s

// What ownership-based deallocation leaves at the end of a model's block:
// one dealloc of every buffer, retaining the result (a kernel's output).
// Each buffer that is provably not the result gets its own dealloc, right
// after its last use (through views); a kernel's output too, through the
// base-buffer query that moves with it.
// CHECK-LABEL: func.func @model(
// CHECK:         %[[A:.*]] = memref.alloc(%{{.*}}) : memref<?x8xf32>
// CHECK:         linalg.fill {{.*}} outs(%[[A]] :
// CHECK:         %[[V:.*]] = memref.expand_shape %[[A]]
// CHECK:         %[[Y:.*]] = call @kernel(%[[A]])
// CHECK:         memref.load %[[V]]
// CHECK-NEXT:    bufferization.dealloc (%[[A]] : memref<?x8xf32>) if (%true)
// CHECK:         %[[B:.*]] = memref.alloc(%{{.*}}) : memref<?x8xf32>
// CHECK:         linalg.copy ins(%[[Y]] : {{.*}}) outs(%[[B]] :
// CHECK-NEXT:    %[[BASE:[a-z_0-9]*]], {{.*}} = memref.extract_strided_metadata %[[Y]]
// CHECK-NEXT:    bufferization.dealloc (%[[BASE]] : memref<f32>) if (%true)
// CHECK:         %[[R:.*]] = call @kernel(%[[B]])
// CHECK-NEXT:    bufferization.dealloc (%[[B]] : memref<?x8xf32>) if (%true)
// CHECK:         bufferization.dealloc retain (%[[R]] : memref<?x8xf32>)
// CHECK-NEXT:    return %[[R]]
func.func private @kernel(memref<?x8xf32>) -> memref<?x8xf32>
func.func @model(%n: index) -> memref<?x8xf32> {
  %true = arith.constant true
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %a = memref.alloc(%n) : memref<?x8xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<?x8xf32>)
  %v = memref.expand_shape %a [[0], [1, 2]] output_shape [%n, 2, 4] : memref<?x8xf32> into memref<?x2x4xf32>
  %y = call @kernel(%a) : (memref<?x8xf32>) -> memref<?x8xf32>
  %x = memref.load %v[%c0, %c0, %c0] : memref<?x2x4xf32>
  %b = memref.alloc(%n) : memref<?x8xf32>
  linalg.copy ins(%y : memref<?x8xf32>) outs(%b : memref<?x8xf32>)
  %r = call @kernel(%b) : (memref<?x8xf32>) -> memref<?x8xf32>
  %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %y : memref<?x8xf32> -> memref<f32>, index, index, index, index, index
  %own:1 = bufferization.dealloc (%a, %base, %b : memref<?x8xf32>, memref<f32>, memref<?x8xf32>) if (%true, %true, %true) retain (%r : memref<?x8xf32>)
  return %r : memref<?x8xf32>
}

// -----

// A buffer whose uses the pass cannot follow (an arith.select may return
// it) is split out but stays at the end of the block; an argument (not a
// fresh allocation) keeps the run-time alias check against the result.
// CHECK-LABEL: func.func @unknown(
// CHECK-SAME:    %[[ARG:[a-z0-9]*]]: memref<4xf32>
// CHECK:         %[[A:.*]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[S:.*]] = arith.select %{{.*}}, %[[A]], %[[ARG]]
// CHECK:         %[[R:.*]] = memref.alloc() : memref<4xf32>
// CHECK:         memref.store
// CHECK-NEXT:    bufferization.dealloc (%[[A]] : memref<4xf32>) if (%true)
// CHECK-NEXT:    bufferization.dealloc (%[[ARG]] : memref<4xf32>) if (%true) retain (%[[R]] : memref<4xf32>)
func.func @unknown(%arg: memref<4xf32>, %c: i1) -> memref<4xf32> {
  %true = arith.constant true
  %c0 = arith.constant 0 : index
  %a = memref.alloc() : memref<4xf32>
  %s = arith.select %c, %a, %arg : memref<4xf32>
  %x = memref.load %s[%c0] : memref<4xf32>
  %r = memref.alloc() : memref<4xf32>
  memref.store %x, %r[%c0] : memref<4xf32>
  %own:1 = bufferization.dealloc (%a, %arg : memref<4xf32>, memref<4xf32>) if (%true, %true) retain (%r : memref<4xf32>)
  return %r : memref<4xf32>
}
