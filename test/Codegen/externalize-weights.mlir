// RUN: quant-opt %s -qopt-externalize-weights="archive=%t.weights min-bytes=64" | FileCheck %s
// RUN: %python -m checks.weight_archive %t.weights --dump big | FileCheck %s --check-prefix=ARCHIVE

// Constants of at least 64 bytes move to the archive at 64-byte aligned
// offsets and are read through views of a new trailing argument that every
// public function gets; smaller ones and private functions' signatures stay.
// Constants with the same bytes as an earlier one (@big_copy, @big_copy2, of
// other shapes) are stored once: their views read @big's offset. @big_other
// has @big's size but not its bytes, and gets its own.
// CHECK: module attributes {qopt.weights = {bytes = 256 : i64, fingerprint = "{{[0-9a-f]+}}", tensors = 5 : i64}}
// CHECK-NOT: memref.global "private" constant @big
// CHECK-NOT: memref.global "private" constant @splat
// CHECK: memref.global "private" constant @small : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]>
// CHECK-LABEL: func.func @main(%arg0: memref<4x4xf32>, %arg1: memref<?xi8>) -> memref<4x4xf32>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %arg1[%[[C0]]][] : memref<?xi8> to memref<4x4xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %arg1[%[[C64]]][] : memref<?xi8> to memref<2x32xi16>
// CHECK: memref.get_global @small
// CHECK-LABEL: func.func @other(%arg0: memref<?xi8>)
// CHECK: memref.view %arg0
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: memref.view %arg0[%[[C0B]]][] : memref<?xi8> to memref<16xf32>
// CHECK: %[[C0C:.*]] = arith.constant 0 : index
// CHECK: memref.view %arg0[%[[C0C]]][] : memref<?xi8> to memref<2x8xf32>
// CHECK: %[[C192:.*]] = arith.constant 192 : index
// CHECK: memref.view %arg0[%[[C192]]][] : memref<?xi8> to memref<4x4xf32>
// CHECK-LABEL: func.func private @declared(memref<4xf32>)
memref.global "private" constant @big : memref<4x4xf32> = dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0]]>
memref.global "private" constant @splat : memref<2x32xi16> = dense<7>
memref.global "private" constant @small : memref<2xf32> = dense<[1.0, 2.0]>
memref.global "private" constant @big_copy : memref<16xf32> = dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]>
memref.global "private" constant @big_copy2 : memref<2x8xf32> = dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]]>
memref.global "private" constant @big_other : memref<4x4xf32> = dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 16.0]]>
func.func @main(%x: memref<4x4xf32>) -> memref<4x4xf32> {
  %w = memref.get_global @big : memref<4x4xf32>
  %s = memref.get_global @splat : memref<2x32xi16>
  %t = memref.get_global @small : memref<2xf32>
  return %w : memref<4x4xf32>
}
func.func @other() {
  %w = memref.get_global @big : memref<4x4xf32>
  %c = memref.get_global @big_copy : memref<16xf32>
  %c2 = memref.get_global @big_copy2 : memref<2x8xf32>
  %o = memref.get_global @big_other : memref<4x4xf32>
  return
}
func.func private @declared(memref<4xf32>)

// The archive: 64-byte header, data region (64-byte aligned tensors, the
// splat expanded), JSON index.
// ARCHIVE: data_offset=64 data_bytes=256 fingerprint={{[0-9a-f]+}} tensors=5
// ARCHIVE-NEXT: big offset=0 bytes=64 memref<4x4xf32> aligned
// ARCHIVE-NEXT: [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
// ARCHIVE-NEXT: splat offset=64 bytes=128 memref<2x32xi16> aligned
// ARCHIVE-NEXT: big_copy offset=0 bytes=64 memref<16xf32> aligned
// ARCHIVE-NEXT: big_copy2 offset=0 bytes=64 memref<2x8xf32> aligned
// ARCHIVE-NEXT: big_other offset=192 bytes=64 memref<4x4xf32> aligned
