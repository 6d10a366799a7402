// convert-qopt-to-kernels quantizes a W8A8/W4A8 input inside its elementwise
// producer: one loop over the rows slices the producer's inputs at the row,
// runs its body with the row's min/max over 16 lanes (dynamic) or straight
// into bytes (static), and the producer's f32 result is gone. The loop is an
// scf.forall (threads) from 8 rows up, an scf.for below (decode). The
// numbers are checked against the reference by test/Kernels (--producer) and
// test/Runtime/shipped-model-kernels.test.
// RUN: quant-opt %s -split-input-file --convert-qopt-to-kernels=target=x86-64-avx512-vnni | FileCheck %s
// RUN: quant-opt %s -split-input-file --convert-qopt-to-kernels="target=x86-64-avx512-vnni fuse-input-quantization=false" | FileCheck %s --check-prefix=OFF

#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row3 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#col3 = affine_map<(d0, d1, d2) -> (d2)>

// A LayerNorm-like producer over [B, S, 64], its rows collapsed: dynamic.
// CHECK-LABEL: func.func @dynamic_in_layernorm
// CHECK-SAME: (%[[X:.*]]: tensor<?x?x64xf32>, %[[STAT:.*]]: tensor<?x?x1xf32>, %[[G:.*]]: tensor<64xf32>)
// CHECK-NOT: linalg.generic
// CHECK: %[[M:.*]] = arith.muli %{{.*}}, %[[S:.*]] : index
// CHECK: %[[FEW:.*]] = arith.cmpi ult, %[[M]], %c8 : index
// CHECK: %[[ROWS:.*]]:3 = scf.if %[[FEW]] -> (tensor<?x64xi8>, tensor<?xi32>, tensor<?xf32>) {
// CHECK:   %[[SERIAL:.*]]:3 = scf.for %[[SR:.*]] = %{{.*}} to %[[M]] step %{{.*}} iter_args(%[[SXQ:.*]] = %{{.*}}, %[[SZX:.*]] = %{{.*}}, %[[SSX:.*]] = %{{.*}})
// CHECK:     math.rsqrt
// CHECK:     vector.reduction <minimumf>
// CHECK:     %[[B0:.*]] = tensor.insert_slice %{{.*}} into %[[SXQ]][%[[SR]], 0] [1, 64] [1, 1]
// CHECK:     %[[B1:.*]] = tensor.insert_slice %{{.*}} into %[[SZX]][%[[SR]]] [1] [1]
// CHECK:     %[[B2:.*]] = tensor.insert_slice %{{.*}} into %[[SSX]][%[[SR]]] [1] [1]
// CHECK:     scf.yield %[[B0]], %[[B1]], %[[B2]]
// CHECK:   scf.yield %[[SERIAL]]#0, %[[SERIAL]]#1, %[[SERIAL]]#2
// CHECK: } else {
// CHECK:   %[[PAR:.*]]:3 = scf.forall (%[[R:.*]]) in (%[[M]]) shared_outs(%[[XQ:.*]] = %{{.*}}, %[[ZX:.*]] = %{{.*}}, %[[SX:.*]] = %{{.*}}) -> (tensor<?x64xi8>, tensor<?xi32>, tensor<?xf32>)
// CHECK:   %[[J:.*]] = arith.remui %[[R]], %[[S]]
// CHECK:   %[[I:.*]] = arith.divui %[[R]], %[[S]]
// CHECK:   tensor.extract_slice %[[X]][%[[I]], %[[J]], 0] [1, 1, 64] [1, 1, 1] : tensor<?x?x64xf32> to tensor<64xf32>
// CHECK:   tensor.extract %[[STAT]][%[[I]], %[[J]], %{{.*}}] : tensor<?x?x1xf32>
// CHECK:   tensor.extract_slice %[[XQ]][%[[R]], 0] [1, 64] [1, 1] : tensor<?x64xi8> to tensor<64xi8>
// CHECK:   tensor.expand_shape {{.*}} : tensor<64xf32> into tensor<4x16xf32>
// CHECK:   linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]{{.*}} outs({{.*}} : tensor<4x16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK:     math.rsqrt
// CHECK:     arith.minimumf
// CHECK:     arith.maximumf
// CHECK:   vector.reduction <minimumf>
// CHECK:   vector.reduction <maximumf>
// CHECK:   linalg.generic {{.*}} outs(%{{.*}} : tensor<64xi8>)
// CHECK:     math.roundeven
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[XQ]][%[[R]], 0] [1, 64] [1, 1]
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[ZX]][%[[R]]] [1] [1]
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[SX]][%[[R]]] [1] [1]
// CHECK:   scf.yield %[[PAR]]#0, %[[PAR]]#1, %[[PAR]]#2
// CHECK: call @qopt_kernel_w8a8_x86_64_avx512_vnni_k64_n32(%[[ROWS]]#0, %{{.*}}, %{{.*}}, %{{.*}}, %[[ROWS]]#1, %[[ROWS]]#2)
// CHECK-NOT: tensor.collapse_shape
// CHECK: return
// OFF-LABEL: func.func @dynamic_in_layernorm
// OFF: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x64xf32>, tensor<?x?x1xf32>, tensor<64xf32>)
// OFF: tensor.collapse_shape
// OFF-NOT: scf.forall
// OFF-NOT: scf.if
// OFF: call @qopt_kernel_w8a8_x86_64_avx512_vnni_k64_n32(
func.func @dynamic_in_layernorm(%x: tensor<?x?x64xf32>, %stat: tensor<?x?x1xf32>, %gamma: tensor<64xf32>) -> tensor<?x32xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %x, %c0 : tensor<?x?x64xf32>
  %s = tensor.dim %x, %c1 : tensor<?x?x64xf32>
  %e = tensor.empty(%b, %s) : tensor<?x?x64xf32>
  %n = linalg.generic {indexing_maps = [#id3, #row3, #col3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %stat, %gamma : tensor<?x?x64xf32>, tensor<?x?x1xf32>, tensor<64xf32>) outs(%e : tensor<?x?x64xf32>) {
  ^bb0(%in: f32, %st: f32, %g: f32, %out: f32):
    %0 = math.rsqrt %st : f32
    %1 = arith.mulf %in, %0 : f32
    %2 = arith.mulf %1, %g : f32
    linalg.yield %2 : f32
  } -> tensor<?x?x64xf32>
  %c = tensor.collapse_shape %n [[0, 1], [2]] : tensor<?x?x64xf32> into tensor<?x64xf32>
  %w = arith.constant dense<3> : tensor<64x32xi8>
  %y = qopt.qmatmul %c, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// A GELU-like producer of rank 2 (no reshape), a static input and K = 66,
// which VNNI pads to 68: the parameters are constants, so the body goes
// straight into bytes, and the padding of each row is the zero point.
// CHECK-LABEL: func.func @static_in_gelu_padded
// CHECK-NOT: linalg.generic
// CHECK: scf.if
// CHECK: } else {
// CHECK: scf.forall (%[[R:.*]]) in (%{{.*}}) shared_outs(%[[XQ:.*]] = %{{.*}}) -> (tensor<?x68xi8>)
// CHECK:   %[[ROW:.*]] = tensor.extract_slice %[[XQ]][%[[R]], 0] [1, 68] [1, 1] : tensor<?x68xi8> to tensor<68xi8>
// CHECK-NOT: reduction
// CHECK:   %[[PADDED:.*]] = linalg.fill ins(%{{.*}} : i8) outs(%[[ROW]] : tensor<68xi8>)
// CHECK:   %[[K:.*]] = tensor.extract_slice %[[PADDED]][0] [66] [1] : tensor<68xi8> to tensor<66xi8>
// CHECK:   %[[Q:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<66xf32>) outs(%[[K]] : tensor<66xi8>)
// CHECK:     math.tanh
// CHECK:     math.roundeven
// CHECK:   tensor.insert_slice %[[Q]] into %[[PADDED]][0] [66] [1]
// CHECK: linalg.fill
// CHECK: linalg.fill
// CHECK: call @qopt_kernel_w8a8_x86_64_avx512_vnni_k66_n16(
func.func @static_in_gelu_padded(%x: tensor<?x66xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x66xf32>
  %e = tensor.empty(%m) : tensor<?x66xf32>
  %g = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x66xf32>) outs(%e : tensor<?x66xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.tanh %in : f32
    %1 = arith.mulf %in, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<?x66xf32>
  %w = arith.constant dense<3> : tensor<66x16xi8>
  %y = qopt.qmatmul %g, %w input !quant.uniform<u8:f32, 0.05:10> weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x66xf32>, tensor<66x16xi8> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>

// Weights with a zero point need R', x' summed per group of K: computed in
// the loop from the row's bytes (here 2 groups of 32).
// CHECK-LABEL: func.func @row_sums_in_loop
// CHECK: scf.forall (%[[R:.*]]) in (%{{.*}}) shared_outs(%[[XQ:.*]] = %{{.*}}, %[[SUMS:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<?x64xi8>, tensor<?x2xi32>, tensor<?xi32>, tensor<?xf32>)
// CHECK:   %[[BYTES:.*]] = tensor.insert_slice
// CHECK:   %[[ROWSUM:.*]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[BYTES]] : tensor<64xi8>) outs(%{{.*}} : tensor<2xi32>)
// CHECK:     arith.extui
// CHECK:   tensor.parallel_insert_slice %[[ROWSUM]] into %[[SUMS]][%[[R]], 0] [1, 2] [1, 1]
// CHECK: call @qopt_kernel_w4a8_x86_64_avx512_vnni_k64_n16_g32_zp(
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @row_sums_in_loop(%x: tensor<?x64xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%m) : tensor<?x64xf32>
  %g = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x64xf32>) outs(%e : tensor<?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  } -> tensor<?x64xf32>
  %w = arith.constant dense<37> : tensor<64x8xi8>
  %y = qopt.qmatmul %g, %w dynamic_input weight !quant.uniform<u4:f32:{0:32, 1:1}, {{0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3}, {0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3, 0.1:3}}> : tensor<?x64xf32>, tensor<64x8xi8> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// Attention's heads [B, H, S, D] transposed to [B, S, H, D] and merged into
// K = H * D: each row gathers its token's heads (a strided [H, D] slice
// collapsed into a contiguous row; bufferization copies it). Uses of the
// transpose that only read its shape are rewritten to read %a's.
// CHECK-LABEL: func.func @heads_transposed
// CHECK-SAME: (%[[A:.*]]: tensor<?x2x?x32xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: tensor.empty
// CHECK-NEXT: %[[C2:.*]] = arith.constant 2 : index
// CHECK-NEXT: %[[TOKENS:.*]] = tensor.dim %[[A]], %[[C2]]
// CHECK: scf.forall (%[[R:.*]]) in (%{{.*}})
// CHECK:   %[[S:.*]] = arith.remui %[[R]]
// CHECK:   %[[B:.*]] = arith.divui %[[R]]
// CHECK:   %[[HEADS:.*]] = tensor.extract_slice %[[A]][%[[B]], 0, %[[S]], 0] [1, 2, 1, 32] [1, 1, 1, 1] : tensor<?x2x?x32xf32> to tensor<2x32xf32>
// CHECK:   tensor.collapse_shape %[[HEADS]] {{\[}}[0, 1]] : tensor<2x32xf32> into tensor<64xf32>
// CHECK:   vector.reduction <minimumf>
// CHECK: call @qopt_kernel_w8a8_x86_64_avx512_vnni_k64_n32(
// CHECK-NOT: linalg.generic
// CHECK: return %{{.*}}, %[[TOKENS]]
func.func @heads_transposed(%a: tensor<?x2x?x32xf32>) -> (tensor<?x32xf32>, index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %a, %c0 : tensor<?x2x?x32xf32>
  %s = tensor.dim %a, %c2 : tensor<?x2x?x32xf32>
  %e = tensor.empty(%b, %s) : tensor<?x?x2x32xf32>
  %t = linalg.transpose ins(%a : tensor<?x2x?x32xf32>) outs(%e : tensor<?x?x2x32xf32>) permutation = [0, 2, 1, 3]
  %shape = tensor.collapse_shape %t [[0], [1], [2, 3]] : tensor<?x?x2x32xf32> into tensor<?x?x64xf32>
  %tokens = tensor.dim %shape, %c1 : tensor<?x?x64xf32>
  %c = tensor.collapse_shape %t [[0, 1], [2, 3]] : tensor<?x?x2x32xf32> into tensor<?x64xf32>
  %w = arith.constant dense<3> : tensor<64x32xi8>
  %y = qopt.qmatmul %c, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  return %y, %tokens : tensor<?x32xf32>, index
}

// -----

#id2 = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1) -> (d0)>

// Left to the separate passes: a producer whose result has another use, one
// that reads its iteration indices, a reduction, and a transpose whose row
// is not in K's order (it stays a linalg.transpose).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.forall
// CHECK: linalg.transpose
// CHECK-NOT: scf.forall
// CHECK: return
func.func @left_alone(%x: tensor<?x64xf32>, %h: tensor<?x2x32xf32>) -> (tensor<?x32xf32>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%m) : tensor<?x64xf32>
  %w = arith.constant dense<3> : tensor<64x32xi8>
  %shared = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x64xf32>) outs(%e : tensor<?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %in : f32
    linalg.yield %0 : f32
  } -> tensor<?x64xf32>
  %y0 = qopt.qmatmul %shared, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  %indexed = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x64xf32>) outs(%e : tensor<?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %0 = arith.mulf %in, %f : f32
    linalg.yield %0 : f32
  } -> tensor<?x64xf32>
  %y1 = qopt.qmatmul %indexed, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  %zero = arith.constant 0.0 : f32
  %filled = linalg.fill ins(%zero : f32) outs(%e : tensor<?x64xf32>) -> tensor<?x64xf32>
  %summed = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<?x64xf32>) outs(%filled : tensor<?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %out : f32
    linalg.yield %0 : f32
  } -> tensor<?x64xf32>
  %y2 = qopt.qmatmul %summed, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  %te = tensor.empty(%m) : tensor<?x32x2xf32>
  %t = linalg.transpose ins(%h : tensor<?x2x32xf32>) outs(%te : tensor<?x32x2xf32>) permutation = [0, 2, 1]
  %tc = tensor.collapse_shape %t [[0], [1, 2]] : tensor<?x32x2xf32> into tensor<?x64xf32>
  %y3 = qopt.qmatmul %tc, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x64xf32>, tensor<64x32xi8> -> tensor<?x32xf32>
  return %y0, %shared, %y1, %y2, %y3 : tensor<?x32xf32>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}
