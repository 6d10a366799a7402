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
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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

/// A weight packed for a kernel, with the [K, N] values it was packed from.
struct PackedWeight {
  Value packed; // [ceil(N / 16), K, 16]
  std::vector<float> weights;
  int64_t k, n;
};

/// Whether every use of `table` is a `tensor.extract` (an embedding lookup).
bool onlyExtracted(Value table) {
  return !table.use_empty() &&
         llvm::all_of(table.getUsers(), [](Operation *user) {
           return isa<tensor::ExtractOp>(user);
         });
}

/// Whether `table` [N, K] is the transpose of `weight`'s [K, N] values.
bool isTransposeOf(arith::ConstantOp table, const PackedWeight &weight) {
  auto type = cast<RankedTensorType>(table.getType());
  if (type.getDimSize(0) != weight.n || type.getDimSize(1) != weight.k)
    return false;
  std::vector<float> values = readF32Constant(table);
  if (values.size() != weight.weights.size())
    return false;
  for (int64_t r = 0; r < weight.n; ++r)
    for (int64_t c = 0; c < weight.k; ++c)
      // Bitwise: -0.0 and NaN payloads must survive as they are.
      if (llvm::bit_cast<uint32_t>(values[r * weight.k + c]) !=
          llvm::bit_cast<uint32_t>(weight.weights[c * weight.n + r]))
        return false;
  return true;
}

/// A tied LM head: the embedding table E [N, K] is looked up by
/// `tensor.extract E[t, k]` and its transpose is the LM head's weight, now
/// packed as P[t / 16, k, t % 16]. The lookups read P instead, so that the
/// weight archive holds the table once.
void shareWithLookups(RewriterBase &rewriter, ModuleOp module,
                      ArrayRef<PackedWeight> packedWeights) {
  SmallVector<arith::ConstantOp> tables;
  module.walk([&](arith::ConstantOp constant) {
    auto type = dyn_cast<RankedTensorType>(constant.getType());
    if (type && type.getRank() == 2 && type.getElementType().isF32() &&
        onlyExtracted(constant))
      tables.push_back(constant);
  });
  for (arith::ConstantOp table : tables) {
    for (const PackedWeight &weight : packedWeights) {
      auto packedOp = weight.packed.getDefiningOp();
      if (packedOp->getParentRegion() != table->getParentRegion() ||
          !isTransposeOf(table, weight))
        continue;
      // Constants are free to move: above every lookup.
      packedOp->moveBefore(table);
      for (Operation *user : llvm::to_vector(table->getUsers())) {
        auto extract = cast<tensor::ExtractOp>(user);
        rewriter.setInsertionPoint(extract);
        Location loc = extract.getLoc();
        Value row = extract.getIndices()[0], col = extract.getIndices()[1];
        Value panel = arith::ConstantIndexOp::create(rewriter, loc, kPanel);
        Value p = arith::DivUIOp::create(rewriter, loc, row, panel);
        Value lane = arith::RemUIOp::create(rewriter, loc, row, panel);
        rewriter.replaceOpWithNewOp<tensor::ExtractOp>(
            extract, weight.packed, ValueRange{p, col, lane});
      }
      rewriter.eraseOp(table);
      break;
    }
  }
}

struct ConvertF32MatmulsToKernelsPass
    : qopt::impl::ConvertF32MatmulsToKernelsPassBase<
          ConvertF32MatmulsToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<int64_t> blocks(rowBlocks.begin(), rowBlocks.end());
    if (blocks.empty())
      blocks.push_back(kRowBlock);
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (blocks[i] < 2 || (i && blocks[i] >= blocks[i - 1])) {
        module.emitError("convert-f32-matmuls-to-kernels: row-blocks must "
                         "be decreasing sizes of at least 2 rows");
        return signalPassFailure();
      }
    }
    SmallVector<linalg::LinalgOp> candidates;
    module.walk([&](linalg::LinalgOp op) {
      if (isRowMajorContraction(op))
        candidates.push_back(op);
    });
    SymbolTable symbols(module);
    IRRewriter rewriter(&getContext());
    SmallVector<PackedWeight> packedWeights;
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
      Value y = callF32Kernel(rewriter, loc, module, symbols, rows, k, n,
                              *weights, blocks);
      packedWeights.push_back(
          {y.getDefiningOp()->getOperand(1), std::move(*weights), k, n});
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
    shareWithLookups(rewriter, module, packedWeights);
  }
};

} // namespace
