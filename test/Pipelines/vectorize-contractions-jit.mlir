// The vector matmul kernels (qopt-vectorize-contractions, on by default in
// --qopt-lower-to-llvm) compute exactly what the scalar reference loops
// compute, for ragged sizes: dynamic M in {1, 7, 33} (below, between and
// above the 6-row block), K = 70, N = 37 and 50 (below the 64-column block),
// N = 131 (two blocks and a ragged edge), fully static, fully dynamic and
// batch_matmul. The data are small integers, so every sum is exact and the
// outputs must be identical.
//
// RUN: quant-opt %s --qopt-lower-to-llvm=parallel=false \
// RUN:   | mlir-runner -e entry -entry-point-result=void -O2 \
// RUN:       -shared-libs=%mlir_runner_libs \
// RUN:   | sed -e 's/base@ = 0x[0-9a-f]*//' > %t.vec
// RUN: quant-opt %s --qopt-lower-to-llvm="vectorize-contractions=false parallel=false" \
// RUN:   | mlir-runner -e entry -entry-point-result=void -O2 \
// RUN:       -shared-libs=%mlir_runner_libs \
// RUN:   | sed -e 's/base@ = 0x[0-9a-f]*//' > %t.ref
// RUN: diff %t.ref %t.vec
// RUN: FileCheck %s < %t.vec
// RUN: quant-opt %s --qopt-lower-to-llvm=kernels=x86-64-avx2 | FileCheck %s --check-prefix=IR
// RUN: quant-opt %s --qopt-lower-to-llvm=kernels=x86-64-avx512-vnni | FileCheck %s --check-prefix=IR512

// The kernels are vector FMAs in register blocks sized for the target:
// AVX2 6 x 16 (12 of 16 ymm) and 1 x 64 for the rows left; AVX-512 6 x 64
// (24 of 32 zmm) and 1 x 128.
// IR-COUNT-6: llvm.intr.fmuladd{{.*}} -> vector<16xf32>
// IR: llvm.intr.fmuladd{{.*}} -> vector<64xf32>
// IR512-COUNT-6: llvm.intr.fmuladd{{.*}} -> vector<64xf32>
// IR512: llvm.intr.fmuladd{{.*}} -> vector<128xf32>

// Shapes in call order; one exact value: C[0][0] of the first product is
// 1 + sum_k A[0][k] * B[k][0].
// CHECK: rank = 2 offset = 0 sizes = [1, 37]
// CHECK-NEXT: {{\[\[}}70,
// CHECK: rank = 2 offset = 0 sizes = [7, 37]
// CHECK: rank = 2 offset = 0 sizes = [33, 37]
// CHECK: rank = 2 offset = 0 sizes = [1, 50]
// CHECK: rank = 2 offset = 0 sizes = [7, 50]
// CHECK: rank = 2 offset = 0 sizes = [33, 50]
// CHECK: rank = 2 offset = 0 sizes = [13, 131]
// CHECK: rank = 2 offset = 0 sizes = [12, 128]
// CHECK: rank = 3 offset = 0 sizes = [3, 9, 70]

#id2 = affine_map<(i, j) -> (i, j)>

// ((i * a + j * b) mod c) - c / 2, as f32.
func.func @gen(%m: index, %n: index, %a: index, %b: index, %c: index)
    -> tensor<?x?xf32> {
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [#id2],
                       iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ia = arith.muli %i, %a : index
    %jb = arith.muli %j, %b : index
    %s = arith.addi %ia, %jb : index
    %rem = arith.remui %s, %c : index
    %c2 = arith.constant 2 : index
    %half = arith.divui %c, %c2 : index
    %v = arith.subi %rem, %half : index
    %vi = arith.index_cast %v : index to i64
    %f = arith.sitofp %vi : i64 to f32
    linalg.yield %f : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

func.func @mm37(%a: tensor<?x70xf32>, %b: tensor<70x37xf32>)
    -> tensor<?x37xf32> {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x70xf32>
  %e = tensor.empty(%m) : tensor<?x37xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<?x37xf32>) -> tensor<?x37xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x70xf32>, tensor<70x37xf32>)
                     outs(%f : tensor<?x37xf32>) -> tensor<?x37xf32>
  return %r : tensor<?x37xf32>
}

func.func @mm50(%a: tensor<?x70xf32>, %b: tensor<70x50xf32>)
    -> tensor<?x50xf32> {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x70xf32>
  %e = tensor.empty(%m) : tensor<?x50xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<?x50xf32>) -> tensor<?x50xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x70xf32>, tensor<70x50xf32>)
                     outs(%f : tensor<?x50xf32>) -> tensor<?x50xf32>
  return %r : tensor<?x50xf32>
}

func.func @mmdyn(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %n = tensor.dim %b, %c1 : tensor<?x?xf32>
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>)
                     outs(%f : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

func.func @mmstatic(%a: tensor<12x70xf32>, %b: tensor<70x128xf32>)
    -> tensor<12x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<12x128xf32>) -> tensor<12x128xf32>
  %r = linalg.matmul ins(%a, %b : tensor<12x70xf32>, tensor<70x128xf32>)
                     outs(%f : tensor<12x128xf32>) -> tensor<12x128xf32>
  return %r : tensor<12x128xf32>
}

