//===- QuantParams.cpp - Quantization parameters and rounding -------------===//

#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

AffineParams mlir::qopt::computeParams(double lo, double hi, unsigned bits,
                                       bool symmetric) {
  AffineParams p;
  if (symmetric) {
    p.qmax = (int64_t(1) << (bits - 1)) - 1;
    p.qmin = -p.qmax;
    double absmax = std::max(std::fabs(lo), std::fabs(hi));
    float scale = static_cast<float>(absmax / p.qmax);
    p.scale = scale > 0 && std::isfinite(scale) ? scale : 1.0f;
    return p;
  }
  p.qmin = 0;
  p.qmax = (int64_t(1) << bits) - 1;
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  float scale = static_cast<float>((hi - lo) / p.qmax);
  if (!(scale > 0) || !std::isfinite(scale))
    return p; // Zero-width range: scale 1, zero point 0.
  p.scale = scale;
  double zp = std::nearbyint(-lo / scale);
  p.zeroPoint = static_cast<int64_t>(std::clamp<double>(zp, 0, p.qmax));
  return p;
}

int64_t mlir::qopt::quantizeValue(float x, const AffineParams &p) {
  // Float division and round-half-to-even, as ONNX Runtime's
  // QuantizeLinear; NaN saturates to the zero point rather than being UB.
  float r = std::nearbyint(x / p.scale);
  if (std::isnan(r))
    return p.zeroPoint;
  double q = static_cast<double>(r) + p.zeroPoint;
  return static_cast<int64_t>(std::clamp<double>(q, p.qmin, p.qmax));
}

std::string mlir::qopt::checkWeightScheme(const WeightScheme &scheme,
                                          int64_t k) {
  if (scheme.bits != 3 && scheme.bits != 4 && scheme.bits != 8)
    return "weight bits must be 3, 4 or 8, got " + std::to_string(scheme.bits);
  if (scheme.granularity == WeightGranularity::Group) {
    if (scheme.groupSize < 2 || scheme.groupSize % 2 != 0)
      return "group size must be an even number >= 2, got " +
             std::to_string(scheme.groupSize);
  }
  return "";
}

/// Parameters for `values` (strided), optionally with a clipping ratio
/// chosen to minimise the squared quantization error.
static AffineParams groupParams(const float *w, int64_t count, int64_t stride,
                                unsigned bits, bool symmetric, bool mseClip) {
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min<double>(lo, w[i * stride]);
    hi = std::max<double>(hi, w[i * stride]);
  }
  AffineParams best = computeParams(lo, hi, bits, symmetric);
  if (!mseClip)
    return best;
  auto error = [&](const AffineParams &p) {
    double e = 0;
    for (int64_t i = 0; i < count; ++i) {
      float v = w[i * stride];
      double d = v - dequantizeValue(quantizeValue(v, p), p);
      e += d * d;
    }
    return e;
  };
  double bestError = error(best);
  // A grid of shrinking ranges, as AWQ's and llama.cpp's searches do.
  for (int step = 1; step <= 20; ++step) {
    double ratio = 1.0 - 0.025 * step;
    AffineParams p = computeParams(lo * ratio, hi * ratio, bits, symmetric);
    double e = error(p);
    if (e < bestError) {
      bestError = e;
      best = p;
    }
  }
  return best;
}

/// "" or a message naming the first non-finite element of `w` ([K, N]).
static std::string nonFiniteError(ArrayRef<float> w, int64_t n) {
  for (size_t i = 0; i < w.size(); ++i)
    if (!std::isfinite(w[i]))
      return "weight element [" + std::to_string(i / n) + ", " +
             std::to_string(i % n) + "] is " +
             (std::isnan(w[i]) ? "NaN" : "infinite");
  return "";
}

QuantizedWeight mlir::qopt::quantizeWeight(ArrayRef<float> w, int64_t k,
                                           int64_t n,
                                           const WeightScheme &scheme,
                                           std::string &error) {
  QuantizedWeight q;
  error = checkWeightScheme(scheme, k);
  if (!error.empty())
    return q;
  error = nonFiniteError(w, n);
  if (!error.empty())
    return q;
  q.k = k;
  q.n = n;
  q.perTensor = scheme.granularity == WeightGranularity::Tensor;
  // A group as wide as K or wider is one group per column (per channel).
  q.groupSize = scheme.granularity == WeightGranularity::Group
                    ? std::min(scheme.groupSize, k)
                    : k;
  if (q.perTensor) {
    q.params.push_back(groupParams(w.data(), k * n, 1, scheme.bits,
                                   scheme.symmetric, scheme.mseClip));
  } else {
    int64_t groups = groupCount(k, q.groupSize);
    q.params.resize(groups * n);
    // Group g of column c: rows [g*G, min((g+1)*G, K)) of column c (stride N).
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t c = 0; c < n; ++c)
        q.params[g * n + c] = groupParams(
            w.data() + g * q.groupSize * n + c, groupRows(k, q.groupSize, g), n,
            scheme.bits, scheme.symmetric, scheme.mseClip);
  }
  q.values.resize(k * n);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      q.values[r * n + c] =
          static_cast<int16_t>(quantizeValue(w[r * n + c], q.paramsAt(r, c)));
  return q;
}

