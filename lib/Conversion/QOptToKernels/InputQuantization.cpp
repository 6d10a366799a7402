//===- InputQuantization.cpp - x to the integer kernels' bytes ------------===//
//
// Two ways to the same bytes: passes over the whole tensor x, or, fused into
// x's elementwise producer, one parallel loop over the rows. Per row the
// fused loop computes the producer's values into an L1-sized buffer with the
// row's min/max (over 16 lanes, as the separate reduction, so that LLVM
// vectorizes it), then the row's parameters and its bytes. Min/max are
// exact in any order and the producer's body is cloned unchanged, so both
// ways give the reference's bytes.
//
//===----------------------------------------------------------------------===//

#include "InputQuantization.h"
#include "quant-opt/Conversion/ActivationQuantization.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <numeric>

using namespace mlir;
using namespace mlir::qopt;

/// x' = trunc(fptosi(q) - offset) for the f32 q of quantizeF32.
static Value toKernelByte(OpBuilder &b, Location loc, Value q, int64_t offset) {
  Value v = arith::FPToSIOp::create(b, loc, b.getI32Type(), q);
  v = arith::SubIOp::create(
      b, loc, v,
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(offset)));
  return arith::TruncIOp::create(b, loc, b.getI8Type(), v);
}

/// zx' = fptosi(zp) - offset.
static Value toKernelZero(OpBuilder &b, Location loc, Value zp,
                          int64_t offset) {
  Value z = arith::FPToSIOp::create(b, loc, b.getI32Type(), zp);
  return arith::SubIOp::create(
      b, loc, z,
      arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(offset)));
}

/// x' as i32, as the kernel reads the byte.
static Value widenKernelByte(OpBuilder &b, Location loc, Value byte,
                             bool signedBytes) {
  Type i32 = b.getI32Type();
  if (signedBytes)
    return arith::ExtSIOp::create(b, loc, i32, byte);
  return arith::ExtUIOp::create(b, loc, i32, byte);
}

/// R' of `bytes` ([..., Kp] i8, rank 1 or 2): the sums of x' over each of
/// `groups` groups of `groupSize` bytes of the last dimension (the last
/// group what is left), as [..., groups] i32.
static Value groupSums(OpBuilder &b, Location loc, Value bytes, int64_t groups,
                       int64_t groupSize, bool signedBytes,
                       ValueRange dynamicSizes) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(bytes.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = groups;
  Type i32 = b.getI32Type();
  Value empty = tensor::EmptyOp::create(b, loc, shape, i32, dynamicSizes);
  Value zero = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  SmallVector<AffineExpr> out;
  for (int64_t d = 0; d + 1 < rank; ++d)
    out.push_back(getAffineDimExpr(d, ctx));
  out.push_back(getAffineDimExpr(rank - 1, ctx).floorDiv(groupSize));
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  return linalg::GenericOp::create(
             b, loc, TypeRange{init.getType()}, ValueRange{bytes},
             ValueRange{init},
             ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, out, ctx)},
             iters,
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value v = widenKernelByte(nb, nl, a[0], signedBytes);
               linalg::YieldOp::create(
                   nb, nl, arith::AddIOp::create(nb, nl, a[1], v).getResult());
             })
      .getResult(0);
}

/// A rank-1 tensor of `m` copies of `value`.
static Value filledRows(OpBuilder &b, Location loc, Value m, Value value) {
  Value empty =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{ShapedType::kDynamic},
                              value.getType(), ValueRange{m});
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

