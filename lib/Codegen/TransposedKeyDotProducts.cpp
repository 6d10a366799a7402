//===- TransposedKeyDotProducts.cpp - Decode scores without a K^T copy ----===//
//
// Attention's Q K^T multiplies by a transposed copy of the keys. For a few
// rows of queries (decode) the copy costs more than the product; dot
// products over the keys' rows read them in place.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/AttentionProducts.h"
#include "quant-opt/Codegen/BufferRoots.h"
#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTTRANSPOSEDKEYDOTPRODUCTSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
constexpr int64_t kLanes = 16;

/// Whether `buffer` is a view of a `memref.alloc` (so writing it cannot
/// change the keys).
bool isFreshBuffer(Value buffer) {
  return qopt::bufferRoot(buffer).getDefiningOp<memref::AllocOp>() != nullptr;
}

/// Whether the copy `buffer` is used only by `transpose` (which writes it),
/// `scores`, deallocations and shape queries, through views: the dot
/// products leave it unwritten, so nothing else may read it.
bool onlyScoresRead(Value buffer, Operation *transpose, Operation *scores) {
  for (Operation *user : buffer.getUsers()) {
    if (user == transpose || user == scores ||
        isa<memref::DeallocOp, memref::DimOp>(user))
      continue;
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (view && view.getViewSource() == buffer &&
        onlyScoresRead(view->getResult(0), transpose, scores))
      continue;
    return false;
  }
  return true;
}

/// The scores product `C[b, h, m, n] += A[b, h, m, k] * B[b, h, k, n]` on f32
/// buffers whose B is written by `transpose` (permutation [0, 1, 3, 2]) of
/// keys with a static K that is a multiple of kLanes, with nothing between
/// the two but allocations, fills of fresh buffers and ops without memory
/// effects, and no other reader of the copy; null if there is none.
linalg::GenericOp scoresOf(linalg::TransposeOp transpose) {
  if (transpose.getPermutation() != ArrayRef<int64_t>{0, 1, 3, 2})
    return nullptr;
  auto keys = dyn_cast<MemRefType>(transpose.getInput().getType());
  if (!keys || !keys.getElementType().isF32() ||
      ShapedType::isDynamic(keys.getDimSize(3)) || keys.getDimSize(3) % kLanes)
    return nullptr;
  linalg::GenericOp scores;
  for (Operation *op = transpose->getNextNode(); op && !scores;
       op = op->getNextNode()) {
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (generic && generic.getNumDpsInputs() == 2 &&
        generic.getDpsInputs()[1] == transpose.getInit()) {
      scores = generic;
      break;
    }
    auto fill = dyn_cast<linalg::FillOp>(op);
    if (!isMemoryEffectFree(op) && !isa<memref::AllocOp>(op) &&
        !(fill && isFreshBuffer(fill.getDpsInits()[0])))
      return nullptr;
  }
  if (!scores || !qopt::isTwoBatchMatmul(scores) ||
      !onlyScoresRead(transpose.getInit(), transpose, scores))
    return nullptr;
  return scores;
}

