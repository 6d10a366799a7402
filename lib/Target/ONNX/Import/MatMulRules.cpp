//===- MatMulRules.cpp - MatMul and Gemm ----------------------------------===//
//
// MatMul with numpy batching becomes linalg.matmul (2-D right operand, the
// linear layers quantization passes look for: leading dims collapsed) or
// linalg.batch_matmul (activation x activation, batch dims collapsed).
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {

/// Zero-filled accumulator of the given sizes.
Value zeroFilled(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                 Type elementType) {
  Value empty = createEmpty(b, loc, sizes, elementType);
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

/// Collapses dims [0, n) of `v` into one (n >= 1); n == 0 adds a unit dim.
Value collapseLeading(OpBuilder &b, Location loc, Value v, int64_t n) {
  auto type = cast<RankedTensorType>(v.getType());
  if (n == 0) {
    SmallVector<int64_t> shape{1};
    for (int64_t i = 0; i < type.getRank(); ++i)
      shape.push_back(type.getDimSize(i));
    // Reassociation for expand: [[0, 1], [2], ...].
    SmallVector<ReassociationIndices> expand;
    for (int64_t i = 0; i < type.getRank(); ++i)
      expand.push_back(i == 0 ? ReassociationIndices{0, 1}
                              : ReassociationIndices{i + 1});
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), v, expand);
  }
  SmallVector<ReassociationIndices> re{{}};
  for (int64_t i = 0; i < n; ++i)
    re[0].push_back(i);
  for (int64_t i = n; i < type.getRank(); ++i)
    re.push_back({i});
  if (n == 1)
    return v;
  return tensor::CollapseShapeOp::create(b, loc, v, re);
}

/// Expands dim 0 of `v` back into `leading` sizes.
Value expandLeading(OpBuilder &b, Location loc, Value v,
                    ArrayRef<OpFoldResult> leading) {
  auto type = cast<RankedTensorType>(v.getType());
  if (leading.size() == 1)
    return v;
  SmallVector<ReassociationIndices> re{{}};
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (size_t i = 0; i < leading.size(); ++i) {
    re[0].push_back(i);
    std::optional<int64_t> c = getConstantIntValue(leading[i]);
    shape.push_back(c ? *c : ShapedType::kDynamic);
    sizes.push_back(leading[i]);
  }
  for (int64_t i = 1; i < type.getRank(); ++i) {
    re.push_back({static_cast<int64_t>(leading.size()) + i - 1});
    shape.push_back(type.getDimSize(i));
    sizes.push_back(getDim(b, loc, v, i));
  }
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v, re,
      sizes);
}

} // namespace

