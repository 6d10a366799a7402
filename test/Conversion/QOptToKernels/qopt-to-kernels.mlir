// convert-qopt-to-kernels: each target's W8A8 step, the float-activation
// kernel, compile-time repacked weights (P x K/ku x 16*ku bytes), one kernel
// per shape shared by its users, and bad targets.
// RUN: quant-opt %s --convert-qopt-to-kernels=target=generic | FileCheck %s --check-prefixes=COMMON,GENERIC
// RUN: quant-opt %s --convert-qopt-to-kernels=target=x86-64-avx2 | FileCheck %s --check-prefixes=COMMON,AVX2
// RUN: quant-opt %s --convert-qopt-to-kernels=target=x86-64-avx512-vnni | FileCheck %s --check-prefixes=COMMON,VNNI
// RUN: quant-opt %s --convert-qopt-to-kernels=target=aarch64-dotprod | FileCheck %s --check-prefixes=COMMON,DOTPROD
// RUN: quant-opt %s --convert-qopt-to-kernels=target=aarch64-i8mm | FileCheck %s --check-prefixes=COMMON,I8MM
// The canonical-layout weights are erased once repacked (else they would go
// to the weight archive too).
// RUN: quant-opt %s --convert-qopt-to-kernels=target=generic | FileCheck %s --check-prefix=ERASED
// ERASED-NOT: tensor<6x3xi8>
// ERASED-NOT: tensor<4x1xi8>
// ERASED-NOT: tensor<8x1xi8>
// RUN: not quant-opt %s --convert-qopt-to-kernels=target=x86-64-sse2 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: convert-qopt-to-kernels: unknown target 'x86-64-sse2' (expected one of: generic, x86-64-avx2, x86-64-avx512-vnni, aarch64-dotprod, aarch64-i8mm, native)

// COMMON-LABEL: func.func @w8a8
// GENERIC: %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x6x16xi8>
// AVX2: %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x3x32xi8>
// VNNI: %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x2x64xi8>
// DOTPROD: %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x2x64xi8>
// I8MM: %[[W:.*]] = arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x1x128xi8>
// GENERIC: call @qopt_kernel_w8a8_generic_k6_n3(%{{.*}}, %[[W]],
// AVX2: call @qopt_kernel_w8a8_x86_64_avx2_k6_n3(%{{.*}}, %[[W]],
// The second user of the same shape calls the same kernel.
// AVX2: call @qopt_kernel_w8a8_x86_64_avx2_k6_n3(
func.func @w8a8(%x: tensor<?x6xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %w = arith.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [-10, 11, 12], [13, 14, -15], [16, -17, 18]]> : tensor<6x3xi8>
  %0 = qopt.qmatmul %x, %w input !quant.uniform<u8:f32, 0.05:10> weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2, 0.3}> : tensor<?x6xf32>, tensor<6x3xi8> -> tensor<?x3xf32>
  %1 = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2, 0.3}> : tensor<?x6xf32>, tensor<6x3xi8> -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}

// COMMON-LABEL: func.func @w4_groups
// COMMON: arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x4x8xi8>
// COMMON: arith.constant dense_resource<kernel_scales{{[_0-9]*}}> : tensor<1x2x16xf32>
// COMMON: arith.constant dense_resource<kernel_biases{{[_0-9]*}}> : tensor<1x2x16xf32>
// COMMON: call @qopt_kernel_w4u_f32_k4_n2_g2_zp(
func.func @w4_groups(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w4 = arith.constant dense<[[33], [-111], [0], [127]]> : tensor<4x1xi8>
  %0 = qopt.qmatmul %x, %w4 weight !quant.uniform<u4:f32:{0:2, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// W4A8: nibbles in k-blocks (generic 1 x 16 values in 8 bytes, AVX2 4 x 16
// in 32), per-group column sums and scales [G, 16 * P], row sums of x' per
// group. i8mm's blocks of 8 k do not fit groups of 4: left for the
// reference lowering.
// COMMON-LABEL: func.func @w4a8_groups
// GENERIC: arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x8x8xi8>
// GENERIC: call @qopt_kernel_w4a8_generic_k8_n2_g4_zp({{.*}}) : (tensor<?x8xi8>, tensor<1x8x8xi8>, tensor<2x16xi32>, tensor<2x16xf32>, tensor<?xi32>, tensor<?xf32>, tensor<2x16xi32>, tensor<?x2xi32>) -> tensor<?x2xf32>
// AVX2: arith.constant dense_resource<kernel_weight{{[_0-9]*}}> : tensor<1x2x32xi8>
// AVX2: call @qopt_kernel_w4a8_x86_64_avx2_k8_n2_g4_zp(
// I8MM: qopt.qmatmul
func.func @w4a8_groups(%x: tensor<?x8xf32>) -> tensor<?x2xf32> {
  %w4 = arith.constant dense<[[33], [-111], [0], [127], [5], [6], [7], [8]]> : tensor<8x1xi8>
  %0 = qopt.qmatmul %x, %w4 dynamic_input weight !quant.uniform<u4:f32:{0:4, 1:1}, {{0.1:8, 0.2:8}, {0.3:7, 0.4:9}}> : tensor<?x8xf32>, tensor<8x1xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// A weight that is not a constant is left for the reference lowering.
// COMMON-LABEL: func.func @not_constant
// COMMON: qopt.qmatmul
func.func @not_constant(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x2xf32> {
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// The kernels, with each target's reduction step. Column panels are
// independent (scf.forall); the last one is narrower when N % 16 != 0.
// GENERIC: func.func private @qopt_kernel_w8a8_generic_k6_n3(
// GENERIC: scf.forall (%[[P:.*]]) in (1) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<?x3xf32>)
// GENERIC:   %[[TILE:.*]] = tensor.extract_slice %[[OUT]][0, %{{.*}}] [%{{.*}}, %{{.*}}] [1, 1] : tensor<?x3xf32> to tensor<?x?xf32>
// GENERIC: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
// GENERIC: arith.muli %{{.*}} : vector<16xi32>
// GENERIC: scf.forall.in_parallel
// GENERIC:   tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %{{.*}}] [%{{.*}}, %{{.*}}] [1, 1]
// AVX2: func.func private @qopt_kernel_w8a8_x86_64_avx2_k6_n3(
// AVX2: qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.*}}, %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// VNNI: qopt.pure_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// DOTPROD: arm_neon.intr.sdot %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8>, vector<16xi8> to vector<4xi32>
// I8MM: arm_neon.intr.usmmla %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi8> to vector<4xi32>
// COMMON: func.func private @qopt_kernel_w4u_f32_k4_n2_g2_zp(
// COMMON: arith.extui %{{.*}} : vector<8xi8> to vector<8xi32>
// COMMON: arith.andi %{{.*}} : vector<8xi32>
// COMMON: arith.shrui %{{.*}} : vector<8xi32>
// COMMON: vector.fma
// AVX2: func.func private @qopt_kernel_w4a8_x86_64_avx2_k8_n2_g4_zp(
// AVX2: qopt.pure_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%{{.*}}, %{{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// AVX2: qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"
