// RUN: quant-opt %s -split-input-file -verify-diagnostics -qopt-emit-runtime-interface | FileCheck %s

// The packed entry loads each descriptor pointer from args[i] (the result
// struct first), calls the C interface and returns 0; the metadata is a
// NUL-terminated JSON string with the ABI version, entries and weight
// archive.
// CHECK-NOT: qopt.entry_points
// CHECK-LABEL: llvm.func @qopt_entry_main(%arg0: !llvm.ptr) -> i32
// CHECK: %[[P0:.*]] = llvm.getelementptr %arg0[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[A0:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[P1:.*]] = llvm.getelementptr %arg0[1]
// CHECK: %[[A1:.*]] = llvm.load %[[P1]]
// CHECK: %[[P2:.*]] = llvm.getelementptr %arg0[2]
// CHECK: %[[A2:.*]] = llvm.load %[[P2]]
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: llvm.br ^[[GO:.*]]
// CHECK: ^[[GO]]:
// CHECK: llvm.call @_mlir_ciface_main(%[[A0]], %[[A1]], %[[A2]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK: llvm.return %[[ZERO]] : i32
// CHECK: llvm.mlir.global external constant @qopt_model_meta("{\22abi\22:3,\22entries\22:[{\22checks\22:[],\22inputs\22:[{\22dtype\22:\22i64\22,\22name\22:\22input_ids\22,\22shape\22:[-1,-1]}],\22name\22:\22main\22,\22outputs\22:[{\22dtype\22:\22f32\22,\22name\22:\22logits\22,\22shape\22:[-1,-1,8]}],\22symbol\22:\22qopt_entry_main\22,\22weights_argument\22:true}],\22weights\22:{\22bytes\22:128,\22fingerprint\22:\22abc\22,\22tensors\22:2}}\00")
module attributes {
  qopt.entry_points = [{inputs = [{name = "input_ids", type = tensor<?x?xi64>}], name = "main",
                        outputs = [{name = "logits", type = tensor<?x?x8xf32>}]}],
  qopt.weights = {bytes = 128 : i64, fingerprint = "abc", tensors = 2 : i64}} {
  llvm.func @_mlir_ciface_main(%result: !llvm.ptr, %ids: !llvm.ptr, %weights: !llvm.ptr) {
    llvm.return
  }
}

// -----

// With runtime checks (qopt-outline-runtime-checks), the entry first calls
// them on the input descriptors only (not the result struct, not the
// weights) and returns a non-zero status without running the model; the
// messages and the context are in the metadata.
// CHECK-LABEL: llvm.func @qopt_entry_lm(%arg0: !llvm.ptr) -> i32
// CHECK: %[[R:.*]] = llvm.load
// CHECK: %[[IDS:.*]] = llvm.load
// CHECK: %[[W:.*]] = llvm.load
// CHECK: %[[ZERO:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: %[[STATUS:.*]] = llvm.call @_mlir_ciface_lm_runtime_checks(%[[IDS]]) : (!llvm.ptr) -> i32
// CHECK: %[[OK:.*]] = llvm.icmp "eq" %[[STATUS]], %[[ZERO]] : i32
// CHECK: llvm.cond_br %[[OK]], ^[[GO:.*]], ^[[REFUSE:.*]]
// CHECK: ^[[GO]]:
// CHECK: llvm.call @_mlir_ciface_lm(%[[R]], %[[IDS]], %[[W]])
// CHECK: llvm.return %[[ZERO]] : i32
// CHECK: ^[[REFUSE]]:
// CHECK: llvm.return %[[STATUS]] : i32
// CHECK: \22checks\22:[\22ids inside\22],\22context\22:128,
module attributes {
  qopt.entry_points = [{checks = ["ids inside"], context = 128 : i64, inputs = [{name = "input_ids", type = tensor<?x?xi64>}], name = "lm",
                        outputs = [{name = "logits", type = tensor<?x?x8xf32>}]}],
  qopt.weights = {bytes = 128 : i64, fingerprint = "abc", tensors = 2 : i64}} {
  llvm.func @_mlir_ciface_lm(%result: !llvm.ptr, %ids: !llvm.ptr, %weights: !llvm.ptr) {
    llvm.return
  }
  llvm.func @_mlir_ciface_lm_runtime_checks(%ids: !llvm.ptr) -> i32 {
    %0 = llvm.mlir.constant(0 : i32) : i32
    llvm.return %0 : i32
  }
}