FailureOr<Value> mlir::qopt::onnx_import::buildMatMul(NodeContext &ctx,
                                                      Value lhs, Value rhs) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  auto lt = cast<RankedTensorType>(lhs.getType());
  auto rt = cast<RankedTensorType>(rhs.getType());
  Type et = lt.getElementType();
  if (!isa<FloatType>(et) || rt.getElementType() != et)
    return ctx.error("expects float operands of one type");
  if (lt.getRank() < 1 || rt.getRank() < 1)
    return ctx.error("operands must have rank >= 1");

  // 1-D operands are promoted (numpy) and the unit dim dropped afterwards.
  bool lhsVector = lt.getRank() == 1, rhsVector = rt.getRank() == 1;
  if (lhsVector)
    lhs = collapseLeading(b, loc, lhs, 0);
  if (rhsVector)
    rhs = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({rt.getDimSize(0), 1}, et), rhs,
        SmallVector<ReassociationIndices>{{0, 1}});
  lt = cast<RankedTensorType>(lhs.getType());
  rt = cast<RankedTensorType>(rhs.getType());
  int64_t k1 = lt.getDimSize(lt.getRank() - 1),
          k2 = rt.getDimSize(rt.getRank() - 2);
  if (!ShapedType::isDynamic(k1) && !ShapedType::isDynamic(k2) && k1 != k2)
    return ctx.error("contraction dims differ: " + std::to_string(k1) + " vs " +
                     std::to_string(k2));

  Value result;
  int64_t outRank;
  if (rt.getRank() == 2) {
    // [..., M, K] x [K, N]: a linear layer. Collapse the leading dims.
    SmallVector<OpFoldResult> leading;
    for (int64_t i = 0; i + 1 < lt.getRank(); ++i)
      leading.push_back(getDim(b, loc, lhs, i));
    Value lhs2 = collapseLeading(b, loc, lhs, lt.getRank() - 1);
    OpFoldResult m = getDim(b, loc, lhs2, 0), n = getDim(b, loc, rhs, 1);
    Value acc = zeroFilled(b, loc, {m, n}, et);
    Value mm = linalg::MatmulOp::create(b, loc, ValueRange{lhs2, rhs}, acc)
                   .getResult(0);
    result = expandLeading(b, loc, mm, leading);
    outRank = lt.getRank();
  } else {
    // Batched: broadcast batch dims to a common shape, collapse, batch_matmul.
    int64_t batchRank = std::max(lt.getRank(), rt.getRank()) - 2;
    auto broadcastBatch = [&](Value v, Value other) -> FailureOr<Value> {
      auto t = cast<RankedTensorType>(v.getType());
      auto o = cast<RankedTensorType>(other.getType());
      int64_t pad = batchRank - (t.getRank() - 2);
      bool needs = pad > 0;
      for (int64_t i = 0; i < t.getRank() - 2 && !needs; ++i) {
        int64_t oi = i + pad - (batchRank - (o.getRank() - 2));
        if (oi >= 0 && t.getDimSize(i) == 1 && o.getDimSize(oi) != 1)
          needs = true;
      }
      if (!needs)
        return v;
      // Target batch sizes: take `other`'s where ours is missing or 1.
      SmallVector<OpFoldResult> sizes;
      SmallVector<AffineExpr> exprs;
      int64_t opad = batchRank - (o.getRank() - 2);
      for (int64_t i = 0; i < batchRank; ++i) {
        int64_t ti = i - pad, oi = i - opad;
        bool fromOther = ti < 0 || (t.getDimSize(ti) == 1 && oi >= 0 &&
                                    o.getDimSize(oi) != 1);
        sizes.push_back(fromOther ? getDim(b, loc, other, oi)
                                  : getDim(b, loc, v, ti));
        if (ti >= 0)
          exprs.push_back(fromOther ? b.getAffineConstantExpr(0)
                                    : b.getAffineDimExpr(i));
      }
      for (int64_t i = 0; i < 2; ++i) {
        sizes.push_back(getDim(b, loc, v, t.getRank() - 2 + i));
        exprs.push_back(b.getAffineDimExpr(batchRank + i));
      }
      Value init = createEmpty(b, loc, sizes, et);
      SmallVector<AffineMap> maps{
          AffineMap::get(batchRank + 2, 0, exprs, b.getContext()),
          b.getMultiDimIdentityMap(batchRank + 2)};
      return linalg::GenericOp::create(
                 b, loc, init.getType(), v, init, maps,
                 SmallVector<utils::IteratorType>(
                     batchRank + 2, utils::IteratorType::parallel),
                 [](OpBuilder &nb, Location nl, ValueRange args) {
                   linalg::YieldOp::create(nb, nl, args[0]);
                 })
          .getResult(0);
    };
    FailureOr<Value> l = broadcastBatch(lhs, rhs);
    if (failed(l))
      return failure();
    FailureOr<Value> r = broadcastBatch(rhs, *l);
    if (failed(r))
      return failure();
    SmallVector<OpFoldResult> leading;
    for (int64_t i = 0; i < batchRank; ++i)
      leading.push_back(getDim(b, loc, *l, i));
    Value l3 = collapseLeading(b, loc, *l, batchRank);
    Value r3 = collapseLeading(b, loc, *r, batchRank);
    if (batchRank == 0) {
      l3 = collapseLeading(b, loc, *l, 0);
      r3 = collapseLeading(b, loc, *r, 0);
    }
    OpFoldResult bs = getDim(b, loc, l3, 0), m = getDim(b, loc, l3, 1),
                 n = getDim(b, loc, r3, 2);
    Value acc = zeroFilled(b, loc, {bs, m, n}, et);
    Value bmm = linalg::BatchMatmulOp::create(b, loc, ValueRange{l3, r3}, acc)
                    .getResult(0);
    result = expandLeading(b, loc, bmm, leading);
    outRank = batchRank + 2;
  }
  // Drop the unit dims that 1-D operands introduced.
  if (lhsVector || rhsVector) {
    auto type = cast<RankedTensorType>(result.getType());
    SmallVector<ReassociationIndices> re;
    SmallVector<int64_t> shape;
    int64_t drop = lhsVector ? outRank - 2 : outRank - 1;
    int64_t drop2 = (lhsVector && rhsVector) ? outRank - 1 : -1;
    ReassociationIndices group;
    for (int64_t i = 0; i < outRank; ++i) {
      group.push_back(i);
      if (i == drop || i == drop2)
        continue;
      re.push_back(group);
      group.clear();
      shape.push_back(type.getDimSize(i));
    }
    if (!group.empty()) {
      if (re.empty())
        re.push_back({});
      re.back().append(group.begin(), group.end());
    }
    result = tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), result,
        re);
  }
  return result;
}

