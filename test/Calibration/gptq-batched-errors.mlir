// qopt-gptq{sequential=false} with calibration data refuses, before it
// compiles anything, a calibration that cannot fit: an input whose x^T x
// sums alone exceed hessian-memory-mb (named, with the bytes it needs), or
// a peak estimate beyond the available memory even one layer at a time
// (QOPT_MEM_AVAILABLE_MB stands in for the machine's figure).
//
// RUN: echo "1 2 3 4" > %t.tokens
// RUN: quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false tokens=%t.tokens seq-len=2 hessian-memory-mb=0.0001" -verify-diagnostics
// RUN: not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false tokens=%t.tokens seq-len=2 hessian-memory-mb=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: env QOPT_MEM_AVAILABLE_MB=0.0009 not quant-opt %s -split-input-file -qopt-gptq="sequential=false progress=false tokens=%t.tokens seq-len=2" 2>&1 | FileCheck %s --check-prefix=REFUSED
// NEGATIVE: error: qopt-gptq: hessian-memory-mb must be >= 0 (0: derived from the available memory), got -1
// The estimate: weights 32 B (4 x 2 f32) in the module and again in the
// calibration model's archive, GPTQ's working set 32 K^2 + 30 K N = 752 B,
// activations 2 rows x 4 B x (K + N + N) = 64 B, x^T x 4 x 4 x 8 + 2 rows x
// 4 x 8 = 192 B.
// REFUSED: error: qopt-gptq: calibrating in layer batches needs about 1.0 KB at its peak even one layer at a time (the module's weights 32 B (loaded), the calibration model's weight archive 32 B, GPTQ's working set 752 B, one window's activations 64 B, x^T x 192 B for layer 'fc'): 1.0 KB beyond the module, but 943 B is available (MemAvailable less the files this process maps)

func.func @fc(%x: tensor<?x4xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  // expected-error @below {{qopt-gptq: layer 'fc': its x^T x sums need 192 bytes (192 B), more than one calibration run may hold (hessian-memory-mb=0.0001: 104 bytes)}}
  %xo = qopt.observe %x activation "fc:input" : tensor<?x4xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>) outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
