// RUN: quant-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-transposed-key-dot-products))' | FileCheck %s
// RUN: quant-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(qopt-transposed-key-dot-products{parallel=false max-rows=1}))' | FileCheck %s --check-prefix=SERIAL

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// Attention scores against a transposed copy of the keys: at most max-rows
// query rows take dot products over the keys' rows (K = 32: two 16-lane
// reads of each, FMAs, one reduction); more rows keep the copy and the
// matmul.
// CHECK-LABEL: func.func @scores
// CHECK-SAME: (%[[Q:.*]]: memref<1x4x?x32xf32>, %[[K:.*]]: memref<1x4x?x32xf32>, %{{.*}}: memref<1x4x?x?xf32>)
// CHECK: %[[KT:.*]] = memref.alloc
// CHECK: %[[S:.*]] = memref.alloc
// CHECK: linalg.fill {{.*}} outs(%[[S]]
// CHECK: %[[M:.*]] = memref.dim %[[Q]], %c2
// CHECK: %[[FEW:.*]] = arith.cmpi ule, %[[M]], %c8
// CHECK: scf.if %[[FEW]] {
// CHECK:   scf.parallel
// CHECK:     scf.for
// CHECK:       scf.for
// CHECK:         vector.transfer_read %[[Q]]{{.*}} : memref<1x4x?x32xf32>, vector<16xf32>
// CHECK:         vector.transfer_read %[[K]]{{.*}} : memref<1x4x?x32xf32>, vector<16xf32>
// CHECK:         vector.fma
// CHECK:         vector.transfer_read %[[Q]]
// CHECK:         vector.transfer_read %[[K]]
// CHECK:         vector.fma
// CHECK:         vector.reduction <add>
// CHECK:         memref.load %[[S]]
// CHECK:         arith.addf
// CHECK:         memref.store {{.*}}, %[[S]]
// CHECK: } else {
// CHECK:   linalg.transpose ins(%[[K]] {{.*}} outs(%[[KT]]
// CHECK:   linalg.generic {{.*}} ins(%[[Q]], %[[KT]]
// CHECK: }
// SERIAL-LABEL: func.func @scores
// SERIAL: arith.cmpi ule, %{{.*}}, %c1
// SERIAL-NOT: scf.parallel
// SERIAL: scf.for
// SERIAL: vector.reduction <add>
func.func @scores(%q: memref<1x4x?x32xf32>, %k: memref<1x4x?x32xf32>, %s: memref<1x4x?x?xf32>) {
  %c2 = arith.constant 2 : index
  %n = memref.dim %k, %c2 : memref<1x4x?x32xf32>
  %kt = memref.alloc(%n) : memref<1x4x32x?xf32>
  linalg.transpose ins(%k : memref<1x4x?x32xf32>) outs(%kt : memref<1x4x32x?xf32>) permutation = [0, 1, 3, 2]
  %m = memref.dim %q, %c2 : memref<1x4x?x32xf32>
  %sc = memref.alloc(%m, %n) : memref<1x4x?x?xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%sc : memref<1x4x?x?xf32>)
  linalg.generic {indexing_maps = [#q, #kt, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : memref<1x4x?x32xf32>, memref<1x4x32x?xf32>) outs(%sc : memref<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  }
  memref.copy %sc, %s : memref<1x4x?x?xf32> to memref<1x4x?x?xf32>
  memref.dealloc %kt : memref<1x4x32x?xf32>
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// A fill between the two of a buffer that is not a fresh allocation (it
// might be the keys) keeps the pair as it is.
// CHECK-LABEL: func.func @fill_of_argument
// CHECK-NOT: scf.if
func.func @fill_of_argument(%q: memref<1x4x?x32xf32>, %k: memref<1x4x?x32xf32>, %s: memref<1x4x?x?xf32>) {
  %c2 = arith.constant 2 : index
  %n = memref.dim %k, %c2 : memref<1x4x?x32xf32>
  %kt = memref.alloc(%n) : memref<1x4x32x?xf32>
  linalg.transpose ins(%k : memref<1x4x?x32xf32>) outs(%kt : memref<1x4x32x?xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<1x4x?x?xf32>)
  linalg.generic {indexing_maps = [#q, #kt, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : memref<1x4x?x32xf32>, memref<1x4x32x?xf32>) outs(%s : memref<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// K = 40 is not a multiple of the 16 lanes: left alone.
// CHECK-LABEL: func.func @ragged_head_dim
// CHECK-NOT: scf.if
// CHECK: linalg.transpose
// CHECK: linalg.generic
func.func @ragged_head_dim(%q: memref<1x4x?x40xf32>, %k: memref<1x4x?x40xf32>, %s: memref<1x4x?x?xf32>) {
  %c2 = arith.constant 2 : index
  %n = memref.dim %k, %c2 : memref<1x4x?x40xf32>
  %kt = memref.alloc(%n) : memref<1x4x40x?xf32>
  linalg.transpose ins(%k : memref<1x4x?x40xf32>) outs(%kt : memref<1x4x40x?xf32>) permutation = [0, 1, 3, 2]
  linalg.generic {indexing_maps = [#q, #kt, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : memref<1x4x?x40xf32>, memref<1x4x40x?xf32>) outs(%s : memref<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// The keys are written between the copy and the product: moving the copy
// would read the new keys, so the pair is left alone.
// CHECK-LABEL: func.func @keys_written_between
// CHECK-NOT: scf.if
// CHECK: linalg.transpose
// CHECK: memref.copy
// CHECK: linalg.generic
func.func @keys_written_between(%q: memref<1x4x?x32xf32>, %k: memref<1x4x?x32xf32>, %new: memref<1x4x?x32xf32>, %s: memref<1x4x?x?xf32>) {
  %c2 = arith.constant 2 : index
  %n = memref.dim %k, %c2 : memref<1x4x?x32xf32>
  %kt = memref.alloc(%n) : memref<1x4x32x?xf32>
  linalg.transpose ins(%k : memref<1x4x?x32xf32>) outs(%kt : memref<1x4x32x?xf32>) permutation = [0, 1, 3, 2]
  memref.copy %new, %k : memref<1x4x?x32xf32> to memref<1x4x?x32xf32>
  linalg.generic {indexing_maps = [#q, #kt, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : memref<1x4x?x32xf32>, memref<1x4x32x?xf32>) outs(%s : memref<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// Another permutation (heads and positions swapped) is not K^T.
// CHECK-LABEL: func.func @other_permutation
// CHECK-NOT: scf.if
func.func @other_permutation(%q: memref<1x4x?x32xf32>, %k: memref<1x?x4x32xf32>, %s: memref<1x4x?x?xf32>) {
  %c1 = arith.constant 1 : index
  %n = memref.dim %k, %c1 : memref<1x?x4x32xf32>
  %kt = memref.alloc(%n) : memref<1x4x?x32xf32>
  linalg.transpose ins(%k : memref<1x?x4x32xf32>) outs(%kt : memref<1x4x?x32xf32>) permutation = [0, 2, 1, 3]
  return
}

// -----

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#kt = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>

// The copy is read again after the product: the dot products would leave
// it unwritten, so the pair is left alone.
// CHECK-LABEL: func.func @copy_read_later
// CHECK-NOT: scf.if
// CHECK: memref.copy
func.func @copy_read_later(%q: memref<1x4x?x32xf32>, %k: memref<1x4x?x32xf32>, %s: memref<1x4x?x?xf32>, %out: memref<1x4x32x?xf32>) {
  %c2 = arith.constant 2 : index
  %n = memref.dim %k, %c2 : memref<1x4x?x32xf32>
  %kt = memref.alloc(%n) : memref<1x4x32x?xf32>
  linalg.transpose ins(%k : memref<1x4x?x32xf32>) outs(%kt : memref<1x4x32x?xf32>) permutation = [0, 1, 3, 2]
  %m = memref.dim %q, %c2 : memref<1x4x?x32xf32>
  %sc = memref.alloc(%m, %n) : memref<1x4x?x?xf32>
  linalg.generic {indexing_maps = [#q, #kt, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : memref<1x4x?x32xf32>, memref<1x4x32x?xf32>) outs(%sc : memref<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  }
  memref.copy %kt, %out : memref<1x4x32x?xf32> to memref<1x4x32x?xf32>
  return
}
