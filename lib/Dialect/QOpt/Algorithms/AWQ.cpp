//===- AWQ.cpp - Activation-aware weight quantization (AWQ) ---------------===//

#include "quant-opt/Dialect/QOpt/Algorithms/AWQ.h"
#include "quant-opt/Dialect/QOpt/Algorithms/GPTQ.h"

#include <algorithm>
#include <cblas.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace mlir::qopt;

/// The layer's error with input channels scaled by `s`: W against
/// dequantize(Q(s W)) / s, weighted by H.
static double scaledError(const AWQLayer &layer, int64_t k, ArrayRef<double> h,
                          ArrayRef<float> s) {
  int64_t n = layer.n;
  std::vector<float> scaled(layer.weight.begin(), layer.weight.end());
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      scaled[r * n + c] *= s[r];
  std::string error;
  WeightScheme scheme = layer.scheme;
  scheme.mseClip = false;
  QuantizedWeight q = quantizeWeight(scaled, k, n, scheme, error);
  if (!error.empty())
    return INFINITY;
  std::vector<float> approx = dequantizeWeight(q);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      approx[r * n + c] /= s[r];
  return hessianWeightedDifference(layer.weight, approx, k, n, h);
}

AWQScale mlir::qopt::searchAWQScale(ArrayRef<AWQLayer> layers, int64_t k,
                                    ArrayRef<double> h,
                                    ArrayRef<double> magnitude, int64_t grid,
                                    bool duo) {
  std::vector<float> ones(k, 1.0f);
  AWQScale best;
  best.alpha = 0;
  best.scale = ones;
  for (const AWQLayer &layer : layers)
    best.rtnError += scaledError(layer, k, h, ones);
  best.error = best.rtnError;
  // AutoAWQ's duo scaling: the weight side is each input channel's mean
  // |w| relative to its group's max, over the layers' output channels.
  std::vector<double> weightMean(k, 0.0);
  int64_t columns = 0;
  for (const AWQLayer &layer : layers) {
    int64_t g = layer.scheme.granularity == WeightGranularity::Group
                    ? layer.scheme.groupSize
                    : k;
    for (int64_t c = 0; c < layer.n; ++c)
      for (int64_t g0 = 0; g0 < k; g0 += g) {
        int64_t end = std::min(g0 + g, k); // The last group may be shorter.
        double m = 0;
        for (int64_t r = g0; r < end; ++r)
          m = std::max(m, (double)std::fabs(layer.weight[r * layer.n + c]));
        for (int64_t r = g0; r < end && m > 0; ++r)
          weightMean[r] += std::fabs(layer.weight[r * layer.n + c]) / m;
      }
    columns += layer.n;
  }
  for (double &v : weightMean)
    v /= std::max<int64_t>(1, columns);
  std::vector<float> s(k);
  for (int64_t step = 0; step < grid; ++step) {
    double alpha = double(step) / grid;
    double lo = INFINITY, hi = 0;
    for (int64_t j = 0; j < k; ++j) {
      double v = 1.0;
      if (magnitude[j] > 0) {
        v = std::pow(magnitude[j], alpha);
        if (duo)
          v /= std::pow(weightMean[j], 1 - alpha) + 1e-4;
        v = std::max(v, 1e-4);
      }
      s[j] = static_cast<float>(v);
      if (magnitude[j] > 0) { // Dead channels keep s = 1, outside the norm.
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    if (!(hi > 0))
      break; // No live channel: nothing to scale.
    double norm = std::sqrt(lo * hi);
    for (int64_t j = 0; j < k; ++j)
      s[j] = static_cast<float>(magnitude[j] > 0 ? s[j] / norm : 1.0);
    double error = 0;
    for (const AWQLayer &layer : layers)
      error += scaledError(layer, k, h, s);
    if (std::getenv("QOPT_AWQ_DEBUG"))
      std::fprintf(stderr, "awq alpha %.2f error %.6g (s=1: %.6g)\n", alpha,
                   error, best.rtnError);
    if (error < best.error) {
      best.error = error;
      best.alpha = alpha;
      best.scale = s;
    }
  }
  return best;
}

int64_t mlir::qopt::clipWeightGroups(std::vector<float> &w, int64_t k,
                                     int64_t n, ArrayRef<double> h,
                                     const WeightScheme &scheme, int64_t grid,
                                     double maxShrink) {
  int64_t g = scheme.granularity == WeightGranularity::Group
                  ? std::min(scheme.groupSize, k)
                  : k;
  int64_t clamped = 0;
  std::vector<double> hg(g * g), d(g * n), hd(g * n), bestError(n);
  std::vector<float> bestRatio(n), absmax(n);
  for (int64_t g0 = 0; g0 < k; g0 += g) {
    int64_t rows = std::min(g, k - g0); // The last group may be shorter.
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < rows; ++j)
        hg[i * rows + j] = h[(g0 + i) * k + g0 + j];
    std::fill(absmax.begin(), absmax.end(), 0.0f);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t c = 0; c < n; ++c)
        absmax[c] = std::max(absmax[c], std::fabs(w[(g0 + i) * n + c]));
    std::fill(bestError.begin(), bestError.end(), INFINITY);
    std::fill(bestRatio.begin(), bestRatio.end(), 1.0f);
    for (int64_t step = 0; step < grid; ++step) {
      float ratio = static_cast<float>(1.0 - maxShrink * step / grid);
      for (int64_t c = 0; c < n; ++c) {
        float limit = absmax[c] * ratio;
        double lo = 0, hi = 0;
        for (int64_t i = 0; i < rows; ++i) {
          float v = std::clamp(w[(g0 + i) * n + c], -limit, limit);
          lo = std::min<double>(lo, v);
          hi = std::max<double>(hi, v);
        }
        AffineParams p = computeParams(lo, hi, scheme.bits, scheme.symmetric);
        for (int64_t i = 0; i < rows; ++i) {
          float orig = w[(g0 + i) * n + c];
          float v = std::clamp(orig, -limit, limit);
          d[i * n + c] =
              double(orig) - double(dequantizeValue(quantizeValue(v, p), p));
        }
      }
      // H_gg times every column's error at once (BLAS-3).
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, rows, 1.0,
                  hg.data(), rows, d.data(), n, 0.0, hd.data(), n);
      for (int64_t c = 0; c < n; ++c) {
        double e = 0;
        for (int64_t i = 0; i < rows; ++i)
          e += d[i * n + c] * hd[i * n + c];
        if (e < bestError[c]) {
          bestError[c] = e;
          bestRatio[c] = ratio;
        }
      }
    }
    for (int64_t c = 0; c < n; ++c) {
      if (bestRatio[c] >= 1.0f)
        continue;
      ++clamped;
      float limit = absmax[c] * bestRatio[c];
      for (int64_t i = 0; i < rows; ++i) {
        float &v = w[(g0 + i) * n + c];
        v = std::clamp(v, -limit, limit);
      }
    }
  }
  return clamped;
}
