//===- F32MatmulsToKernels.cpp - Constant-weight f32 matmuls to kernels ---===//
//
// A linear layer's weight is a constant, so it can be stored in the layout
// the kernel streams: panels of 16 columns, each [K, 16] contiguous. The
// buffer-level vectorizer (qopt-vectorize-contractions) reads B in place,
// one 64-byte piece per row of B 4*N bytes apart, which the caches and
// prefetchers serve poorly for GPT-2's wide layers and LM head.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"
#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Utils/StructuredOpsUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTF32MATMULSTOKERNELSPASS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// The f32 values of a static [K, N] constant, or nothing.
std::optional<std::vector<float>> constantWeights(Value v) {
  auto constant = v.getDefiningOp<arith::ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!constant || !type || type.getRank() != 2)
    return std::nullopt;
  std::vector<float> values = readF32Constant(constant);
  if (values.empty())
    return std::nullopt;
  return values;
}

/// `C[d0.., n] += A[d0.., k] * B[k, n]` with loops (d0.., n, k) on tensors:
/// linalg.matmul, and the generic a linear layer whose result is reshaped
/// becomes after elementwise fusion.
bool isRowMajorContraction(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics() || !linalg::isaContractionOpInterface(op))
    return false;
  unsigned loops = op.getNumLoops();
  if (loops < 3)
    return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i + 1 < loops; ++i)
    if (iterators[i] != utils::IteratorType::parallel)
      return false;
  if (iterators.back() != utils::IteratorType::reduction)
    return false;
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> batch;
  for (unsigned i = 0; i + 2 < loops; ++i)
    batch.push_back(getAffineDimExpr(i, ctx));
  AffineExpr n = getAffineDimExpr(loops - 2, ctx),
             k = getAffineDimExpr(loops - 1, ctx);
  SmallVector<AffineExpr> aExprs(batch), cExprs(batch);
  aExprs.push_back(k);
  cExprs.push_back(n);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  return maps[0] == AffineMap::get(loops, 0, aExprs, ctx) &&
         maps[1] == AffineMap::get(loops, 0, {k, n}, ctx) &&
         maps[2] == AffineMap::get(loops, 0, cExprs, ctx);
}

struct ConvertF32MatmulsToKernelsPass
    : qopt::impl::ConvertF32MatmulsToKernelsPassBase<
          ConvertF32MatmulsToKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> candidates;
    module.walk([&](linalg::LinalgOp op) {
      if (isRowMajorContraction(op))
        candidates.push_back(op);
    });
    SymbolTable symbols(module);
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : candidates) {
      Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1];
      Value init = op.getDpsInits()[0];
      std::optional<std::vector<float>> weights = constantWeights(b);
      auto aType = cast<RankedTensorType>(a.getType());
      auto cType = cast<RankedTensorType>(init.getType());
      if (!weights || !isZeroFilled(init) || !aType.getElementType().isF32())
        continue;
      auto bType = cast<RankedTensorType>(b.getType());
      int64_t k = bType.getDimSize(0), n = bType.getDimSize(1);
      Location loc = op.getLoc();
      rewriter.setInsertionPoint(op);
      // Rows: the batch dims of A collapsed into one.
      Value rows = a;
      int64_t rank = aType.getRank();
      if (rank > 2) {
        ReassociationIndices batch;
        for (int64_t i = 0; i + 1 < rank; ++i)
          batch.push_back(i);
        rows = tensor::CollapseShapeOp::create(
            rewriter, loc, a,
            ArrayRef<ReassociationIndices>{batch, {rank - 1}});
      }
      Value y =
          callF32Kernel(rewriter, loc, module, symbols, rows, k, n, *weights);
      if (rank > 2) {
        SmallVector<OpFoldResult> shape;
        for (int64_t i = 0; i + 1 < rank; ++i)
          shape.push_back(tensor::getMixedSize(rewriter, loc, a, i));
        shape.push_back(rewriter.getIndexAttr(n));
        ReassociationIndices batch;
        for (int64_t i = 0; i + 1 < rank; ++i)
          batch.push_back(i);
        y = tensor::ExpandShapeOp::create(
            rewriter, loc, cType, y,
            ArrayRef<ReassociationIndices>{batch, {rank - 1}}, shape);
      } else if (y.getType() != cType) {
        y = tensor::CastOp::create(rewriter, loc, cType, y);
      }
      Operation *weight = b.getDefiningOp();
      rewriter.replaceOp(op, y);
      if (weight->use_empty())
        rewriter.eraseOp(weight);
    }
  }
};

} // namespace