std::vector<char> mlir::qopt::packWeight(const QuantizedWeight &q,
                                         unsigned bits) {
  int64_t rowBytes = (q.n * bits + 7) / 8;
  std::vector<char> bytes(q.k * rowBytes, 0);
  for (int64_t r = 0; r < q.k; ++r)
    for (int64_t c = 0; c < q.n; ++c) {
      uint8_t v = static_cast<uint8_t>(q.values[r * q.n + c]);
      if (bits == 8) {
        bytes[r * rowBytes + c] = static_cast<char>(v);
        continue;
      }
      char &byte = bytes[r * rowBytes + c / 2];
      byte = static_cast<char>(c % 2 ? (byte & 0x0F) | ((v & 0xF) << 4)
                                     : (byte & 0xF0) | (v & 0xF));
    }
  return bytes;
}

std::vector<float> mlir::qopt::dequantizeWeight(const QuantizedWeight &q) {
  std::vector<float> w(q.k * q.n);
  for (int64_t r = 0; r < q.k; ++r)
    for (int64_t c = 0; c < q.n; ++c)
      w[r * q.n + c] = dequantizeValue(q.values[r * q.n + c], q.paramsAt(r, c));
  return w;
}

static Type storageType(MLIRContext *ctx, unsigned bits) {
  return IntegerType::get(ctx, bits);
}

quant::QuantizedType mlir::qopt::weightQuantType(MLIRContext *ctx,
                                                 const QuantizedWeight &q,
                                                 unsigned bits,
                                                 bool symmetric) {
  unsigned flags = symmetric ? quant::QuantizationFlags::Signed : 0;
  // 3-bit codes live in the 4-bit container; qmin/qmax narrow the range.
  bits = containerBits(bits);
  Type storage = storageType(ctx, bits);
  Type f32 = Float32Type::get(ctx);
  const AffineParams &first = q.params.front();
  if (q.perTensor)
    return quant::UniformQuantizedType::get(flags, storage, f32, first.scale,
                                            first.zeroPoint, first.qmin,
                                            first.qmax);
  if (q.groupSize == q.k) {
    SmallVector<double> scales;
    SmallVector<int64_t> zps;
    for (const AffineParams &p : q.params) {
      scales.push_back(p.scale);
      zps.push_back(p.zeroPoint);
    }
    return quant::UniformQuantizedPerAxisType::get(
        flags, storage, f32, scales, zps, 1, first.qmin, first.qmax);
  }
  int64_t groups = groupCount(q.k, q.groupSize);
  SmallVector<APFloat> scales;
  SmallVector<APInt> zps;
  for (const AffineParams &p : q.params) {
    scales.emplace_back(p.scale);
    zps.emplace_back(bits, p.zeroPoint, /*isSigned=*/symmetric);
  }
  auto scaleType = RankedTensorType::get({groups, q.n}, f32);
  auto zpType = RankedTensorType::get({groups, q.n}, storage);
  return quant::UniformQuantizedSubChannelType::get(
      flags, storage, f32, DenseElementsAttr::get(scaleType, scales),
      DenseElementsAttr::get(zpType, zps), ArrayRef<int32_t>{0, 1},
      ArrayRef<int64_t>{q.groupSize, 1}, first.qmin, first.qmax);
}

quant::UniformQuantizedType
mlir::qopt::activationQuantType(MLIRContext *ctx, double lo, double hi,
                                unsigned bits, bool symmetric) {
  AffineParams p = computeParams(lo, hi, bits, symmetric);
  return quant::UniformQuantizedType::get(
      symmetric ? quant::QuantizationFlags::Signed : 0, storageType(ctx, bits),
      Float32Type::get(ctx), p.scale, p.zeroPoint, p.qmin, p.qmax);
}

