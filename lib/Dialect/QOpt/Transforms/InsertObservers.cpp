//===- InsertObservers.cpp - Observation points on quantizable ops --------===//

#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Regex.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTINSERTOBSERVERSPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Names ops uniquely: the location's name, else `<op>#<n>`, with a
/// `#<n>` suffix when a name repeats.
class PointNamer {
public:
  std::string nameOf(Operation *op) {
    std::string base = locationName(op->getLoc());
    if (base.empty())
      base = op->getName().getStringRef().str();
    unsigned &count = seen[base];
    return count++ ? base + "#" + std::to_string(count - 1) : base;
  }

private:
  llvm::StringMap<unsigned> seen;
};

/// Observes operand `index` of `op` unless it already is observed.
void observeOperand(OpBuilder &b, Operation *op, unsigned index,
                    ObserveRole role, const std::string &point) {
  Value operand = op->getOperand(index);
  if (operand.getDefiningOp<ObserveOp>())
    return;
  b.setInsertionPoint(op);
  auto observe = ObserveOp::create(b, op->getLoc(), operand.getType(), operand,
                                   role, b.getStringAttr(point), nullptr);
  op->setOperand(index, observe.getResult());
}

/// Observes the rank-2 float constants a generic's body gathers from.
void observeTables(OpBuilder &b, linalg::GenericOp generic, PointNamer &namer) {
  SmallVector<tensor::ExtractOp> extracts;
  generic.getRegion().walk([&](tensor::ExtractOp e) { extracts.push_back(e); });
  for (tensor::ExtractOp extract : extracts) {
    auto constant = extract.getTensor().getDefiningOp<arith::ConstantOp>();
    auto type = dyn_cast<RankedTensorType>(extract.getTensor().getType());
    if (!constant || !type || type.getRank() != 2 ||
        !type.getElementType().isF32() || !type.hasStaticShape())
      continue;
    b.setInsertionPoint(generic);
    auto observe = ObserveOp::create(
        b, generic.getLoc(), type, constant.getResult(), ObserveRole::weight,
        b.getStringAttr(namer.nameOf(generic) + ":table"), nullptr);
    extract.getTensorMutable().assign(observe.getResult());
  }
}

struct QOptInsertObserversPass
    : qopt::impl::QOptInsertObserversPassBase<QOptInsertObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkLayerPattern(getOperation(), getArgument(), "skip", skip)))
      return signalPassFailure();
    llvm::Regex skipRegex(skip);
    PointNamer namer;
    OpBuilder b(&getContext());
    getOperation().walk([&](Operation *op) {
      if (auto matmul = dyn_cast<linalg::MatmulOp>(op)) {
        if (!isLinearLayer(matmul))
          return;
        std::string name = namer.nameOf(op);
        if (!skip.empty() && skipRegex.match(name))
          return;
        observeOperand(b, op, 0, ObserveRole::activation, name + ":input");
        observeOperand(b, op, 1, ObserveRole::weight, name + ":weight");
        return;
      }
      if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
        if (embedding)
          observeTables(b, generic, namer);
        return;
      }
      auto bmm = dyn_cast<linalg::BatchMatmulOp>(op);
      if (!attention || !bmm || !bmm.hasPureTensorSemantics())
        return;
      auto lhs = dyn_cast<RankedTensorType>(bmm.getInputs()[0].getType());
      if (!lhs || !lhs.getElementType().isF32() ||
          lookThroughObserve(bmm.getInputs()[0]) ||
          lookThroughObserve(bmm.getInputs()[1]))
        return;
      std::string name = namer.nameOf(op);
      observeOperand(b, op, 0, ObserveRole::activation, name + ":lhs");
      observeOperand(b, op, 1, ObserveRole::activation, name + ":rhs");
    });
  }
};

} // namespace
