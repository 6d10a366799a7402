// convert-f32-matmuls-to-kernels{row-blocks=8,4} (the pipeline's choice on
// AVX-512): whole blocks of 8 rows, each with 8 accumulators sharing one
// load of the panel's row, then blocks of 4, then single rows (4 chains).
// Sizes that do not decrease, or blocks of one row, are refused.
// RUN: quant-opt %s --convert-f32-matmuls-to-kernels="row-blocks=8,4" | FileCheck %s
// RUN: not quant-opt %s --convert-f32-matmuls-to-kernels="row-blocks=4,8" 2>&1 | FileCheck %s --check-prefix=ERR
// RUN: not quant-opt %s --convert-f32-matmuls-to-kernels="row-blocks=1" 2>&1 | FileCheck %s --check-prefix=ERR

// CHECK-LABEL: func.func private @qopt_kernel_f32_k64_n16
// CHECK: scf.forall
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// CHECK: scf.for %{{.*}} = %{{.*}} to %c64{{[_0-9]*}} step %c1{{[_0-9]*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: %[[ROW8:.*]] = vector.transfer_read
// CHECK-COUNT-8: vector.fma %{{.*}}, %[[ROW8]], %{{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4
// CHECK: %[[ROW4:.*]] = vector.transfer_read
// CHECK-COUNT-4: vector.fma %{{.*}}, %[[ROW4]], %{{.*}} : vector<16xf32>
// CHECK-NOT: vector.fma
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// CHECK: scf.for %{{.*}} = %{{.*}} to %c64{{.*}} step %c4

// ERR: error: convert-f32-matmuls-to-kernels: row-blocks must be decreasing sizes of at least 2 rows
func.func @matmul(%x: tensor<?x64xf32>) -> tensor<?x16xf32> {
  %w = arith.constant dense<1.5> : tensor<64x16xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x64xf32>, tensor<64x16xf32>) outs(%acc : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
