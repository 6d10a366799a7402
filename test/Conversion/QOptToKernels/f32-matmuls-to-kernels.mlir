// convert-f32-matmuls-to-kernels: f32 contractions with a constant B and a
// zero-filled C call the panel kernel, B packed into [ceil(N/16), K, 16];
// one kernel per shape; anything else is left alone.
// RUN: quant-opt %s -split-input-file --convert-f32-matmuls-to-kernels | FileCheck %s

// CHECK-LABEL: func.func @matmul
// CHECK: %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<2x4x16xf32>
// CHECK: %[[Y:.*]] = call @qopt_kernel_f32_k4_n20(%{{.*}}, %[[W]]) : (tensor<?x4xf32>, tensor<2x4x16xf32>) -> tensor<?x20xf32>
// CHECK: return %[[Y]]
// CHECK-NOT: dense<1.500000e+00> : tensor<4x20xf32>
// CHECK: func.func private @qopt_kernel_f32_k4_n20(%{{.*}}: tensor<?x4xf32>, %{{.*}}: tensor<2x4x16xf32>) -> tensor<?x20xf32>
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK: vector.fma
func.func @matmul(%x: tensor<?x4xf32>) -> tensor<?x20xf32> {
  %w = arith.constant dense<1.5> : tensor<4x20xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x20xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x20xf32>) -> tensor<?x20xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x20xf32>) outs(%acc : tensor<?x20xf32>) -> tensor<?x20xf32>
  return %y : tensor<?x20xf32>
}

// -----

// A linear layer whose result elementwise fusion reshaped (GPT-2's): the
// batch dims of A are collapsed into rows and the result expanded back; two
// layers of the same shape share the kernel.
// CHECK-LABEL: func.func @reshaped
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : tensor<?x?x8xf32> into tensor<?x8xf32>
// CHECK: %[[Y:.*]] = call @qopt_kernel_f32_k8_n16(%[[ROWS]], %{{.*}})
// CHECK: tensor.expand_shape %[[Y]] {{\[\[}}0, 1], [2]] output_shape [%{{.*}}, %{{.*}}, 16] : tensor<?x16xf32> into tensor<?x?x16xf32>
// CHECK: call @qopt_kernel_f32_k8_n16(
// CHECK-COUNT-1: func.func private @qopt_kernel_f32_k8_n16
#a = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#b = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
#c = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
func.func @reshaped(%x: tensor<?x?x8xf32>) -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>) {
  %w = arith.constant dense<0.25> : tensor<8x16xf32>
  %w2 = arith.constant dense<0.5> : tensor<8x16xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %d0 = tensor.dim %x, %c0 : tensor<?x?x8xf32>
  %d1 = tensor.dim %x, %c1 : tensor<?x?x8xf32>
  %e = tensor.empty(%d0, %d1) : tensor<?x?x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %y = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x?x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<?x?x16xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %in, %wt : f32
    %s = arith.addf %out, %p : f32
    linalg.yield %s : f32
  } -> tensor<?x?x16xf32>
  %y2 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w2 : tensor<?x?x8xf32>, tensor<8x16xf32>) outs(%acc : tensor<?x?x16xf32>) {
  ^bb0(%in: f32, %wt: f32, %out: f32):
    %p = arith.mulf %wt, %in : f32
    %s = arith.addf %p, %out : f32
    linalg.yield %s : f32
  } -> tensor<?x?x16xf32>
  return %y, %y2 : tensor<?x?x16xf32>, tensor<?x?x16xf32>
}

// -----

// Left alone: a B that is not a constant (attention), and a C that does not
// start at zero (the kernel computes the product only).
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.matmul
// CHECK: linalg.matmul
// CHECK-NOT: call @qopt_kernel
func.func @left_alone(%x: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<3x5xf32>) -> (tensor<3x5xf32>, tensor<3x5xf32>) {
  %w = arith.constant dense<1.5> : tensor<4x5xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x5xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %0 = linalg.matmul ins(%x, %b : tensor<3x4xf32>, tensor<4x5xf32>) outs(%acc : tensor<3x5xf32>) -> tensor<3x5xf32>
  %1 = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x5xf32>) outs(%c : tensor<3x5xf32>) -> tensor<3x5xf32>
  return %0, %1 : tensor<3x5xf32>, tensor<3x5xf32>
}

// -----

// A tied LM head: the embedding table E [3, 2] is looked up with
// tensor.extract, and the LM head's weight is its transpose. The lookup reads
// the packed weight at [t / 16, k, t % 16] and the table is gone.
// CHECK-LABEL: func.func @tied
// CHECK-NOT:     tensor<3x2xf32>
// CHECK:         %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x2x16xf32>
// CHECK:         linalg.generic
// CHECK:           %[[P:.*]] = arith.divui %[[T:.*]], %c16 : index
// CHECK:           %[[L:.*]] = arith.remui %[[T]], %c16 : index
// CHECK:           tensor.extract %[[W]][%[[P]], %{{.*}}, %[[L]]] : tensor<1x2x16xf32>
// CHECK:         call @qopt_kernel_f32_k2_n3(%{{.*}}, %[[W]])
// CHECK-NOT:     tensor<3x2xf32>
#id = affine_map<(t, k) -> (t)>
#out = affine_map<(t, k) -> (t, k)>
func.func @tied(%ids: tensor<4xindex>) -> tensor<4x3xf32> {
  %table = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %head = arith.constant dense<[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]> : tensor<2x3xf32>
  %e = tensor.empty() : tensor<4x2xf32>
  %x = linalg.generic {indexing_maps = [#id, #out], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<4xindex>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%t: index, %o: f32):
    %k = linalg.index 1 : index
    %v = tensor.extract %table[%t, %k] : tensor<3x2xf32>
    linalg.yield %v : f32
  } -> tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.matmul ins(%x, %head : tensor<4x2xf32>, tensor<2x3xf32>) outs(%acc : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A table that is not the weight's transpose (one value differs) stays.
// CHECK-LABEL: func.func @untied
// CHECK:         tensor.extract %{{.*}} : tensor<3x2xf32>
func.func @untied(%ids: tensor<4xindex>) -> tensor<4x3xf32> {
  %table = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]> : tensor<3x2xf32>
  %head = arith.constant dense<[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]> : tensor<2x3xf32>
  %e = tensor.empty() : tensor<4x2xf32>
  %x = linalg.generic {indexing_maps = [affine_map<(t, k) -> (t)>, affine_map<(t, k) -> (t, k)>], iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<4xindex>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%t: index, %o: f32):
    %k = linalg.index 1 : index
    %v = tensor.extract %table[%t, %k] : tensor<3x2xf32>
    linalg.yield %v : f32
  } -> tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.matmul ins(%x, %head : tensor<4x2xf32>, tensor<2x3xf32>) outs(%acc : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
