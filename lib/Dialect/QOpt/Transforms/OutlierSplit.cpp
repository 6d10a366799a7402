//===- OutlierSplit.cpp - LLM.int8()-style outlier decomposition ----------===//
//
// y = x W  =  (x * mask) (W * rowmask)  +  x[:, O] W[O, :]
//
// where O are the input channels whose calibrated max |x| exceeds a
// threshold. The first product keeps the layer's observation points and is
// quantized as usual, now without the outlier channels widening its ranges;
// the second stays float.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;

namespace {

Value emptyRows(OpBuilder &b, Location loc, Value like, int64_t cols) {
  auto type = cast<RankedTensorType>(like.getType());
  SmallVector<Value> dyn;
  if (type.isDynamicDim(0))
    dyn.push_back(tensor::DimOp::create(b, loc, like, 0));
  return tensor::EmptyOp::create(b, loc,
                                 ArrayRef<int64_t>{type.getDimSize(0), cols},
                                 type.getElementType(), dyn);
}

Value f32Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  ArrayRef<float> values, StringRef name) {
  return createResourceConstant(
      b, loc, RankedTensorType::get(shape, b.getF32Type()), values, name);
}

} // namespace

LogicalResult mlir::qopt::splitOutlierChannels(ObservedLinear &layer,
                                               const QuantScheme &scheme) {
  if (scheme.outlierThreshold <= 0)
    return success();
  ObserveOp input = layer.input;
  auto wType = cast<RankedTensorType>(layer.weight.getType());
  int64_t k = wType.getDimSize(0), n = wType.getDimSize(1);
  FailureOr<SmallVector<float>> channelAbsmax = calibratedChannelAbsmax(
      input, k, "outlier-threshold needs calibration statistics");
  if (failed(channelAbsmax))
    return failure();
  SmallVector<float> &absmax = *channelAbsmax;
  StatsAttr stats = input.getStatsAttr();
  SmallVector<int64_t> outliers;
  for (int64_t c = 0; c < k; ++c)
    if (absmax[c] > scheme.outlierThreshold)
      outliers.push_back(c);
  if (outliers.empty())
    return success();
  if (scheme.activations == ActivationMode::Static && !stats.getChannelMin())
    return input.emitError()
           << "activation point '" << input.getPoint()
           << "': static activations with outlier-threshold need per-channel "
              "ranges (qopt-calibrate per-channel=true)";
  FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
  if (failed(w))
    return failure();

  linalg::MatmulOp matmul = layer.matmul;
  // Its weight is no longer the embedding table transposed.
  matmul->removeAttr(kTiedAttr);
  OpBuilder b(matmul);
  Location loc = matmul.getLoc();
  MLIRContext *ctx = b.getContext();
  int64_t o = outliers.size();
  Value x = input.getInput();

  // The quantized part: outlier columns of x and rows of W zeroed.
  SmallVector<float> mask(k, 1.0f);
  std::vector<float> wMasked = *w, wOutliers(o * n);
  for (int64_t i = 0; i < o; ++i) {
    int64_t c = outliers[i];
    mask[c] = 0.0f;
    std::memcpy(&wOutliers[i * n], &(*w)[c * n], n * sizeof(float));
    std::fill_n(&wMasked[c * n], n, 0.0f);
  }
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap col = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  Value maskValue = f32Constant(b, loc, {k}, mask, "outlier_mask");
  Value xMasked =
      linalg::GenericOp::create(
          b, loc, TypeRange{x.getType()}, ValueRange{x, maskValue},
          ValueRange{emptyRows(b, loc, x, k)}, ArrayRef<AffineMap>{id, col, id},
          par,
          [](OpBuilder &nb, Location nl, ValueRange a) {
            linalg::YieldOp::create(
                nb, nl, arith::MulFOp::create(nb, nl, a[0], a[1]).getResult());
          })
          .getResult(0);
  // Its range without the outlier channels (static: from per-channel ranges).
  Builder builder(ctx);
  SmallVector<float> absmaxMasked(absmax);
  for (int64_t c : outliers)
    absmaxMasked[c] = 0.0f;
  double lo = 0, hi = 0;
  if (auto chMin = stats.getChannelMin()) {
    SmallVector<float> mins(chMin.getValues<float>()),
        maxs(stats.getChannelMax().getValues<float>());
    for (int64_t c = 0; c < k; ++c)
      if (mask[c] != 0) {
        lo = std::min<double>(lo, mins[c]);
        hi = std::max<double>(hi, maxs[c]);
      }
  } else {
    lo = stats.getMin().getValueAsDouble();
    hi = stats.getMax().getValueAsDouble();
  }
  auto vector = [&](ArrayRef<float> v) {
    return DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, b.getF32Type()), v);
  };
  auto maskedStats = StatsAttr::get(
      ctx, stats.getMethod(), stats.getSamples(), builder.getF64FloatAttr(lo),
      builder.getF64FloatAttr(hi), stats.getChannelMin(), stats.getChannelMax(),
      vector(absmaxMasked), nullptr, nullptr);
  auto xObserved =
      ObserveOp::create(b, loc, x.getType(), xMasked, ObserveRole::activation,
                        input.getPointAttr(), maskedStats);
  auto wConstant = f32Constant(b, loc, {k, n}, wMasked, "outlier_split_weight")
                       .getDefiningOp<arith::ConstantOp>();
  auto wObserved = ObserveOp::create(
      b, loc, wType, wConstant, ObserveRole::weight,
      layer.weight.getPointAttr(), layer.weight.getStatsAttr());
  auto quantized = linalg::MatmulOp::create(b, loc, matmul.getResultTypes(),
                                            ValueRange{xObserved, wObserved},
                                            matmul.getOutputs());
  quantized->setDiscardableAttrs(matmul->getDiscardableAttrDictionary());

  // The float part: x[:, O] times W[O, :].
  SmallVector<int64_t> indices(outliers);
  Value index = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({o}, b.getI64Type()),
                             ArrayRef<int64_t>(indices)));
  Value xOutliers =
      linalg::GenericOp::create(
          b, loc, TypeRange{emptyRows(b, loc, x, o).getType()}, ValueRange{},
          ValueRange{emptyRows(b, loc, x, o)}, ArrayRef<AffineMap>{id}, par,
          [&](OpBuilder &nb, Location nl, ValueRange) {
            Value m = linalg::IndexOp::create(nb, nl, 0);
            Value j = linalg::IndexOp::create(nb, nl, 1);
            Value c = arith::IndexCastOp::create(
                nb, nl, nb.getIndexType(),
                tensor::ExtractOp::create(nb, nl, index, ValueRange{j}));
            linalg::YieldOp::create(
                nb, nl,
                tensor::ExtractOp::create(nb, nl, x, ValueRange{m, c})
                    .getResult());
          })
          .getResult(0);
  Value wOut = f32Constant(b, loc, {o, n}, wOutliers, "outlier_weight");
  auto outlierPart = linalg::MatmulOp::create(b, loc, matmul.getResultTypes(),
                                              ValueRange{xOutliers, wOut},
                                              matmul.getOutputs());
  outlierPart->setAttr("qopt.outlier_channels", b.getI64IntegerAttr(o));
  Value sum =
      linalg::GenericOp::create(
          b, loc, matmul.getResultTypes(),
          ValueRange{quantized.getResult(0), outlierPart.getResult(0)},
          ValueRange{matmul.getOutputs()[0]}, ArrayRef<AffineMap>{id, id, id},
          par,
          [](OpBuilder &nb, Location nl, ValueRange a) {
            linalg::YieldOp::create(
                nb, nl, arith::AddFOp::create(nb, nl, a[0], a[1]).getResult());
          })
          .getResult(0);
  matmul.getResult(0).replaceAllUsesWith(sum);
  matmul.erase();
  for (Operation *op : {layer.input.getOperation(), layer.weight.getOperation(),
                        layer.weightConstant.getOperation()})
    if (op->use_empty())
      op->erase();
  layer = {quantized, xObserved, wObserved, wConstant};
  return success();
}
