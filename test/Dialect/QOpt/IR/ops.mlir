// RUN: quant-opt %s | quant-opt | FileCheck %s
// RUN: quant-opt %s --mlir-print-op-generic | quant-opt | FileCheck %s

// CHECK-LABEL: func.func @observe
// CHECK: qopt.observe %{{.*}} activation "fc:input" : tensor<?x4xf32>
// CHECK: qopt.observe %{{.*}} weight "fc:weight" {stats = #qopt.stats<method = "constant", samples = 4, min = -1.000000e+00 : f64, max = 2.000000e+00 : f64, channel_absmax = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>>} : tensor<4x2xf32>
func.func @observe(%x: tensor<?x4xf32>, %w: tensor<4x2xf32>) -> (tensor<?x4xf32>, tensor<4x2xf32>) {
  %0 = qopt.observe %x activation "fc:input" : tensor<?x4xf32>
  %1 = qopt.observe %w weight "fc:weight" {stats = #qopt.stats<method = "constant", samples = 4, min = -1.0, max = 2.0, channel_absmax = dense<[1.0, 2.0]> : tensor<2xf32>>} : tensor<4x2xf32>
  return %0, %1 : tensor<?x4xf32>, tensor<4x2xf32>
}

// CHECK-LABEL: func.func @stats_all_fields
// CHECK: #qopt.stats<method = "minmax", samples = 8, min = -2.000000e+00 : f64, max = 3.000000e+00 : f64, channel_min = dense<[-2.000000e+00, 0.000000e+00]> : tensor<2xf32>, channel_max = dense<[1.000000e+00, 3.000000e+00]> : tensor<2xf32>, channel_absmax = dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>, xtx = dense<{{.*}}> : tensor<2x2xf32>, sensitivity = 5.000000e-01 : f64>
func.func @stats_all_fields(%x: tensor<8x2xf32>) -> tensor<8x2xf32> {
  %0 = qopt.observe %x activation "p" {stats = #qopt.stats<method = "minmax", samples = 8, min = -2.0, max = 3.0, channel_min = dense<[-2.0, 0.0]> : tensor<2xf32>, channel_max = dense<[1.0, 3.0]> : tensor<2xf32>, channel_absmax = dense<[2.0, 3.0]> : tensor<2xf32>, xtx = dense<[[1.0, 2.0], [2.0, 5.0]]> : tensor<2x2xf32>, sensitivity = 0.5>} : tensor<8x2xf32>
  return %0 : tensor<8x2xf32>
}

// CHECK-LABEL: func.func @fake_quant
// CHECK: qopt.fake_quant %{{.*}} : tensor<?x4xf32> as !quant.uniform<u8:f32, 2.000000e-02:128>
// CHECK: qopt.fake_quant %{{.*}} : tensor<4x2xf32> as !quant.uniform<i8<-127:127>:f32:1, {1.000000e-01,2.000000e-01}>
// CHECK: qopt.fake_quant %{{.*}} : tensor<4x2xf32> as !quant.uniform<i4<-7:7>:f32:{0:2}, {{.*}}>
// CHECK: qopt.dynamic_fake_quant %{{.*}} : tensor<?x4xf32>
// CHECK: qopt.dynamic_fake_quant %{{.*}} symmetric : tensor<?x4xf32>
func.func @fake_quant(%x: tensor<?x4xf32>, %w: tensor<4x2xf32>) -> (tensor<?x4xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>) {
  %0 = qopt.fake_quant %x : tensor<?x4xf32> as !quant.uniform<u8:f32, 0.02:128>
  %1 = qopt.fake_quant %w : tensor<4x2xf32> as !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}>
  %2 = qopt.fake_quant %w : tensor<4x2xf32> as !quant.uniform<i4<-7:7>:f32:{0:2}, {{0.1, 0.2}, {0.3, 0.4}}>
  %3 = qopt.dynamic_fake_quant %x : tensor<?x4xf32>
  %4 = qopt.dynamic_fake_quant %x symmetric : tensor<?x4xf32>
  return %0, %1, %2, %3, %4 : tensor<?x4xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<?x4xf32>, tensor<?x4xf32>
}

// CHECK-LABEL: func.func @qmatmul
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i8<-127:127>:f32:1, {1.000000e-01,2.000000e-01}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} input !quant.uniform<u8:f32, 5.000000e-02:10> weight
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} dynamic_input weight
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<u4:f32:{0:2, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} dynamic_input weight !quant.uniform<u4:f32:{0:2, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
func.func @qmatmul(%x: tensor<?x4xf32>, %w8: tensor<4x2xi8>, %w4: tensor<4x1xi8>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %0 = qopt.qmatmul %x, %w8 weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  %1 = qopt.qmatmul %x, %w8 input !quant.uniform<u8:f32, 0.05:10> weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  %2 = qopt.qmatmul %x, %w8 dynamic_input weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  %3 = qopt.qmatmul %x, %w4 weight !quant.uniform<u4:f32:{0:2, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
  %4 = qopt.qmatmul %x, %w4 dynamic_input weight !quant.uniform<u4:f32:{0:2, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
  return %0, %1, %2, %3, %4 : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// group_index (GPTQ's g_idx) prints between the weight and the input
// quantization, its type after the weight's.
// CHECK-LABEL: func.func @qmatmul_group_index
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} group_index %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x1xi8>, tensor<4xi32> -> tensor<?x2xf32>
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} group_index %{{.*}} dynamic_input weight !quant.uniform<u4:f32:{0:2, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x1xi8>, tensor<4xi32> -> tensor<?x2xf32>
func.func @qmatmul_group_index(%x: tensor<?x4xf32>, %w4: tensor<4x1xi8>, %g: tensor<4xi32>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %0 = qopt.qmatmul %x, %w4 group_index %g weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x1xi8>, tensor<4xi32> -> tensor<?x2xf32>
  %1 = qopt.qmatmul %x, %w4 group_index %g dynamic_input weight !quant.uniform<u4:f32:{0:2, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x4xf32>, tensor<4x1xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0, %1 : tensor<?x2xf32>, tensor<?x2xf32>
}

// CHECK-LABEL: func.func @fmatmul
// CHECK: qopt.fmatmul %{{.*}}, %{{.*}} scales %{{.*}} : tensor<?x4xf32>, tensor<4x2xf8E4M3FN>, tensor<2xf32> -> tensor<?x2xf32>
// CHECK: qopt.fmatmul %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4x2xbf16> -> tensor<?x2xf32>
func.func @fmatmul(%x: tensor<?x4xf32>, %w8: tensor<4x2xf8E4M3FN>, %s: tensor<2xf32>, %w16: tensor<4x2xbf16>) -> (tensor<?x2xf32>, tensor<?x2xf32>) {
  %0 = qopt.fmatmul %x, %w8 scales %s : tensor<?x4xf32>, tensor<4x2xf8E4M3FN>, tensor<2xf32> -> tensor<?x2xf32>
  %1 = qopt.fmatmul %x, %w16 : tensor<?x4xf32>, tensor<4x2xbf16> -> tensor<?x2xf32>
  return %0, %1 : tensor<?x2xf32>, tensor<?x2xf32>
}

// CHECK-LABEL: func.func @pure_intrinsic
// CHECK: qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.*}}, %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
func.func @pure_intrinsic(%a: vector<16xi16>, %b: vector<16xi16>) -> vector<8xi32> {
  %0 = qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"(%a, %b) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
  return %0 : vector<8xi32>
}

// CHECK-LABEL: func.func @qgather
// CHECK: qopt.qgather %{{.*}}[%{{.*}}] table !quant.uniform<u4:f32:{0:2, 1:1}, {{.*}}> : tensor<4x2xi8>, tensor<?x?xi64> -> tensor<?x?x4xf32>
// CHECK: qopt.qgather %{{.*}}[%{{.*}}] table !quant.uniform<i8<-127:127>:f32:1, {1.000000e-01,2.000000e-01,3.000000e-01}> : tensor<4x3xi8>, tensor<5xi32> -> tensor<5x4xf32>
func.func @qgather(%t4: tensor<4x2xi8>, %ids: tensor<?x?xi64>, %t8: tensor<4x3xi8>, %ids32: tensor<5xi32>) -> (tensor<?x?x4xf32>, tensor<5x4xf32>) {
  %0 = qopt.qgather %t4[%ids] table !quant.uniform<u4:f32:{0:2, 1:1}, {{0.1:8, 0.2:8, 0.3:8}, {0.4:8, 0.5:8, 0.6:8}}> : tensor<4x2xi8>, tensor<?x?xi64> -> tensor<?x?x4xf32>
  %1 = qopt.qgather %t8[%ids32] table !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2, 0.3}> : tensor<4x3xi8>, tensor<5xi32> -> tensor<5x4xf32>
  return %0, %1 : tensor<?x?x4xf32>, tensor<5x4xf32>
}

// A block size that does not divide K leaves a shorter last group: K = 5 in
// groups of 2 has 3 groups, the last of one row.
// CHECK-LABEL: func.func @ragged_last_group
// CHECK: qopt.qmatmul %{{.*}}, %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{.*}}> : tensor<?x5xf32>, tensor<5x1xi8> -> tensor<?x2xf32>
// CHECK: qopt.fake_quant %{{.*}} : tensor<5x2xf32> as !quant.uniform<i4<-7:7>:f32:{0:2}, {{.*}}>
// CHECK: qopt.qgather %{{.*}}[%{{.*}}] table !quant.uniform<i8:f32:{0:2, 1:1}, {{.*}}> : tensor<5x2xi8>
func.func @ragged_last_group(%x: tensor<?x5xf32>, %w4: tensor<5x1xi8>, %w: tensor<5x2xf32>, %t: tensor<5x2xi8>, %ids: tensor<3xi64>) -> (tensor<?x2xf32>, tensor<5x2xf32>, tensor<3x5xf32>) {
  %0 = qopt.qmatmul %x, %w4 weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}> : tensor<?x5xf32>, tensor<5x1xi8> -> tensor<?x2xf32>
  %1 = qopt.fake_quant %w : tensor<5x2xf32> as !quant.uniform<i4<-7:7>:f32:{0:2}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}>
  %2 = qopt.qgather %t[%ids] table !quant.uniform<i8:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}> : tensor<5x2xi8>, tensor<3xi64> -> tensor<3x5xf32>
  return %0, %1, %2 : tensor<?x2xf32>, tensor<5x2xf32>, tensor<3x5xf32>
}
