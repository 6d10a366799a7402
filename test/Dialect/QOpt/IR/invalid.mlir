// RUN: quant-opt %s -split-input-file -verify-diagnostics

func.func @stats_inverted_range(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @below {{min 3.000000e+00 exceeds max -1.000000e+00}}
  %0 = qopt.observe %x activation "p" {stats = #qopt.stats<method = "minmax", samples = 1, min = 3.0, max = -1.0>} : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @stats_xtx_not_square(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @below {{xtx must be a square matrix}}
  %0 = qopt.observe %x activation "p" {stats = #qopt.stats<method = "minmax", samples = 1, min = 0.0, max = 1.0, xtx = dense<0.0> : tensor<2x3xf32>>} : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @fake_quant_not_quant(%x: tensor<2xf32>) -> tensor<2xf32> {
  // expected-error @below {{qtype must be a !quant.uniform type, got 'i8'}}
  %0 = qopt.fake_quant %x : tensor<2xf32> as i8
  return %0 : tensor<2xf32>
}

// -----

func.func @fake_quant_axis_size(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  // expected-error @below {{qtype has 2 scales for a dimension of size 3}}
  %0 = qopt.fake_quant %x : tensor<3x2xf32> as !quant.uniform<i8:f32:0, {0.1, 0.2}>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @fake_quant_block(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  // expected-error @below {{qtype has 1 scales along axis 0, expected 2 (axis of size 3 in blocks of 2)}}
  %0 = qopt.fake_quant %x : tensor<3x2xf32> as !quant.uniform<i8:f32:{0:2}, {{0.1, 0.2}}>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @qmatmul_storage_shape(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x2xf32> {
  // expected-error @below {{weight storage must be [4, 1] for K = 4, N = 2 at 4 bits}}
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i4:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_axis(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x2xf32> {
  // expected-error @below {{per-axis weights must be quantized along axis 1}}
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_storage_n(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x3xf32> {
  // expected-error @below {{weight_type has 2 scales for a dimension of size 3}}
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i8:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

func.func @qmatmul_rows(%x: tensor<3x4xf32>, %w: tensor<4x2xi8>) -> tensor<2x2xf32> {
  // expected-error @below {{output must be [M, 2]}}
  %0 = qopt.qmatmul %x, %w weight !quant.uniform<i8:f32:1, {0.1, 0.2}> : tensor<3x4xf32>, tensor<4x2xi8> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @qmatmul_both_inputs(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x2xf32> {
  // expected-error @below {{input_type and dynamic_input exclude each other}}
  %0 = qopt.qmatmul %x, %w input !quant.uniform<u8:f32, 0.1:3> dynamic_input weight !quant.uniform<i8:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_input_type(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>) -> tensor<?x2xf32> {
  // expected-error @below {{input_type must be a per-tensor 8-bit}}
  %0 = qopt.qmatmul %x, %w input !quant.uniform<u8:f32:0, {0.1, 0.2}> weight !quant.uniform<i8:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @fmatmul_k(%x: tensor<?x3xf32>, %w: tensor<4x2xf16>) -> tensor<?x2xf32> {
  // expected-error @below {{input has 3 channels, the weight 4}}
  %0 = qopt.fmatmul %x, %w : tensor<?x3xf32>, tensor<4x2xf16> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @fmatmul_scales(%x: tensor<?x4xf32>, %w: tensor<4x2xf8E5M2>, %s: tensor<3xf32>) -> tensor<?x2xf32> {
  // expected-error @below {{scales must be [2]}}
  %0 = qopt.fmatmul %x, %w scales %s : tensor<?x4xf32>, tensor<4x2xf8E5M2>, tensor<3xf32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @pure_intrinsic_name(%a: vector<16xi16>) -> vector<8xi32> {
  // expected-error @below {{expects an LLVM intrinsic name (llvm.*), got 'x86.avx2.pmadd.wd'}}
  %0 = qopt.pure_intrinsic "x86.avx2.pmadd.wd"(%a, %a) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
  return %0 : vector<8xi32>
}

// -----

func.func @qmatmul_group_index_length(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>, %g: tensor<3xi32>) -> tensor<?x2xf32> {
  // expected-error @below {{group_index must be tensor<4xi32> (one group per input channel), got 'tensor<3xi32>'}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<3xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_group_index_rank(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>, %g: tensor<4x1xi32>) -> tensor<?x2xf32> {
  // expected-error @below {{group_index must be tensor<4xi32> (one group per input channel), got 'tensor<4x1xi32>'}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4x1xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_group_index_per_channel(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>, %g: tensor<4xi32>) -> tensor<?x2xf32> {
  // expected-error @below {{group_index needs weights quantized in groups}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_group_index_per_tensor(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>, %g: tensor<4xi32>) -> tensor<?x2xf32> {
  // expected-error @below {{group_index needs weights quantized in groups}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi32> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qmatmul_group_index_i64(%x: tensor<?x4xf32>, %w: tensor<4x2xi8>, %g: tensor<4xi64>) -> tensor<?x2xf32> {
  // expected-error @below {{operand #2 must be ranked tensor of 32-bit signless integer values, but got 'tensor<4xi64>'}}
  %0 = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<i8<-127:127>:f32:{0:2, 1:1}, {{0.1, 0.2}, {0.3, 0.4}}> : tensor<?x4xf32>, tensor<4x2xi8>, tensor<4xi64> -> tensor<?x2xf32>
  return %0 : tensor<?x2xf32>
}

// -----

func.func @qgather_per_tensor(%t: tensor<4x3xi8>, %ids: tensor<5xi64>) -> tensor<5x4xf32> {
  // expected-error @below {{table_type must be a per-axis (axis 1) or sub-channel (blocks {0:G, 1:1}) !quant.uniform type}}
  %0 = qopt.qgather %t[%ids] table !quant.uniform<i8<-127:127>:f32, 0.1> : tensor<4x3xi8>, tensor<5xi64> -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}

// -----

func.func @qgather_axis0(%t: tensor<4x3xi8>, %ids: tensor<5xi64>) -> tensor<5x4xf32> {
  // expected-error @below {{per-axis tables must be quantized along axis 1 (one scale per token)}}
  %0 = qopt.qgather %t[%ids] table !quant.uniform<i8<-127:127>:f32:0, {0.1, 0.2, 0.3, 0.4}> : tensor<4x3xi8>, tensor<5xi64> -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}

// -----

func.func @qgather_storage(%t: tensor<4x3xi8>, %ids: tensor<5xi64>) -> tensor<5x4xf32> {
  // expected-error @below {{table storage must be [4, 2] for 3 rows of 4 at 4 bits, got 'tensor<4x3xi8>'}}
  %0 = qopt.qgather %t[%ids] table !quant.uniform<i4<-7:7>:f32:1, {0.1, 0.2, 0.3}> : tensor<4x3xi8>, tensor<5xi64> -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}

// -----

func.func @qgather_output(%t: tensor<4x3xi8>, %ids: tensor<5xi64>) -> tensor<5x3xf32> {
  // expected-error @below {{output must be the ids' shape followed by 4}}
  %0 = qopt.qgather %t[%ids] table !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2, 0.3}> : tensor<4x3xi8>, tensor<5xi64> -> tensor<5x3xf32>
  return %0 : tensor<5x3xf32>
}

// -----

func.func @qgather_ids(%t: tensor<4x3xi8>, %ids: tensor<2x5xi64>) -> tensor<2x6x4xf32> {
  // expected-error @below {{output dimension 1 is 6, the ids' 5}}
  %0 = qopt.qgather %t[%ids] table !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2, 0.3}> : tensor<4x3xi8>, tensor<2x5xi64> -> tensor<2x6x4xf32>
  return %0 : tensor<2x6x4xf32>
}

// -----

func.func @qgather_blocks(%t: tensor<4x3xi8>, %ids: tensor<5xi64>) -> tensor<5x4xf32> {
  // expected-error @below {{table_type has 1 scales along axis 0, expected 2 (axis of size 4 in blocks of 3)}}
  %0 = qopt.qgather %t[%ids] table !quant.uniform<i8:f32:{0:3, 1:1}, {{0.1, 0.2, 0.3}}> : tensor<4x3xi8>, tensor<5xi64> -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}
