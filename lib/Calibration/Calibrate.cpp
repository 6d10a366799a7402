//===- Calibrate.cpp - JIT-run the instrumented model on calibration data -===//
//
// The instrumented copy (CalibrationSession) runs the calibration windows;
// the statistics go back onto the original points as #qopt.stats.
//
//===----------------------------------------------------------------------===//

#include "CalibrationSession.h"
#include "PointStatistics.h"
#include "quant-opt/Calibration/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTCALIBRATEPASS
#include "quant-opt/Calibration/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

DenseElementsAttr f32Vector(Builder &b, ArrayRef<float> values) {
  return DenseElementsAttr::get(
      RankedTensorType::get({(int64_t)values.size()}, b.getF32Type()), values);
}

StatsAttr weightStats(ObserveOp op) {
  auto constant = lookThroughObserve(op.getInput());
  std::vector<float> w =
      constant ? readF32Constant(constant) : std::vector<float>();
  if (w.empty())
    return nullptr;
  auto type = cast<RankedTensorType>(op.getType());
  int64_t channels = type.getDimSize(type.getRank() - 1);
  std::vector<float> absmax(channels, 0.0f);
  double lo = 0, hi = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i]))
      return nullptr;
    lo = std::min<double>(lo, w[i]);
    hi = std::max<double>(hi, w[i]);
    absmax[i % channels] = std::max(absmax[i % channels], std::fabs(w[i]));
  }
  Builder b(op.getContext());
  return StatsAttr::get(op.getContext(), "constant",
                        (int64_t)w.size() / channels, b.getF64FloatAttr(lo),
                        b.getF64FloatAttr(hi), nullptr, nullptr,
                        f32Vector(b, absmax), nullptr, nullptr);
}

struct QOptCalibratePass
    : qopt::impl::QOptCalibratePassBase<QOptCalibratePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto error = [&](const Twine &message) {
      // On the location: a module is not worth printing after the message.
      emitError(module.getLoc()) << "qopt-calibrate: " << message;
      signalPassFailure();
    };
    if (!llvm::is_contained(
            {"minmax", "moving-average", "percentile", "entropy", "mse"},
            method.getValue()))
      return error("unknown method '" + method +
                   "' (minmax, moving-average, percentile, entropy, mse)");
    if (samples <= 0)
      return error("samples must be >= 1, got " + Twine(int64_t(samples)));
    if (seqLen <= 1)
      return error("seq-len must be >= 2, got " + Twine(int64_t(seqLen)));
    if (percentile <= 0 || percentile > 100)
      return error("percentile must be in (0, 100]");

    SmallVector<ObserveOp> activations;
    bool weightFailed = false;
    module.walk([&](ObserveOp op) {
      if (op.getRole() == ObserveRole::weight) {
        StatsAttr stats = weightStats(op);
        if (!stats) {
          op.emitError() << "weight point '" << op.getPoint()
                         << "' is not a finite f32 constant";
          weightFailed = true;
          return;
        }
        op.setStatsAttr(stats);
      } else if (cast<RankedTensorType>(op.getType())
                     .getElementType()
                     .isF32()) {
        activations.push_back(op);
      }
    });
    if (weightFailed)
      return signalPassFailure();
    if (activations.empty())
      return;

    auto tokens =
        readCalibrationTokens(data, this->tokens, tokenizerDir, seqLen);
    if (!tokens)
      return error(llvm::toString(tokens.takeError()));

    auto session = CalibrationSession::create(module, activations, {});
    if (!session)
      return error(llvm::toString(session.takeError()));
    StatisticsOptions statsOptions;
    statsOptions.bins = bins;
    statsOptions.perChannel = perChannel;
    statsOptions.xtx = collectXtx;
    statsOptions.averagingConstant = averagingConstant;
    std::vector<PointStatistics> points;
    if (auto err = (*session)->run(*tokens, {samples, seqLen}, statsOptions, {},
                                   /*lastPositionOnly=*/false,
                                   progress ? "qopt-calibrate" : "", points))
      return error(llvm::toString(std::move(err)));

    // Attach the statistics.
    Builder b(&getContext());
    bool failedAny = false;
    // The compiled copy is no longer needed: free it before the statistics
    // become attributes (the x^T x of GPT-2 124M's layers is ~1 GB in f64).
    session->reset();
    for (auto [op, stats] : llvm::zip(activations, points)) {
      if (stats.sawNonFinite()) {
        op.emitError() << "activation point '" << op.getPoint()
                       << "' saw NaN or Inf during calibration";
        failedAny = true;
        continue;
      }
      std::string message;
      auto [lo, hi] = stats.range(method, percentile, message);
      if (!message.empty()) {
        op.emitError() << "activation point '" << op.getPoint()
                       << "': " << message;
        failedAny = true;
        continue;
      }
      DenseElementsAttr chMin, chMax;
      if (perChannel) {
        chMin = f32Vector(b, stats.channelMin());
        chMax = f32Vector(b, stats.channelMax());
      }
      ElementsAttr xtx;
      if (collectXtx) {
        int64_t k = stats.channelCount();
        AsmResourceBlob blob = HeapAsmResourceBlob::allocate(
            k * k * sizeof(float), alignof(float));
        stats.xtxMatrixInto(
            reinterpret_cast<float *>(blob.getMutableData().data()));
        stats.releaseXtx();
        xtx = DenseResourceElementsAttr::get(
            RankedTensorType::get({k, k}, b.getF32Type()), "xtx",
            std::move(blob));
      }
      op.setStatsAttr(StatsAttr::get(
          &getContext(), method, stats.rowCount(), b.getF64FloatAttr(lo),
          b.getF64FloatAttr(hi), chMin, chMax,
          f32Vector(b, stats.channelAbsMax()), xtx, nullptr));
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
