//===- PackedGather.cpp - Embedding rows read from an LM head's kernel copy
//===//
//
// A tied LM head and its embedding share one stored weight [D, V]. The
// kernel repacks it into panels of 16 tokens; rather than keep the
// canonical copy for the gather too, the gather decodes its rows from the
// panels. Each token's D values are spread over its panel (a stride of 8
// or 16 bytes), which costs a few cache lines per row: nothing next to the
// LM head's pass over the whole table.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"
#include "quant-opt/Conversion/GatherIndex.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

Value idx(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value i32(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
}

/// The nibble of `byte` at `shift` (0 or 4, i32), as an unsigned i32.
Value nibble(OpBuilder &b, Location loc, Value byte, Value shift) {
  Value u = arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
  return arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, u, shift),
                               i32(b, loc, 15));
}

/// The value of channel `k` of token `c` in the float kernel's panels.
Value floatPanelValue(OpBuilder &b, Location loc, const PackedWeightView &v,
                      Value k, Value c) {
  Value p = arith::DivUIOp::create(b, loc, c, idx(b, loc, kPanel));
  Value j = arith::RemUIOp::create(b, loc, c, idx(b, loc, kPanel));
  Value g = arith::DivUIOp::create(b, loc, k, idx(b, loc, v.group));
  Value u;
  if (v.bits == 8) {
    Value byte =
        tensor::ExtractOp::create(b, loc, v.bytes, ValueRange{p, k, j});
    u = v.signedBytes
            ? arith::ExtSIOp::create(b, loc, b.getI32Type(), byte).getResult()
            : arith::ExtUIOp::create(b, loc, b.getI32Type(), byte).getResult();
  } else {
    // Byte j % 8 holds column j in its low nibble, column j + 8 in its high.
    Value half = idx(b, loc, kPanel / 2);
    Value byte = tensor::ExtractOp::create(
        b, loc, v.bytes,
        ValueRange{p, k, arith::RemUIOp::create(b, loc, j, half)});
    Value high = arith::IndexCastOp::create(
        b, loc, b.getI32Type(), arith::DivUIOp::create(b, loc, j, half));
    u = nibble(b, loc, byte,
               arith::MulIOp::create(b, loc, high, i32(b, loc, 4)));
    if (v.signedBytes) // Stored offset by 8, as the kernel reads them.
      u = arith::SubIOp::create(b, loc, u, i32(b, loc, 8));
  }
  Value y = arith::MulFOp::create(
      b, loc, arith::SIToFPOp::create(b, loc, b.getF32Type(), u),
      tensor::ExtractOp::create(b, loc, v.scales, ValueRange{p, g, j}));
  if (v.offsets)
    y = arith::AddFOp::create(
        b, loc, y,
        tensor::ExtractOp::create(b, loc, v.offsets, ValueRange{p, g, j}));
  return y;
}

/// The value of channel `k` of token `c` in the integer kernels' blocks.
Value integerBlockValue(OpBuilder &b, Location loc, const PackedWeightView &v,
                        Value k, Value c) {
  Value p = arith::DivUIOp::create(b, loc, c, idx(b, loc, kPanel));
  Value j = arith::RemUIOp::create(b, loc, c, idx(b, loc, kPanel));
  Value g = arith::DivUIOp::create(b, loc, k, idx(b, loc, v.group));
  Value block = arith::DivUIOp::create(b, loc, k, idx(b, loc, v.ku));
  // Element e = j * ku + k % ku of the block.
  Value e = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, j, idx(b, loc, v.ku)),
      arith::RemUIOp::create(b, loc, k, idx(b, loc, v.ku)));
  Value w;
  if (v.bits == 8) {
    Value byte =
        tensor::ExtractOp::create(b, loc, v.bytes, ValueRange{p, block, e});
    w = arith::ExtSIOp::create(b, loc, b.getI32Type(), byte);
  } else {
    // Element e in the low nibble of byte e when e < half, else in the
    // high nibble of byte e - half.
    int64_t half = kPanel * v.ku / 2;
    Value byte = tensor::ExtractOp::create(
        b, loc, v.bytes,
        ValueRange{p, block,
                   arith::RemUIOp::create(b, loc, e, idx(b, loc, half))});
    Value high = arith::IndexCastOp::create(
        b, loc, b.getI32Type(),
        arith::DivUIOp::create(b, loc, e, idx(b, loc, half)));
    w = nibble(b, loc, byte,
               arith::MulIOp::create(b, loc, high, i32(b, loc, 4)));
  }
  if (v.offsets)
    w = arith::SubIOp::create(
        b, loc, w,
        tensor::ExtractOp::create(b, loc, v.offsets, ValueRange{g, c}));
  return arith::MulFOp::create(
      b, loc, arith::SIToFPOp::create(b, loc, b.getF32Type(), w),
      tensor::ExtractOp::create(b, loc, v.scales, ValueRange{g, c}));
}

} // namespace

void qopt::lowerQGatherToPackedWeight(QGatherOp op,
                                      const PackedWeightView &view,
                                      RewriterBase &rewriter) {
  // The LM head comes after the gather: its packed constants move up.
  for (Value v : {view.bytes, view.scales, view.offsets})
    if (Operation *def = v ? v.getDefiningOp() : nullptr;
        def && def->getBlock() == op->getBlock() && op->isBeforeInBlock(def))
      def->moveBefore(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = rewriter.getContext();
  auto outType = op.getOutput().getType();
  int64_t rank = outType.getRank(), rows = op.getNumRows();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> dyn;
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (outType.isDynamicDim(i))
      dyn.push_back(tensor::DimOp::create(rewriter, loc, op.getIds(), i));
  Value empty = tensor::EmptyOp::create(rewriter, loc, outType.getShape(),
                                        rewriter.getF32Type(), dyn);
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{outType}, ValueRange{op.getIds()},
      ValueRange{empty}, ArrayRef<AffineMap>{id.dropResult(rank - 1), id},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location l, ValueRange a) {
        Value token = gatherRowIndex(b, l, a[0], rows);
        Value channel = linalg::IndexOp::create(b, l, rank - 1);
        Value y = view.layout == PackedWeightView::Layout::FloatPanels
                      ? floatPanelValue(b, l, view, channel, token)
                      : integerBlockValue(b, l, view, channel, token);
        linalg::YieldOp::create(b, l, y);
      });
  rewriter.replaceOp(op, generic.getResults());
}
