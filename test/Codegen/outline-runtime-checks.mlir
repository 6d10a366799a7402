// RUN: quant-opt %s -split-input-file -qopt-outline-runtime-checks | FileCheck %s

// Checks move, in order, into @main_runtime_checks (the entry's arguments,
// an i32 status: 0, or the number of the first failed check); a check
// proven at compile time and a repeat of an earlier one are dropped; the
// messages are recorded in the entry's signature. Dims of results are
// resolved to dims of the inputs first, so the checks function computes
// no tensor.
// CHECK: module attributes {qopt.entry_points = [{checks = ["first: rows match", "second: ids inside"], name = "main"}]}
// CHECK-LABEL: func.func @main
// CHECK-NOT: qopt.runtime_check
// CHECK: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func private @main_runtime_checks(%arg0: tensor<?x4xf32>, %arg1: tensor<?x4xf32>, %arg2: tensor<?xi64>) -> i32 attributes {llvm.emit_c_interface}
// CHECK-NOT: linalg.generic {{.*}} ins(%arg0, %arg1
// CHECK: %[[A:.*]] = tensor.dim %arg0
// CHECK: %[[B:.*]] = tensor.dim %arg1
// CHECK: %[[OK:.*]] = arith.cmpi eq, %[[A]], %[[B]]
// CHECK: %[[R:.*]] = scf.if %[[OK]] -> (i32) {
// CHECK: linalg.generic {{.*}} ins(%arg2 : tensor<?xi64>)
// CHECK: %[[R2:.*]] = scf.if %{{.*}} -> (i32) {
// CHECK: %[[Z:.*]] = arith.constant 0 : i32
// CHECK: scf.yield %[[Z]] : i32
// CHECK: } else {
// CHECK: %[[C2:.*]] = arith.constant 2 : i32
// CHECK: scf.yield %[[C2]] : i32
// CHECK: } else {
// CHECK: %[[C1:.*]] = arith.constant 1 : i32
// CHECK: scf.yield %[[C1]] : i32
// CHECK: return %[[R]] : i32
#id = affine_map<(d0, d1) -> (d0, d1)>
#v = affine_map<(d0) -> (d0)>
#s = affine_map<(d0) -> ()>
module attributes {qopt.entry_points = [{name = "main"}]} {
  func.func @main(%x: tensor<?x4xf32>, %z: tensor<?x4xf32>, %ids: tensor<?xi64>) -> tensor<?x4xf32> {
    %c0 = arith.constant 0 : index
    %true = arith.constant true
    %d = tensor.dim %x, %c0 : tensor<?x4xf32>
    %e = tensor.empty(%d) : tensor<?x4xf32>
    %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %z : tensor<?x4xf32>, tensor<?x4xf32>) outs(%e : tensor<?x4xf32>) {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    } -> tensor<?x4xf32>
    // Measured on the result: resolved to %x's dim.
    %rd = tensor.dim %r, %c0 : tensor<?x4xf32>
    %zd = tensor.dim %z, %c0 : tensor<?x4xf32>
    %ok = arith.cmpi eq, %rd, %zd : index
    qopt.runtime_check %ok, "first: rows match"
    qopt.runtime_check %true, "proven"
    %zd2 = tensor.dim %z, %c0 : tensor<?x4xf32>
    %rd2 = tensor.dim %r, %c0 : tensor<?x4xf32>
    %ok2 = arith.cmpi eq, %rd2, %zd2 : index
    qopt.runtime_check %ok2, "repeat"
    %i1 = arith.constant true
    %init = tensor.empty() : tensor<i1>
    %fill = linalg.fill ins(%i1 : i1) outs(%init : tensor<i1>) -> tensor<i1>
    %all = linalg.generic {indexing_maps = [#v, #s], iterator_types = ["reduction"]} ins(%ids : tensor<?xi64>) outs(%fill : tensor<i1>) {
    ^bb0(%id: i64, %acc: i1):
      %c8 = arith.constant 8 : i64
      %in = arith.cmpi slt, %id, %c8 : i64
      %and = arith.andi %acc, %in : i1
      linalg.yield %and : i1
    } -> tensor<i1>
    %okids = tensor.extract %all[] : tensor<i1>
    qopt.runtime_check %okids, "second: ids inside"
    return %r : tensor<?x4xf32>
  }
}

// -----

// A check on values the model computes (a contraction's result) would run
// the model twice: it stays in place as an assertion (an abort with the
// message) and the entry gets no checks function.
// CHECK-LABEL: func.func @computed
// CHECK: cf.assert %{{.*}}, "computed: positive"
// CHECK-NOT: func.func private @computed_runtime_checks
module {
  func.func @computed(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>) -> tensor<4x4xf32> {
    %e = tensor.empty() : tensor<4x4xf32>
    %m = linalg.matmul ins(%a, %b : tensor<4x4xf32>, tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %c0 = arith.constant 0 : index
    %v = tensor.extract %m[%c0, %c0] : tensor<4x4xf32>
    %zero = arith.constant 0.0 : f32
    %ok = arith.cmpf ogt, %v, %zero : f32
    qopt.runtime_check %ok, "computed: positive"
    return %m : tensor<4x4xf32>
  }
}