/// C[b, h, m, n] += dot(A[b, h, m, :], S[b, h, n, :]) for the `rows` rows
/// of A, built at `builder`.
void buildDotProducts(OpBuilder &builder, Location loc, Value a, Value rows,
                      Value keys, Value c, bool parallel) {
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(builder, loc, v).getResult();
  };
  Value zero = index(0), one = index(1);
  Value columns = memref::DimOp::create(builder, loc, keys, 2);
  Value batch = memref::DimOp::create(builder, loc, c, 0);
  Value heads = memref::DimOp::create(builder, loc, c, 1);
  int64_t k = cast<MemRefType>(keys.getType()).getDimSize(3);
  auto lanes = VectorType::get({kLanes}, builder.getF32Type());
  Value pad =
      arith::ConstantOp::create(builder, loc, builder.getF32FloatAttr(0));
  Value zeros = arith::ConstantOp::create(builder, loc,
                                          DenseElementsAttr::get(lanes, 0.0f));
  SmallVector<Value> kOffsets;
  for (int64_t k0 = 0; k0 < k; k0 += kLanes)
    kOffsets.push_back(index(k0));
  // One score: 16-lane FMAs over k, then one reduction.
  auto score = [&](OpBuilder &b, Location l, ValueRange at) {
    Value acc = zeros;
    for (Value kk : kOffsets) {
      Value x = vector::TransferReadOp::create(
          b, l, lanes, a, ValueRange{at[0], at[1], at[2], kk}, pad,
          ArrayRef<bool>{true});
      Value y = vector::TransferReadOp::create(
          b, l, lanes, keys, ValueRange{at[0], at[1], at[3], kk}, pad,
          ArrayRef<bool>{true});
      acc = vector::FMAOp::create(b, l, x, y, acc);
    }
    Value sum =
        vector::ReductionOp::create(b, l, vector::CombiningKind::ADD, acc);
    Value old = memref::LoadOp::create(b, l, c, at);
    memref::StoreOp::create(b, l, arith::AddFOp::create(b, l, old, sum), c, at);
  };
  // Rows and columns of one (batch, head): serial loops.
  auto head = [&](OpBuilder &b, Location l, Value bi, Value hi) {
    scf::ForOp::create(
        b, l, zero, rows, one, ValueRange{},
        [&](OpBuilder &b, Location l, Value mi, ValueRange) {
          scf::ForOp::create(
              b, l, zero, columns, one, ValueRange{},
              [&](OpBuilder &b, Location l, Value ni, ValueRange) {
                score(b, l, ValueRange{bi, hi, mi, ni});
                scf::YieldOp::create(b, l);
              });
          scf::YieldOp::create(b, l);
        });
  };
  if (parallel) {
    scf::ParallelOp::create(builder, loc, ValueRange{zero, zero},
                            ValueRange{batch, heads}, ValueRange{one, one},
                            [&](OpBuilder &b, Location l, ValueRange ivs) {
                              head(b, l, ivs[0], ivs[1]);
                            });
    return;
  }
  scf::ForOp::create(builder, loc, zero, batch, one, ValueRange{},
                     [&](OpBuilder &b, Location l, Value bi, ValueRange) {
                       scf::ForOp::create(
                           b, l, zero, heads, one, ValueRange{},
                           [&](OpBuilder &b, Location l, Value hi, ValueRange) {
                             head(b, l, bi, hi);
                             scf::YieldOp::create(b, l);
                           });
                       scf::YieldOp::create(b, l);
                     });
}

struct QOptTransposedKeyDotProductsPass
    : qopt::impl::QOptTransposedKeyDotProductsPassBase<
          QOptTransposedKeyDotProductsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk(
        [&](linalg::TransposeOp op) { transposes.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::TransposeOp transpose : transposes) {
      linalg::GenericOp scores = scoresOf(transpose);
      if (!scores)
        continue;
      Location loc = scores.getLoc();
      Value a = scores.getDpsInputs()[0], c = scores.getDpsInits()[0];
      rewriter.setInsertionPoint(scores);
      Value rows = memref::DimOp::create(rewriter, loc, a, 2);
      Value few = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ule, rows,
          arith::ConstantIndexOp::create(rewriter, loc, maxRows));
      auto branch = scf::IfOp::create(rewriter, loc, few, /*withElse=*/true);
      OpBuilder thenBuilder = branch.getThenBodyBuilder();
      buildDotProducts(thenBuilder, loc, a, rows, transpose.getInput(), c,
                       parallel);
      // Many rows: the copy and the matmul, moved into the else branch.
      Block *otherwise = branch.elseBlock();
      transpose->moveBefore(otherwise->getTerminator());
      scores->moveBefore(otherwise->getTerminator());
    }
  }
};
} // namespace