KernelInput qopt::quantizeKernelInput(OpBuilder &b, Location loc, QMatmulOp op,
                                      Value x,
                                      const KernelInputLayout &layout) {
  MLIRContext *ctx = b.getContext();
  int64_t dyn = ShapedType::kDynamic, offset = layout.offset;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto xqType = RankedTensorType::get({dyn, layout.paddedK}, i8);
  Value m = tensor::DimOp::create(b, loc, x, 0);
  InputQuantization input = inputQuantization(b, loc, op, x);
  Value scale = input.scale, zero = input.zeroPoint; // Scalars or per row.
  int64_t qmin = input.qmin, qmax = input.qmax;
  bool perRow = input.perRow;
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  // Over [M, Kp]: padding columns quantize x = 0 to x' = zx' exactly, so
  // that they add nothing to sum (x' - zx')(w' - zw') (R' and the K term
  // run over Kp too); reading x by index avoids a padded copy.
  bool padded = layout.paddedK != layout.k;
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  if (!padded) {
    ins.push_back(x);
    maps.push_back(id);
  }
  if (perRow) {
    ins.append({scale, zero});
    maps.append({row, row});
  }
  maps.push_back(id);
  Value xqEmpty =
      tensor::EmptyOp::create(b, loc, xqType.getShape(), i8, ValueRange{m});
  Value xq =
      linalg::GenericOp::create(
          b, loc, TypeRange{xqType}, ins, ValueRange{xqEmpty}, maps, par,
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value xv;
            if (padded) {
              Value mi = linalg::IndexOp::create(nb, nl, 0);
              Value ki = linalg::IndexOp::create(nb, nl, 1);
              Value last = arith::ConstantIndexOp::create(nb, nl, layout.k - 1);
              Value inside = arith::CmpIOp::create(
                  nb, nl, arith::CmpIPredicate::ule, ki, last);
              Value kc = arith::MinUIOp::create(nb, nl, ki, last);
              xv = arith::SelectOp::create(
                  nb, nl, inside,
                  tensor::ExtractOp::create(nb, nl, x, ValueRange{mi, kc}),
                  f32Const(nb, nl, 0));
            } else {
              xv = a[0];
            }
            ValueRange params = a.drop_front(padded ? 0 : 1);
            Value sc = perRow ? params[0] : scale,
                  zp = perRow ? params[1] : zero;
            Value q = quantizeF32(nb, nl, xv, sc, zp, qmin, qmax);
            linalg::YieldOp::create(nb, nl, toKernelByte(nb, nl, q, offset));
          })
          .getResult(0);
  Value rowSums =
      layout.rowSumGroups
          ? groupSums(b, loc, xq, layout.rowSumGroups, layout.rowSumGroupSize,
                      layout.signedBytes, ValueRange{m})
          : Value();
  if (!perRow)
    return {xq, filledRows(b, loc, m, toKernelZero(b, loc, zero, offset)),
            filledRows(b, loc, m, scale), rowSums};
  AffineMap id1 = AffineMap::getMultiDimIdentityMap(1, ctx);
  Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{dyn}, i32,
                                        ValueRange{m});
  Value xZero =
      linalg::GenericOp::create(
          b, loc, TypeRange{empty.getType()}, ValueRange{zero},
          ValueRange{empty}, ArrayRef<AffineMap>{id1, id1},
          SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            linalg::YieldOp::create(nb, nl, toKernelZero(nb, nl, a[0], offset));
          })
          .getResult(0);
  return {xq, xZero, scale, rowSums};
}

//===----------------------------------------------------------------------===//
// Fused into the producer
//===----------------------------------------------------------------------===//

