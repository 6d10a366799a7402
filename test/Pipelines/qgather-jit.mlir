// qopt.qgather reads embedding rows out of a quantized table stored as a
// qopt.qmatmul weight [D, V] (each token a column). When a tied LM head's
// qopt.qmatmul reads the same stored constant, the kernels repack it into
// their panels and the gather decodes its rows from that copy (the archive
// holds the table once). The results must be the same with the scalar
// reference lowering (canonical layout), the generic kernels and the
// target's kernels: the float kernel's panels (4-bit, zero points, V = 17
// spans a partial second panel) and the integer kernel's k-blocks (8-bit,
// dynamic activations). Ids below 0 count from the end, larger ones clamp.
//
// RUN: quant-opt %s "--qopt-lower-to-llvm=kernels=reference parallel=false" \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_runner_libs | FileCheck %s
// RUN: quant-opt %s "--qopt-lower-to-llvm=kernels=generic parallel=false" \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_runner_libs | FileCheck %s
// RUN: quant-opt %s --qopt-lower-to-llvm=parallel=false \
// RUN:   | mlir-runner -e main -entry-point-result=void \
// RUN:       -shared-libs=%mlir_runner_libs | FileCheck %s
// The kernels leave no canonical copy of a shared table behind.
// RUN: quant-opt %s '--pass-pipeline=builtin.module(convert-qopt-to-kernels)' \
// RUN:   | FileCheck %s --check-prefix=PACKED

// @u4: codes (k + c) % 16 with zero point 8, scales 1 (rows 0-1) and 2
// (rows 2-3): token c's row is [(c % 16) - 8, ((c + 1) % 16) - 8,
// 2 * (((c + 2) % 16) - 8), 2 * (((c + 3) % 16) - 8)].
// Ids [16, 3, -1, 100]:
// CHECK: sizes = [4, 4]
// CHECK-NEXT: {{\[\[}}-8,   -7,   -12,   -10],
// CHECK-NEXT: {{\[}}-5,   -4,   -6,   -4],
// CHECK-NEXT: {{\[}}-8,   -7,   -12,   -10],
// CHECK-NEXT: {{\[}}-8,   -7,   -12,   -10]]
// The LM head on the same table: x = [1, 0, 0, 0] reads row 0 of every
// token; x = [0, 0, 1, -1] is -2 except at token 13 (codes 15 and 0).
// CHECK: sizes = [2, 17]
// CHECK-NEXT: {{\[\[}}-8,   -7,   -6,   -5,   -4,   -3,   -2,   -1,   0,   1,   2,   3,   4,   5,   6,   7,   -8],
// CHECK-NEXT: {{\[}}-2,   -2,   -2,   -2,   -2,   -2,   -2,   -2,   -2,   -2,   -2,   -2,   -2,   30,   -2,   -2,   -2]]
// @i8: codes (3k + c) % 11 - 5, scale 0.5; ids [5, 0, -17, 16]:
// CHECK: sizes = [4, 4]
// CHECK-NEXT: {{\[\[}}0,   1.5,   -2.5,   -1],
// CHECK-NEXT: {{\[}}-2.5,   -1,   0.5,   2],
// CHECK-NEXT: {{\[}}-2.5,   -1,   0.5,   2],
// CHECK-NEXT: {{\[}}0,   1.5,   -2.5,   -1]]
// and its W8A8 LM head (x = [0, 255, 0, 0] quantizes exactly: scale 1):
// 255 * 0.5 * ((c + 3) % 11 - 5).
// CHECK: sizes = [1, 17]
// CHECK-NEXT: {{\[\[}}-255,   -127.5,   0,   127.5,   255,   382.5,   510,   637.5,   -637.5,   -510,   -382.5,   -255,   -127.5,   0,   127.5,   255,   382.5]]

