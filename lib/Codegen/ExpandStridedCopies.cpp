//===- ExpandStridedCopies.cpp - Copies of strided buffers as loops -------===//
//
// memref.copy between non-contiguous buffers lowers to a call of MLIR's
// `memrefCopy`, which would make every compiled model load MLIR's C runner
// utils (and with them libMLIR and libLLVM) at run time. Loops instead.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTEXPANDSTRIDEDCOPIESPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct ExpandStridedCopy : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto source = dyn_cast<MemRefType>(op.getSource().getType());
    auto target = dyn_cast<MemRefType>(op.getTarget().getType());
    // Identity layouts become a memcpy; unranked copies are left alone.
    if (!source || !target ||
        (source.getLayout().isIdentity() && target.getLayout().isIdentity()))
      return failure();
    Location loc = op.getLoc();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    SmallVector<Value> lower(source.getRank(), zero), upper,
        steps(source.getRank(), one);
    for (int64_t d = 0; d < source.getRank(); ++d)
      upper.push_back(
          source.isDynamicDim(d)
              ? memref::DimOp::create(rewriter, loc, op.getSource(), d)
                    .getResult()
              : arith::ConstantIndexOp::create(rewriter, loc,
                                               source.getDimSize(d))
                    .getResult());
    scf::buildLoopNest(rewriter, loc, lower, upper, steps,
                       [&](OpBuilder &b, Location l, ValueRange ivs) {
                         Value v =
                             memref::LoadOp::create(b, l, op.getSource(), ivs);
                         memref::StoreOp::create(b, l, v, op.getTarget(), ivs);
                       });
    rewriter.eraseOp(op);
    return success();
  }
};

struct QOptExpandStridedCopiesPass
    : qopt::impl::QOptExpandStridedCopiesPassBase<QOptExpandStridedCopiesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandStridedCopy>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
