//===- ChannelScaling.cpp - x W = (x / s) (s W) ---------------------------===//

#include "ChannelScaling.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt;

/// Whether `op` reshapes without moving the innermost axis of size `k`.
static bool keepsChannelAxis(Operation *op, int64_t k) {
  if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op))
    return false;
  auto in = cast<RankedTensorType>(op->getOperand(0).getType());
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  return in.getRank() > 0 && out.getRank() > 0 && in.getShape().back() == k &&
         out.getShape().back() == k;
}

/// The all-parallel single-result generic whose result reaches `x` through
/// channel-preserving reshapes, or null.
linalg::GenericOp mlir::qopt::channelProducer(Value x, int64_t k) {
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
bool mlir::qopt::feedsOnly(linalg::GenericOp producer,
                           ArrayRef<ObservedLinear> layers) {
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
static void scaleProducer(linalg::GenericOp producer,
                          ArrayRef<float> invScale) {
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

void mlir::qopt::scaleLayerInputs(linalg::GenericOp producer,
                                  MutableArrayRef<ObservedLinear> layers,
                                  MutableArrayRef<std::vector<float>> weights,
                                  ArrayRef<float> scale,
                                  ArrayRef<float> invScale,
                                  bool weightsScaled) {
  int64_t k = scale.size();
  scaleProducer(producer, invScale);
  for (auto [layer, w] : llvm::zip(layers, weights)) {
    int64_t n = w.size() / k;
    if (!weightsScaled)
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < n; ++c)
          w[j * n + c] *= scale[j];
    replaceLayerWeight(layer, w, "smoothed_weight");
    layer.input.removeStatsAttr();
    OpBuilder b(layer.matmul);
    layer.matmul->setAttr(
        "qopt.smoothing",
        DenseElementsAttr::get(RankedTensorType::get({k}, b.getF32Type()),
                               ArrayRef<float>(invScale)));
  }
}

void mlir::qopt::replaceLayerWeight(ObservedLinear &layer,
                                    ArrayRef<float> values, StringRef name) {
  OpBuilder b(layer.weight);
  auto type = cast<RankedTensorType>(layer.weight.getType());
  auto constant =
      createResourceConstant(b, layer.weight.getLoc(), type, values, name);
  layer.weight.getInputMutable().assign(constant);
  layer.weight.removeStatsAttr();
  // New values: an LM head no longer shares the embedding table.
  layer.matmul->removeAttr(kTiedAttr);
  if (layer.weightConstant->use_empty())
    layer.weightConstant->erase();
  layer.weightConstant = constant;
}
