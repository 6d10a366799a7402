// RUN: quant-opt %s --split-input-file \
// RUN:   --qopt-vectorize-contractions="lower-vectors=false" | FileCheck %s --check-prefix=TILES
// RUN: quant-opt %s --split-input-file --qopt-vectorize-contractions \
// RUN:   --canonicalize --cse | FileCheck %s
// RUN: quant-opt %s --split-input-file \
// RUN:   --qopt-vectorize-contractions="parallel-min-weights=0" | FileCheck %s --check-prefix=SERIAL

// Static sizes that are multiples of the block: one 6 x 64 vector.contract
// per k, no masks, no split.
// TILES-LABEL: func @static_full
//   TILES-NOT: vector.mask
//       TILES: scf.for
//       TILES:   scf.for
//       TILES:     scf.for
//       TILES:       vector.contract {{.*}} : vector<6x1xf32>, vector<1x64xf32> into vector<6x64xf32>
//   TILES-NOT: vector.mask

// The accumulator rows live in registers across the k loop: 6 row reads
// before it, 6 vector<64xf32> FMAs (broadcast A value times a row of B) per
// k, 6 row writes after it.
// CHECK-LABEL: func @static_full
//       CHECK: scf.for %{{.*}} = %c0 to %c128 step %c64
//       CHECK:   scf.for %{{.*}} = %c0 to %c12 step %c6
//       CHECK:     %[[C:.*]] = memref.subview %arg2
// CHECK-COUNT-6: vector.transfer_read %[[C]]{{.*}} vector<64xf32>
//       CHECK:     scf.for %{{.*}} = %c0 to %c70 step %c1 iter_args({{.*}}) -> (vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>)
//       CHECK:       vector.transfer_read {{.*}} : memref<1x64xf32, {{.*}}>, vector<64xf32>
// CHECK-COUNT-6:     vector.fma {{.*}} : vector<64xf32>
//       CHECK:       scf.yield
// CHECK-COUNT-6: vector.transfer_write {{.*}} %[[C]]
//   CHECK-NOT: linalg.matmul
func.func @static_full(%a: memref<12x70xf32>, %b: memref<70x128xf32>,
                       %c: memref<12x128xf32>) {
  linalg.matmul ins(%a, %b : memref<12x70xf32>, memref<70x128xf32>)
                outs(%c : memref<12x128xf32>)
  return
}

// -----

// Dynamic M, static ragged N: rows split at M - M % 6; the full rows use
// 6 x 64 blocks, N = 50 < 64 is a masked edge; the rows left use 1 x 128.
// TILES-LABEL: func @dynamic_m
//       TILES: %[[SPLIT:.*]] = affine.min
//       TILES: vector.contract {{.*}} : vector<6x1xf32>, vector<1x64xf32> into vector<6x64xf32>
//       TILES: vector.mask {{.*}} vector.transfer_write {{.*}} : vector<6x64xf32>
//       TILES: vector.contract {{.*}} : vector<1x1xf32>, vector<1x128xf32> into vector<1x128xf32>
//       TILES: vector.mask {{.*}} vector.transfer_write {{.*}} : vector<1x128xf32>

// CHECK-LABEL: func @dynamic_m
//       CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>)
//       CHECK:   %[[MASK:.*]] = vector.constant_mask [50] : vector<64xi1>
//       CHECK:   vector.transfer_read {{.*}}, %[[MASK]] {in_bounds = [true]} : memref<1x50xf32, {{.*}}>, vector<64xf32>
// CHECK-COUNT-6: vector.fma {{.*}} : vector<64xf32>
//       CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<128xf32>)
//       CHECK:   vector.transfer_read {{.*}} : memref<1x50xf32, {{.*}}>, vector<128xf32>
//       CHECK:   vector.fma {{.*}} : vector<128xf32>
func.func @dynamic_m(%a: memref<?x70xf32>, %b: memref<70x50xf32>,
                     %c: memref<?x50xf32>) {
  linalg.matmul ins(%a, %b : memref<?x70xf32>, memref<70x50xf32>)
                outs(%c : memref<?x50xf32>)
  return
}

// -----

// batch_matmul: a loop over the batch of rank-reduced matmuls.
// CHECK-LABEL: func @batch
//       CHECK: scf.for %{{.*}} = %c0 to %{{.*}} step %c1
//       CHECK:   vector.fma {{.*}} : vector<64xf32>
//   CHECK-NOT: linalg.batch_matmul
func.func @batch(%a: memref<?x?x?xf32>, %b: memref<?x?x?xf32>,
                 %c: memref<?x?x?xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<?x?x?xf32>, memref<?x?x?xf32>)
                      outs(%c : memref<?x?x?xf32>)
  return
}

// -----

