// RUN: quant-opt %s -split-input-file -qopt-kv-cache-in-place | FileCheck %s
// RUN: quant-opt %s -split-input-file -qopt-kv-cache-in-place -canonicalize -cse \
// RUN:   -eliminate-empty-tensors \
// RUN:   '-one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map' \
// RUN:   -qopt-verify-kv-cache-in-place -cse -canonicalize | FileCheck %s --check-prefix=BUF

// A KV-cache layer: present = concat(past, new) along the sequence axis,
// read by attention and returned. The caches become buffers read up to
// past_sequence_length and written after it; only the logits are returned.
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[IDS:.*]]: tensor<?x?xi64> {onnx.name = "input_ids"},
// CHECK-SAME:    %[[K:.*]]: tensor<?x2x?x4xf32> {bufferization.writable = true, onnx.name = "past_key_values.0.key", qopt.kv_cache},
// CHECK-SAME:    %[[V:.*]]: tensor<?x2x?x4xf32> {bufferization.writable = true, onnx.name = "past_key_values.0.value", qopt.kv_cache},
// CHECK-SAME:    %[[LEN:.*]]: tensor<i64> {onnx.name = "past_sequence_length"})
// CHECK-SAME:    -> (tensor<?x?x2xf32> {onnx.name = "logits"})
// CHECK-SAME:    attributes {qopt.kv_cache_in_place}
// CHECK:         %[[L64:.*]] = tensor.extract %[[LEN]][] : tensor<i64>
// CHECK:         %[[P:.*]] = arith.index_cast %[[L64]] : i64 to index
// The past's shape queries see its first P positions.
// CHECK:         %[[PASTK:.*]] = tensor.extract_slice %[[K]][0, 0, 0, 0] [%{{.*}}, 2, %[[P]], 4] [1, 1, 1, 1]
// CHECK:         tensor.dim %[[PASTK]], %c2
// CHECK:         %[[UPDK:.*]] = tensor.insert_slice %[[NEWK:.*]] into %[[K]][0, 0, %[[P]], 0] [%{{.*}}, 2, %[[S:.*]], 4] [1, 1, 1, 1]
// CHECK:         %[[TOTAL:.*]] = arith.addi %[[P]], %[[S]] : index
// CHECK:         %[[PRESK:.*]] = tensor.extract_slice %[[UPDK]][0, 0, 0, 0] [%{{.*}}, 2, %[[TOTAL]], 4] [1, 1, 1, 1]
// CHECK:         tensor.insert_slice %{{.*}} into %[[V]][0, 0, %[[P]], 0]
// CHECK:         linalg.generic {{.*}} ins(%[[PRESK]], %{{.*}} :
// CHECK-NOT:     tensor.concat
// CHECK:         return %{{.*}} : tensor<?x?x2xf32>

