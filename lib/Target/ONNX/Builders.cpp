//===- Builders.cpp - IR construction helpers for import rules ------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

FailureOr<Value> mlir::qopt::onnx_import::buildElementwise(
    NodeContext &ctx, ValueRange inputs, Type resultElementType,
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
    outSizes.push_back(ShapedType::isDynamic(outShape[i])
                           ? getDim(b, loc, dynamicSource[i].first,
                                    dynamicSource[i].second)
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
