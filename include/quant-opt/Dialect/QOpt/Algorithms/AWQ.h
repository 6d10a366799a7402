//===- AWQ.h - Activation-aware weight quantization (AWQ) --------*- C++
//-*-===//
//
// AWQ (Lin et al., 2023) on the linear layers reading one activation x:
// x W = (x / s) (s W) with per-input-channel s = mean|x|^alpha, alpha
// searched on a grid for the least output error after rounding s W, then a
// per-group clipping search. The output error over the calibration rows is
// sum_n d_n^T H d_n with H = x^T x (d = W - dequantize(Q(s W)) / s), so
// the search needs x^T x, not the rows themselves: every calibration row
// counts, with fixed memory.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_ALGORITHMS_AWQ_H
#define QUANT_OPT_DIALECT_QOPT_ALGORITHMS_AWQ_H

#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include <vector>

namespace mlir::qopt {

/// One layer reading the shared activation: its weight [K, N] and scheme.
struct AWQLayer {
  llvm::ArrayRef<float> weight;
  int64_t n = 0;
  WeightScheme scheme;
};

struct AWQScale {
  std::vector<float> scale; // s, per input channel.
  double alpha = 0;         // The grid point chosen (0: s = 1, plain RTN).
  double error = 0;         // Output error with s (summed over layers).
  double rtnError = 0;      // The same with s = 1.
};

/// Searches alpha in {0, 1/grid, ..., (grid-1)/grid}: s = m^alpha with m
/// the per-channel activation magnitude (0 for dead channels, which keep
/// s = 1), normalized by sqrt(max(s) min(s)) as AWQ does, minimizing the
/// layers' summed output error under round-to-nearest with `h` = x^T x
/// ([K, K]).
AWQScale searchAWQScale(llvm::ArrayRef<AWQLayer> layers, int64_t k,
                        llvm::ArrayRef<double> h,
                        llvm::ArrayRef<double> magnitude, int64_t grid,
                        bool duo);

/// AWQ's clipping search: for every column and group of `w` ([K, N], as
/// `scheme` groups it), the clamp to +-r max|w_g| with r in
/// {1, 1 - maxShrink/grid, ..., 1 - maxShrink (grid steps)} that minimizes
/// d_g^T H_gg d_g, d_g the group's rounding error; clamps `w` in place.
/// Returns the number of clamped groups.
int64_t clipWeightGroups(std::vector<float> &w, int64_t k, int64_t n,
                         llvm::ArrayRef<double> h, const WeightScheme &scheme,
                         int64_t grid, double maxShrink);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_ALGORITHMS_AWQ_H
