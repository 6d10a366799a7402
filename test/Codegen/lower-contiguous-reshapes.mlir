// RUN: quant-opt %s -split-input-file -qopt-lower-contiguous-reshapes | FileCheck %s
// RUN: quant-opt %s -split-input-file -qopt-lower-contiguous-reshapes -expand-strided-metadata | FileCheck %s --check-prefix=EXPANDED

// expand(collapse(x)) with dynamic dims (crashes MLIR 22's
// expand-strided-metadata when left as is) becomes reinterpret_casts with
// contiguous strides, which fold into one.
// CHECK-LABEL: func.func @collapse_expand(%arg0: memref<?x?x64xf32>, %arg1: index, %arg2: index)
// CHECK-NOT: memref.collapse_shape
// CHECK: %[[S:.*]] = arith.muli %arg2, %c64 : index
// CHECK: memref.reinterpret_cast %arg0 to offset: [0], sizes: [%arg1, %arg2, 64], strides: [%[[S]], 64, 1] : memref<?x?x64xf32> to memref<?x?x64xf32>
// EXPANDED-LABEL: func.func @collapse_expand
// EXPANDED-NOT: memref.expand_shape
// EXPANDED-NOT: memref.collapse_shape
func.func @collapse_expand(%a: memref<?x?x64xf32>, %d0: index, %d1: index) -> memref<?x?x64xf32> {
  %c = memref.collapse_shape %a [[0, 1], [2]] : memref<?x?x64xf32> into memref<?x64xf32>
  %e = memref.expand_shape %c [[0, 1], [2]] output_shape [%d0, %d1, 64] : memref<?x64xf32> into memref<?x?x64xf32>
  return %e : memref<?x?x64xf32>
}

// -----

// A collapse alone.
// CHECK-LABEL: func.func @collapse
// CHECK: %[[D0:.*]] = memref.dim %arg0, %c0
// CHECK: %[[N:.*]] = arith.muli %[[D0]], %c4 : index
// CHECK: memref.reinterpret_cast %arg0 to offset: [0], sizes: [%[[N]], 64], strides: [64, 1] : memref<?x4x64xf32> to memref<?x64xf32>
func.func @collapse(%a: memref<?x4x64xf32>) -> memref<?x64xf32> {
  %c = memref.collapse_shape %a [[0, 1], [2]] : memref<?x4x64xf32> into memref<?x64xf32>
  return %c : memref<?x64xf32>
}

// -----

// A strided (non-contiguous) source is left for expand-strided-metadata.
// CHECK-LABEL: func.func @strided
// CHECK: memref.expand_shape
func.func @strided(%a: memref<4x64xf32, strided<[192, 1]>>) -> memref<4x4x16xf32, strided<[192, 16, 1]>> {
  %e = memref.expand_shape %a [[0], [1, 2]] output_shape [4, 4, 16] : memref<4x64xf32, strided<[192, 1]>> into memref<4x4x16xf32, strided<[192, 16, 1]>>
  return %e : memref<4x4x16xf32, strided<[192, 16, 1]>>
}