// PACKED-LABEL: func.func @u4
// PACKED-NOT: tensor<4x9xi8>
// PACKED: call @qopt_kernel_w4
// PACKED-LABEL: func.func @i8
// PACKED-NOT: tensor<4x17xi8>
// PACKED: call @qopt_kernel_w8a8

func.func @u4(%ids: tensor<?xi64>, %x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x17xf32>) {
  %w = arith.constant dense<[[16, 50, 84, 118, -104, -70, -36, -2, 0], [33, 67, 101, -121, -87, -53, -19, 15, 1], [50, 84, 118, -104, -70, -36, -2, 16, 2], [67, 101, -121, -87, -53, -19, 15, 33, 3]]> : tensor<4x9xi8>
  %e = qopt.qgather %w[%ids] table !quant.uniform<u4:f32:{0:2, 1:1}, {{1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8}, {2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8}}> : tensor<4x9xi8>, tensor<?xi64> -> tensor<?x4xf32>
  %y = qopt.qmatmul %x, %w weight !quant.uniform<u4:f32:{0:2, 1:1}, {{1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8, 1.0:8}, {2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8, 2.0:8}}> : tensor<?x4xf32>, tensor<4x9xi8> -> tensor<?x17xf32>
  return %e, %y : tensor<?x4xf32>, tensor<?x17xf32>
}

func.func @i8(%ids: tensor<?xi64>, %x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x17xf32>) {
  %w = arith.constant dense<[[-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, -5, -4, -3, -2, -1, 0], [-2, -1, 0, 1, 2, 3, 4, 5, -5, -4, -3, -2, -1, 0, 1, 2, 3], [1, 2, 3, 4, 5, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, -5], [4, 5, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, -5, -4, -3, -2]]> : tensor<4x17xi8>
  %e = qopt.qgather %w[%ids] table !quant.uniform<i8<-127:127>:f32:1, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}> : tensor<4x17xi8>, tensor<?xi64> -> tensor<?x4xf32>
  %y = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32:1, {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}> : tensor<?x4xf32>, tensor<4x17xi8> -> tensor<?x17xf32>
  return %e, %y : tensor<?x4xf32>, tensor<?x17xf32>
}

func.func @print2(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %ids4 = arith.constant dense<[16, 3, -1, 100]> : tensor<4xi64>
  %ids4d = tensor.cast %ids4 : tensor<4xi64> to tensor<?xi64>
  %x4 = arith.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]]> : tensor<2x4xf32>
  %x4d = tensor.cast %x4 : tensor<2x4xf32> to tensor<?x4xf32>
  %e4, %y4 = call @u4(%ids4d, %x4d) : (tensor<?xi64>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x17xf32>)
  %pe4 = tensor.cast %e4 : tensor<?x4xf32> to tensor<?x?xf32>
  call @print2(%pe4) : (tensor<?x?xf32>) -> ()
  %py4 = tensor.cast %y4 : tensor<?x17xf32> to tensor<?x?xf32>
  call @print2(%py4) : (tensor<?x?xf32>) -> ()
  %ids8 = arith.constant dense<[5, 0, -17, 16]> : tensor<4xi64>
  %ids8d = tensor.cast %ids8 : tensor<4xi64> to tensor<?xi64>
  %x8 = arith.constant dense<[[0.0, 255.0, 0.0, 0.0]]> : tensor<1x4xf32>
  %x8d = tensor.cast %x8 : tensor<1x4xf32> to tensor<?x4xf32>
  %e8, %y8 = call @i8(%ids8d, %x8d) : (tensor<?xi64>, tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x17xf32>)
  %pe8 = tensor.cast %e8 : tensor<?x4xf32> to tensor<?x?xf32>
  call @print2(%pe8) : (tensor<?x?xf32>) -> ()
  %py8 = tensor.cast %y8 : tensor<?x17xf32> to tensor<?x?xf32>
  call @print2(%py8) : (tensor<?x?xf32>) -> ()
  return
}
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}
