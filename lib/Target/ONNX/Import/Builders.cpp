//===- Builders.cpp - IR construction helpers for import rules ------------===//

#include "Builders.h"
#include "SymbolicDims.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;

OpFoldResult mlir::qopt::onnx_import::getDim(OpBuilder &b, Location loc,
                                             Value tensor, int64_t dim) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(dim))
    return b.getIndexAttr(type.getDimSize(dim));
  return tensor::DimOp::create(b, loc, tensor, dim).getResult();
}

SmallVector<OpFoldResult>
mlir::qopt::onnx_import::getDims(OpBuilder &b, Location loc, Value tensor) {
  SmallVector<OpFoldResult> dims;
  for (int64_t i = 0, e = cast<RankedTensorType>(tensor.getType()).getRank();
       i < e; ++i)
    dims.push_back(getDim(b, loc, tensor, i));
  return dims;
}

Value mlir::qopt::onnx_import::createEmpty(OpBuilder &b, Location loc,
                                           ArrayRef<OpFoldResult> sizes,
                                           Type elementType) {
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

FailureOr<Value>
mlir::qopt::onnx_import::buildElementwise(NodeContext &ctx, ValueRange inputs,
                                          Type resultElementType,
                                          ScalarBody body) {
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  int64_t rank = 0;
  for (Value v : inputs)
    rank = std::max(rank, cast<RankedTensorType>(v.getType()).getRank());

  // Output dims, right-aligned; remember an operand that carries each
  // dynamic dim so its size can be read at run time.
  SmallVector<int64_t> outShape(rank, 1);
  SmallVector<std::pair<Value, int64_t>> dynamicSource(rank, {Value(), 0});
  for (Value v : inputs) {
    auto type = cast<RankedTensorType>(v.getType());
    int64_t offset = rank - type.getRank();
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t d = type.getDimSize(i), &out = outShape[offset + i];
      if (d == 1)
        continue;
      if (ShapedType::isDynamic(d)) {
        if (out == 1) {
          out = ShapedType::kDynamic;
          dynamicSource[offset + i] = {v, i};
        }
        continue;
      }
      if (out != 1 && !ShapedType::isDynamic(out) && out != d)
        return ctx.error("operands cannot broadcast: dimension " +
                         std::to_string(offset + i) + " is " +
                         std::to_string(out) + " and " + std::to_string(d));
      out = d;
    }
  }
  SmallVector<OpFoldResult> outSizes;
  for (int64_t i = 0; i < rank; ++i)
    outSizes.push_back(
        ShapedType::isDynamic(outShape[i])
            ? getDim(b, loc, dynamicSource[i].first, dynamicSource[i].second)
            : b.getIndexAttr(outShape[i]));

  SmallVector<AffineMap> maps;
  for (Value v : inputs) {
    auto type = cast<RankedTensorType>(v.getType());
    int64_t offset = rank - type.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < type.getRank(); ++i)
      exprs.push_back(type.getDimSize(i) == 1 && outShape[offset + i] != 1
                          ? b.getAffineConstantExpr(0)
                          : b.getAffineDimExpr(offset + i));
    maps.push_back(AffineMap::get(rank, 0, exprs, b.getContext()));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = createEmpty(b, loc, outSizes, resultElementType);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, result);
      });
  return generic.getResult(0);
}

Value mlir::qopt::onnx_import::convertScalar(OpBuilder &b, Location loc,
                                             Value v, int32_t fromType,
                                             int32_t toType) {
  Type to = convertElementType(toType, b.getContext());
  Type from = v.getType();
  if (from == to)
    return v;
  bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(to);
  bool fromUnsigned = isUnsignedType(fromType);
  if (fromFloat && toFloat)
    return from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth()
               ? arith::ExtFOp::create(b, loc, to, v).getResult()
               : arith::TruncFOp::create(b, loc, to, v).getResult();
  if (!fromFloat && toFloat)
    return fromUnsigned ? arith::UIToFPOp::create(b, loc, to, v).getResult()
                        : arith::SIToFPOp::create(b, loc, to, v).getResult();
  if (fromFloat && !toFloat) {
    if (to.isInteger(1)) {
      Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(from, 0));
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    }
    return isUnsignedType(toType)
               ? arith::FPToUIOp::create(b, loc, to, v).getResult()
               : arith::FPToSIOp::create(b, loc, to, v).getResult();
  }
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (tw == 1) {
    Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(from, 0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fw < tw)
    return fromUnsigned ? arith::ExtUIOp::create(b, loc, to, v).getResult()
                        : arith::ExtSIOp::create(b, loc, to, v).getResult();
  return arith::TruncIOp::create(b, loc, to, v);
}

