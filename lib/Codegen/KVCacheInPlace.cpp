//===- KVCacheInPlace.cpp - Update the KV cache in the caller's buffers ---===//
//
// Rewrites `present = concat(past, new)` entry points so that the caller's
// cache buffers are read up to `past_sequence_length` and the new positions
// are written into them, instead of copying the whole cache every step.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTKVCACHEINPLACEPASS
#define GEN_PASS_DEF_QOPTVERIFYKVCACHEINPLACEPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

/// The sequence axis of `[batch, heads, sequence, head_dim]`.
static constexpr int64_t kSequenceDim = 2;
static constexpr StringLiteral kCacheAttr = "qopt.kv_cache";
static constexpr StringLiteral kFunctionAttr = "qopt.kv_cache_in_place";

namespace {
/// One cache input and the result that returned its concatenation.
struct CachePair {
  BlockArgument past;
  tensor::ConcatOp concat;
};

/// The concatenation `concat(past, new)` along the sequence axis that
/// `result` returns, if `past` is a cache input used by nothing else but
/// shape queries.
tensor::ConcatOp matchPresent(Value result, func::FuncOp func) {
  auto concat = result.getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getDim() != kSequenceDim ||
      concat.getInputs().size() != 2)
    return {};
  auto past = dyn_cast<BlockArgument>(concat.getInputs()[0]);
  if (!past || past.getOwner() != &func.getBody().front())
    return {};
  auto type = dyn_cast<RankedTensorType>(past.getType());
  if (!type || type.getRank() != 4 || !type.isDynamicDim(kSequenceDim) ||
      type != concat.getType())
    return {};
  for (OpOperand &use : past.getUses())
    if (use.getOwner() != concat && !isa<tensor::DimOp>(use.getOwner()))
      return {};
  return concat;
}

/// All cache pairs of `func`, or nothing unless every input after the first
/// is a past cache and every result after the first its present.
SmallVector<CachePair> matchCaches(func::FuncOp func) {
  if (func.getNumArguments() < 2 ||
      func.getNumArguments() != func.getNumResults() ||
      !func.getBody().hasOneBlock())
    return {};
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  SmallVector<CachePair> pairs;
  for (unsigned i = 1; i < func.getNumResults(); ++i) {
    tensor::ConcatOp concat = matchPresent(ret.getOperand(i), func);
    if (!concat)
      return {};
    auto past = cast<BlockArgument>(concat.getInputs()[0]);
    if (past.getArgNumber() != i ||
        llvm::count(ret.getOperands(), concat.getResult()) != 1)
      return {};
    pairs.push_back({past, concat});
  }
  return pairs;
}

/// The sizes of `value` with dim `kSequenceDim` replaced by `length`.
SmallVector<OpFoldResult> sizesWithLength(OpBuilder &b, Location loc,
                                          Value value, OpFoldResult length) {
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < 4; ++d)
    sizes.push_back(d == kSequenceDim ? length
                                      : tensor::getMixedSize(b, loc, value, d));
  return sizes;
}

void rewriteInPlace(func::FuncOp func, ArrayRef<CachePair> pairs) {
  MLIRContext *ctx = func.getContext();
  Location loc = func.getLoc();
  unsigned lengthIndex = func.getNumArguments();
  auto lengthType = RankedTensorType::get({}, IntegerType::get(ctx, 64));
  Builder attrs(ctx);
  (void)func.insertArgument(
      lengthIndex, lengthType,
      attrs.getDictionaryAttr(attrs.getNamedAttr(
          "onnx.name", attrs.getStringAttr("past_sequence_length"))),
      loc);
  Block &entry = func.getBody().front();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Value lengthTensor = entry.getArgument(lengthIndex);
  Value length = arith::IndexCastOp::create(
      b, loc, b.getIndexType(),
      tensor::ExtractOp::create(b, loc, lengthTensor, ValueRange{}));

  SmallVector<OpFoldResult> zeros(4, b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
  llvm::BitVector presents(func.getNumResults());
  for (auto [index, pair] : llvm::enumerate(pairs)) {
    BlockArgument cache = pair.past;
    // Shape queries of the past now see its first `length` positions.
    SmallVector<OpOperand *> pastUses =
        llvm::map_to_vector(cache.getUses(), [](OpOperand &u) { return &u; });
    b.setInsertionPointAfterValue(length);
    Value past = tensor::ExtractSliceOp::create(
        b, loc, cache, zeros, sizesWithLength(b, loc, cache, length), ones);
    for (OpOperand *use : pastUses)
      use->set(past);
    // concat(past, new): write `new` after the past, read the whole prefix.
    tensor::ConcatOp concat = pair.concat;
    b.setInsertionPoint(concat);
    Value fresh = concat.getInputs()[1];
    OpFoldResult freshLength =
        tensor::getMixedSize(b, loc, fresh, kSequenceDim);
    SmallVector<OpFoldResult> offsets(zeros);
    offsets[kSequenceDim] = length;
    Value updated = tensor::InsertSliceOp::create(
        b, loc, fresh, cache, offsets,
        sizesWithLength(b, loc, fresh, freshLength), ones);
    Value total = arith::AddIOp::create(
        b, loc, length, getValueOrCreateConstantIndexOp(b, loc, freshLength));
    Value present = tensor::ExtractSliceOp::create(
        b, loc, updated, zeros, sizesWithLength(b, loc, cache, total), ones);
    if (present.getType() != concat.getType())
      present = tensor::CastOp::create(b, loc, concat.getType(), present);
    concat.getResult().replaceAllUsesWith(present);
    concat.erase();
    func.setArgAttr(cache.getArgNumber(), kCacheAttr, b.getUnitAttr());
    // Updated through the caller's buffer, never through a copy.
    func.setArgAttr(cache.getArgNumber(), "bufferization.writable",
                    b.getBoolAttr(true));
    presents.set(index + 1);
  }
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  ret->eraseOperands(presents);
  (void)func.eraseResults(presents);
  func->setAttr(kFunctionAttr, b.getUnitAttr());
}

struct QOptKVCacheInPlacePass
    : qopt::impl::QOptKVCacheInPlacePassBase<QOptKVCacheInPlacePass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      SmallVector<CachePair> pairs = matchCaches(func);
      if (!pairs.empty())
        rewriteInPlace(func, pairs);
    }
  }
};

struct QOptVerifyKVCacheInPlacePass
    : qopt::impl::QOptVerifyKVCacheInPlacePassBase<
          QOptVerifyKVCacheInPlacePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    for (BlockArgument arg : func.getArguments()) {
      if (!func.getArgAttr(arg.getArgNumber(), kCacheAttr))
        continue;
      // Out-of-place bufferization copies the whole input to a new buffer
      // and updates the copy.
      for (Operation *user : arg.getUsers()) {
        auto copy = dyn_cast<memref::CopyOp>(user);
        if (copy && copy.getSource() == arg) {
          copy.emitError("KV cache input ")
              << arg.getArgNumber() << " of '" << func.getSymName()
              << "' was copied by bufferization instead of updated in "
                 "place: the caller's cache would not grow";
          return signalPassFailure();
        }
      }
      // Checked; LLVM has no use for the marker.
      func.removeArgAttr(arg.getArgNumber(), kCacheAttr);
    }
  }
};
} // namespace
