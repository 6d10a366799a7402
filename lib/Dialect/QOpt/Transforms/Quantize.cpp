//===- Quantize.cpp - Real quantized weights and qopt.qmatmul -------------===//

#include "QuantScheme.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTQUANTIZEPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Whether `init` is a tensor filled with +0.0 (the accumulator every
/// imported MatMul starts from), so that the layer is just the product.
bool isZeroFilled(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  auto zero = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto value = zero ? dyn_cast<FloatAttr>(zero.getValue()) : nullptr;
  return value && value.getValue().isPosZero();
}

LogicalResult quantizeLinear(ObservedLinear layer, const QuantScheme &scheme) {
  linalg::MatmulOp matmul = layer.matmul;
  if (!isZeroFilled(matmul.getOutputs()[0]))
    return matmul.emitError() << "linear layer '" << layer.input.getPoint()
                              << "': the accumulator is not zero-filled";
  FailureOr<QuantizedWeight> q =
      quantizeObservedWeight(layer.weight, scheme.weights);
  if (failed(q))
    return failure();
  OpBuilder b(matmul);
  MLIRContext *ctx = b.getContext();
  Location loc = matmul.getLoc();
  TypeAttr inputType;
  if (scheme.activations == ActivationMode::Static) {
    FailureOr<quant::UniformQuantizedType> type =
        calibratedActivationType(layer.input, scheme.activationSymmetric);
    if (failed(type))
      return failure();
    inputType = TypeAttr::get(*type);
  }
  unsigned bits = scheme.weights.bits;
  std::vector<char> packed = packWeight(*q, bits);
  int64_t rowBytes = (q->n * bits + 7) / 8;
  auto storageType =
      RankedTensorType::get({q->k, rowBytes}, IntegerType::get(ctx, 8));
  Value storage =
      createResourceConstant(b, loc, storageType, packed, "qweight");
  quant::QuantizedType weightType =
      weightQuantType(ctx, *q, bits, scheme.weights.symmetric);
  auto qmatmul = QMatmulOp::create(
      b, loc, matmul.getResultTypes()[0], layer.input.getInput(), storage,
      TypeAttr::get(weightType), inputType,
      scheme.activations == ActivationMode::Dynamic ? b.getUnitAttr()
                                                    : UnitAttr());
  matmul.getResult(0).replaceAllUsesWith(qmatmul.getResult());
  matmul.erase();
  // The weight point before its constant; the input point may be shared.
  for (Operation *op : {layer.input.getOperation(), layer.weight.getOperation(),
                        layer.weightConstant.getOperation()})
    if (op->use_empty())
      op->erase();
  return success();
}

struct QOptQuantizePass : qopt::impl::QOptQuantizePassBase<QOptQuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<QuantScheme> scheme =
        parseQuantScheme(getOperation(), getArgument(), weightBits,
                         weightSymmetric, weightGranularity, groupSize,
                         weightMseClip, activations, activationSymmetric);
    if (failed(scheme))
      return signalPassFailure();
    bool failedAny = false;
    for (ObservedLinear layer : findObservedLinears(getOperation()))
      failedAny |= failed(quantizeLinear(layer, *scheme));
    // What is left (attention, partially observed layers) is simulated.
    if (failed(fakeQuantizeAll(getOperation(), *scheme)) || failedAny)
      signalPassFailure();
  }
};

} // namespace
