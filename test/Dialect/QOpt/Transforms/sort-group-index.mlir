// RUN: quant-opt %s -split-input-file -qopt-sort-group-index | FileCheck %s

// qopt-sort-group-index: qmatmul(x, W, g_idx) becomes
// qmatmul(x[:, perm], W[perm, :]) with perm the input channels listed group
// by group (stable). The weight's rows are copied as bytes (one row of
// storage per input channel, whatever the bit width), the permutation is a
// dense_resource i32 constant read by a linalg.generic that gathers
// x[i, perm[j]], and the weight type is unchanged.

// 8 bits, K = 4, groups of 2: g_idx [1, 0, 0, 1] lists group 0 = {1, 2},
// group 1 = {0, 3}, so perm = [1, 2, 0, 3] and the rows
// [1 2] [3 4] [5 6] [7 8] become [3 4] [5 6] [1 2] [7 8].
// CHECK-LABEL: func.func @w8
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<[[QW:qweight[_0-9]*]]> : tensor<4x2xi8>
// CHECK-DAG: %[[P:.*]] = arith.constant dense_resource<[[PERM:input_permutation[_0-9]*]]> : tensor<4xi32>
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[M:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x4xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[M]]) : tensor<?x4xf32>
// CHECK: %[[XP:.*]] = linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel"]} outs(%[[E]] : tensor<?x4xf32>)
// CHECK:   %[[I:.*]] = linalg.index 0 : index
// CHECK:   %[[J:.*]] = linalg.index 1 : index
// CHECK:   %[[PJ:.*]] = tensor.extract %[[P]][%[[J]]] : tensor<4xi32>
// CHECK:   %[[PJI:.*]] = arith.index_cast %[[PJ]] : i32 to index
// CHECK:   %[[V:.*]] = tensor.extract %[[X]][%[[I]], %[[PJI]]] : tensor<?x4xf32>
// CHECK:   linalg.yield %[[V]] : f32
// CHECK: %[[Y:.*]] = qopt.qmatmul %[[XP]], %[[W]] weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{[{][{]}}1.000000e-01, 2.000000e-01}, {3.000000e-01, 4.000000e-01{{[}][}]}}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
// CHECK-NOT: group_index
// CHECK: return %[[Y]]
// CHECK: [[QW]]: "0x080000000304050601020708"
// CHECK: [[PERM]]: "0x0800000001000000020000000000000003000000"
func.func @w8(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<[1, 0, 0, 1]> : tensor<4xi32>
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// 4 bits, K = 6, N = 3 (two bytes per row, the second half empty), three
// groups of 2, static M: g_idx [2, 0, 1, 0, 2, 1] gives perm
// [1, 3, 2, 5, 0, 4]; the packed rows move whole. The input is static: no
// tensor.dim.
// CHECK-LABEL: func.func @w4
// CHECK-SAME: (%[[X:.*]]: tensor<3x6xf32>)
// CHECK-DAG: %[[W:.*]] = arith.constant dense_resource<[[QW:qweight[_0-9]*]]> : tensor<6x2xi8>
// CHECK-DAG: %[[P:.*]] = arith.constant dense_resource<[[PERM:input_permutation[_0-9]*]]> : tensor<6xi32>
// CHECK-NOT: tensor.dim
// CHECK: %[[E:.*]] = tensor.empty() : tensor<3x6xf32>
// CHECK: %[[XP:.*]] = linalg.generic {{.*}} outs(%[[E]] : tensor<3x6xf32>)
// CHECK:   tensor.extract %[[P]][%{{.*}}] : tensor<6xi32>
// CHECK:   tensor.extract %[[X]][%{{.*}}, %{{.*}}] : tensor<3x6xf32>
// CHECK: qopt.qmatmul %[[XP]], %[[W]] weight !quant.uniform<u4:f32:{0:2, 1:1}, {{.*}}> : tensor<3x6xf32>, tensor<6x2xi8> -> tensor<3x3xf32>
// CHECK: [[QW]]: "0x08000000200240043003600610015005"
// CHECK: [[PERM]]: "0x08000000010000000300000002000000050000000000000004000000"
func.func @w4(%x: tensor<3x6xf32>) -> tensor<3x3xf32> {
  %w = arith.constant dense<[[16, 1], [32, 2], [48, 3], [64, 4], [80, 5], [96, 6]]> : tensor<6x2xi8>
  %g = arith.constant dense<[2, 0, 1, 0, 2, 1]> : tensor<6xi32>
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<u4:f32:{0:2, 1:1}, {{0.1:8, 0.2:8, 0.3:8}, {0.4:8, 0.5:8, 0.6:8}, {0.7:8, 0.8:8, 0.9:8}}> : tensor<3x6xf32>, tensor<6x2xi8>, tensor<6xi32> -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// The form qopt-gptq writes: weight and group index as dense_resource
// blobs. g_idx [1, 1, 0, 0] gives perm [2, 3, 0, 1]. Dynamic quantized
// activations are kept.
// CHECK-LABEL: func.func @resources
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} dynamic_input weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
// CHECK: qweight{{[_0-9]*}}: "0x080000000E0F10110A0B0C0D"
// CHECK: input_permutation{{[_0-9]*}}: "0x0800000002000000030000000000000001000000"
func.func @resources(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense_resource<w_in> : tensor<4x2xi8>
  %g = arith.constant dense_resource<g_in> : tensor<4xi32>
  %0 = qopt.qmatmul %x, %w group_index %g dynamic_input weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w_in: "0x080000000A0B0C0D0E0F1011",
      g_in: "0x0400000001000000010000000000000000000000"
    }
  }
#-}

// -----

// One group (G = K) and a splat index: the identity permutation.
// CHECK-LABEL: func.func @one_group
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i8<-127:127>:f32:{0:4, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
// CHECK: qweight{{[_0-9]*}}: "0x080000000102030405060708"
// CHECK: input_permutation{{[_0-9]*}}: "0x0800000000000000010000000200000003000000"
func.func @one_group(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<0> : tensor<4xi32>
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:4, 1:1}, {{0.1, 0.2}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// qmatmuls without group_index are left alone: no gather, no new constant.
// CHECK-LABEL: func.func @no_group_index
// CHECK-NOT: linalg.generic
// CHECK-NOT: dense_resource
// CHECK: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}
// CHECK-NOT: dialect_resources
func.func @no_group_index(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// A ragged last group: K = 5 in groups of 2 is groups of 2, 2 and 1 rows.
// g_idx [2, 0, 1, 0, 1] lists group 0 = {1, 3}, group 1 = {2, 4}, group 2 =
// {0}: perm = [1, 3, 2, 4, 0], rows [1] [2] [3] [4] [5] become
// [2] [4] [3] [5] [1].
// CHECK-LABEL: func.func @ragged
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{.*}}> : tensor<?x5xf32>, tensor<5x1xi8> -> tensor<?x1xf32>
// CHECK: "0x080000000204030501"
// CHECK: "0x080000000100000003000000020000000400000000000000"
func.func @ragged(%x: tensor<?x5xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[1], [2], [3], [4], [5]]> : tensor<5x1xi8>
  %g = arith.constant dense<[2, 0, 1, 0, 1]> : tensor<5xi32>
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1}, {0.3}, {0.5}}> : tensor<?x5xf32>, tensor<5x1xi8>, tensor<5xi32> -> tensor<?x1xf32>
  return %0 : tensor<?x1xf32>
}
