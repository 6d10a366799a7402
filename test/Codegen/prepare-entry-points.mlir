// RUN: quant-opt %s -split-input-file -verify-diagnostics -qopt-prepare-entry-points | FileCheck %s

// Public functions become entry points with a C interface; their ONNX names,
// element types and shapes are recorded. Private functions are left alone.
// CHECK: module attributes {qopt.entry_points = [{inputs = [{name = "input_ids", type = tensor<?x?xi64>}, {name = "arg1", type = tensor<2x4xf16>}], name = "main", outputs = [{name = "logits", type = tensor<?x?x8xf32>}]}]}
// CHECK: func.func @main({{.*}}) -> {{.*}} attributes {llvm.emit_c_interface}
// CHECK: func.func private @helper
// CHECK-NOT: llvm.emit_c_interface
func.func @main(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}, %w: tensor<2x4xf16>)
    -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {
  %0 = call @helper(%ids) : (tensor<?x?xi64>) -> tensor<?x?x8xf32>
  return %0 : tensor<?x?x8xf32>
}
func.func private @helper(%ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %d1 = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %e = tensor.empty(%d0, %d1) : tensor<?x?x8xf32>
  return %e : tensor<?x?x8xf32>
}

// -----

// Several entry points are all recorded, in order.
// CHECK: module attributes {qopt.entry_points = [{inputs = [{name = "arg0", type = tensor<4xf32>}], name = "prefill", outputs = [{name = "result0", type = tensor<4xf32>}]}, {inputs = [], name = "decode", outputs = []}]}
func.func @prefill(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
func.func @decode() {
  return
}

// -----

// Entries rewritten by qopt-kv-cache-in-place are recorded as such.
// CHECK: module attributes {qopt.entry_points = [{inputs = [{name = "arg0", type = tensor<?x2x?x4xf32>}, {name = "past_sequence_length", type = tensor<i64>}], kv_cache = "in-place", name = "step", outputs = []}]}
func.func @step(%cache: tensor<?x2x?x4xf32>, %len: tensor<i64> {onnx.name = "past_sequence_length"})
    attributes {qopt.kv_cache_in_place} {
  return
}

// -----

// expected-error @below {{entry point 'scalar' takes or returns a non-tensor value of type 'f32'}}
func.func @scalar(%x: f32) -> f32 {
  return %x : f32
}

// -----

// expected-error @below {{no public function with a body: nothing to compile}}
module {
  func.func private @declared(tensor<4xf32>) -> tensor<4xf32>
}
