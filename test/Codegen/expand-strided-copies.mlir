// RUN: quant-opt %s -split-input-file -qopt-expand-strided-copies | FileCheck %s

// A copy into a strided view (the KV cache's new positions) becomes a loop
// nest, one loop per dimension with the last innermost: no call of MLIR's
// memrefCopy, so no runner utils at run time.
// CHECK-LABEL: func.func @into_view
// CHECK-SAME: (%[[A:.*]]: memref<?x64xf32>, %[[V:.*]]: memref<?x64xf32, strided<[?, 1], offset: ?>>)
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[D:.*]] = memref.dim %[[A]], %[[C0]] : memref<?x64xf32>
// CHECK: scf.for %[[I:.*]] = %[[C0]] to %[[D]] step %[[C1]] {
// CHECK:   scf.for %[[J:.*]] = %[[C0]] to %[[C64]] step %[[C1]] {
// CHECK:     %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]] : memref<?x64xf32>
// CHECK:     memref.store %[[X]], %[[V]][%[[I]], %[[J]]] : memref<?x64xf32, strided<[?, 1], offset: ?>>
// CHECK-NOT: memref.copy
func.func @into_view(%a: memref<?x64xf32>, %v: memref<?x64xf32, strided<[?, 1], offset: ?>>) {
  memref.copy %a, %v : memref<?x64xf32> to memref<?x64xf32, strided<[?, 1], offset: ?>>
  return
}

// -----

// From a strided view, and rank 0 (one load and store, no loop).
// CHECK-LABEL: func.func @from_view
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     scf.for
// CHECK:       memref.load %{{.*}} : memref<2x?x4xf32, strided<[?, 8, 1]>>
// CHECK-NOT: memref.copy
// CHECK-LABEL: func.func @rank0
// CHECK-NOT: scf.for
// CHECK: %[[X:.*]] = memref.load %{{.*}}[] : memref<f32, strided<[], offset: 3>>
// CHECK: memref.store %[[X]], %{{.*}}[] : memref<f32>
func.func @from_view(%v: memref<2x?x4xf32, strided<[?, 8, 1]>>, %b: memref<2x?x4xf32>) {
  memref.copy %v, %b : memref<2x?x4xf32, strided<[?, 8, 1]>> to memref<2x?x4xf32>
  return
}
func.func @rank0(%v: memref<f32, strided<[], offset: 3>>, %b: memref<f32>) {
  memref.copy %v, %b : memref<f32, strided<[], offset: 3>> to memref<f32>
  return
}

// -----

// Contiguous copies stay: the LLVM lowering makes them a memcpy.
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<?x64xf32> to memref<?x64xf32>
// CHECK-NOT: scf.for
func.func @contiguous(%a: memref<?x64xf32>, %b: memref<?x64xf32>) {
  memref.copy %a, %b : memref<?x64xf32> to memref<?x64xf32>
  return
}
