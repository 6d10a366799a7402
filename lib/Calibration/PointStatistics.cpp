//===- PointStatistics.cpp - Streaming statistics of one point ------------===//

#include "PointStatistics.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include <algorithm>
#include <cblas.h>
#include <cmath>
#include <utility>

using namespace mlir::qopt;

PointStatistics::PointStatistics(const StatisticsOptions &options)
    : options(options) {
  if (this->options.bins < 128 || this->options.bins % 4)
    this->options.bins = std::max<int64_t>(128, (options.bins + 3) / 4 * 4);
}

std::string PointStatistics::observe(const float *data, int64_t nRows,
                                     int64_t nChannels, int64_t rowStride) {
  if (channels < 0) {
    channels = nChannels;
    chAbsMax.assign(channels, 0.0f);
    if (options.perChannel) {
      chMin.assign(channels, std::numeric_limits<float>::infinity());
      chMax.assign(channels, -std::numeric_limits<float>::infinity());
    }
    if (options.xtx)
      xtx.assign(channels * channels, 0.0);
  } else if (channels != nChannels) {
    return "the channel count changed from " + std::to_string(channels) +
           " to " + std::to_string(nChannels);
  }
  for (int64_t r = 0; r < nRows; ++r) {
    const float *row = data + r * rowStride;
    for (int64_t c = 0; c < nChannels; ++c) {
      float v = row[c];
      if (!std::isfinite(v)) {
        nonFinite = true;
        continue;
      }
      windowMin = std::min<double>(windowMin, v);
      windowMax = std::max<double>(windowMax, v);
      chAbsMax[c] = std::max(chAbsMax[c], std::fabs(v));
      if (options.perChannel) {
        chMin[c] = std::min(chMin[c], v);
        chMax[c] = std::max(chMax[c], v);
      }
    }
  }
  if (options.xtx)
    addToXtx(data, nRows, nChannels, rowStride);
  min = std::min(min, windowMin);
  max = std::max(max, windowMax);
  rows += nRows;
  addToHistogram(data, nRows, nChannels, rowStride);
  return "";
}

void PointStatistics::addToXtx(const float *data, int64_t nRows,
                               int64_t nChannels, int64_t rowStride) {
  // In f64, a block of rows at a time: one rank-k update (BLAS-3 dsyrk) of
  // the upper triangle. Non-finite values are reported elsewhere; here they
  // count as 0 so that one bad row cannot poison the sum.
  constexpr int64_t kRowsPerUpdate = 256;
  for (int64_t r0 = 0; r0 < nRows; r0 += kRowsPerUpdate) {
    int64_t count = std::min(kRowsPerUpdate, nRows - r0);
    rowBuffer.resize(count * nChannels);
    for (int64_t r = 0; r < count; ++r) {
      const float *row = data + (r0 + r) * rowStride;
      for (int64_t c = 0; c < nChannels; ++c)
        rowBuffer[r * nChannels + c] = std::isfinite(row[c]) ? row[c] : 0.0;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, nChannels, count, 1.0,
                rowBuffer.data(), nChannels, 1.0, xtx.data(), nChannels);
  }
}

void PointStatistics::addToHistogram(const float *data, int64_t nRows,
                                     int64_t nChannels, int64_t rowStride) {
  int64_t bins = options.bins;
  double absmax = std::max(std::fabs(min), std::fabs(max));
  if (!(absmax > 0) || !std::isfinite(absmax))
    return; // Nothing but zeros so far: no range to bin over.
  if (hist.empty()) {
    hist.assign(bins, 0.0);
    histRange = absmax;
  }
  while (absmax > histRange) {
    // Double the range: old bin j lands in new bin bins/4 + j/2.
    std::vector<double> merged(bins, 0.0);
    for (int64_t j = 0; j < bins; ++j)
      merged[bins / 4 + j / 2] += hist[j];
    hist.swap(merged);
    histRange *= 2;
  }
  double width = 2 * histRange / bins;
  for (int64_t r = 0; r < nRows; ++r)
    for (int64_t c = 0; c < nChannels; ++c) {
      float v = data[r * rowStride + c];
      if (!std::isfinite(v))
        continue;
      int64_t b = static_cast<int64_t>((v + histRange) / width);
      hist[std::clamp<int64_t>(b, 0, bins - 1)] += 1;
    }
}

void PointStatistics::endWindow() {
  if (!(windowMin <= windowMax))
    return;
  if (!emaStarted) {
    emaMin = windowMin;
    emaMax = windowMax;
    emaStarted = true;
  } else {
    emaMin += options.averagingConstant * (windowMin - emaMin);
    emaMax += options.averagingConstant * (windowMax - emaMax);
  }
  windowMin = std::numeric_limits<double>::infinity();
  windowMax = -std::numeric_limits<double>::infinity();
}

std::pair<double, double>
PointStatistics::percentileRange(double percentile) const {
  double total = 0;
  for (double h : hist)
    total += h;
  if (total == 0)
    return {min, max};
  double tail = total * (100.0 - percentile) / 200.0;
  double width = 2 * histRange / hist.size();
  // Value below which `count` values lie, interpolating inside bins.
  auto quantile = [&](double count) {
    double seen = 0;
    for (size_t b = 0; b < hist.size(); ++b) {
      if (seen + hist[b] >= count && hist[b] > 0)
        return -histRange + width * (b + (count - seen) / hist[b]);
      seen += hist[b];
    }
    return histRange;
  };
  double lo = std::max(min, quantile(tail));
  double hi = std::min(max, quantile(total - tail));
  return {std::min(lo, hi), std::max(lo, hi)};
}

