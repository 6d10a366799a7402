//===- AWQ.cpp - qopt-awq: activation-aware scaling and clipping ----------===//
//
// Layers are grouped by the op producing their input (layers reading one
// activation share its scale); each group's scale is searched
// (Algorithms/AWQ.h) and folded into the producer (ChannelScaling.h), then
// every layer's groups are clipped. The weights stay float for the
// quantizing pass that follows.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Algorithms/AWQ.h"
#include "ChannelScaling.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTAWQPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

constexpr StringLiteral kRemedy =
    "run qopt-calibrate{collect-xtx=true} before qopt-awq";

struct QOptAWQPass : QuantSchemePass<qopt::impl::QOptAWQPassBase<QOptAWQPass>> {
  using QuantSchemePass::QuantSchemePass;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<QuantScheme> scheme = parseScheme();
    if (failed(scheme))
      return signalPassFailure();
    auto fail = [&](const Twine &message) {
      module.emitError() << "qopt-awq: " << message;
      signalPassFailure();
    };
    if (scheme->floatFormat)
      return fail("AWQ scales integer weights (weight-format=int)");
    if (scheme->weights.granularity == WeightGranularity::Tensor)
      return fail("AWQ scales and clips per output channel or per group "
                  "(weight-granularity=channel or group)");
    if (grid < 1 || grid > 1000)
      return fail("grid must be in [1, 1000], got " + Twine(grid));
    if (!(maxShrink >= 0 && maxShrink < 1))
      return fail("max-shrink must be in [0, 1), got " +
                  std::to_string(maxShrink));
    SmallVector<ObservedLinear> layers = findObservedLinears(module);
    if (layers.empty())
      return fail("no observed linear layers (run qopt-insert-observers "
                  "first)");

    // Hessians first: scaling drops the statistics they come from.
    DenseMap<Operation *, std::vector<double>> hessians;
    bool failedAny = false;
    for (ObservedLinear &layer : layers) {
      int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
      FailureOr<std::vector<double>> h = calibratedXtx(layer.input, k, kRemedy);
      if (failed(h)) {
        failedAny = true;
        continue;
      }
      if (llvm::any_of(*h, [](double v) { return !std::isfinite(v); })) {
        layer.input.emitError()
            << "qopt-awq: layer '" << pointLayer(layer.input)
            << "': x^T x has a non-finite entry";
        failedAny = true;
        continue;
      }
      FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
      if (failed(w)) {
        failedAny = true;
        continue;
      }
      if (llvm::any_of(*w, [](float v) { return !std::isfinite(v); })) {
        layer.weight.emitError()
            << "qopt-awq: layer '" << pointLayer(layer.input)
            << "': the weight has a non-finite value";
        failedAny = true;
        continue;
      }
      hessians[layer.matmul] = std::move(*h);
    }
    if (failedAny)
      return signalPassFailure();
    llvm::MapVector<Operation *, SmallVector<ObservedLinear>> groups;
    SmallVector<ObservedLinear> alone;
    for (ObservedLinear &layer : layers) {
      int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
      if (linalg::GenericOp producer =
              channelProducer(layer.input.getInput(), k))
        groups[producer].push_back(layer);
      else
        alone.push_back(layer);
    }
    for (auto &[op, members] : groups) {
      auto producer = cast<linalg::GenericOp>(op);
      if (!feedsOnly(producer, members)) {
        alone.append(members.begin(), members.end());
        continue;
      }
      if (failed(scaleGroup(producer, members, *scheme, hessians)))
        return signalPassFailure();
    }
    for (ObservedLinear &layer : alone)
      if (failed(clipOnly(layer, *scheme, hessians[layer.matmul])))
        return signalPassFailure();
  }

private:
  LogicalResult scaleGroup(linalg::GenericOp producer,
                           MutableArrayRef<ObservedLinear> layers,
                           const QuantScheme &scheme,
                           DenseMap<Operation *, std::vector<double>> &hs) {
    int64_t k =
        cast<RankedTensorType>(layers[0].weight.getType()).getDimSize(0);
    const std::vector<double> &h = hs[layers[0].matmul];
    StatsAttr stats = layers[0].input.getStatsAttr();
    double rows = std::max<int64_t>(1, stats.getSamples());
    std::vector<double> rms(k);
    for (int64_t j = 0; j < k; ++j)
      rms[j] = std::sqrt(std::max(0.0, h[j * k + j]) / rows);
    SmallVector<std::vector<float>> weights;
    SmallVector<AWQLayer> awqLayers;
    SmallVector<QuantScheme> schemes;
    for (ObservedLinear &layer : layers) {
      FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
      if (failed(w))
        return failure();
      weights.push_back(std::move(*w));
      schemes.push_back(schemeAt(scheme, layer.input));
      std::string error = checkWeightScheme(schemes.back().weights, k);
      if (!error.empty())
        return layer.weight.emitError()
               << "qopt-awq: layer '" << pointLayer(layer.input)
               << "': " << error;
    }
    for (auto [i, layer] : llvm::enumerate(layers))
      awqLayers.push_back(
          {weights[i], (int64_t)weights[i].size() / k, schemes[i].weights});
    AWQScale best = searchAWQScale(awqLayers, k, h, rms, grid, duoScaling);
    std::vector<float> invScale(k);
    for (int64_t j = 0; j < k; ++j)
      invScale[j] = static_cast<float>(1.0 / best.scale[j]);
    // Clip the scaled weights against the scaled input's Hessian.
    std::vector<double> hs2(h);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        hs2[i * k + j] = h[i * k + j] * invScale[i] * invScale[j];
    int64_t clamped = 0;
    for (auto [i, w] : llvm::enumerate(weights)) {
      int64_t n = w.size() / k;
      for (int64_t r = 0; r < k; ++r)
        for (int64_t c = 0; c < n; ++c)
          w[r * n + c] *= best.scale[r];
      if (clip)
        clamped +=
            clipWeightGroups(w, k, n, hs2, schemes[i].weights, grid, maxShrink);
    }
    for (ObservedLinear &layer : layers)
      llvm::errs() << llvm::format(
          "qopt-awq: layer '%s': alpha %.2f, output error %.4g (RTN %.4g, "
          "x%.2f)%s\n",
          pointLayer(layer.input).str().c_str(), best.alpha, best.error,
          best.rtnError, best.rtnError > 0 ? best.error / best.rtnError : 1.0,
          clip ? (", " + std::to_string(clamped) + " groups clipped").c_str()
               : "");
    scaleLayerInputs(producer, layers, weights, best.scale, invScale,
                     /*weightsScaled=*/true);
    return success();
  }

  LogicalResult clipOnly(ObservedLinear &layer, const QuantScheme &scheme,
                         ArrayRef<double> h) {
    if (!clip)
      return success();
    int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
    QuantScheme layerScheme = schemeAt(scheme, layer.input);
    std::string error = checkWeightScheme(layerScheme.weights, k);
    if (!error.empty())
      return layer.weight.emitError()
             << "qopt-awq: layer '" << pointLayer(layer.input)
             << "': " << error;
    FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
    if (failed(w))
      return failure();
    int64_t n = w->size() / k;
    int64_t clamped =
        clipWeightGroups(*w, k, n, h, layerScheme.weights, grid, maxShrink);
    llvm::errs() << "qopt-awq: layer '" << pointLayer(layer.input)
                 << "': no producer to fold a scale into; " << clamped
                 << " groups clipped\n";
    replaceLayerWeight(layer, *w, "clipped_weight");
    return success();
  }
};

} // namespace