func.func @bmm(%a: tensor<?x?x?xf32>, %b: tensor<?x?x?xf32>)
    -> tensor<?x?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.0 : f32
  %bs = tensor.dim %a, %c0 : tensor<?x?x?xf32>
  %m = tensor.dim %a, %c1 : tensor<?x?x?xf32>
  %n = tensor.dim %b, %c2 : tensor<?x?x?xf32>
  %e = tensor.empty(%bs, %m, %n) : tensor<?x?x?xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<?x?x?xf32>, tensor<?x?x?xf32>)
                           outs(%f : tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

func.func @print2(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @run(%m: index) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c11 = arith.constant 11 : index
  %c13 = arith.constant 13 : index
  %c37 = arith.constant 37 : index
  %c50 = arith.constant 50 : index
  %c70 = arith.constant 70 : index
  %ad = call @gen(%m, %c70, %c7, %c3, %c11) : (index, index, index, index, index) -> tensor<?x?xf32>
  %a = tensor.cast %ad : tensor<?x?xf32> to tensor<?x70xf32>
  %b37d = call @gen(%c70, %c37, %c5, %c2, %c13) : (index, index, index, index, index) -> tensor<?x?xf32>
  %b37 = tensor.cast %b37d : tensor<?x?xf32> to tensor<70x37xf32>
  %r37 = call @mm37(%a, %b37) : (tensor<?x70xf32>, tensor<70x37xf32>) -> tensor<?x37xf32>
  %p37 = tensor.cast %r37 : tensor<?x37xf32> to tensor<?x?xf32>
  call @print2(%p37) : (tensor<?x?xf32>) -> ()
  return
}

func.func @run50(%m: index) {
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c11 = arith.constant 11 : index
  %c13 = arith.constant 13 : index
  %c50 = arith.constant 50 : index
  %c70 = arith.constant 70 : index
  %ad = call @gen(%m, %c70, %c7, %c3, %c11) : (index, index, index, index, index) -> tensor<?x?xf32>
  %a = tensor.cast %ad : tensor<?x?xf32> to tensor<?x70xf32>
  %b50d = call @gen(%c70, %c50, %c5, %c2, %c13) : (index, index, index, index, index) -> tensor<?x?xf32>
  %b50 = tensor.cast %b50d : tensor<?x?xf32> to tensor<70x50xf32>
  %r50 = call @mm50(%a, %b50) : (tensor<?x70xf32>, tensor<70x50xf32>) -> tensor<?x50xf32>
  %p50 = tensor.cast %r50 : tensor<?x50xf32> to tensor<?x?xf32>
  call @print2(%p50) : (tensor<?x?xf32>) -> ()
  return
}

func.func @entry() {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c9 = arith.constant 9 : index
  %c11 = arith.constant 11 : index
  %c12 = arith.constant 12 : index
  %c13 = arith.constant 13 : index
  %c17 = arith.constant 17 : index
  %c20 = arith.constant 20 : index
  %c33 = arith.constant 33 : index
  %c70 = arith.constant 70 : index
  %c27 = arith.constant 27 : index
  %c60 = arith.constant 60 : index
  %c128 = arith.constant 128 : index
  %c131 = arith.constant 131 : index
  call @run(%c1) : (index) -> ()
  call @run(%c7) : (index) -> ()
  call @run(%c33) : (index) -> ()
  call @run50(%c1) : (index) -> ()
  call @run50(%c7) : (index) -> ()
  call @run50(%c33) : (index) -> ()

  %da = call @gen(%c13, %c70, %c3, %c7, %c11) : (index, index, index, index, index) -> tensor<?x?xf32>
  %db = call @gen(%c70, %c131, %c9, %c1, %c17) : (index, index, index, index, index) -> tensor<?x?xf32>
  %dr = call @mmdyn(%da, %db) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  call @print2(%dr) : (tensor<?x?xf32>) -> ()

  %sad = call @gen(%c12, %c70, %c5, %c3, %c13) : (index, index, index, index, index) -> tensor<?x?xf32>
  %sa = tensor.cast %sad : tensor<?x?xf32> to tensor<12x70xf32>
  %sbd = call @gen(%c70, %c128, %c7, %c1, %c11) : (index, index, index, index, index) -> tensor<?x?xf32>
  %sb = tensor.cast %sbd : tensor<?x?xf32> to tensor<70x128xf32>
  %sr = call @mmstatic(%sa, %sb) : (tensor<12x70xf32>, tensor<70x128xf32>) -> tensor<12x128xf32>
  %srd = tensor.cast %sr : tensor<12x128xf32> to tensor<?x?xf32>
  call @print2(%srd) : (tensor<?x?xf32>) -> ()

  // batch_matmul [3 x 9 x 20] x [3 x 20 x 70]: rows of the (27 x 20) and
  // (60 x 70) generated matrices.
  %ba2 = call @gen(%c27, %c20, %c7, %c3, %c11) : (index, index, index, index, index) -> tensor<?x?xf32>
  %ba = tensor.expand_shape %ba2 [[0, 1], [2]] output_shape [%c3, %c9, %c20] : tensor<?x?xf32> into tensor<?x?x?xf32>
  %bb2 = call @gen(%c60, %c70, %c5, %c2, %c13) : (index, index, index, index, index) -> tensor<?x?xf32>
  %bb = tensor.expand_shape %bb2 [[0, 1], [2]] output_shape [%c3, %c20, %c70] : tensor<?x?xf32> into tensor<?x?x?xf32>
  %br = call @bmm(%ba, %bb) : (tensor<?x?x?xf32>, tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %bm = bufferization.to_buffer %br : tensor<?x?x?xf32> to memref<?x?x?xf32>
  %bu = memref.cast %bm : memref<?x?x?xf32> to memref<*xf32>
  call @printMemrefF32(%bu) : (memref<*xf32>) -> ()
  return
}
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}
