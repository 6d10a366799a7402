// RUN: quant-opt %s -split-input-file -verify-diagnostics -qopt-insert-runtime-checks | FileCheck %s

// Two `?` dims that meet in one loop dim must be equal; the buffer sized by
// one of them must not be absurd. Messages name the ONNX inputs.
// CHECK-LABEL: func.func @add
// CHECK: %[[D0:.*]] = tensor.dim %arg0
// CHECK: qopt.runtime_check %{{.*}}, "tensor.empty: a buffer of tensor<?x4xf32> sized at run time must hold at most 1099511627776 bytes"
// CHECK: %[[A:.*]] = tensor.dim %arg0, %{{.*}}
// CHECK: %[[B:.*]] = tensor.dim %arg1, %{{.*}}
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[A]], %[[B]] : index
// CHECK: qopt.runtime_check %[[OK]], "linalg.generic: dim 0 of operand 1 (input 'Z' tensor<?x4xf32>) must equal dim 0 of operand 0 (input 'X' tensor<?x4xf32>)"
// CHECK-NEXT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @add(%x: tensor<?x4xf32> {onnx.name = "X"}, %z: tensor<?x4xf32> {onnx.name = "Z"}) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%d) : tensor<?x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %z : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// Provably equal dims need no check (one input used twice, the init sized
// from it); nor do private functions (only entry points are checked), and
// a custom max-bytes bound is used.
// CHECK-LABEL: func.func @same
// CHECK-NOT: must equal
// CHECK: linalg.generic
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: qopt.runtime_check
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @same(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%d) : tensor<?x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %x : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}
func.func private @helper(%x: tensor<?x4xf32>, %z: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = linalg.add ins(%x, %z : tensor<?x4xf32>, tensor<?x4xf32>) outs(%x : tensor<?x4xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// A `?` dim against a static one: the static size is the reference
// (a contraction's K dim here).
// CHECK-LABEL: func.func @matmul
// CHECK: %[[K:.*]] = tensor.dim %arg0, %{{.*}} : tensor<2x?xf32>
// CHECK: arith.cmpi eq, %{{.*}}, %[[K]] : index
// CHECK: qopt.runtime_check %{{.*}}, "linalg.matmul: dim 1 of operand 0 (tensor<2x?xf32>) must equal dim 0 of operand 1 (tensor<8x3xf32>)"
func.func @matmul(%a: tensor<2x?xf32>, %b: tensor<8x3xf32>) -> tensor<2x3xf32> {
  %e = tensor.empty() : tensor<2x3xf32>
  %r = linalg.matmul ins(%a, %b : tensor<2x?xf32>, tensor<8x3xf32>) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// A slice at a run-time offset (a KV cache written at its past length) must
// lie inside the tensor: offset and size >= 0, last index < dim.
// CHECK-LABEL: func.func @slice
// CHECK: qopt.runtime_check %{{.*}}, "tensor.insert_slice: dim 0 of the inserted tensor must equal the slice's size"
// CHECK-DAG: arith.cmpi slt
// CHECK-DAG: arith.cmpi sge, %arg2
// CHECK: qopt.runtime_check %{{.*}}, "tensor.insert_slice: the slice of dim 0 of input 'cache' tensor<?x4xf32> must lie inside it"
// CHECK-NOT: dim 1 of
// CHECK: tensor.insert_slice
func.func @slice(%cache: tensor<?x4xf32> {onnx.name = "cache"}, %new: tensor<?x4xf32>, %at: index, %n: index) -> tensor<?x4xf32> {
  %r = tensor.insert_slice %new into %cache[%at, 0] [%n, 4] [1, 1] : tensor<?x4xf32> into tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// A cast that makes a `?` dim static, an expand that splits one, a concat
// of tensors with `?` dims, a scalar read at a run-time index.
// CHECK-LABEL: func.func @reshapes
// CHECK: qopt.runtime_check %{{.*}}, "tensor.cast: dim 0 must be 6"
// CHECK: qopt.runtime_check %{{.*}}, "tensor.expand_shape: dim 0 must split into the result's sizes"
// CHECK: qopt.runtime_check %{{.*}}, "tensor.concat: dim 1 of input 1 must equal that of input 0"
// CHECK: qopt.runtime_check %{{.*}}, "tensor.extract: index 0 must lie inside tensor<6xf32>"
func.func @reshapes(%x: tensor<?xf32>, %n: index, %y: tensor<2x?xf32>, %z: tensor<3x?xf32>, %i: index) -> (tensor<6xf32>, tensor<?x3xf32>, tensor<5x?xf32>, f32) {
  %c = tensor.cast %x : tensor<?xf32> to tensor<6xf32>
  %e = tensor.expand_shape %x [[0, 1]] output_shape [%n, 3] : tensor<?xf32> into tensor<?x3xf32>
  %k = tensor.concat dim(0) %y, %z : (tensor<2x?xf32>, tensor<3x?xf32>) -> tensor<5x?xf32>
  %v = tensor.extract %c[%i] : tensor<6xf32>
  return %c, %e, %k, %v : tensor<6xf32>, tensor<?x3xf32>, tensor<5x?xf32>, f32
}

// -----

// A reshape to a shape computed at run time keeps the element count (and
// the result's static dims).
// CHECK-LABEL: func.func @reshape
// CHECK: tensor.extract %arg1[%{{.*}}] : tensor<2xi64>
// CHECK: qopt.runtime_check %{{.*}}, "tensor.reshape: the shape computed at run time must hold the input's elements (tensor<?xf32> to tensor<?x4xf32>)"
// CHECK-NEXT: tensor.reshape
func.func @reshape(%x: tensor<?xf32>, %shape: tensor<2xi64>) -> tensor<?x4xf32> {
  %r = tensor.reshape %x(%shape) : (tensor<?xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// A gather from a tensor of run-time size (the importer's Gather: the body
// reads the table at an index computed from the id, clamped): every id in
// [-n, n) for its n rows, by one reduction over the ids.
// CHECK-LABEL: func.func @gather
// CHECK: tensor.empty(%{{.*}}) : tensor<?x4xf32>
// CHECK: %[[ROWS:.*]] = tensor.dim %arg0, %{{.*}} : tensor<?x4xf32>
// CHECK: arith.index_cast %[[ROWS]] : index to i64
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%arg1 : tensor<?xi64>)
// CHECK: qopt.runtime_check %{{.*}}, "linalg.generic: an id lies outside [-n, n) for input 'table' tensor<?x4xf32> of n rows (or it is empty)"
#in = affine_map<(d0, d1) -> (d0)>
#out = affine_map<(d0, d1) -> (d0, d1)>
func.func @gather(%table: tensor<?x4xf32> {onnx.name = "table"}, %ids: tensor<?xi64>) -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %ids, %c0 : tensor<?xi64>
  %rows = tensor.dim %table, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<?xi64>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%id: i64, %o: f32):
    %i = arith.index_cast %id : i64 to index
    %one = arith.constant 1 : index
    %last = arith.subi %rows, %one : index
    %zero = arith.constant 0 : index
    %lo = arith.minsi %i, %last : index
    %row = arith.maxsi %lo, %zero : index
    %col = linalg.index 1 : index
    %v = tensor.extract %table[%row, %col] : tensor<?x4xf32>
    linalg.yield %v : f32
  } -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// Constant ids are checked at compile time: inside the table, no check;
// outside, a check that always fails (the checks function never copies the
// constant).
// CHECK-LABEL: func.func @constant_ids
// CHECK-NOT: reduction
// CHECK: %[[NO:.*]] = arith.constant false
// CHECK: qopt.runtime_check %[[NO]], "linalg.generic: an id lies outside [-3, 3) (the table's rows)"
// CHECK-NOT: qopt.runtime_check
#in = affine_map<(d0, d1) -> (d0)>
#out = affine_map<(d0, d1) -> (d0, d1)>
func.func @constant_ids(%t: tensor<3x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %good = arith.constant dense<[0, -3]> : tensor<2xi64>
  %bad = arith.constant dense<[0, 3]> : tensor<2xi64>
  %e = tensor.empty() : tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel"]} ins(%good : tensor<2xi64>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%id: i64, %o: f32):
    %i = arith.index_cast %id : i64 to index
    %col = linalg.index 1 : index
    %v = tensor.extract %t[%i, %col] : tensor<3x4xf32>
    linalg.yield %v : f32
  } -> tensor<2x4xf32>
  %s = linalg.generic {indexing_maps = [#in, #out], iterator_types = ["parallel", "parallel"]} ins(%bad : tensor<2xi64>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%id: i64, %o: f32):
    %i = arith.index_cast %id : i64 to index
    %col = linalg.index 1 : index
    %v = tensor.extract %t[%i, %col] : tensor<3x4xf32>
    linalg.yield %v : f32
  } -> tensor<2x4xf32>
  return %r, %s : tensor<2x4xf32>, tensor<2x4xf32>
}