namespace {

/// Lanes of the per-row min/max (see ActivationQuantization.cpp).
constexpr int64_t kLanes = 16;

/// Fewer rows than this go serially: a row is a few microseconds of work,
/// less than waking the OpenMP threads (measured: decode, one row, 2-10%
/// slower per token on 2 threads with the parallel loop).
constexpr int64_t kParallelRows = 8;

/// An elementwise producer of a qmatmul input and how its rows are laid
/// out: iteration space [d_0, ..., d_{j-1}, e_j, ..., e_{r-1}], the rows
/// its leading j dimensions collapsed, K the product of the others (more
/// than one when heads [H, D] are merged into K).
struct RowProducer {
  linalg::GenericOp op;
  int64_t leadingDims = 1;
};

/// Whether `map` reads a row of the producer's iteration space as a scalar
/// (no K dimension) or as all K dimensions in order: every result is an
/// iteration dimension or a constant, and the K dimensions (>= `leading`)
/// among them are leading, leading + 1, ..., rank - 1 or none.
bool slicesByRow(AffineMap map, int64_t leading) {
  SmallVector<int64_t> kDims;
  for (AffineExpr e : map.getResults()) {
    if (isa<AffineConstantExpr>(e))
      continue;
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return false;
    if (d.getPosition() >= leading)
      kDims.push_back(d.getPosition());
  }
  if (kDims.empty())
    return true;
  for (auto [i, d] : llvm::enumerate(kDims))
    if (d != leading + static_cast<int64_t>(i))
      return false;
  return static_cast<int64_t>(kDims.size()) == map.getNumDims() - leading;
}

/// Whether `x` has one use once the uses that only read its shape
/// (tensor.dim, also through reshapes) are rewritten in terms of the
/// shapes of its producer's operands, which it does.
bool onlyUseBesidesShapes(RewriterBase &rewriter, Value x) {
  SmallVector<Operation *> dims, reshapes;
  int64_t others = 0;
  for (Operation *user : x.getUsers()) {
    if (isa<tensor::DimOp>(user)) {
      dims.push_back(user);
    } else if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(user) &&
               llvm::all_of(user->getUsers(), llvm::IsaPred<tensor::DimOp>)) {
      reshapes.push_back(user);
      llvm::append_range(dims, user->getUsers());
    } else {
      ++others;
    }
  }
  if (others != 1)
    return false;
  if (dims.empty())
    return true;
  RewritePatternSet patterns(rewriter.getContext());
  memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
  (void)applyOpPatternsGreedily(dims, std::move(patterns), config);
  for (Operation *reshape : reshapes)
    if (reshape->use_empty())
      rewriter.eraseOp(reshape);
  return x.hasOneUse();
}