// -----

module attributes {
  qopt.entry_points = [{inputs = [{name = "x", type = tensor<4xf32>}], name = "bad", outputs = []}]} {
  llvm.func @_mlir_ciface_bad(%x: !llvm.ptr) {
    llvm.return
  }
  // expected-error @below {{runtime checks of 'bad' do not take the entry's inputs by pointer}}
  llvm.func @_mlir_ciface_bad_runtime_checks(%x: !llvm.ptr, %y: !llvm.ptr) -> i32 {
    %0 = llvm.mlir.constant(0 : i32) : i32
    llvm.return %0 : i32
  }
}

// -----

// Without weights the metadata says so and the entry gets no archive.
// CHECK-LABEL: llvm.func @qopt_entry_f(%arg0: !llvm.ptr) -> i32
// CHECK: llvm.call @_mlir_ciface_f(%{{.*}}) : (!llvm.ptr) -> ()
// CHECK: \22weights_argument\22:false}]}\00"
module attributes {qopt.entry_points = [{inputs = [{name = "x", type = tensor<4xf32>}], name = "f", outputs = []}]} {
  llvm.func @_mlir_ciface_f(%x: !llvm.ptr) {
    llvm.return
  }
}

// -----

// An entry that updates its KV cache in place says so.
// CHECK-LABEL: llvm.func @qopt_entry_step(%arg0: !llvm.ptr) -> i32
// CHECK: \22kv_cache\22:\22in-place\22,\22name\22:\22step\22
module attributes {qopt.entry_points = [{inputs = [{name = "x", type = tensor<4xf32>}], kv_cache = "in-place", name = "step", outputs = []}]} {
  llvm.func @_mlir_ciface_step(%x: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @below {{no qopt.entry_points attribute: run qopt-prepare-entry-points before lowering}}
module {
}

// -----

// expected-error @below {{entry point 'main' has no C interface '_mlir_ciface_main' (run convert-func-to-llvm first)}}
module attributes {qopt.entry_points = [{inputs = [], name = "main", outputs = []}]} {
}

// -----

module attributes {qopt.entry_points = [{inputs = [], name = "main", outputs = []}]} {
  // expected-error @below {{C interface of 'main' does not pass everything by pointer}}
  llvm.func @_mlir_ciface_main(%x: i64) {
    llvm.return
  }
}

// -----

// The generic allocation functions (finalize-memref-to-llvm's
// use-generic-functions) become malloc and free, except that a failed
// allocation of a non-empty buffer writes a message and aborts instead of
// returning null to code that would write through it.
// CHECK-LABEL: llvm.func @_mlir_memref_to_llvm_alloc(%arg0: i64) -> !llvm.ptr
// CHECK: %[[P:.*]] = llvm.call @malloc(%arg0)
// CHECK: %[[NULL:.*]] = llvm.icmp "eq" %[[P]]
// CHECK: %[[SIZED:.*]] = llvm.icmp "ne" %arg0
// CHECK: %[[FAILED:.*]] = llvm.and %[[NULL]], %[[SIZED]]
// CHECK: llvm.cond_br %[[FAILED]], ^[[FAIL:.*]], ^[[OK:.*]]
// CHECK: ^[[OK]]:
// CHECK: llvm.return %[[P]]
// CHECK: ^[[FAIL]]:
// CHECK: llvm.call @write
// CHECK: llvm.call @abort()
// CHECK: llvm.unreachable
// CHECK-LABEL: llvm.func @_mlir_memref_to_llvm_free(%arg0: !llvm.ptr)
// CHECK: llvm.call @free(%arg0)
// CHECK: llvm.mlir.global private constant @qopt_out_of_memory_message("quant-opt compiled model: out of memory (malloc failed)\0A")
module attributes {qopt.entry_points = [{inputs = [], name = "g", outputs = []}]} {
  llvm.func @_mlir_memref_to_llvm_alloc(i64) -> !llvm.ptr
  llvm.func @_mlir_memref_to_llvm_free(!llvm.ptr)
  llvm.func @_mlir_ciface_g() {
    llvm.return
  }
}