AffineParams mlir::qopt::paramsOf(quant::QuantizedType type,
                                  ArrayRef<int64_t> index) {
  AffineParams p;
  p.qmin = type.getStorageTypeMin();
  p.qmax = type.getStorageTypeMax();
  if (auto t = dyn_cast<quant::UniformQuantizedType>(type)) {
    p.scale = static_cast<float>(t.getScale());
    p.zeroPoint = t.getZeroPoint();
  } else if (auto t = dyn_cast<quant::UniformQuantizedPerAxisType>(type)) {
    int64_t i = index[t.getQuantizedDimension()];
    p.scale = static_cast<float>(t.getScales()[i]);
    p.zeroPoint = t.getZeroPoints()[i];
  } else if (auto t = dyn_cast<quant::UniformQuantizedSubChannelType>(type)) {
    SmallVector<int64_t> at(index.begin(), index.end());
    for (auto [dim, block] : t.getBlockSizeInfo())
      at[dim] = index[dim] / block;
    auto scaleShape = t.getScales().getType().getShape();
    int64_t flat = 0;
    for (size_t d = 0; d < at.size(); ++d)
      flat = flat * scaleShape[d] + (scaleShape[d] == 1 ? 0 : at[d]);
    p.scale = t.getScales().getValues<APFloat>()[flat].convertToFloat();
    // Sub-byte elements can come back with stray high bits (the raw byte
    // in a narrow APInt): mask to the storage width, then sign-extend.
    APInt zp = t.getZeroPoints().getValues<APInt>()[flat];
    unsigned width = t.getStorageTypeIntegralWidth();
    uint64_t raw = zp.getRawData()[0] & ((uint64_t(1) << width) - 1);
    int64_t value = static_cast<int64_t>(raw);
    if (t.isSigned() && raw >> (width - 1))
      value -= int64_t(1) << width;
    p.zeroPoint = value;
  }
  return p;
}

std::optional<FloatFormat> mlir::qopt::parseFloatFormat(StringRef name) {
  if (name == "fp16")
    return FloatFormat::F16;
  if (name == "bf16")
    return FloatFormat::BF16;
  if (name == "fp8-e4m3")
    return FloatFormat::F8E4M3;
  if (name == "fp8-e5m2")
    return FloatFormat::F8E5M2;
  return std::nullopt;
}

FloatType mlir::qopt::floatFormatType(MLIRContext *ctx, FloatFormat format) {
  switch (format) {
  case FloatFormat::F16:
    return Float16Type::get(ctx);
  case FloatFormat::BF16:
    return BFloat16Type::get(ctx);
  case FloatFormat::F8E4M3:
    return Float8E4M3FNType::get(ctx);
  case FloatFormat::F8E5M2:
    return Float8E5M2Type::get(ctx);
  }
  llvm_unreachable("unknown float format");
}

bool mlir::qopt::isScaledFloatFormat(FloatFormat format) {
  return format == FloatFormat::F8E4M3 || format == FloatFormat::F8E5M2;
}

static const llvm::fltSemantics &semanticsOf(FloatFormat format) {
  switch (format) {
  case FloatFormat::F16:
    return APFloat::IEEEhalf();
  case FloatFormat::BF16:
    return APFloat::BFloat();
  case FloatFormat::F8E4M3:
    return APFloat::Float8E4M3FN();
  case FloatFormat::F8E5M2:
    return APFloat::Float8E5M2();
  }
  llvm_unreachable("unknown float format");
}

float FloatQuantizedWeight::valueAt(int64_t row, int64_t col) const {
  const llvm::fltSemantics &sem = semanticsOf(format);
  APFloat v(sem, APInt(APFloat::getSizeInBits(sem), bits[row * n + col]));
  bool lost;
  v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
  return v.convertToFloat() * scales[col];
}

FloatQuantizedWeight mlir::qopt::quantizeWeightFloat(ArrayRef<float> w,
                                                     int64_t k, int64_t n,
                                                     FloatFormat format,
                                                     std::string &error) {
  FloatQuantizedWeight q;
  error = nonFiniteError(w, n);
  if (!error.empty())
    return q;
  const llvm::fltSemantics &sem = semanticsOf(format);
  double largest = APFloat::getLargest(sem).convertToDouble();
  q.k = k;
  q.n = n;
  q.format = format;
  q.scales.assign(n, 1.0f);
  if (isScaledFloatFormat(format))
    for (int64_t c = 0; c < n; ++c) {
      double absmax = 0;
      for (int64_t r = 0; r < k; ++r)
        absmax = std::max<double>(absmax, std::fabs(w[r * n + c]));
      float s = static_cast<float>(absmax / largest);
      q.scales[c] = s > 0 && std::isfinite(s) ? s : 1.0f;
    }
  q.bits.resize(k * n);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c) {
      APFloat v(w[r * n + c] / q.scales[c]);
      bool lost;
      v.convert(sem, APFloat::rmNearestTiesToEven, &lost);
      // Rounding can carry past the largest value: saturate (as the
      // scaled formats' users expect) rather than produce Inf/NaN.
      if (!v.isFinite())
        v = APFloat::getLargest(sem, v.isNegative());
      q.bits[r * n + c] =
          static_cast<uint16_t>(v.bitcastToAPInt().getZExtValue());
    }
  return q;
}

std::vector<float> mlir::qopt::transposeMatrix(llvm::ArrayRef<float> values,
                                               int64_t rows, int64_t cols) {
  std::vector<float> t(values.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[c * rows + r] = values[r * cols + c];
  return t;
}
