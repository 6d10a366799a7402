// RUN: quant-opt %s -split-input-file -qopt-quantize | FileCheck %s --check-prefix=W8
// RUN: quant-opt %s -split-input-file -qopt-quantize=weight-bits=4\ weight-granularity=group\ group-size=2 | FileCheck %s --check-prefix=W4G2
// RUN: quant-opt %s -split-input-file -qopt-quantize=weight-symmetric=false\ weight-granularity=tensor | FileCheck %s --check-prefix=ASYM
// RUN: quant-opt %s -split-input-file -qopt-quantize=activations=dynamic | FileCheck %s --check-prefix=DYN
// RUN: quant-opt %s -split-input-file -qopt-quantize=activations=dynamic\ weight-bits=4\ weight-granularity=group\ group-size=2 | FileCheck %s --check-prefix=W4A8
// RUN: quant-opt %s -split-input-file -qopt-quantize=weight-format=fp8-e4m3 | FileCheck %s --check-prefix=FP8

// The values below were computed independently with numpy (float32
// division, round half to even), for W = [[1, 2], [3, 4], [5, 6], [7, 8]]
// ([K, N] as ONNX stores it, and as the storage is laid out).

// Default (W8): per-channel symmetric int8: scales 7/127 and 8/127;
// columns [18 54 91 127] and [32 64 95 127] (4 / (8/127) = 63.5 rounds to
// 64).
// W8-LABEL: func.func @linear
// W8: %[[Q:.*]] = arith.constant dense_resource<qweight> : tensor<4x2xi8>
// W8: %[[Y:.*]] = qopt.qmatmul %arg0, %[[Q]] weight !quant.uniform<i8<-127:127>:f32:1, {0.055118110030889511,0.062992125749588013}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
// W8: return %[[Y]]
// W8-NOT: qopt.observe
// W8-NOT: linalg.matmul
// W8: qweight: "0x08000000122036405B5F7F7F"

// W4G2 prefix: int4 groups of 2 along K (scales [K/2, N]), two values per
// byte along N (low nibble first): columns [2 7 5 7] and [3 7 5 7].
// W4G2-LABEL: func.func @linear
// W4G2: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{[{][{]}}0.428571433, 0.571428597}, {1.000000e+00, 1.14285719{{[}][}]}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>
// W4G2: qweight: "0x0800000032775577"

// ASYM prefix: one asymmetric uint8 scale (8/255) and zero point 0 (the range
// [0, 8] includes 0).
// ASYM-LABEL: func.func @linear
// ASYM: qopt.qmatmul %arg0, %{{.*}} weight !quant.uniform<u8:f32, 0.031372550874948502> : tensor<?x4xf32>, tensor<4x2xi8>
// ASYM: qweight: "0x080000002040607F9FBFDFFF"

// W4A8 prefix: int4 groups with the activation quantized per token.
// W4A8-LABEL: func.func @linear
// W4A8: qopt.qmatmul %arg0, %{{.*}} dynamic_input weight !quant.uniform<i4<-7:7>:f32:{0:2, 1:1}, {{.*}}> : tensor<?x4xf32>, tensor<4x1xi8> -> tensor<?x2xf32>

// DYN prefix: the activation is quantized per token at run time.
// DYN-LABEL: func.func @linear
// DYN: qopt.qmatmul %arg0, %{{.*}} dynamic_input weight !quant.uniform<i8<-127:127>:f32:1
func.func @linear(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %xo = qopt.observe %x activation "fc:input" : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}


// FP8 prefix: float weights scaled per column by max|w| / 448: column 0
// becomes [64 192 320 448] (E4M3FN codes 68 74 7A 7E), column 1
// [112 224 336 448] (6E 76 7A 7E: 336 = 1.3125 * 2^8 ties to the even
// mantissa, 320).
// FP8-LABEL: func.func @linear
// FP8: %[[W:.*]] = arith.constant dense_resource<fweight> : tensor<4x2xf8E4M3FN>
// FP8: %[[S:.*]] = arith.constant dense_resource<fscales> : tensor<2xf32>
// FP8: qopt.fmatmul %arg0, %[[W]] scales %[[S]] : tensor<?x4xf32>, tensor<4x2xf8E4M3FN>, tensor<2xf32> -> tensor<?x2xf32>
// FP8: fweight: "0x08000000686E74767A7A7E7E"
