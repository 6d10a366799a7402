// convert-qopt-to-linalg, the scalar reference: weight-only qmatmuls
// dequantize the weight and multiply in f32; quantized activations multiply
// in int32, over all of K (one scale) or per group of K with the groups'
// scaled sums added in order.
// RUN: quant-opt %s -split-input-file --convert-qopt-to-linalg | FileCheck %s

// CHECK-LABEL: func.func @weight_only
// CHECK: %[[W:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x2xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %[[W]] : tensor<?x4xf32>, tensor<4x2xf32>)
// CHECK-NOT: qopt.qmatmul
func.func @weight_only(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// One group: x - zx and w - zw as i32, one int32 matmul, then
// float(acc) * (sx * sw) per element.
// CHECK-LABEL: func.func @w8a8_channel
// CHECK: %[[XQ:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x4xi32>)
// CHECK: %[[WQ:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x2xi32>)
// CHECK: %[[ACC:.*]] = linalg.matmul ins(%[[XQ]], %[[WQ]] : tensor<?x4xi32>, tensor<4x2xi32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[ACC]],
// CHECK:   arith.sitofp
// CHECK:   arith.mulf
func.func @w8a8_channel(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %0 = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// Groups of 4 (W4A8): int32 sums per group I[m, g, n], row k of K adding
// into group k floordiv 4, then out[m, n] = sum_g float(I) * (sx * sw[g, n]),
// g the innermost reduction.
// CHECK-DAG: #[[X3:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W3:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[I3:.*]] = affine_map<(d0, d1, d2) -> (d0, d2 floordiv 4, d1)>
// CHECK-DAG: #[[IG:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-LABEL: func.func @w4a8_groups
// CHECK: %[[I:.*]] = linalg.generic {indexing_maps = [#[[X3]], #[[W3]], #[[I3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x8xi32>, tensor<8x2xi32>) outs(%{{.*}} : tensor<?x2x2xi32>)
// CHECK:   arith.muli
// CHECK:   arith.addi
// CHECK: linalg.generic {indexing_maps = [#[[IG]], #[[W3]], {{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[I]], %{{.*}}, %{{.*}} : tensor<?x2x2xi32>, tensor<2x2xf32>, tensor<?xf32>)
// CHECK:   %[[S:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:   %[[F:.*]] = arith.sitofp %{{.*}} : i32 to f32
// CHECK:   %[[T:.*]] = arith.mulf %[[F]], %[[S]] : f32
// CHECK:   arith.addf %{{.*}}, %[[T]] : f32
func.func @w4a8_groups(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w4 = arith.constant dense<[[33], [-111], [0], [127], [5], [6], [7], [8]]> : tensor<8x1xi8>
  %0 = qopt.qmatmul %x, %w4 dynamic_input weight !quant.uniform<u4:f32:{0:4, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// A ragged last group: K = 6 in groups of 4 is a group of 4 and one of 2;
// rows 4 and 5 add into group 1 (scales: the second row of the parameters).
// CHECK-DAG: #[[RI:.*]] = affine_map<(d0, d1, d2) -> (d0, d2 floordiv 4, d1)>
// CHECK-LABEL: func.func @w4a8_ragged_group
// CHECK: linalg.generic {indexing_maps = [{{.*}}, {{.*}}, #[[RI]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<?x6xi32>, tensor<6x2xi32>) outs(%{{.*}} : tensor<?x2x2xi32>)
// CHECK: arith.constant dense<{{\[\[}}1.000000e-01, 2.000000e-01], [3.000000e-01, 4.000000e-01]]> : tensor<2x2xf32>
func.func @w4a8_ragged_group(%x: tensor<?x6xf32>) -> tensor<?x2xf32> {
  %w4 = arith.constant dense<[[33], [-111], [0], [127], [5], [6]]> : tensor<6x1xi8>
  %0 = qopt.qmatmul %x, %w4 dynamic_input weight !quant.uniform<u4:f32:{0:4, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x6xf32>, tensor<6x1xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// Dynamic activations with K a multiple of 16 (at least 32): each row's
// min/max is reduced over [K / 16, 16] into 16 lanes first (the inner loop
// has no dependence, so LLVM vectorizes it; min and max are exact in any
// order), then over the lanes. Other K reduce the row directly (above).
// CHECK-DAG: #[[B3:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[L3:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @w8a8_dynamic_lanes
// CHECK: %[[B:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [%{{.*}}, 4, 16] : tensor<?x64xf32> into tensor<?x4x16xf32>
// CHECK: %[[LANES:.*]]:2 = linalg.generic {indexing_maps = [#[[B3]], #[[B3]], #[[L3]], #[[L3]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[B]], %[[B]] : {{.*}}) outs({{.*}} : tensor<?x16xf32>, tensor<?x16xf32>)
// CHECK:   arith.minimumf
// CHECK:   arith.maximumf
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ROW]], #[[ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[LANES]]#0, %[[LANES]]#1 : {{.*}}) outs({{.*}} : tensor<?xf32>, tensor<?xf32>)
func.func @w8a8_dynamic_lanes(%x: tensor<?x64xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<1> : tensor<64x2xi8>
  %0 = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x64xf32>, tensor<64x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}
