//===- QuantParams.h - Quantization parameters and rounding -----*- C++ -*-===//
//
// The arithmetic every quantization pass shares, so that fake quantization,
// real quantization and exports compute the same numbers: ranges to scales
// and zero points, ONNX QuantizeLinear rounding (half to even, saturating),
// weight quantization per tensor, per channel and per group, nibble packing,
// and the `!quant.uniform` types that describe the result.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_UTILS_QUANTPARAMS_H
#define QUANT_OPT_DIALECT_QOPT_UTILS_QUANTPARAMS_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::qopt {

/// Scale and zero point of one quantization group.
struct AffineParams {
  float scale = 1.0f;
  int64_t zeroPoint = 0;
  int64_t qmin = 0, qmax = 0;
};

/// Parameters for values in [lo, hi] at `bits` bits.
///  - symmetric: signed storage, narrow range [-(2^(b-1)-1), 2^(b-1)-1],
///    scale = max(|lo|, |hi|) / (2^(b-1)-1), zero point 0;
///  - asymmetric: unsigned storage [0, 2^b-1], the range widened to include
///    0 (so that 0 is exact), scale = (hi - lo) / (2^b - 1),
///    zero point = round(-lo / scale).
/// A range of zero width (an all-zero channel) gets scale 1 and zero point
/// 0 (asymmetric: 0 too), so every value quantizes to the zero point; this
/// is the documented behaviour for dead channels, never a division by 0.
AffineParams computeParams(double lo, double hi, unsigned bits, bool symmetric);

/// ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point),
/// computed in float like ONNX Runtime.
int64_t quantizeValue(float x, const AffineParams &p);
inline float dequantizeValue(int64_t q, const AffineParams &p) {
  return static_cast<float>(q - p.zeroPoint) * p.scale;
}

enum class WeightGranularity { Tensor, Channel, Group };

struct WeightScheme {
  /// 8, 4, or 3 (3-bit codes are stored in the 4-bit container; the
  /// `!quant.uniform` storage range says so: i4<-3:3> or u4<0:7>).
  unsigned bits = 8;
  bool symmetric = true;
  WeightGranularity granularity = WeightGranularity::Channel;
  int64_t groupSize = 128;
  /// Search a clipping ratio per group that minimises the squared error
  /// (instead of the full min/max range).
  bool mseClip = false;
};

/// A weight [K, N] (as ONNX MatMul's B: input channels by output channels)
/// quantized per tensor, per output channel (column) or per group of
/// `groupSize` input channels within a column.
struct QuantizedWeight {
  int64_t k = 0, n = 0, groupSize = 0; // groupSize == k: one group per column.
  bool perTensor = false;
  std::vector<int16_t> values; // [K, N] storage values (unpacked).
  /// [groupCount(K, groupSize), N] (1 if perTensor).
  std::vector<AffineParams> params;
  /// Optional group of each input channel (GPTQ's g_idx, act-order): row r
  /// uses the params of group groupIndex[r] instead of r / groupSize.
  std::vector<int32_t> groupIndex;
  int64_t groupOf(int64_t row) const {
    return groupIndex.empty() ? row / groupSize : groupIndex[row];
  }
  const AffineParams &paramsAt(int64_t row, int64_t col) const {
    if (perTensor)
      return params[0];
    return params[groupOf(row) * n + col];
  }
};

/// Groups of `groupSize` rows in `k`: when the size does not divide K the
/// last group is shorter (as ONNX's blocked quantization and MatMulNBits
/// do: GPT-2 XL's K = 1600 is 12 groups of 128 and one of 64).
inline int64_t groupCount(int64_t k, int64_t groupSize) {
  return (k + groupSize - 1) / groupSize;
}
/// Rows in group `g`: `groupSize`, or what is left for the last group.
inline int64_t groupRows(int64_t k, int64_t groupSize, int64_t g) {
  return std::min(groupSize, k - g * groupSize);
}

/// `values` [rows, cols] row-major, transposed to [cols, rows]. Embedding
/// tables [V, D] are quantized as [D, V] weights (one column per token).
std::vector<float> transposeMatrix(llvm::ArrayRef<float> values, int64_t rows,
                                   int64_t cols);

/// Bits of the storage container of `bits`-bit codes (3-bit codes in 4).
inline unsigned containerBits(unsigned bits) { return bits == 3 ? 4 : bits; }

/// Checks `scheme` against a weight with `k` input channels; returns an
/// error message or "".
std::string checkWeightScheme(const WeightScheme &scheme, int64_t k);

/// Quantizes the weight `w` ([K, N] row-major). Non-finite values are an
/// error (message in `error`, result empty).
QuantizedWeight quantizeWeight(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                               const WeightScheme &scheme, std::string &error);

/// The storage bytes of `q` as qopt.qmatmul reads them: [K, ceil(N*bits/8)]
/// (`bits` the container: 8 or 4),
/// 4-bit values two per byte along N, low nibble first.
std::vector<char> packWeight(const QuantizedWeight &q, unsigned bits);

/// dequantize(quantize(w)), [K, N].
std::vector<float> dequantizeWeight(const QuantizedWeight &q);

/// The `!quant.uniform` type of the [K, N] weight: per-tensor, per-axis
/// (axis 1, output channels) or sub-channel (blocks {0:G, 1:1}).
quant::QuantizedType weightQuantType(MLIRContext *ctx, const QuantizedWeight &q,
                                     unsigned bits, bool symmetric);

/// Low-precision float weight formats (with a per-output-channel scale for
/// the 8-bit ones, so that each column uses the format's whole range).
enum class FloatFormat { F16, BF16, F8E4M3, F8E5M2 };

/// Parses "fp16", "bf16", "fp8-e4m3", "fp8-e5m2".
std::optional<FloatFormat> parseFloatFormat(llvm::StringRef name);
/// The MLIR element type of a format (f16, bf16, f8E4M3FN, f8E5M2).
FloatType floatFormatType(MLIRContext *ctx, FloatFormat format);
bool isScaledFloatFormat(FloatFormat format);

/// A [K, N] weight in a float format: storage bits (row-major) and one
/// scale per column (1 for the unscaled 16-bit formats).
struct FloatQuantizedWeight {
  int64_t k = 0, n = 0;
  FloatFormat format = FloatFormat::F16;
  std::vector<uint16_t> bits;
  std::vector<float> scales;
  float valueAt(int64_t row, int64_t col) const; // Dequantized.
};

/// Rounds `w` ([K, N]) to `format` (nearest, ties to even), scaling each
/// column by max|w| / (largest finite value) for the 8-bit formats.
FloatQuantizedWeight quantizeWeightFloat(llvm::ArrayRef<float> w, int64_t k,
                                         int64_t n, FloatFormat format,
                                         std::string &error);

/// The per-tensor `!quant.uniform` type for an activation range.
quant::UniformQuantizedType activationQuantType(MLIRContext *ctx, double lo,
                                                double hi, unsigned bits,
                                                bool symmetric);

/// Parameters of a per-tensor, per-axis or sub-channel type at `index`
/// (a multi-index into the tensor the type quantizes).
AffineParams paramsOf(quant::QuantizedType type, llvm::ArrayRef<int64_t> index);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_UTILS_QUANTPARAMS_H