std::optional<RowProducer> findRowProducer(RewriterBase &rewriter, QMatmulOp op,
                                           int64_t k) {
  Value x = op.getInput();
  RowProducer found;
  bool collapsed = false;
  if (auto collapse = x.getDefiningOp<tensor::CollapseShapeOp>()) {
    if (!collapse->hasOneUse())
      return std::nullopt;
    // The leading dimensions into the rows, the trailing ones into K.
    SmallVector<ReassociationIndices> groups =
        collapse.getReassociationIndices();
    if (groups.size() != 2)
      return std::nullopt;
    found.leadingDims = groups[0].size();
    collapsed = true;
    x = collapse.getSrc();
  }
  if (!onlyUseBesidesShapes(rewriter, x))
    return std::nullopt;
  // An elementwise generic, or a transpose (of attention's heads), which is
  // one that copies: checked as they are, generalized only when taken.
  auto producer = x.getDefiningOp<linalg::LinalgOp>();
  if (!producer || !isa<linalg::GenericOp, linalg::TransposeOp>(producer) ||
      producer->getNumResults() != 1 || producer.getNumDpsInits() != 1)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(x.getType());
  int64_t rank = producer.getNumLoops(), j = found.leadingDims;
  if (!type || !type.getElementType().isF32() || type.getRank() != rank ||
      rank < 2 || (!collapsed && rank != 2))
    return std::nullopt;
  int64_t product = 1;
  for (int64_t d = j; d < rank && product != ShapedType::kDynamic; ++d)
    product = type.isDynamicDim(d) ? ShapedType::kDynamic
                                   : product * type.getDimSize(d);
  if (product != k)
    return std::nullopt;
  if (producer.getNumParallelLoops() != producer.getNumLoops() ||
      !producer.getMatchingIndexingMap(producer.getDpsInitOperand(0))
           .isIdentity())
    return std::nullopt;
  // The body must not read its output or iteration indices: each element
  // is a function of the inputs at the same position.
  Block *body = producer.getBlock();
  if (!body->getArguments().back().use_empty() ||
      !body->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  for (OpOperand *in : producer.getDpsInputOperands())
    if (!slicesByRow(producer.getMatchingIndexingMap(in), j))
      return std::nullopt;
  if (auto transpose = dyn_cast<linalg::TransposeOp>(producer.getOperation())) {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(transpose);
    FailureOr<linalg::GenericOp> generic =
        linalg::generalizeNamedOp(rewriter, transpose);
    if (failed(generic))
      return std::nullopt;
    found.op = *generic;
    return found;
  }
  found.op = cast<linalg::GenericOp>(producer.getOperation());
  return found;
}

/// One row of the producer's inputs: `row` holds the indices of the
/// leading dimensions. Inputs that vary along K become [K] slices (in
/// `slices`, with the block argument each stands for; a row spread over
/// several dimensions, such as one token's heads, is gathered into a
/// contiguous [K]); the others are read as scalars and substituted for
/// their block arguments in `scalars`.
void sliceInputsAtRow(OpBuilder &b, Location loc, const RowProducer &p,
                      ValueRange row, int64_t k,
                      SmallVectorImpl<std::pair<BlockArgument, Value>> &slices,
                      IRMapping &scalars) {
  linalg::GenericOp producer = p.op;
  int64_t leading = p.leadingDims;
  ArrayRef<int64_t> shape =
      cast<RankedTensorType>(producer->getResult(0).getType()).getShape();
  for (OpOperand *in : producer.getDpsInputOperands()) {
    BlockArgument arg = producer.getMatchingBlockArgument(in);
    auto type = dyn_cast<RankedTensorType>(in->get().getType());
    if (!type) {
      scalars.map(arg, in->get());
      continue;
    }
    AffineMap map = producer.getMatchingIndexingMap(in);
    SmallVector<OpFoldResult> offsets, sizes;
    SmallVector<Value> indices;
    SmallVector<int64_t> kShape;
    for (AffineExpr e : map.getResults()) {
      OpFoldResult offset = b.getIndexAttr(0);
      int64_t size = 1;
      if (auto d = dyn_cast<AffineDimExpr>(e)) {
        if (d.getPosition() >= leading)
          kShape.push_back(size = shape[d.getPosition()]);
        else
          offset = row[d.getPosition()];
      } else {
        offset = b.getIndexAttr(cast<AffineConstantExpr>(e).getValue());
      }
      offsets.push_back(offset);
      sizes.push_back(b.getIndexAttr(size));
      indices.push_back(getValueOrCreateConstantIndexOp(b, loc, offset));
    }
    if (kShape.empty()) {
      scalars.map(arg, tensor::ExtractOp::create(b, loc, in->get(), indices));
      continue;
    }
    SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
    Value slice = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(kShape, type.getElementType()), in->get(),
        offsets, sizes, strides);
    if (kShape.size() > 1) {
      ReassociationIndices all(kShape.size());
      std::iota(all.begin(), all.end(), 0);
      slice = tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({k}, type.getElementType()), slice,
          SmallVector<ReassociationIndices>{all});
    }
    slices.push_back({arg, slice});
  }
}

/// The producer's body cloned at `b` inside a generic over the row: its
/// scalar block arguments as in `scalars`, its sliced ones the row
/// generic's `rowArgs` (in the order of `slices`). Returns the value it
/// yields.
Value cloneBodyOnRow(OpBuilder &b, linalg::GenericOp producer,
                     const IRMapping &scalars,
                     ArrayRef<std::pair<BlockArgument, Value>> slices,
                     ValueRange rowArgs) {
  IRMapping mapping = scalars;
  for (auto [slice, arg] : llvm::zip(slices, rowArgs))
    mapping.map(slice.first, arg);
  for (Operation &nested : producer.getBody()->without_terminator())
    b.clone(nested, mapping);
  auto yield = cast<linalg::YieldOp>(producer.getBody()->getTerminator());
  return mapping.lookup(yield.getValues()[0]);
}

} // namespace

