//===- SmoothActivations.cpp - SmoothQuant scaling of linear inputs -------===//
//
// x W = (x / s) (s W): per input channel, part of the activation's range
// moves into the weight rows, where per-output-channel weight scales absorb
// it. The division is folded into the elementwise op that produces x.
//
//===----------------------------------------------------------------------===//

#include "ChannelScaling.h"
#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/MapVector.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSMOOTHACTIVATIONSPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct QOptSmoothActivationsPass
    : qopt::impl::QOptSmoothActivationsPassBase<QOptSmoothActivationsPass> {
  using QOptSmoothActivationsPassBase::QOptSmoothActivationsPassBase;

  void runOnOperation() override {
    if (!(alpha >= 0.0 && alpha <= 1.0)) {
      getOperation().emitError()
          << "qopt-smooth-activations: alpha must be in [0, 1], got " << alpha;
      return signalPassFailure();
    }
    if (failed(checkLayerPattern(getOperation(), getArgument(), "skip", skip)))
      return signalPassFailure();
    // Layers grouped by the op producing their input: layers that read one
    // activation must share its scale.
    llvm::MapVector<Operation *, SmallVector<ObservedLinear>> groups;
    llvm::SmallPtrSet<Operation *, 4> skipped;
    for (ObservedLinear &layer : findObservedLinears(getOperation())) {
      int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
      linalg::GenericOp producer = channelProducer(layer.input.getInput(), k);
      if (!producer)
        continue;
      groups[producer].push_back(layer);
      if (layerPatternMatches(skip, pointLayer(layer.input),
                              pointRole(layer.input)))
        skipped.insert(producer);
    }
    for (auto &[op, layers] : groups)
      if (!skipped.contains(op) &&
          failed(smooth(cast<linalg::GenericOp>(op), layers)))
        return signalPassFailure();
  }

  LogicalResult smooth(linalg::GenericOp producer,
                       MutableArrayRef<ObservedLinear> layers) {
    if (!feedsOnly(producer, layers))
      return success();
    int64_t k =
        cast<RankedTensorType>(layers[0].weight.getType()).getDimSize(0);
    std::vector<float> actMax(k, 0.0f), weightMax(k, 0.0f);
    SmallVector<std::vector<float>> weights;
    for (ObservedLinear &layer : layers) {
      FailureOr<SmallVector<float>> absmax = calibratedChannelAbsmax(
          layer.input, k, "smoothing needs calibrated per-channel maxima");
      if (failed(absmax))
        return failure();
      FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
      if (failed(w))
        return failure();
      int64_t n = w->size() / k;
      for (int64_t j = 0; j < k; ++j) {
        actMax[j] = std::max(actMax[j], (*absmax)[j]);
        for (int64_t c = 0; c < n; ++c)
          weightMax[j] = std::max(weightMax[j], std::fabs((*w)[j * n + c]));
      }
      weights.push_back(std::move(*w));
    }
    std::vector<float> scale(k, 1.0f), invScale(k, 1.0f);
    for (int64_t j = 0; j < k; ++j) {
      if (!(actMax[j] > 0) || !(weightMax[j] > 0))
        continue; // A dead channel or row: nothing to balance.
      double s = std::pow((double)actMax[j], alpha) /
                 std::pow((double)weightMax[j], 1.0 - alpha);
      s = std::clamp(s, 1e-5, 1e5);
      scale[j] = (float)s;
      invScale[j] = (float)(1.0 / s);
    }
    scaleLayerInputs(producer, layers, weights, scale, invScale);
    return success();
  }
};

} // namespace