namespace {

LogicalResult importMatMul(NodeContext &ctx) {
  if (ctx.numInputs() != 2)
    return ctx.error("expected 2 inputs");
  FailureOr<Value> r = buildMatMul(ctx, ctx.input(0), ctx.input(1));
  if (failed(r))
    return failure();
  ctx.setOutput(0, *r, ctx.inputONNXType(0));
  return success();
}

LogicalResult importGemm(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value a = ctx.input(0), bm = ctx.input(1);
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(bm.getType());
  if (at.getRank() != 2 || bt.getRank() != 2)
    return ctx.error("A and B must be 2-D");
  auto transpose = [&](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    SmallVector<OpFoldResult> sizes{getDim(b, loc, v, 1), getDim(b, loc, v, 0)};
    Value init = createEmpty(b, loc, sizes, t.getElementType());
    return linalg::TransposeOp::create(b, loc, v, init, ArrayRef<int64_t>{1, 0})
        .getResult()[0];
  };
  if (ctx.attrInt("transA", 0))
    a = transpose(a);
  if (ctx.attrInt("transB", 0))
    bm = transpose(bm);
  FailureOr<Value> prod = buildMatMul(ctx, a, bm);
  if (failed(prod))
    return failure();
  Type et = at.getElementType();
  double alpha = ctx.attrFloat("alpha", 1.0f),
         beta = ctx.attrFloat("beta", 1.0f);
  Value result = *prod;
  SmallVector<Value> inputs{result};
  bool hasC = ctx.hasInput(2) && beta != 0.0;
  if (hasC)
    inputs.push_back(ctx.input(2));
  if (alpha != 1.0 || hasC) {
    FailureOr<Value> scaled = buildElementwise(
        ctx, inputs, et, [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value v = args[0];
          if (alpha != 1.0)
            v = arith::MulFOp::create(
                nb, nl, v,
                arith::ConstantOp::create(nb, nl, nb.getFloatAttr(et, alpha)));
          if (hasC) {
            Value c = args[1];
            if (beta != 1.0)
              c = arith::MulFOp::create(
                  nb, nl, c,
                  arith::ConstantOp::create(nb, nl, nb.getFloatAttr(et, beta)));
            v = arith::AddFOp::create(nb, nl, v, c);
          }
          return v;
        });
    if (failed(scaled))
      return failure();
    result = *scaled;
  }
  ctx.setOutput(0, result, ctx.inputONNXType(0));
  return success();
}

} // namespace

void mlir::qopt::onnx_import::registerMatMulRules(RuleRegistry &r) {
  r.add("", "MatMul", importMatMul);
  r.add("", "Gemm", importGemm);
}
