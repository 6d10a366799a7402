//===- Quantize.cpp - Real quantized weights and qopt.qmatmul -------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <cstring>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The layer on float-format weights: `qopt.fmatmul`.
Value buildFloatLinear(OpBuilder &b, ObservedLinear layer, FloatFormat format) {
  FailureOr<FloatQuantizedWeight> q =
      quantizeObservedWeightFloat(layer.weight, format);
  if (failed(q))
    return nullptr;
  Location loc = layer.matmul.getLoc();
  MLIRContext *ctx = b.getContext();
  Type element = floatFormatType(ctx, format);
  size_t width = element.getIntOrFloatBitWidth() / 8;
  std::vector<char> bytes(q->bits.size() * width);
  for (size_t i = 0; i < q->bits.size(); ++i)
    std::memcpy(bytes.data() + i * width, &q->bits[i], width); // LE host.
  Value weight = createResourceConstant(
      b, loc, RankedTensorType::get({q->k, q->n}, element), bytes, "fweight");
  Value scales;
  if (isScaledFloatFormat(format))
    scales = createResourceConstant(
        b, loc, RankedTensorType::get({q->n}, b.getF32Type()),
        ArrayRef<float>(q->scales), "fscales");
  return FMatmulOp::create(b, loc, layer.matmul.getResultTypes()[0],
                           layer.input.getInput(), weight, scales);
}

/// The layer on integer weights `q`: `qopt.qmatmul`.
Value buildIntegerLinear(OpBuilder &b, ObservedLinear layer,
                         const QuantScheme &scheme, const QuantizedWeight &q) {
  MLIRContext *ctx = b.getContext();
  Location loc = layer.matmul.getLoc();
  TypeAttr inputType;
  if (scheme.activations == ActivationMode::Static) {
    FailureOr<quant::UniformQuantizedType> type =
        calibratedActivationType(layer.input, scheme.activationSymmetric);
    if (failed(type))
      return nullptr;
    inputType = TypeAttr::get(*type);
  }
  unsigned bits = containerBits(scheme.weights.bits);
  std::vector<char> packed = packWeight(q, bits);
  int64_t rowBytes = (q.n * bits + 7) / 8;
  auto storageType =
      RankedTensorType::get({q.k, rowBytes}, IntegerType::get(ctx, 8));
  Value storage =
      createResourceConstant(b, loc, storageType, packed, "qweight");
  Value groupIndex;
  if (!q.groupIndex.empty())
    groupIndex = createResourceConstant(
        b, loc, RankedTensorType::get({q.k}, b.getI32Type()),
        ArrayRef<int32_t>(q.groupIndex), "group_index");
  quant::QuantizedType weightType =
      weightQuantType(ctx, q, bits, scheme.weights.symmetric);
  return QMatmulOp::create(
      b, loc, layer.matmul.getResultTypes()[0], layer.input.getInput(), storage,
      groupIndex, TypeAttr::get(weightType), inputType,
      scheme.activations == ActivationMode::Dynamic ? b.getUnitAttr()
                                                    : UnitAttr());
}

/// Replaces `layer` by `result` and drops its observation points.
LogicalResult replaceLinear(ObservedLinear layer, Value result) {
  if (!result)
    return failure();
  linalg::MatmulOp matmul = layer.matmul;
  // Annotations such as qopt.smoothing stay with the layer.
  result.getDefiningOp()->setDiscardableAttrs(
      matmul->getDiscardableAttrDictionary());
  matmul.getResult(0).replaceAllUsesWith(result);
  matmul.erase();
  // The weight point before its constant; the input point may be shared.
  for (Operation *op : {layer.input.getOperation(), layer.weight.getOperation(),
                        layer.weightConstant.getOperation()})
    if (op->use_empty())
      op->erase();
  return success();
}

LogicalResult checkZeroFilled(ObservedLinear layer) {
  if (!isZeroFilled(layer.matmul.getOutputs()[0]))
    return layer.matmul.emitError()
           << "linear layer '" << layer.input.getPoint()
           << "': the accumulator is not zero-filled";
  return success();
}

LogicalResult quantizeLinear(ObservedLinear layer, const QuantScheme &scheme) {
  if (scheme.keepFloat) // Its points are dropped with the others.
    return success();
  if (failed(checkZeroFilled(layer)))
    return failure();
  OpBuilder b(layer.matmul);
  if (scheme.floatFormat)
    return replaceLinear(layer,
                         buildFloatLinear(b, layer, *scheme.floatFormat));
  FailureOr<QuantizedWeight> q =
      quantizeObservedWeight(layer.weight, scheme.weights);
  if (failed(q))
    return failure();
  return replaceLinear(layer, buildIntegerLinear(b, layer, scheme, *q));
}

} // namespace

LogicalResult mlir::qopt::replaceWithQMatmul(ObservedLinear layer,
                                             const QuantScheme &scheme,
                                             const QuantizedWeight &weight) {
  if (failed(checkZeroFilled(layer)))
    return failure();
  OpBuilder b(layer.matmul);
  return replaceLinear(layer, buildIntegerLinear(b, layer, scheme, weight));
}

