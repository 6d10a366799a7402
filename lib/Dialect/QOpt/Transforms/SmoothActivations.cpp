//===- SmoothActivations.cpp - SmoothQuant scaling of linear inputs -------===//
//
// x W = (x / s) (s W): per input channel, part of the activation's range
// moves into the weight rows, where per-output-channel weight scales absorb
// it. The division is folded into the elementwise op that produces x.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Regex.h"

#include <cmath>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSMOOTHACTIVATIONSPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Whether `op` reshapes without moving the innermost axis of size `k`.
bool keepsChannelAxis(Operation *op, int64_t k) {
  if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op))
    return false;
  auto in = cast<RankedTensorType>(op->getOperand(0).getType());
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  return in.getRank() > 0 && out.getRank() > 0 && in.getShape().back() == k &&
         out.getShape().back() == k;
}

/// The all-parallel single-result generic whose result reaches `x` through
/// channel-preserving reshapes, or null.
linalg::GenericOp channelProducer(Value x, int64_t k) {
  Operation *op = x.getDefiningOp();
  while (op && keepsChannelAxis(op, k))
    op = op->getOperand(0).getDefiningOp();
  auto generic = dyn_cast_or_null<linalg::GenericOp>(op);
  if (!generic || generic.getNumResults() != 1 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !generic.hasPureTensorSemantics())
    return nullptr;
  auto type = cast<RankedTensorType>(generic.getResult(0).getType());
  AffineMap out = generic.getIndexingMapsArray().back();
  if (!type.getElementType().isF32() || type.getShape().back() != k ||
      out.getNumResults() == 0 || !isa<AffineDimExpr>(out.getResults().back()))
    return nullptr;
  return generic;
}

/// Whether every reader of `producer`'s values, through reshapes, is the
/// input point of one of `layers`, read only by those layers' matmuls:
/// scaling the result then changes nothing but these layers' inputs.
bool feedsOnly(linalg::GenericOp producer, ArrayRef<ObservedLinear> layers) {
  SmallVector<Value> work{producer.getResult(0)};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<tensor::DimOp>(user)) // Reads the shape, not the values.
        continue;
      if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(user)) {
        work.push_back(user->getResult(0));
        continue;
      }
      auto observe = dyn_cast<ObserveOp>(user);
      if (!observe || !llvm::any_of(layers, [&](const ObservedLinear &l) {
            return l.input == observe;
          }))
        return false;
      for (Operation *reader : observe->getUsers())
        if (!llvm::any_of(layers, [&](const ObservedLinear &l) {
              return l.matmul == reader;
            }))
          return false;
    }
  }
  return true;
}

/// The producer computes `y * invScale[c]` instead of `y`, c being the
/// result's innermost index.
void scaleProducer(linalg::GenericOp producer, ArrayRef<float> invScale) {
  OpBuilder b(producer);
  Location loc = producer.getLoc();
  int64_t k = invScale.size();
  Value scale =
      createResourceConstant(b, loc, RankedTensorType::get({k}, b.getF32Type()),
                             invScale, "smoothing");
  SmallVector<AffineMap> maps = producer.getIndexingMapsArray();
  AffineMap out = maps.back();
  maps.insert(maps.end() - 1,
              AffineMap::get(out.getNumDims(), 0, out.getResults().back()));
  SmallVector<Value> inputs(producer.getInputs());
  inputs.push_back(scale);
  auto scaled = linalg::GenericOp::create(b, loc, producer.getResultTypes(),
                                          inputs, producer.getOutputs(), maps,
                                          producer.getIteratorTypesArray());
  scaled->setDiscardableAttrs(producer->getDiscardableAttrDictionary());
  scaled.getRegion().takeBody(producer.getRegion());
  Block &body = scaled.getRegion().front();
  Value factor =
      body.insertArgument(producer.getNumDpsInputs(), b.getF32Type(), loc);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  b.setInsertionPoint(yield);
  Value product =
      arith::MulFOp::create(b, yield.getLoc(), yield.getOperand(0), factor);
  yield->setOperand(0, product);
  producer.getResult(0).replaceAllUsesWith(scaled.getResult(0));
  producer.erase();
}

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
    llvm::Regex skipRegex(skip);
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
      if (!skip.empty() && skipRegex.match(pointLayer(layer.input)))
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
    scaleProducer(producer, invScale);
    for (auto [layer, w] : llvm::zip(layers, weights)) {
      int64_t n = w.size() / k;
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < n; ++c)
          w[j * n + c] *= scale[j];
      OpBuilder b(layer.weight);
      auto type = cast<RankedTensorType>(layer.weight.getType());
      Value smoothed =
          createResourceConstant(b, layer.weight.getLoc(), type,
                                 ArrayRef<float>(w), "smoothed_weight");
      layer.weight.getInputMutable().assign(smoothed);
      layer.weight.removeStatsAttr();
      layer.input.removeStatsAttr();
      if (layer.weightConstant->use_empty())
        layer.weightConstant->erase();
      layer.matmul->setAttr(
          "qopt.smoothing",
          DenseElementsAttr::get(RankedTensorType::get({k}, b.getF32Type()),
                                 ArrayRef<float>(invScale)));
    }
    return success();
  }
};

} // namespace
