// RUN: quant-opt %s -split-input-file -qopt-sort-group-index -verify-diagnostics

// A group index that is not a group of the weight type.
func.func @index_too_large(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<[0, 1, 2, 1]> : tensor<4xi32>
  // expected-error @below {{qopt-sort-group-index: group_index[2] = 2 is not a group (0 to 1)}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @index_negative(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<[0, 1, 1, -1]> : tensor<4xi32>
  // expected-error @below {{qopt-sort-group-index: group_index[3] = -1 is not a group (0 to 1)}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// Every group must have exactly G members.
func.func @group_too_small(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<[0, 1, 1, 1]> : tensor<4xi32>
  // expected-error @below {{qopt-sort-group-index: group 0 has 1 input channels, the weight type's group has 2}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// A splat index puts every channel in one group.
func.func @splat_index(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<1> : tensor<4xi32>
  // expected-error @below {{qopt-sort-group-index: group 0 has 0 input channels, the weight type's group has 2}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @index_not_constant(%x: tensor<?x4xf32>, %g: tensor<4xi32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  // expected-error @below {{qopt-sort-group-index: group_index and the weight must be constants}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @weight_not_constant(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x2xf32> {
  %g = arith.constant dense<[1, 0, 0, 1]> : tensor<4xi32>
  // expected-error @below {{qopt-sort-group-index: group_index and the weight must be constants}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

// Each bad op of a function is reported; the good one in between is still
// fine.
func.func @two_bad(%x: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %bad = arith.constant dense<[0, 0, 0, 1]> : tensor<4xi32>
  %good = arith.constant dense<[1, 0, 1, 0]> : tensor<4xi32>
  %worse = arith.constant dense<[5, 0, 1, 1]> : tensor<4xi32>
  // expected-error @below {{qopt-sort-group-index: group 0 has 3 input channels, the weight type's group has 2}}
  %0 = qopt.qmatmul %x, %w group_index %bad weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  %1 = qopt.qmatmul %x, %w group_index %good weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  // expected-error @below {{qopt-sort-group-index: group_index[0] = 5 is not a group (0 to 1)}}
  %2 = qopt.qmatmul %x, %w group_index %worse weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0, %1, %2 : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// A ragged last group holds what is left of K (here 1 row), not G.
func.func @ragged_count(%x: tensor<?x5xf32>) -> tensor<?x1xf32> {
  %w = arith.constant dense<[[1], [2], [3], [4], [5]]> : tensor<5x1xi8>
  %g = arith.constant dense<[2, 0, 1, 2, 1]> : tensor<5xi32>
  // expected-error @below {{qopt-sort-group-index: group 0 has 1 input channels, the weight type's group has 2}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1}, {0.3}, {0.5}}> : tensor<?x5xf32>, tensor<5x1xi8>, tensor<5xi32> -> tensor<?x1xf32>
  return %0 : tensor<?x1xf32>
}