// After bufferization the new keys and values are written straight into the
// caller's buffers (the tensor.empty they filled is eliminated) and nothing
// copies the cache (bufferization's copies of each slice onto itself fold).
// BUF-LABEL: func.func @main(
// BUF-SAME:    %[[K:[a-z0-9]*]]: memref<?x2x?x4xf32> {onnx.name = "past_key_values.0.key"}
// BUF-SAME:    %[[V:[a-z0-9]*]]: memref<?x2x?x4xf32> {onnx.name = "past_key_values.0.value"}
// BUF-NOT:     memref.copy
// BUF:         %[[DSTK:.*]] = memref.subview %[[K]][0, 0, %{{.*}}, 0]
// BUF:         %[[DSTV:.*]] = memref.subview %[[V]][0, 0, %{{.*}}, 0]
// BUF:         linalg.generic {{.*}} outs(%[[DSTK]] :
// BUF:         linalg.generic {{.*}} outs(%[[DSTV]] :
// BUF-NOT:     memref.copy
// BUF:         return
#id4 = affine_map<(b, h, s, d) -> (b, h, s, d)>
#q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k = affine_map<(b, h, i, j, d) -> (b, h, j, d)>
#s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#l = affine_map<(b, h, i, j) -> (b, i, h)>
func.func @main(%ids: tensor<?x?xi64> {onnx.name = "input_ids"},
                %pk: tensor<?x2x?x4xf32> {onnx.name = "past_key_values.0.key"},
                %pv: tensor<?x2x?x4xf32> {onnx.name = "past_key_values.0.value"})
    -> (tensor<?x?x2xf32> {onnx.name = "logits"},
        tensor<?x2x?x4xf32> {onnx.name = "present.0.key"},
        tensor<?x2x?x4xf32> {onnx.name = "present.0.value"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %cst = arith.constant 1.0 : f32
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %n = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %past = tensor.dim %pk, %c2 : tensor<?x2x?x4xf32>
  // The new keys and values: computations into fresh tensors (values that
  // depend on the past length, so that they are not folded away).
  %pf = arith.index_cast %past : index to i64
  %pff = arith.sitofp %pf : i64 to f32
  %ek = tensor.empty(%b, %n) : tensor<?x2x?x4xf32>
  %nk = linalg.generic {indexing_maps = [#id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      outs(%ek : tensor<?x2x?x4xf32>) {
  ^bb0(%o: f32):
    linalg.yield %pff : f32
  } -> tensor<?x2x?x4xf32>
  %ev = tensor.empty(%b, %n) : tensor<?x2x?x4xf32>
  %nv = linalg.generic {indexing_maps = [#id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      outs(%ev : tensor<?x2x?x4xf32>) {
  ^bb0(%o: f32):
    %twice = arith.addf %pff, %pff : f32
    linalg.yield %twice : f32
  } -> tensor<?x2x?x4xf32>
  %k = tensor.concat dim(2) %pk, %nk : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %v = tensor.concat dim(2) %pv, %nv : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %total = tensor.dim %k, %c2 : tensor<?x2x?x4xf32>
  %se = tensor.empty(%b, %total, %total) : tensor<?x2x?x?xf32>
  %scores = linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%k, %v : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) outs(%se : tensor<?x2x?x?xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %a = arith.addf %acc, %m : f32
    linalg.yield %a : f32
  } -> tensor<?x2x?x?xf32>
  %le = tensor.empty(%b, %total) : tensor<?x?x2xf32>
  %zero = linalg.fill ins(%cst : f32) outs(%le : tensor<?x?x2xf32>) -> tensor<?x?x2xf32>
  %logits = linalg.generic {indexing_maps = [#id4, #l], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%scores : tensor<?x2x?x?xf32>) outs(%zero : tensor<?x?x2xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %acc, %x : f32
    linalg.yield %a : f32
  } -> tensor<?x?x2xf32>
  return %logits, %k, %v : tensor<?x?x2xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}

// -----

// A past that is read (not only measured) would be overwritten before its
// reader: the function keeps the ONNX form.
// CHECK-LABEL: func.func @past_read(
// CHECK-SAME:    -> (tensor<?x?x2xf32>, tensor<?x2x?x4xf32>)
// CHECK-NOT:     qopt.kv_cache
// CHECK:         tensor.concat
func.func @past_read(%ids: tensor<?x?xi64>, %pk: tensor<?x2x?x4xf32>)
    -> (tensor<?x?x2xf32>, tensor<?x2x?x4xf32>) {
  %nk = tensor.extract_slice %pk[0, 0, 0, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> to tensor<1x2x1x4xf32>
  %nkd = tensor.cast %nk : tensor<1x2x1x4xf32> to tensor<?x2x?x4xf32>
  %k = tensor.concat dim(2) %pk, %nkd : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %neg = tensor.empty() : tensor<1x1x2xf32>
  %negd = tensor.cast %neg : tensor<1x1x2xf32> to tensor<?x?x2xf32>
  return %negd, %k : tensor<?x?x2xf32>, tensor<?x2x?x4xf32>
}

// -----

// Concatenation along another axis is not a KV cache.
// CHECK-LABEL: func.func @other_axis(
// CHECK-NOT:     past_sequence_length
// CHECK:         tensor.concat dim(1)
func.func @other_axis(%ids: tensor<?x?xi64>, %pk: tensor<?x?x?x4xf32>)
    -> (tensor<?x?x2xf32>, tensor<?x?x?x4xf32>) {
  %k = tensor.concat dim(1) %pk, %pk : (tensor<?x?x?x4xf32>, tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32>
  %c0 = arith.constant 0 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %neg = tensor.empty(%b, %b) : tensor<?x?x2xf32>
  return %neg, %k : tensor<?x?x2xf32>, tensor<?x?x?x4xf32>
}

// -----

// Every input after the first must be a cache paired with its present: a
// second ordinary input leaves the function as it is.
// CHECK-LABEL: func.func @extra_input(
// CHECK-NOT:     past_sequence_length
// CHECK:         tensor.concat dim(2)
func.func @extra_input(%ids: tensor<?x?xi64>, %pk: tensor<?x2x?x4xf32>, %nk: tensor<?x2x?x4xf32>)
    -> (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {
  %k = tensor.concat dim(2) %pk, %nk : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %nk, %k : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}
