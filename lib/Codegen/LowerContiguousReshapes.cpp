//===- LowerContiguousReshapes.cpp - Reshapes as reinterpret_cast ---------===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTLOWERCONTIGUOUSRESHAPESPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

OpFoldResult mul(OpBuilder &b, Location loc, OpFoldResult x, OpFoldResult y) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(*cx * *cy);
  if (cx == 1)
    return y;
  if (cy == 1)
    return x;
  return arith::MulIOp::create(b, loc,
                               getValueOrCreateConstantIndexOp(b, loc, x),
                               getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}

/// Replaces `op` (a reshape from `source` to `resultType` with `sizes`) by a
/// reinterpret_cast with contiguous strides, if both sides are contiguous.
LogicalResult lowerToReinterpretCast(PatternRewriter &rewriter, Operation *op,
                                     Value source, MemRefType resultType,
                                     ArrayRef<OpFoldResult> sizes) {
  auto sourceType = cast<MemRefType>(source.getType());
  if (!sourceType.getLayout().isIdentity() ||
      !resultType.getLayout().isIdentity())
    return rewriter.notifyMatchFailure(op, "non-contiguous layout");
  Location loc = op->getLoc();
  SmallVector<OpFoldResult> strides(sizes.size());
  OpFoldResult stride = rewriter.getIndexAttr(1);
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 1; i >= 0; --i) {
    strides[i] = stride;
    stride = mul(rewriter, loc, stride, sizes[i]);
  }
  rewriter.replaceOpWithNewOp<memref::ReinterpretCastOp>(
      op, resultType, source, rewriter.getIndexAttr(0), sizes, strides);
  return success();
}

struct LowerExpandShape : OpRewritePattern<memref::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    return lowerToReinterpretCast(rewriter, op, op.getSrc(), op.getResultType(),
                                  op.getMixedOutputShape());
  }
};

struct LowerCollapseShape : OpRewritePattern<memref::CollapseShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CollapseShapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<OpFoldResult> sizes;
    for (const ReassociationIndices &group : op.getReassociationIndices()) {
      OpFoldResult size = rewriter.getIndexAttr(1);
      for (int64_t d : group)
        size = mul(rewriter, loc, size,
                   memref::getMixedSize(rewriter, loc, op.getSrc(), d));
      sizes.push_back(size);
    }
    return lowerToReinterpretCast(rewriter, op, op.getSrc(), op.getResultType(),
                                  sizes);
  }
};

struct QOptLowerContiguousReshapesPass
    : qopt::impl::QOptLowerContiguousReshapesPassBase<
          QOptLowerContiguousReshapesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerExpandShape, LowerCollapseShape>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
