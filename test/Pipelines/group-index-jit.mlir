// A qopt.qmatmul with a group_index (GPTQ's act-order g_idx) computes
// y = x * W with row k of W dequantized by the scales (and zero points) of
// group g_idx[k]. --qopt-lower-to-llvm runs qopt-sort-group-index first;
// the result must be the same with the scalar reference lowering and with
// the kernels. Scales and data are powers of two and small integers, so
// every sum is exact; with rows k mapped to group k / G instead the outputs
// would be [[75031, 860084], [-110, -1388]], [[-163.5, -744.5, 917],
// [82.75, -246.25, 228.5]] (and different for W8A8).
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

// @w8: g_idx [1, 0, 0, 1], scales {1, 2} (group 0) and {10, 100}
// (group 1): dequantized rows [10 200] [3 8] [5 12] [70 800].
// CHECK: sizes = [2, 2]
// CHECK-NEXT: {{\[\[}}70540,   801480],
// CHECK-NEXT: {{\[}}16,   180]]
// @w8a8: the same weight with x quantized per token at run time; each row
// spans [0, 255] so its scale is 1 and the codes are x: the int32 sums of
// each (sorted) group times the group's scales.
// CHECK: sizes = [2, 2]
// CHECK-NEXT: {{\[\[}}7815,   82160],
// CHECK-NEXT: {{\[}}2563,   51032]]
// @u4: u4 codes with per-group zero points, K = 6, three groups, N = 3
// (odd: the last nibble of each row is padding), g_idx [2, 0, 1, 0, 2, 1].
// CHECK: sizes = [2, 3]
// CHECK-NEXT: {{\[\[}}-604.5,   624,   -206],
// CHECK-NEXT: {{\[}}-33.75,   62,   -77]]

func.func @w8(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<[1, 0, 0, 1]> : tensor<4xi32>
  %y = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{1.0, 2.0}, {10.0, 100.0}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

func.func @w8a8(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1, 2], [3, 4], [5, 6], [7, 8]]> : tensor<4x2xi8>
  %g = arith.constant dense<[1, 0, 0, 1]> : tensor<4xi32>
  %y = qopt.qmatmul %x, %w group_index %g dynamic_input weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{1.0, 2.0}, {10.0, 100.0}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// Codes (row by row) [0 15 3] [9 8 1] [12 4 7] [5 10 14] [2 11 6] [13 0 8],
// two per byte, low nibble first.
func.func @u4(%x: tensor<?x6xf32>) -> tensor<?x3xf32> {
  %w = arith.constant dense<[[-16, 3], [-119, 1], [76, 7], [-91, 14], [-78, 6], [13, 8]]> : tensor<6x2xi8>
  %g = arith.constant dense<[2, 0, 1, 0, 2, 1]> : tensor<6xi32>
  %y = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<u4:f32:{0:2, 1:1}, {{0.25:8, 0.5:8, 1.0:8}, {2.0:7, 4.0:9, 8.0:8}, {16.0:9, 32.0:7, 64.0:6}}> : tensor<?x6xf32>, tensor<6x2xi8>, tensor<6xi32> -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

func.func @print2(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  %x8 = arith.constant dense<[[1.0, 10.0, 100.0, 1000.0], [-1.0, 2.0, -3.0, 0.5]]> : tensor<2x4xf32>
  %x8d = tensor.cast %x8 : tensor<2x4xf32> to tensor<?x4xf32>
  %y8 = call @w8(%x8d) : (tensor<?x4xf32>) -> tensor<?x2xf32>
  %p8 = tensor.cast %y8 : tensor<?x2xf32> to tensor<?x?xf32>
  call @print2(%p8) : (tensor<?x?xf32>) -> ()
  %xa = arith.constant dense<[[0.0, 255.0, 10.0, 100.0], [255.0, 1.0, 2.0, 0.0]]> : tensor<2x4xf32>
  %xad = tensor.cast %xa : tensor<2x4xf32> to tensor<?x4xf32>
  %ya = call @w8a8(%xad) : (tensor<?x4xf32>) -> tensor<?x2xf32>
  %pa = tensor.cast %ya : tensor<?x2xf32> to tensor<?x?xf32>
  call @print2(%pa) : (tensor<?x?xf32>) -> ()
  %x4 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.5, -1.0, 0.0, 2.0, -0.25, 1.0]]> : tensor<2x6xf32>
  %x4d = tensor.cast %x4 : tensor<2x6xf32> to tensor<?x6xf32>
  %y4 = call @u4(%x4d) : (tensor<?x6xf32>) -> tensor<?x3xf32>
  %p4 = tensor.cast %y4 : tensor<?x3xf32> to tensor<?x?xf32>
  call @print2(%p4) : (tensor<?x?xf32>) -> ()
  return
}
func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}
