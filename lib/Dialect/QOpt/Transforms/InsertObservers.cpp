//===- InsertObservers.cpp - Observation points on quantizable ops --------===//

#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTINSERTOBSERVERSPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// Observes operand `index` of `op` unless it already is observed.
/// The point carries the layer's role (`qopt.role`) so that options can
/// select it by role.
void observeOperand(OpBuilder &b, Operation *op, unsigned index,
                    ObserveRole role, const std::string &point) {
  Value operand = op->getOperand(index);
  if (operand.getDefiningOp<ObserveOp>())
    return;
  b.setInsertionPoint(op);
  auto observe = ObserveOp::create(b, op->getLoc(), operand.getType(), operand,
                                   role, b.getStringAttr(point), nullptr);
  if (Attribute layerRole = op->getAttr(kRoleAttr))
    observe->setAttr(kRoleAttr, layerRole);
  op->setOperand(index, observe.getResult());
}

/// Observes the table of a row gather (the token and position embeddings).
void observeTable(OpBuilder &b, RowGather gather, const std::string &name) {
  if (gather.table.getDefiningOp<ObserveOp>())
    return;
  b.setInsertionPoint(gather.op);
  auto observe = ObserveOp::create(
      b, gather.op.getLoc(), gather.table.getType(), gather.table,
      ObserveRole::weight, b.getStringAttr(name + ":table"), nullptr);
  if (Attribute layerRole = gather.op->getAttr(kRoleAttr))
    observe->setAttr(kRoleAttr, layerRole);
  gather.extract.getTensorMutable().assign(observe.getResult());
}

struct QOptInsertObserversPass
    : qopt::impl::QOptInsertObserversPassBase<QOptInsertObserversPass> {
  using Base::Base;

  void runOnOperation() override {
    markModelRoles(getOperation());
    if (failed(checkLayerPattern(getOperation(), getArgument(), "skip", skip)))
      return signalPassFailure();
    LayerNamer namer;
    OpBuilder b(&getContext());
    getOperation().walk([&](Operation *op) {
      if (auto matmul = dyn_cast<linalg::MatmulOp>(op)) {
        if (!isLinearLayer(matmul))
          return;
        std::string name = namer.nameOf(op);
        if (layerPatternMatches(skip, name, roleOf(op)))
          return;
        observeOperand(b, op, 0, ObserveRole::activation, name + ":input");
        observeOperand(b, op, 1, ObserveRole::weight, name + ":weight");
        return;
      }
      if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
        std::optional<RowGather> gather = matchRowGather(generic);
        if (!gather)
          return;
        // Named whether observed or not, so names do not depend on options.
        std::string name = namer.nameOf(op);
        if (embedding && !layerPatternMatches(skip, name, roleOf(op)))
          observeTable(b, *gather, name);
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
