// RUN: quant-opt %s --qopt-lower-to-llvm=parallel=false | FileCheck %s

// Tensors, linalg (softmax included), quant casts and dynamic reshapes all
// end up in the LLVM dialect.
// CHECK: llvm.func @main
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-NOT: quant.
// CHECK-NOT: builtin.unrealized_conversion_cast
!q = !quant.uniform<i8:f32, 0.5>
func.func @main(%x: tensor<?x16xf32>, %w: tensor<16x16xi8>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x16xf32>
  %wq = quant.scast %w : tensor<16x16xi8> to tensor<16x16x!q>
  %wf = quant.dcast %wq : tensor<16x16x!q> to tensor<16x16xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%d) : tensor<?x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %mm = linalg.matmul ins(%x, %wf : tensor<?x16xf32>, tensor<16x16xf32>) outs(%acc : tensor<?x16xf32>) -> tensor<?x16xf32>
  %s = linalg.softmax dimension(1) ins(%mm : tensor<?x16xf32>) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %s : tensor<?x16xf32>
}