FailureOr<KernelInput>
qopt::quantizeKernelInputInProducer(RewriterBase &b, Location loc, QMatmulOp op,
                                    const KernelInputLayout &layout) {
  int64_t k = layout.k, kp = layout.paddedK, offset = layout.offset;
  std::optional<RowProducer> producer = findRowProducer(b, op, k);
  if (!producer)
    return failure();
  linalg::GenericOp gen = producer->op;
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  int64_t dyn = ShapedType::kDynamic;
  bool dynamic = op.getDynamicInput();
  // Static inputs: the parameters are constants (no pass over x needed).
  // Dynamic ones keep only the range of the defaults (asymmetric u8, as
  // inputQuantization quantizes them).
  InputQuantization fixed;
  if (!dynamic)
    fixed = inputQuantization(b, loc, op, Value());

  // The leading dimensions, and M their product (the rows of x), read off
  // the producer's init so that the producer itself can go.
  Value init = gen.getDpsInitOperand(0)->get();
  SmallVector<Value> leading;
  Value m;
  for (int64_t d = 0; d < producer->leadingDims; ++d) {
    leading.push_back(tensor::DimOp::create(b, loc, init, d));
    m = m ? arith::MulIOp::create(b, loc, m, leading.back()).getResult()
          : leading.back();
  }

  SmallVector<Value> outs{tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{dyn, kp}, i8, ValueRange{m})};
  int64_t groups = layout.rowSumGroups;
  if (groups)
    outs.push_back(tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{dyn, groups}, i32, ValueRange{m}));
  if (dynamic)
    outs.append({tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{dyn}, i32,
                                         ValueRange{m}),
                 tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{dyn}, f32,
                                         ValueRange{m})});
  int64_t lanes = k % kLanes == 0 && k >= 2 * kLanes ? kLanes : 1;
  auto rowLanes = RankedTensorType::get({k / lanes, lanes}, f32);
  SmallVector<ReassociationIndices> split{{0, 1}};
  // Row r into `shared` (x', then R', zx', sx as in `outs`): in an
  // scf.forall (parallel) or an scf.for (serial) body.
  auto quantizeRow = [&](Value r, ValueRange shared, bool parallel) {
    // Row r's indices in the leading dimensions (the last varies fastest).
    SmallVector<Value> row(leading.size());
    Value rest = r;
    for (int64_t d = leading.size() - 1; d > 0; --d) {
      row[d] = arith::RemUIOp::create(b, loc, rest, leading[d]);
      rest = arith::DivUIOp::create(b, loc, rest, leading[d]);
    }
    row[0] = rest;
    SmallVector<std::pair<BlockArgument, Value>> slices;
    IRMapping mapping;
    sliceInputsAtRow(b, loc, *producer, row, k, slices, mapping);

    // This row of x' in the shared result; its padding is zx'.
    SmallVector<OpFoldResult> rowOffsets{r, b.getIndexAttr(0)},
        rowSizes{b.getIndexAttr(1), b.getIndexAttr(kp)},
        unit(2, b.getIndexAttr(1));
    Value bytes =
        tensor::ExtractSliceOp::create(b, loc, RankedTensorType::get({kp}, i8),
                                       shared[0], rowOffsets, rowSizes, unit);

    Value scale, zp;
    SmallVector<Value> rowInputs;
    AffineMap id1 = AffineMap::getMultiDimIdentityMap(1, ctx);
    SmallVector<AffineMap> rowMaps;
    if (dynamic) {
      // Pass 1: the producer's row into an L1 buffer, and its min/max per
      // lane (starting from 0, so that the range includes 0).
      SmallVector<Value> ins;
      for (auto &[arg, slice] : slices)
        ins.push_back(tensor::ExpandShapeOp::create(
            b, loc,
            RankedTensorType::get(
                {k / lanes, lanes},
                cast<RankedTensorType>(slice.getType()).getElementType()),
            slice, split));
      Value zero = f32Const(b, loc, 0);
      auto laneType = RankedTensorType::get({lanes}, f32);
      // Two buffers: one shared init would be copied for each output.
      auto laneInit = [&] {
        Value empty = tensor::EmptyOp::create(b, loc, laneType.getShape(), f32);
        return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
      };
      AffineMap id2 = AffineMap::getMultiDimIdentityMap(2, ctx);
      AffineMap lane = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
      SmallVector<AffineMap> maps(ins.size(), id2);
      maps.append({id2, lane, lane});
      auto pass1 = linalg::GenericOp::create(
          b, loc, TypeRange{rowLanes, laneType, laneType}, ins,
          ValueRange{tensor::EmptyOp::create(b, loc, rowLanes.getShape(), f32),
                     laneInit(), laneInit()},
          maps,
          SmallVector<utils::IteratorType>{utils::IteratorType::reduction,
                                           utils::IteratorType::parallel},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value v = cloneBodyOnRow(nb, gen, mapping, slices, a);
            Value lo = arith::MinimumFOp::create(nb, nl, a[ins.size() + 1], v);
            Value hi = arith::MaximumFOp::create(nb, nl, a[ins.size() + 2], v);
            linalg::YieldOp::create(nb, nl, ValueRange{v, lo, hi});
          });
      auto reduce = [&](Value lanesTensor, vector::CombiningKind kind) {
        Value v = vector::TransferReadOp::create(
            b, loc, VectorType::get({lanes}, f32), lanesTensor,
            ValueRange{arith::ConstantIndexOp::create(b, loc, 0)}, zero,
            ArrayRef<bool>{true});
        return vector::ReductionOp::create(b, loc, kind, v).getResult();
      };
      Value lo = reduce(pass1.getResult(1), vector::CombiningKind::MINIMUMF);
      Value hi = reduce(pass1.getResult(2), vector::CombiningKind::MAXIMUMF);
      std::tie(scale, zp) =
          rowParamsFromRange(b, loc, lo, hi, /*symmetric=*/false);
      rowInputs.push_back(tensor::CollapseShapeOp::create(
          b, loc, RankedTensorType::get({k}, f32), pass1.getResult(0), split));
      rowMaps.push_back(id1);
    } else {
      scale = fixed.scale;
      zp = fixed.zeroPoint;
      for (auto &[arg, slice] : slices) {
        rowInputs.push_back(slice);
        rowMaps.push_back(id1);
      }
    }
    int64_t qmin = fixed.qmin, qmax = fixed.qmax;
    // Pass 2: the row's bytes (for static inputs straight from the
    // producer's body). K padding quantizes x = 0.
    if (kp != k)
      bytes = linalg::FillOp::create(
                  b, loc,
                  toKernelByte(b, loc,
                               quantizeF32(b, loc, f32Const(b, loc, 0), scale,
                                           zp, qmin, qmax),
                               offset),
                  bytes)
                  .getResult(0);
    SmallVector<OpFoldResult> kOffsets{b.getIndexAttr(0)},
        kSizes{b.getIndexAttr(k)}, kUnit{b.getIndexAttr(1)};
    Value kBytes = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get({k}, i8), bytes, kOffsets, kSizes, kUnit);
    rowMaps.push_back(id1);
    Value quantized =
        linalg::GenericOp::create(
            b, loc, TypeRange{kBytes.getType()}, rowInputs, ValueRange{kBytes},
            rowMaps,
            SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
            [&](OpBuilder &nb, Location nl, ValueRange a) {
              Value v =
                  dynamic ? a[0] : cloneBodyOnRow(nb, gen, mapping, slices, a);
              Value q = quantizeF32(nb, nl, v, scale, zp, qmin, qmax);
              linalg::YieldOp::create(nb, nl, toKernelByte(nb, nl, q, offset));
            })
            .getResult(0);
    bytes = tensor::InsertSliceOp::create(b, loc, quantized, bytes, kOffsets,
                                          kSizes, kUnit);

    // R' of the row while its bytes are in L1.
    Value sums = groups
                     ? groupSums(b, loc, bytes, groups, layout.rowSumGroupSize,
                                 layout.signedBytes, ValueRange{})
                     : Value();
    // zx' and sx of the row, as one-element slices of the shared results.
    Value zx, sx;
    if (dynamic) {
      auto single = [&](Value v) {
        return tensor::FromElementsOp::create(
                   b, loc, RankedTensorType::get({1}, v.getType()), v)
            .getResult();
      };
      zx = single(toKernelZero(b, loc, zp, offset));
      sx = single(scale);
    }
    struct Store {
      Value value;
      SmallVector<OpFoldResult> offsets, sizes;
    };
    SmallVector<Store> stores{{bytes, rowOffsets, rowSizes}};
    if (groups)
      stores.push_back({sums,
                        {r, b.getIndexAttr(0)},
                        {b.getIndexAttr(1), b.getIndexAttr(groups)}});
    if (dynamic) {
      stores.push_back({zx, {r}, {b.getIndexAttr(1)}});
      stores.push_back({sx, {r}, {b.getIndexAttr(1)}});
    }
    auto strides = [&](const Store &store) {
      return SmallVector<OpFoldResult>(store.offsets.size(), b.getIndexAttr(1));
    };
    if (!parallel) {
      SmallVector<Value> next;
      for (auto [store, dest] : llvm::zip_equal(stores, shared))
        next.push_back(tensor::InsertSliceOp::create(b, loc, store.value, dest,
                                                     store.offsets, store.sizes,
                                                     strides(store)));
      scf::YieldOp::create(b, loc, next);
      return;
    }
    auto inParallel = scf::InParallelOp::create(b, loc);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(inParallel.getBody());
    for (auto [store, dest] : llvm::zip_equal(stores, shared))
      tensor::ParallelInsertSliceOp::create(b, loc, store.value, dest,
                                            store.offsets, store.sizes,
                                            strides(store));
  };
  // A few rows (decode: one) are not worth waking the threads.
  Value few = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, m,
      arith::ConstantIndexOp::create(b, loc, kParallelRows));
  auto rows = scf::IfOp::create(
      b, loc, few,
      [&](OpBuilder &, Location) {
        auto serial = scf::ForOp::create(
            b, loc, arith::ConstantIndexOp::create(b, loc, 0), m,
            arith::ConstantIndexOp::create(b, loc, 1), outs,
            [&](OpBuilder &, Location, Value r, ValueRange shared) {
              quantizeRow(r, shared, /*parallel=*/false);
            });
        scf::YieldOp::create(b, loc, serial.getResults());
      },
      [&](OpBuilder &, Location) {
        auto forall = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{m}, outs, std::nullopt,
            [&](OpBuilder &, Location, ValueRange args) {
              quantizeRow(args[0], args.drop_front(), /*parallel=*/true);
            });
        scf::YieldOp::create(b, loc, forall.getResults());
      });
  Value rowSums = groups ? rows.getResult(1) : Value();
  if (dynamic)
    return KernelInput{rows.getResult(0), rows.getResult(groups ? 2 : 1),
                       rows.getResult(groups ? 3 : 2), rowSums};
  return KernelInput{
      rows.getResult(0),
      filledRows(b, loc, m, toKernelZero(b, loc, fixed.zeroPoint, offset)),
      filledRows(b, loc, m, fixed.scale), rowSums};
}
