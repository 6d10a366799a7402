// RUN: quant-opt %s -split-input-file -qopt-last-position-logits | FileCheck %s

// The LM head of an importer-form model: the copy runs it on the last
// position's hidden state; main is unchanged and the copy keeps the other
// results.
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    -> (tensor<?x?x8xf32> {onnx.name = "logits"}, tensor<?x?x4xf32> {onnx.name = "hidden"})
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4x8xf32>)
// CHECK-LABEL: func.func @main_last_position(
// CHECK-SAME:    %[[IDS:.*]]: tensor<?x?xi64> {onnx.name = "input_ids"}
// CHECK-SAME:    -> (tensor<?x1x8xf32> {onnx.name = "logits"}, tensor<?x?x4xf32> {onnx.name = "hidden"})
// CHECK-SAME:    attributes {qopt.last_position_of = "main"}
// CHECK:         %[[H:.*]] = linalg.generic
// CHECK:         %[[S:.*]] = tensor.dim %[[H]], %c1
// CHECK:         %[[LAST:.*]] = arith.subi %[[S]], %c1
// CHECK:         %[[ROW:.*]] = tensor.extract_slice %[[H]][0, %[[LAST]], 0] [%{{.*}}, 1, 4] [1, 1, 1] : tensor<?x?x4xf32> to tensor<?x1x4xf32>
// CHECK:         %[[DENSE:.*]] = tensor.empty(%{{.*}}) : tensor<?x1x4xf32>
// CHECK:         %[[COPY:.*]] = linalg.copy ins(%[[ROW]] : tensor<?x1x4xf32>) outs(%[[DENSE]] : tensor<?x1x4xf32>)
// CHECK:         %[[ROWS:.*]] = tensor.collapse_shape %[[COPY]] {{\[\[}}0, 1], [2]] : tensor<?x1x4xf32> into tensor<?x4xf32>
// CHECK:         %[[EMPTY:.*]] = tensor.empty(%{{.*}}) : tensor<?x8xf32>
// CHECK:         %[[ACC:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[EMPTY]] : tensor<?x8xf32>)
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[ROWS]], %{{.*}} : tensor<?x4xf32>, tensor<4x8xf32>) outs(%[[ACC]] : tensor<?x8xf32>)
// CHECK:         %[[OUT:.*]] = tensor.expand_shape %[[MM]] {{\[\[}}0, 1], [2]] output_shape [%{{.*}}, 1, 8] : tensor<?x8xf32> into tensor<?x1x8xf32>
// CHECK:         return %[[OUT]], %[[H]]
#map = affine_map<(b, s, d) -> (b, s)>
#id = affine_map<(b, s, d) -> (b, s, d)>
func.func @main(%ids: tensor<?x?xi64> {onnx.name = "input_ids"},
                %w: tensor<4x8xf32>)
    -> (tensor<?x?x8xf32> {onnx.name = "logits"},
        tensor<?x?x4xf32> {onnx.name = "hidden"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %s = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %e = tensor.empty(%b, %s) : tensor<?x?x4xf32>
  %h = linalg.generic {indexing_maps = [#map, #id],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ids : tensor<?x?xi64>) outs(%e : tensor<?x?x4xf32>) {
  ^bb0(%i: i64, %o: f32):
    %f = arith.sitofp %i : i64 to f32
    linalg.yield %f : f32
  } -> tensor<?x?x4xf32>
  %rows = tensor.collapse_shape %h [[0, 1], [2]] : tensor<?x?x4xf32> into tensor<?x4xf32>
  %m = tensor.dim %rows, %c0 : tensor<?x4xf32>
  %acc0 = tensor.empty(%m) : tensor<?x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<?x8xf32>) -> tensor<?x8xf32>
  %mm = linalg.matmul ins(%rows, %w : tensor<?x4xf32>, tensor<4x8xf32>)
                      outs(%acc : tensor<?x8xf32>) -> tensor<?x8xf32>
  %logits = tensor.expand_shape %mm [[0, 1], [2]] output_shape [%b, %s, 8]
      : tensor<?x8xf32> into tensor<?x?x8xf32>
  return %logits, %h : tensor<?x?x8xf32>, tensor<?x?x4xf32>
}

// -----

// A quantized LM head (qopt.qmatmul) with a static batch: the same cut.
// CHECK-LABEL: func.func @main_last_position(
// CHECK-SAME:    -> (tensor<1x1x8xf32> {onnx.name = "logits"})
// CHECK:         %[[ROW:.*]] = tensor.extract_slice %{{.*}}[0, %{{.*}}, 0] [1, 1, 4] [1, 1, 1] : tensor<1x?x4xf32> to tensor<1x1x4xf32>
// CHECK:         %[[COPY:.*]] = linalg.copy ins(%[[ROW]] : tensor<1x1x4xf32>)
// CHECK:         %[[ROWS:.*]] = tensor.collapse_shape %[[COPY]] {{\[\[}}0, 1], [2]] : tensor<1x1x4xf32> into tensor<1x4xf32>
// CHECK:         %[[Q:.*]] = qopt.qmatmul %[[ROWS]], %{{.*}} dynamic_input weight {{.*}} : tensor<1x4xf32>, tensor<4x8xi8> -> tensor<1x8xf32>
// CHECK:         tensor.expand_shape %[[Q]] {{\[\[}}0, 1], [2]] output_shape [1, 1, 8] : tensor<1x8xf32> into tensor<1x1x8xf32>
func.func @main(%h: tensor<1x?x4xf32> {onnx.name = "hidden_in"}, %w: tensor<4x8xi8>)
    -> (tensor<1x?x8xf32> {onnx.name = "logits"}) {
  %c1 = arith.constant 1 : index
  %s = tensor.dim %h, %c1 : tensor<1x?x4xf32>
  %rows = tensor.collapse_shape %h [[0, 1], [2]] : tensor<1x?x4xf32> into tensor<?x4xf32>
  %q = qopt.qmatmul %rows, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}>
      : tensor<?x4xf32>, tensor<4x8xi8> -> tensor<?x8xf32>
  %logits = tensor.expand_shape %q [[0, 1], [2]] output_shape [1, %s, 8]
      : tensor<?x8xf32> into tensor<1x?x8xf32>
  return %logits : tensor<1x?x8xf32>
}