FailureOr<int64_t> mlir::qopt::onnx_import::normalizeAxis(NodeContext &ctx,
                                                          int64_t axis,
                                                          int64_t rank,
                                                          StringRef what) {
  if (axis < -rank || axis >= rank)
    return ctx.error(what + " " + std::to_string(axis) +
                     " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

FailureOr<std::optional<SmallVector<int64_t>>>
mlir::qopt::onnx_import::readAxes(NodeContext &ctx, unsigned inputIndex,
                                  int64_t inputSince, int64_t rank) {
  std::optional<SmallVector<int64_t>> axes;
  if (ctx.opset() >= inputSince) {
    if (ctx.hasInput(inputIndex)) {
      FailureOr<SmallVector<int64_t>> v = ctx.constantInts(inputIndex, "axes");
      if (failed(v))
        return failure();
      axes = *v;
    }
  } else {
    axes = ctx.attrInts("axes");
  }
  if (!axes)
    return axes;
  for (int64_t &a : *axes) {
    FailureOr<int64_t> n = normalizeAxis(ctx, a, rank, "axes entry");
    if (failed(n))
      return failure();
    a = *n;
  }
  llvm::sort(*axes);
  if (std::adjacent_find(axes->begin(), axes->end()) != axes->end())
    return ctx.error("axes has a repeated entry");
  return axes;
}

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

namespace {
using IntFn = int64_t (*)(int64_t, int64_t);

template <typename OpTy>
OpFoldResult indexBinary(OpBuilder &b, Location loc, OpFoldResult x,
                         OpFoldResult y, IntFn fold) {
  std::optional<int64_t> cx = getConstantIntValue(x),
                         cy = getConstantIntValue(y);
  if (cx && cy)
    return b.getIndexAttr(fold(*cx, *cy));
  return OpTy::create(b, loc, getValueOrCreateConstantIndexOp(b, loc, x),
                      getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}
} // namespace

OpFoldResult mlir::qopt::onnx_import::indexAdd(OpBuilder &b, Location loc,
                                               OpFoldResult x, OpFoldResult y) {
  if (isConstantIntValue(y, 0))
    return x;
  return indexBinary<arith::AddIOp>(b, loc, x, y, saturatingAdd);
}

OpFoldResult mlir::qopt::onnx_import::indexSub(OpBuilder &b, Location loc,
                                               OpFoldResult x, OpFoldResult y) {
  if (isConstantIntValue(y, 0))
    return x;
  return indexBinary<arith::SubIOp>(b, loc, x, y, [](int64_t l, int64_t r) {
    // l - r saturated (negating INT64_MIN would overflow).
    return r == INT64_MIN ? (l >= 0 ? INT64_MAX : l - INT64_MIN)
                          : saturatingAdd(l, -r);
  });
}

OpFoldResult mlir::qopt::onnx_import::indexMul(OpBuilder &b, Location loc,
                                               OpFoldResult x, OpFoldResult y) {
  if (isConstantIntValue(y, 1))
    return x;
  if (isConstantIntValue(x, 1))
    return y;
  return indexBinary<arith::MulIOp>(b, loc, x, y, saturatingMul);
}

OpFoldResult mlir::qopt::onnx_import::indexMin(OpBuilder &b, Location loc,
                                               OpFoldResult x, OpFoldResult y) {
  if (x == y)
    return x;
  return indexBinary<arith::MinSIOp>(
      b, loc, x, y, [](int64_t l, int64_t r) { return std::min(l, r); });
}

OpFoldResult mlir::qopt::onnx_import::indexMax(OpBuilder &b, Location loc,
                                               OpFoldResult x, OpFoldResult y) {
  if (x == y)
    return x;
  return indexBinary<arith::MaxSIOp>(
      b, loc, x, y, [](int64_t l, int64_t r) { return std::max(l, r); });
}

OpFoldResult mlir::qopt::onnx_import::indexCeilDiv(OpBuilder &b, Location loc,
                                                   OpFoldResult x,
                                                   OpFoldResult y) {
  if (isConstantIntValue(y, 1))
    return x;
  return indexBinary<arith::CeilDivSIOp>(
      b, loc, x, y, [](int64_t l, int64_t r) {
        if (r == -1) // l / -1 overflows for INT64_MIN
          return l == INT64_MIN ? INT64_MAX : -l;
        return l / r + ((l % r != 0) && ((l < 0) == (r < 0)) ? 1 : 0);
      });
}

OpFoldResult mlir::qopt::onnx_import::indexWrapNegative(OpBuilder &b,
                                                        Location loc,
                                                        OpFoldResult x,
                                                        OpFoldResult size) {
  if (std::optional<int64_t> c = getConstantIntValue(x))
    return *c < 0 ? indexAdd(b, loc, x, size) : x;
  Value v = cast<Value>(x);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value isNegative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v, zero);
  Value wrapped = arith::AddIOp::create(
      b, loc, v, getValueOrCreateConstantIndexOp(b, loc, size));
  return arith::SelectOp::create(b, loc, isNegative, wrapped, v).getResult();
}

SmallVector<int64_t>
mlir::qopt::onnx_import::staticShape(ArrayRef<OpFoldResult> sizes) {
  SmallVector<int64_t> shape;
  for (OpFoldResult s : sizes)
    shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
  return shape;
}

//===----------------------------------------------------------------------===//
// Reshape
//===----------------------------------------------------------------------===//

namespace {
/// Groups source dims and target dims into runs with equal products, as
/// symbolic products. Fails when the products cannot be matched.
FailureOr<std::pair<SmallVector<ReassociationIndices>,
                    SmallVector<ReassociationIndices>>>
matchReshapeGroups(ArrayRef<SymbolicDim> from, ArrayRef<SymbolicDim> to) {
  SmallVector<ReassociationIndices> fromGroups, toGroups;
  size_t i = 0, j = 0;
  while (i < from.size() && j < to.size()) {
    ReassociationIndices fg{static_cast<int64_t>(i)},
        tg{static_cast<int64_t>(j)};
    SymbolicDim fp = from[i++], tp = to[j++];
    while (!(fp == tp)) {
      if (tp.divide(fp) && i < from.size()) {
        fg.push_back(i);
        fp = fp * from[i++];
      } else if (fp.divide(tp) && j < to.size()) {
        tg.push_back(j);
        tp = tp * to[j++];
      } else {
        return failure();
      }
    }
    fromGroups.push_back(fg);
    toGroups.push_back(tg);
  }
  // Leftover unit dims join the last group.
  auto isOne = [](const SymbolicDim &d) {
    return d.isConstant() && d.constant == 1;
  };
  for (; i < from.size(); ++i) {
    if (!isOne(from[i]) || fromGroups.empty())
      return failure();
    fromGroups.back().push_back(i);
  }
  for (; j < to.size(); ++j) {
    if (!isOne(to[j]) || toGroups.empty())
      return failure();
    toGroups.back().push_back(j);
  }
  return std::make_pair(fromGroups, toGroups);
}
} // namespace

Value mlir::qopt::onnx_import::reshapeTensor(OpBuilder &b, Location loc,
                                             Value v,
                                             ArrayRef<OpFoldResult> sizes) {
  auto type = cast<RankedTensorType>(v.getType());
  Type et = type.getElementType();
  auto resultType = RankedTensorType::get(staticShape(sizes), et);
  if (resultType == type &&
      !llvm::any_of(sizes, [](OpFoldResult s) { return isa<Value>(s); }))
    return v;
  SmallVector<SymbolicDim> from, to;
  for (int64_t i = 0; i < type.getRank(); ++i)
    from.push_back(SymbolicDim::ofTensorDim(v, i));
  for (OpFoldResult s : sizes)
    to.push_back(SymbolicDim::ofIndex(s));
  if (from == to)
    return v;

  // Rank 0 on either side: all other dims must be static 1.
  if (type.getRank() == 0 || sizes.empty()) {
    if (type.hasStaticShape() && resultType.hasStaticShape()) {
      if (type.getRank() == 0)
        return tensor::ExpandShapeOp::create(b, loc, resultType, v,
                                             ArrayRef<ReassociationIndices>{});
      return tensor::CollapseShapeOp::create(b, loc, resultType, v,
                                             ArrayRef<ReassociationIndices>{});
    }
  } else if (auto groups = matchReshapeGroups(from, to); succeeded(groups)) {
    auto &[fromGroups, toGroups] = *groups;
    Value collapsed = v;
    if (fromGroups.size() != from.size())
      collapsed = tensor::CollapseShapeOp::create(b, loc, v, fromGroups);
    if (toGroups.size() == to.size()) {
      // Only refines dynamic dims to static ones (or nothing).
      if (collapsed.getType() == resultType)
        return collapsed;
      return tensor::CastOp::create(b, loc, resultType, collapsed);
    }
    auto collapsedType = cast<RankedTensorType>(collapsed.getType());
    // A collapsed dim may be dynamic while the target is static: cast first
    // so expand_shape sees consistent static sizes.
    SmallVector<int64_t> groupShape;
    for (const ReassociationIndices &g : toGroups) {
      int64_t n = 1;
      for (int64_t d : g)
        n = ShapedType::isDynamic(resultType.getDimSize(d)) ||
                    ShapedType::isDynamic(n)
                ? ShapedType::kDynamic
                : n * resultType.getDimSize(d);
      groupShape.push_back(n);
    }
    auto groupType = RankedTensorType::get(groupShape, et);
    if (groupType != collapsedType)
      collapsed = tensor::CastOp::create(b, loc, groupType, collapsed);
    return tensor::ExpandShapeOp::create(b, loc, resultType, collapsed,
                                         toGroups, sizes);
  }
  // General case: a shape tensor.
  SmallVector<Value> elements;
  for (OpFoldResult s : sizes)
    elements.push_back(arith::IndexCastOp::create(
        b, loc, b.getI64Type(), getValueOrCreateConstantIndexOp(b, loc, s)));
  Value shape = tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({(int64_t)sizes.size()}, b.getI64Type()),
      elements);
  return tensor::ReshapeOp::create(b, loc, resultType, v, shape);
}
