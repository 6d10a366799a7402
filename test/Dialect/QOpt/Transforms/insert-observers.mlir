// RUN: quant-opt %s -split-input-file -qopt-insert-observers | FileCheck %s
// RUN: quant-opt %s -split-input-file -qopt-insert-observers -qopt-insert-observers | FileCheck %s
// RUN: quant-opt %s -split-input-file -qopt-insert-observers=attention=true | FileCheck %s --check-prefix=ATTN
// RUN: quant-opt %s -split-input-file -qopt-insert-observers=embedding=true | FileCheck %s --check-prefix=EMB
// A pattern must select a layer of each module: the splits without an
// lm_* layer are refused (checked in roles.test); @names is checked.
// RUN: not quant-opt %s -split-input-file '-qopt-insert-observers=skip=^lm_' 2>/dev/null | FileCheck %s --check-prefix=SKIP
// RUN: not quant-opt %s -split-input-file '-qopt-insert-observers=skip=(' 2>&1 | FileCheck %s --check-prefix=BADRE

// A linear layer (matmul by a constant) gets an activation point on its
// input and a weight point on its weight, named after the ONNX node; the
// second run adds nothing (same output).
// CHECK-LABEL: func.func @linear
// CHECK: %[[W:.*]] = arith.constant
// CHECK: %[[X:.*]] = qopt.observe %arg0 activation "fc1:input" : tensor<?x4xf32>
// CHECK-NEXT: %[[WO:.*]] = qopt.observe %[[W]] weight "fc1:weight" : tensor<4x2xf32>
// CHECK-NEXT: linalg.matmul ins(%[[X]], %[[WO]] : tensor<?x4xf32>, tensor<4x2xf32>)
// CHECK-NOT: qopt.observe
// BADRE: invalid skip regular expression '('
func.func @linear(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32> loc("fc1")
  return %y : tensor<?x2xf32>
}

// -----

// Two layers with the same name get distinct points; a skipped layer
// (by regular expression on its name) stays float.
// CHECK-LABEL: func.func @names
// CHECK: qopt.observe %arg0 activation "lm_head:input"
// CHECK: qopt.observe %arg0 activation "lm_head#1:input"
// SKIP-LABEL: func.func @names
// SKIP-NOT: qopt.observe
func.func @names(%x: tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %w = arith.constant dense<1.0> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %a = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32> loc("lm_head")
  %b = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32> loc("lm_head")
  return %a, %b : tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// Activation x activation products are left alone unless attention=true;
// a matmul of two activations is not a linear layer.
// CHECK-LABEL: func.func @attention
// CHECK-NOT: qopt.observe
// ATTN-LABEL: func.func @attention
// ATTN: %[[Q:.*]] = qopt.observe %arg0 activation "scores:lhs" : tensor<2x3x4xf32>
// ATTN: %[[K:.*]] = qopt.observe %arg1 activation "scores:rhs" : tensor<2x4x3xf32>
// ATTN: linalg.batch_matmul ins(%[[Q]], %[[K]]
// ATTN-NOT: qopt.observe
func.func @attention(%q: tensor<2x3x4xf32>, %k: tensor<2x4x3xf32>, %a: tensor<3x4xf32>, %b: tensor<4x3xf32>) -> (tensor<2x3x3xf32>, tensor<3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %s = linalg.batch_matmul ins(%q, %k : tensor<2x3x4xf32>, tensor<2x4x3xf32>) outs(%acc : tensor<2x3x3xf32>) -> tensor<2x3x3xf32> loc("scores")
  %e2 = tensor.empty() : tensor<3x3xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<3x3xf32>) -> tensor<3x3xf32>
  %t = linalg.matmul ins(%a, %b : tensor<3x4xf32>, tensor<4x3xf32>) outs(%acc2 : tensor<3x3xf32>) -> tensor<3x3xf32>
  return %s, %t : tensor<2x3x3xf32>, tensor<3x3xf32>
}

// -----

// With embedding=true, the table a gather reads gets a weight point (the
// tensor.extract in the body reads the observed table).
// CHECK-LABEL: func.func @gather
// CHECK-NOT: qopt.observe
// EMB-LABEL: func.func @gather
// EMB: %[[T:.*]] = arith.constant
// EMB: %[[O:.*]] = qopt.observe %[[T]] weight "wte:table" {qopt.role = "embedding"} : tensor<3x4xf32>
// EMB: linalg.generic
// EMB: tensor.extract %[[O]]
func.func @gather(%ids: tensor<2xindex>) -> tensor<2x4xf32> {
  %table = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.25, 0.0], [0.0, 0.0, 0.0, 0.0]]> : tensor<3x4xf32>
  %e = tensor.empty() : tensor<2x4xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%ids : tensor<2xindex>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%id: index, %out: f32):
    %j = linalg.index 1 : index
    %v = tensor.extract %table[%id, %j] : tensor<3x4xf32>
    linalg.yield %v : f32
  } -> tensor<2x4xf32> loc("wte")
  return %g : tensor<2x4xf32>
}
