//===- InterchangeContractions.cpp - Reduction loops out of the inner loop
//-===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTINTERCHANGECONTRACTIONSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// The loop order that makes the last output dimension innermost: all
/// iterators in their order, except that the loop indexing the output's last
/// dimension moves to the end. None if the op is not of that form.
std::optional<SmallVector<unsigned>> innermostOutputOrder(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumLoops() < 2)
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (outMap.getNumResults() == 0)
    return std::nullopt;
  auto lastDim = dyn_cast<AffineDimExpr>(outMap.getResults().back());
  if (!lastDim)
    return std::nullopt;
  unsigned inner = lastDim.getPosition();
  if (inner == op.getNumLoops() - 1)
    return std::nullopt; // Already innermost.
  SmallVector<unsigned> order;
  for (unsigned i = 0, e = op.getNumLoops(); i < e; ++i)
    if (i != inner)
      order.push_back(i);
  order.push_back(inner);
  return order;
}

struct QOptInterchangeContractionsPass
    : qopt::impl::QOptInterchangeContractionsPassBase<
          QOptInterchangeContractionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (linalg::isaContractionOpInterface(op) && innermostOutputOrder(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      SmallVector<unsigned> order = *innermostOutputOrder(op);
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(generalized)) {
          op->emitError("cannot generalize this contraction");
          return signalPassFailure();
        }
        generic = *generalized;
      }
      if (failed(linalg::interchangeGenericOp(rewriter, generic, order))) {
        generic->emitError("cannot interchange this contraction's loops");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
