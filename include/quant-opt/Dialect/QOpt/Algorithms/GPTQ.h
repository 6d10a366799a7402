//===- GPTQ.h - Error-compensating weight rounding (GPTQ) --------*- C++
//-*-===//
//
// GPTQ (Frantar et al., 2022) on one linear layer: the weight's input
// channels are rounded one at a time, and each rounding error is spread over
// the channels not yet rounded through the inverse Hessian of the layer's
// inputs, H = 2/N sum x x^T. Plain C++ over LAPACK/BLAS (OpenBLAS): no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_ALGORITHMS_GPTQ_H
#define QUANT_OPT_DIALECT_QOPT_ALGORITHMS_GPTQ_H

#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include <string>
#include <vector>

namespace mlir::qopt {

struct GPTQOptions {
  /// Bits (3, 4 or 8), symmetry, per channel or per group (mseClip unused).
  WeightScheme scheme;
  /// Damping, a fraction of the mean diagonal of H added to its diagonal;
  /// doubled until the Cholesky factorizations succeed.
  double damp = 0.01;
  /// Rows (input channels) per lazy batch; with groups, rounded to a
  /// multiple of the group size so that no group crosses a block.
  int64_t blockSize = 128;
  /// Round input channels by decreasing H_jj.
  bool actOrder = false;
  /// With act-order and groups: group parameters from the contiguous groups
  /// of the original order, computed before any rounding (no group index).
  bool staticGroups = false;
};

struct GPTQResult {
  /// Codes [K, N] in the original row order; params [K/G, N]. With
  /// act-order and groups (not static) `weight.groupIndex` is set.
  QuantizedWeight weight;
  double dampUsed = 0;
  int64_t deadChannels = 0;
  /// sum_n d_n^T H d_n with d = W - dequantize(Q), for GPTQ and for
  /// round-to-nearest on the same grid; and the plain squared errors.
  double errorH = 0, rtnErrorH = 0;
  double errorF = 0, rtnErrorF = 0;
  /// errorH relative to RTN's (1 when RTN's is 0).
  double errorRatio() const { return rtnErrorH > 0 ? errorH / rtnErrorH : 1.0; }
};

/// Runs GPTQ on `w` ([K, N] row-major, rows are input channels) with the
/// Hessian `h` ([K, K] row-major, symmetric). On failure (bad options,
/// non-finite inputs, no damping that makes H positive definite) returns
/// false with a message in `error`.
bool runGPTQ(llvm::ArrayRef<float> w, int64_t k, int64_t n,
             llvm::ArrayRef<double> h, const GPTQOptions &options,
             GPTQResult &result, std::string &error);

/// sum_n d_n^T H d_n with d = W - dequantize(q) ([K, N], H [K, K]).
double hessianWeightedError(llvm::ArrayRef<float> w, const QuantizedWeight &q,
                            llvm::ArrayRef<double> h);
/// The same with d = W - approx ([K, N] each).
double hessianWeightedDifference(llvm::ArrayRef<float> w,
                                 llvm::ArrayRef<float> approx, int64_t k,
                                 int64_t n, llvm::ArrayRef<double> h);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_ALGORITHMS_GPTQ_H