// Left alone: tensors (the pass runs after bufferization), other element
// types, and matmuls with transposed operands.
// CHECK-LABEL: func @not_handled
//       CHECK: linalg.matmul {{.*}} tensor
//       CHECK: linalg.matmul {{.*}} memref<4x8xf16>
//       CHECK: linalg.matmul indexing_maps
//   CHECK-NOT: vector.
func.func @not_handled(%t: tensor<4x8xf32>, %u: tensor<8x4xf32>,
                       %h: memref<4x8xf16>, %g: memref<8x4xf16>,
                       %o: memref<4x4xf16>, %a: memref<4x8xf32>,
                       %bt: memref<4x8xf32>, %c: memref<4x4xf32>)
    -> tensor<4x4xf32> {
  %e = tensor.empty() : tensor<4x4xf32>
  %r = linalg.matmul ins(%t, %u : tensor<4x8xf32>, tensor<8x4xf32>)
                     outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  linalg.matmul ins(%h, %g : memref<4x8xf16>, memref<8x4xf16>)
                outs(%o : memref<4x4xf16>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                                 affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
                ins(%a, %bt : memref<4x8xf32>, memref<4x8xf32>)
                outs(%c : memref<4x4xf32>)
  return %r : tensor<4x4xf32>
}

// -----

// A matmul whose result elementwise fusion reshaped into 3-D (GPT-2's
// linear layers): collapsed back into linalg.matmul and vectorized.
#a = affine_map<(b, s, n, k) -> (b, s, k)>
#b = affine_map<(b, s, n, k) -> (k, n)>
#c = affine_map<(b, s, n, k) -> (b, s, n)>
// CHECK-LABEL: func @reshaped
//       CHECK: memref.collapse_shape %arg0 {{\[\[}}0, 1], [2]]
//       CHECK: memref.collapse_shape %arg2 {{\[\[}}0, 1], [2]]
//       CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>)
//   CHECK-NOT: linalg.generic
func.func @reshaped(%x: memref<?x?x64xf32>, %w: memref<64x256xf32>,
                    %o: memref<?x?x256xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x?x64xf32>, memref<64x256xf32>)
      outs(%o : memref<?x?x256xf32>) {
  ^bb0(%p: f32, %q: f32, %r: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %r, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A large static B (K x N >= parallel-min-weights, like GPT-2's linear
// layers): the column panels of both row parts become scf.parallel. Small
// (@static_full) and dynamic (@batch, attention's) ones keep scf.for.
// CHECK-LABEL: func @threads
//       CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c256) step (%c64)
//       CHECK:   scf.for %{{.*}} step %c6
//       CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c256) step (%c128)
// SERIAL-LABEL: func @threads
//   SERIAL-NOT: scf.parallel
func.func @threads(%a: memref<?x256xf32>, %b: memref<256x256xf32>,
                   %c: memref<?x256xf32>) {
  linalg.matmul ins(%a, %b : memref<?x256xf32>, memref<256x256xf32>)
                outs(%c : memref<?x256xf32>)
  return
}

// -----

// Attention's products, C[b, h, m, n] += A[b, h, m, k] * B[b, h, k, n], with
// B a strided view (the KV cache, capacity 64 positions): loops over batch
// and heads around register-blocked matmuls on 2-D views. The heads loop is
// parallel (each head writes its own scores), the panels inside it are not.
// TILES-LABEL: func @attention
//       TILES: scf.for %[[B:.*]] = %c0 to %{{.*}} step %c1
//       TILES:   scf.parallel (%[[H:.*]]) = (%c0) to (%c12) step (%c1)
//       TILES:     memref.subview %arg0[%[[B]], %[[H]], 0, 0] [1, 1, %{{.*}}, 64] [1, 1, 1, 1] : memref<?x12x?x64xf32> to memref<?x64xf32, strided<[64, 1], offset: ?>>
//       TILES:     memref.subview %arg1[%[[B]], %[[H]], 0, 0] [1, 1, 64, %{{.*}}] [1, 1, 1, 1] : memref<?x12x64x?xf32, strided<[?, ?, ?, 1]>> to memref<64x?xf32, strided<[?, 1], offset: ?>>
//   TILES-NOT:     scf.parallel
//       TILES:     vector.contract
// SERIAL-LABEL: func @attention
//   SERIAL-NOT: scf.parallel
#a = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#b = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#c = affine_map<(b, h, m, n, k) -> (b, h, m, n)>
func.func @attention(%q: memref<?x12x?x64xf32>, %kt: memref<?x12x64x?xf32, strided<[?, ?, ?, 1]>>,
                     %s: memref<?x12x?x?xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %kt : memref<?x12x?x64xf32>, memref<?x12x64x?xf32, strided<[?, ?, ?, 1]>>) outs(%s : memref<?x12x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}

// -----

// Another order of the loops (the heads dim innermost in the output) is not
// attention's form: left to the loops of qopt-interchange-contractions.
// TILES-LABEL: func @other_order
//       TILES: linalg.generic
#a2 = affine_map<(b, h, m, n, k) -> (b, h, m, k)>
#b2 = affine_map<(b, h, m, n, k) -> (b, h, k, n)>
#c2 = affine_map<(b, h, m, n, k) -> (b, m, h, n)>
func.func @other_order(%q: memref<2x3x4x8xf32>, %k: memref<2x3x8x5xf32>, %s: memref<2x4x3x5xf32>) {
  linalg.generic {indexing_maps = [#a2, #b2, #c2], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<2x3x4x8xf32>, memref<2x3x8x5xf32>) outs(%s : memref<2x4x3x5xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  }
  return
}
