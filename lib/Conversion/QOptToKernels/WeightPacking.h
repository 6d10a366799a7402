//===- WeightPacking.h - Compile-time weight layouts for the kernels -*- C++
//-*-===//
//
// The fast kernels read weights in panels of kPanel output columns, each
// panel contiguous so that a kernel streams it from memory once. These
// functions read a qopt.qmatmul's packed ONNX-layout weight constant and
// repack it at compile time; the externalize pass later moves the repacked
// constants into the weight archive, so they are stored that way.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CONVERSION_QOPTTOKERNELS_WEIGHTPACKING_H
#define QUANT_OPT_CONVERSION_QOPTTOKERNELS_WEIGHTPACKING_H

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include <cstdint>
#include <vector>

namespace mlir::qopt {

/// Output columns per panel: 16 f32 (two AVX2 registers, one AVX-512
/// register, four NEON registers) or 16 int32 accumulators.
constexpr int64_t kPanel = 16;

/// A qmatmul weight as integers with its parameters.
struct QMatmulWeights {
  /// `groups` groups of `group` rows of K, the last one shorter when the
  /// size does not divide K.
  int64_t k = 0, n = 0, group = 0, groups = 0;
  unsigned bits = 8;
  bool isSigned = true;
  std::vector<int32_t> values;     ///< [K, N], the stored integers.
  std::vector<float> scales;       ///< [groups, N].
  std::vector<int32_t> zeroPoints; ///< [groups, N].
  int64_t panels() const { return (n + kPanel - 1) / kPanel; }
};

/// The weight of `op` if it is a constant; failure otherwise.
FailureOr<QMatmulWeights> readQMatmulWeights(QMatmulOp op);

/// Weights for the float-activation kernel: `bytes` is [P, K, B] with
/// B = 8 (4 bits: byte j of a panel row holds column j in its low nibble
/// and column j + 8 in its high nibble, as unsigned values: signed ones
/// offset by 8, which the kernel subtracts after unpacking) or 16 (8 bits,
/// as stored). A weight is (v - zp) * scale = v * scale + bias with v the
/// value after unpacking (symmetric weights need no bias); `scales` and
/// `biases` are [P, groups, kPanel] (0 in padding columns).
struct FloatKernelWeights {
  std::vector<char> bytes;
  std::vector<float> scales, biases;
  bool hasBias = false;
  int64_t bytesPerRow = 0;
};
FloatKernelWeights packForFloatKernel(const QMatmulWeights &w);

/// Weights for the integer kernels (W8A8, W4A8): k-blocks of `ku`
/// consecutive k per column, K padded with zeros to Kp = a multiple of ku
/// (one group only; groups are multiples of ku). 8 bits: `bytes` is
/// [P, Kp / ku, kPanel * ku] signed bytes w' (unsigned weights shifted by
/// -128, their zero points with them). 4 bits: w' = the unsigned nibble
/// (signed weights offset by +8, their zero points with them), two per
/// byte: [P, Kp / ku, kPanel * ku / 2], element e of a block in the low
/// nibble of byte e when e < kPanel * ku / 2, else in the high nibble of
/// byte e - kPanel * ku / 2. Per group and column (padded to P * kPanel),
/// [groups, P * kPanel]: `columnSums` (of w' over the group), `zeroPoints`
/// (of w') and `scales`.
struct IntegerKernelWeights {
  std::vector<char> bytes;
  std::vector<int32_t> columnSums, zeroPoints;
  std::vector<float> scales;
  int64_t paddedK = 0;
  bool hasZeroPoint = false;
};
IntegerKernelWeights packForIntegerKernel(const QMatmulWeights &w, int64_t ku);

} // namespace mlir::qopt

#endif // QUANT_OPT_CONVERSION_QOPTTOKERNELS_WEIGHTPACKING_H