double PointStatistics::entropyThreshold() const {
  // |x| histogram: half the bins, over [0, histRange].
  int64_t half = hist.size() / 2;
  std::vector<double> abs(half);
  for (int64_t i = 0; i < half; ++i)
    abs[i] = hist[half + i] + hist[half - 1 - i];
  const int64_t levels = 128; // 8-bit symmetric: 128 magnitude levels.
  double width = histRange / half;
  double bestKL = std::numeric_limits<double>::infinity();
  int64_t best = half;
  std::vector<double> p, q;
  for (int64_t i = levels; i <= half; ++i) {
    // Reference: the first i bins, with everything beyond folded into the
    // last one (those values are clipped).
    p.assign(abs.begin(), abs.begin() + i);
    for (int64_t j = i; j < half; ++j)
      p[i - 1] += abs[j];
    // Candidate: the first i bins merged into `levels` levels, each
    // level's mass spread evenly over its non-empty bins.
    q.assign(i, 0.0);
    for (int64_t l = 0; l < levels; ++l) {
      int64_t start = l * i / levels, end = (l + 1) * i / levels;
      double mass = 0;
      int64_t nonEmpty = 0;
      for (int64_t j = start; j < end; ++j) {
        mass += abs[j];
        nonEmpty += abs[j] > 0;
      }
      for (int64_t j = start; j < end; ++j)
        if (abs[j] > 0)
          q[j] = mass / nonEmpty;
    }
    double pSum = 0, qSum = 0;
    for (int64_t j = 0; j < i; ++j) {
      pSum += p[j];
      qSum += q[j];
    }
    if (pSum == 0 || qSum == 0)
      continue;
    double kl = 0;
    for (int64_t j = 0; j < i; ++j) {
      if (p[j] == 0)
        continue;
      double pj = p[j] / pSum;
      // Clipped mass where q has none: smooth instead of infinite KL.
      double qj = q[j] > 0 ? q[j] / qSum : 1e-12;
      kl += pj * std::log(pj / qj);
    }
    if (kl < bestKL) {
      bestKL = kl;
      best = i;
    }
  }
  return best * width;
}

std::pair<double, double> PointStatistics::mseRange() const {
  // Expected squared error of 8-bit asymmetric quantization over the
  // histogram (values at bin centres), for ranges shrunk from the
  // observed one.
  double width = 2 * histRange / hist.size();
  std::pair<double, double> best{min, max};
  double bestError = std::numeric_limits<double>::infinity();
  for (int step = 0; step < 100; ++step) {
    double ratio = 1.0 - 0.008 * step;
    double lo = min * ratio, hi = max * ratio;
    AffineParams p = computeParams(lo, hi, 8, /*symmetric=*/false);
    double error = 0;
    for (size_t b = 0; b < hist.size(); ++b) {
      if (hist[b] == 0)
        continue;
      float c = static_cast<float>(-histRange + width * (b + 0.5));
      double d = c - dequantizeValue(quantizeValue(c, p), p);
      error += hist[b] * d * d;
    }
    if (error < bestError) {
      bestError = error;
      best = {lo, hi};
    }
  }
  return best;
}

std::pair<double, double> PointStatistics::range(llvm::StringRef method,
                                                 double percentile,
                                                 std::string &error) const {
  error.clear();
  if (rows == 0 || !(min <= max)) {
    error = "observed no finite values";
    return {0, 0};
  }
  if (method == "minmax")
    return {min, max};
  if (method == "moving-average")
    return {emaMin, emaMax};
  // Histogram methods; an all-zero tensor has none.
  if (hist.empty())
    return {min, max};
  if (method == "percentile")
    return percentileRange(percentile);
  if (method == "entropy") {
    double t = entropyThreshold();
    return {std::max(min, -t), std::min(max, t)};
  }
  if (method == "mse")
    return mseRange();
  error = "unknown calibration method '" + method.str() +
          "' (minmax, moving-average, percentile, entropy, mse)";
  return {0, 0};
}

std::vector<double> PointStatistics::xtxMatrix() const {
  // The upper triangle holds the sums; mirror it.
  std::vector<double> m(xtx);
  for (int64_t i = 0; i < channels; ++i)
    for (int64_t j = 0; j < i; ++j)
      m[i * channels + j] = m[j * channels + i];
  return m;
}

std::vector<double> PointStatistics::takeXtxMatrix() {
  for (int64_t i = 0; i < channels; ++i)
    for (int64_t j = 0; j < i; ++j)
      xtx[i * channels + j] = xtx[j * channels + i];
  return std::exchange(xtx, {});
}

void PointStatistics::xtxMatrixInto(float *out) const {
  for (int64_t i = 0; i < channels; ++i)
    for (int64_t j = 0; j < channels; ++j)
      out[i * channels + j] = static_cast<float>(
          i <= j ? xtx[i * channels + j] : xtx[j * channels + i]);
}
