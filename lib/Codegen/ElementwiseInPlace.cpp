//===- ElementwiseInPlace.cpp - Elementwise ops overwrite a dying input ---===//
//
// Destination-passing style for elementwise linalg.generic: the init becomes
// a same-typed input that is used nowhere else, so that one-shot
// bufferization can reuse its buffer (linalg's elementwise-access rule lets
// an op read and write one buffer at the same indices).
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTELEMENTWISEINPLACEPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// The input `op` can write its result over, or null.
OpOperand *reusableInput(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops())
    return nullptr;
  OpOperand *init = op.getDpsInitOperand(0);
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      op.payloadUsesValueFromOperand(init) ||
      !op.getMatchingIndexingMap(init).isIdentity())
    return nullptr;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value value = input->get();
    Operation *producer = value.getDefiningOp();
    // A block argument may be the caller's buffer; a constant is read-only.
    if (!producer || isa<arith::ConstantOp>(producer) || !value.hasOneUse() ||
        value.getType() != init->get().getType() ||
        !op.getMatchingIndexingMap(input).isIdentity())
      continue;
    return input;
  }
  return nullptr;
}

struct QOptElementwiseInPlacePass
    : qopt::impl::QOptElementwiseInPlacePassBase<QOptElementwiseInPlacePass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::GenericOp op) {
      OpOperand *input = reusableInput(op);
      if (!input)
        return;
      Value value = input->get();
      op.getDpsInitOperand(0)->set(value);
    });
  }
};

} // namespace
