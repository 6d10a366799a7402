//===- ActivationQuantization.cpp - Run-time activation quantization ------===//

#include "quant-opt/Conversion/ActivationQuantization.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

Value qopt::f32Const(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

Value qopt::quantizeF32(OpBuilder &b, Location loc, Value x, Value scale,
                        Value zp, int64_t qmin, int64_t qmax) {
  Value r = math::RoundEvenOp::create(b, loc,
                                      arith::DivFOp::create(b, loc, x, scale));
  Value q = arith::AddFOp::create(b, loc, r, zp);
  q = arith::MaximumFOp::create(b, loc, q, f32Const(b, loc, qmin));
  return arith::MinimumFOp::create(b, loc, q, f32Const(b, loc, qmax));
}

/// Lanes of the vectorizable min/max: a row of K values is reduced as
/// [K / kLanes, kLanes] with the inner dimension parallel, so the loop LLVM
/// vectorizes carries no dependence. Min and max are exact in any order.
constexpr int64_t kLanes = 16;

/// Per row of `x` (the last dimension reduced): the min and max of `x`, or
/// of |x| when `symmetric`, both clamped to include 0.
/// `rowDyn` are the dynamic sizes of the rows' dimensions.
static std::pair<Value, Value> rowRange(OpBuilder &b, Location loc, Value x,
                                        ValueRange rowDyn, bool symmetric) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank(), k = type.getShape().back();
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  auto filled = [&](ArrayRef<int64_t> shape) {
    Value empty = tensor::EmptyOp::create(b, loc, shape, f32, rowDyn);
    return linalg::FillOp::create(b, loc, qopt::f32Const(b, loc, 0), empty)
        .getResult(0);
  };
  // (l, h) -> (min of l, max of h): over x itself first (l = h = x, or |x|),
  // then over the lanes' minima and maxima.
  auto minMax = [&](Value loIn, Value hiIn, ArrayRef<int64_t> outShape,
                    AffineMap inMap, ArrayRef<utils::IteratorType> iters,
                    int64_t reduced, bool abs) {
    Value lo = filled(outShape), hi = filled(outShape);
    AffineMap outMap = inMap.dropResult(reduced);
    auto op = linalg::GenericOp::create(
        b, loc, TypeRange{lo.getType(), hi.getType()}, ValueRange{loIn, hiIn},
        ValueRange{lo, hi}, ArrayRef<AffineMap>{inMap, inMap, outMap, outMap},
        iters, [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value l = a[0], h = a[1];
          if (abs)
            l = h = math::AbsFOp::create(nb, nl, l);
          l = arith::MinimumFOp::create(nb, nl, a[2], l);
          h = arith::MaximumFOp::create(nb, nl, a[3], h);
          linalg::YieldOp::create(nb, nl, ValueRange{l, h});
        });
    return std::make_pair(op.getResult(0), op.getResult(1));
  };
  SmallVector<int64_t> rowShape(type.getShape().drop_back());
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  if (ShapedType::isDynamic(k) || k % kLanes || k < 2 * kLanes)
    return minMax(x, x, rowShape, id, iters, rank - 1, symmetric);

  // [..., K] -> [..., K / kLanes, kLanes] -> lanes [..., kLanes] -> [...].
  SmallVector<int64_t> split(rowShape);
  split.append({k / kLanes, kLanes});
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t i = 0; i + 1 < rank; ++i)
    reassociation.push_back({i});
  reassociation.push_back({rank - 1, rank});
  Value blocks = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(split, f32), x, reassociation);
  SmallVector<int64_t> laneShape(rowShape);
  laneShape.push_back(kLanes);
  SmallVector<utils::IteratorType> blockIters(rank + 1,
                                              utils::IteratorType::parallel);
  blockIters[rank - 1] = utils::IteratorType::reduction;
  auto [laneLo, laneHi] =
      minMax(blocks, blocks, laneShape,
             AffineMap::getMultiDimIdentityMap(rank + 1, ctx), blockIters,
             rank - 1, symmetric);
  return minMax(laneLo, laneHi, rowShape, id, iters, rank - 1,
                /*abs=*/false);
}

std::pair<Value, Value> qopt::rowParamsFromRange(OpBuilder &b, Location loc,
                                                 Value lo, Value hi,
                                                 bool symmetric) {
  Value width = symmetric ? hi : arith::SubFOp::create(b, loc, hi, lo);
  Value scale = arith::DivFOp::create(b, loc, width,
                                      f32Const(b, loc, symmetric ? 127 : 255));
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                         scale, f32Const(b, loc, 0));
  scale = arith::SelectOp::create(b, loc, positive, scale, f32Const(b, loc, 1));
  Value zp = f32Const(b, loc, 0);
  if (!symmetric) {
    Value negLo = arith::NegFOp::create(b, loc, lo);
    zp = math::RoundEvenOp::create(b, loc,
                                   arith::DivFOp::create(b, loc, negLo, scale));
    zp = arith::MaximumFOp::create(b, loc, zp, f32Const(b, loc, 0));
    zp = arith::MinimumFOp::create(b, loc, zp, f32Const(b, loc, 255));
  }
  return {scale, zp};
}

std::pair<Value, Value> qopt::dynamicRowParams(OpBuilder &b, Location loc,
                                               Value x, bool symmetric) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> rowShape(type.getShape().drop_back());
  SmallVector<Value> rowDyn;
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (type.isDynamicDim(i))
      rowDyn.push_back(tensor::DimOp::create(b, loc, x, i));
  Type f32 = b.getF32Type();
  auto rowEmpty = [&] {
    return tensor::EmptyOp::create(b, loc, rowShape, f32, rowDyn).getResult();
  };
  auto [lo, hi] = rowRange(b, loc, x, rowDyn, symmetric);
  SmallVector<utils::IteratorType> rowIters(rank - 1,
                                            utils::IteratorType::parallel);
  AffineMap rowId = AffineMap::getMultiDimIdentityMap(rank - 1, ctx);
  auto params = linalg::GenericOp::create(
      b, loc, TypeRange{lo.getType(), lo.getType()}, ValueRange{lo, hi},
      ValueRange{rowEmpty(), rowEmpty()},
      ArrayRef<AffineMap>{rowId, rowId, rowId, rowId}, rowIters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        auto [scale, zp] =
            qopt::rowParamsFromRange(nb, nl, a[0], a[1], symmetric);
        linalg::YieldOp::create(nb, nl, ValueRange{scale, zp});
      });
  return {params.getResult(0), params.getResult(1)};
}

qopt::InputQuantization qopt::inputQuantization(OpBuilder &b, Location loc,
                                                QMatmulOp op, Value x) {
  InputQuantization q;
  if (auto inputType = op.getInputTypeAttr()) {
    AffineParams p =
        paramsOf(cast<quant::QuantizedType>(inputType.getValue()), {});
    q.scale = f32Const(b, loc, p.scale);
    q.zeroPoint = f32Const(b, loc, p.zeroPoint);
    q.qmin = p.qmin;
    q.qmax = p.qmax;
    return q;
  }
  std::tie(q.scale, q.zeroPoint) =
      dynamicRowParams(b, loc, x, /*symmetric=*/false);
  q.perRow = true;
  return q;
}
