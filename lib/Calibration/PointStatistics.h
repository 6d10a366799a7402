//===- PointStatistics.h - Streaming statistics of one point -*- C++ -*-===//
//
// Fixed-memory accumulators for one observation point during calibration,
// and the range methods computed from them. No MLIR here: the numbers can
// be tested on their own.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_DIALECT_QOPT_CALIBRATION_POINTSTATISTICS_H
#define QUANT_OPT_LIB_DIALECT_QOPT_CALIBRATION_POINTSTATISTICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace mlir::qopt {

struct StatisticsOptions {
  int64_t bins = 2048;     // A multiple of 4.
  bool perChannel = false; // Per-channel min/max along the last axis.
  bool xtx = false;        // K x K sum of x^T x.
  double averagingConstant = 0.01;
};

class PointStatistics {
public:
  explicit PointStatistics(const StatisticsOptions &options);

  /// Adds a [rows, channels] block (row stride `rowStride`, unit channel
  /// stride). Returns an error message if the channel count changed.
  std::string observe(const float *data, int64_t rows, int64_t channels,
                      int64_t rowStride);
  /// Ends one calibration window (for the moving average).
  void endWindow();

  bool sawNonFinite() const { return nonFinite; }
  int64_t rowCount() const { return rows; }
  int64_t channelCount() const { return channels; }
  double observedMin() const { return min; }
  double observedMax() const { return max; }

  /// The calibrated [lo, hi] under `method` (minmax, moving-average,
  /// percentile, entropy, mse); "" or an error message in `error`.
  std::pair<double, double> range(llvm::StringRef method, double percentile,
                                  std::string &error) const;

  const std::vector<float> &channelMin() const { return chMin; }
  const std::vector<float> &channelMax() const { return chMax; }
  const std::vector<float> &channelAbsMax() const { return chAbsMax; }
  /// Row-major K x K sum of x x^T over the observed rows (accumulated in
  /// f64), empty unless collected.
  std::vector<double> xtxMatrix() const;
  /// The same rounded to f32 into `out` (K x K floats).
  void xtxMatrixInto(float *out) const;
  /// The same, mirrored in place and moved out (no second K x K copy); the
  /// point holds no sums afterwards.
  std::vector<double> takeXtxMatrix();
  /// Frees the x^T x sums.
  void releaseXtx() { std::vector<double>().swap(xtx); }

private:
  void addToXtx(const float *data, int64_t rows, int64_t channels,
                int64_t rowStride);
  void addToHistogram(const float *data, int64_t rows, int64_t channels,
                      int64_t rowStride);
  std::pair<double, double> percentileRange(double percentile) const;
  double entropyThreshold() const;
  std::pair<double, double> mseRange() const;

  StatisticsOptions options;
  int64_t rows = 0, channels = -1;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double windowMin = std::numeric_limits<double>::infinity();
  double windowMax = -std::numeric_limits<double>::infinity();
  double emaMin = 0, emaMax = 0;
  bool emaStarted = false, nonFinite = false;
  std::vector<float> chMin, chMax, chAbsMax;
  std::vector<double> xtx, rowBuffer;
  // Histogram over [-histRange, histRange]; the range doubles (merging
  // bins) when a value falls outside.
  double histRange = 0;
  std::vector<double> hist;
};

} // namespace mlir::qopt

#endif // QUANT_OPT_LIB_DIALECT_QOPT_CALIBRATION_POINTSTATISTICS_H