// -----

// Left alone: the first result is not named logits, or is not an LM head
// of the importer's form (here the matmul's result is read twice), or the
// copy exists already.
// CHECK-LABEL: func.func @not_logits(
// CHECK-LABEL: func.func @other_form(
// CHECK-LABEL: func.func @done(
// CHECK-LABEL: func.func @done_last_position(
// CHECK-NOT:   func.func
func.func @not_logits(%h: tensor<1x?x4xf32>, %w: tensor<4x8xf32>)
    -> (tensor<1x?x8xf32> {onnx.name = "scores"}) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %s = tensor.dim %h, %c1 : tensor<1x?x4xf32>
  %rows = tensor.collapse_shape %h [[0, 1], [2]] : tensor<1x?x4xf32> into tensor<?x4xf32>
  %e = tensor.empty(%s) : tensor<?x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x8xf32>) -> tensor<?x8xf32>
  %mm = linalg.matmul ins(%rows, %w : tensor<?x4xf32>, tensor<4x8xf32>)
                      outs(%acc : tensor<?x8xf32>) -> tensor<?x8xf32>
  %out = tensor.expand_shape %mm [[0, 1], [2]] output_shape [1, %s, 8]
      : tensor<?x8xf32> into tensor<1x?x8xf32>
  return %out : tensor<1x?x8xf32>
}
func.func @other_form(%h: tensor<1x?x4xf32>, %w: tensor<4x8xf32>)
    -> (tensor<1x?x8xf32> {onnx.name = "logits"}, tensor<?x8xf32>) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %s = tensor.dim %h, %c1 : tensor<1x?x4xf32>
  %rows = tensor.collapse_shape %h [[0, 1], [2]] : tensor<1x?x4xf32> into tensor<?x4xf32>
  %e = tensor.empty(%s) : tensor<?x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x8xf32>) -> tensor<?x8xf32>
  %mm = linalg.matmul ins(%rows, %w : tensor<?x4xf32>, tensor<4x8xf32>)
                      outs(%acc : tensor<?x8xf32>) -> tensor<?x8xf32>
  %out = tensor.expand_shape %mm [[0, 1], [2]] output_shape [1, %s, 8]
      : tensor<?x8xf32> into tensor<1x?x8xf32>
  return %out, %mm : tensor<1x?x8xf32>, tensor<?x8xf32>
}
func.func @done(%h: tensor<1x?x4xf32>, %w: tensor<4x8xf32>)
    -> (tensor<1x?x8xf32> {onnx.name = "logits"}) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %s = tensor.dim %h, %c1 : tensor<1x?x4xf32>
  %rows = tensor.collapse_shape %h [[0, 1], [2]] : tensor<1x?x4xf32> into tensor<?x4xf32>
  %e = tensor.empty(%s) : tensor<?x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x8xf32>) -> tensor<?x8xf32>
  %mm = linalg.matmul ins(%rows, %w : tensor<?x4xf32>, tensor<4x8xf32>)
                      outs(%acc : tensor<?x8xf32>) -> tensor<?x8xf32>
  %out = tensor.expand_shape %mm [[0, 1], [2]] output_shape [1, %s, 8]
      : tensor<?x8xf32> into tensor<1x?x8xf32>
  return %out : tensor<1x?x8xf32>
}
func.func @done_last_position(%h: tensor<1x?x4xf32>, %w: tensor<4x8xf32>)
    -> (tensor<1x1x8xf32> {onnx.name = "logits"}) attributes {qopt.last_position_of = "done"} {
  %z = arith.constant dense<0.0> : tensor<1x1x8xf32>
  return %z : tensor<1x1x8xf32>
}