/// The LM head that is the embedding table transposed and reads a shareable
/// stored weight (no group index), if it has been quantized.
static QMatmulOp findTiedHead(Operation *root) {
  QMatmulOp head;
  root->walk([&](QMatmulOp op) {
    if (op->hasAttr(kTiedAttr) && !op.getGroupIndex())
      head = op;
  });
  return head;
}

/// The row gather whose table is the observation point `point`.
static std::optional<RowGather> gatherOf(ObserveOp point) {
  for (Operation *user : point->getUsers())
    if (auto generic = user->getParentOfType<linalg::GenericOp>())
      if (std::optional<RowGather> gather = matchRowGather(generic);
          gather && gather->table == point.getResult())
        return gather;
  return std::nullopt;
}

/// Replaces the gather of the table point `point` by `qopt.qgather`: on the
/// tied LM head's stored weight when there is one (one copy serves both),
/// else on the table quantized per row (token) under the scheme.
static LogicalResult quantizeTable(ObserveOp point, const QuantScheme &scheme,
                                   QMatmulOp tiedHead) {
  std::optional<RowGather> gather = gatherOf(point);
  if (!gather)
    return point.emitError() << "table point '" << point.getPoint()
                             << "' is not the table of a row gather";
  OpBuilder b(gather->op);
  Location loc = gather->op.getLoc();
  Value storage;
  Type tableType;
  if (tiedHead && pointRole(point) == kEmbeddingRole) {
    storage = tiedHead.getWeight();
    tableType = tiedHead.getWeightType();
    // The LM head comes last: its stored weight must precede the gather.
    if (Operation *def = storage.getDefiningOp();
        def && def->getBlock() == gather->op->getBlock() &&
        gather->op->isBeforeInBlock(def))
      def->moveBefore(gather->op);
  } else {
    FailureOr<std::vector<float>> table = observedWeightValues(point);
    if (failed(table))
      return failure();
    auto type = cast<RankedTensorType>(point.getType());
    int64_t v = type.getDimSize(0), d = type.getDimSize(1);
    std::vector<float> transposed = transposeMatrix(*table, v, d);
    const WeightScheme &rows = scheme.weights;
    std::string error;
    QuantizedWeight q = quantizeWeight(transposed, d, v, rows, error);
    if (!error.empty())
      return point.emitError()
             << "table point '" << point.getPoint() << "': " << error;
    unsigned bits = containerBits(rows.bits);
    auto storageType = RankedTensorType::get(
        {d, (v * bits + 7) / 8}, IntegerType::get(b.getContext(), 8));
    storage = createResourceConstant(b, loc, storageType, packWeight(q, bits),
                                     "qtable");
    tableType = weightQuantType(b.getContext(), q, bits, rows.symmetric);
  }
  auto gathered =
      QGatherOp::create(b, loc, gather->op.getResultTypes()[0], storage,
                        gather->ids, TypeAttr::get(tableType));
  gathered->setDiscardableAttrs(gather->op->getDiscardableAttrDictionary());
  gather->op.getResult(0).replaceAllUsesWith(gathered.getResult());
  gather->op.erase();
  auto constant = point.getInput().getDefiningOp<arith::ConstantOp>();
  point.erase();
  if (constant && constant->use_empty())
    constant.erase();
  return success();
}

LogicalResult mlir::qopt::quantizeTables(Operation *root,
                                         const QuantScheme &modelScheme) {
  SmallVector<ObserveOp> points;
  root->walk([&](ObserveOp op) {
    if (op.getRole() == ObserveRole::weight &&
        op.getPoint().ends_with(":table"))
      points.push_back(op);
  });
  QMatmulOp tiedHead = findTiedHead(root);
  bool failedAny = false;
  for (ObserveOp point : points) {
    QuantScheme scheme = tableScheme(modelScheme, point);
    if (scheme.floatFormat || scheme.keepFloat)
      continue; // Float formats leave tables to fake quantization.
    failedAny |= failed(quantizeTable(point, scheme, tiedHead));
  }
  return failure(failedAny);
}

namespace {

struct QOptQuantizePass
    : QuantSchemePass<qopt::impl::QOptQuantizePassBase<QOptQuantizePass>> {
  using QuantSchemePass::QuantSchemePass;

  void runOnOperation() override {
    FailureOr<QuantScheme> scheme = parseScheme();
    if (failed(scheme))
      return signalPassFailure();
    bool failedAny = false;
    for (ObservedLinear layer : findObservedLinears(getOperation())) {
      QuantScheme layerScheme = schemeAt(*scheme, layer.input);
      failedAny |= failed(splitOutlierChannels(layer, layerScheme)) ||
                   failed(quantizeLinear(layer, layerScheme));
    }
    // Tables after the layers, so that a tied LM head's weight serves both.
    failedAny |= failed(quantizeTables(getOperation(), *scheme));
    // What is left (attention, partially observed layers) is simulated.
    if (failed(fakeQuantizeAll(getOperation(), *scheme)) || failedAny)
      signalPassFailure();
  }
};

} // namespace
