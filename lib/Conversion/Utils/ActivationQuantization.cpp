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
  Value zero = f32Const(b, loc, 0);
  Value lo = linalg::FillOp::create(b, loc, zero, rowEmpty()).getResult(0);
  Value hi = linalg::FillOp::create(b, loc, zero, rowEmpty()).getResult(0);
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap row = id.dropResult(rank - 1);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  iters.back() = utils::IteratorType::reduction;
  auto range = linalg::GenericOp::create(
      b, loc, TypeRange{lo.getType(), hi.getType()}, ValueRange{x},
      ValueRange{lo, hi}, ArrayRef<AffineMap>{id, row, row}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value v = a[0];
        if (symmetric)
          v = math::AbsFOp::create(nb, nl, v);
        Value l = arith::MinimumFOp::create(nb, nl, a[1], v);
        Value h = arith::MaximumFOp::create(nb, nl, a[2], v);
        linalg::YieldOp::create(nb, nl, ValueRange{l, h});
      });
  SmallVector<utils::IteratorType> rowIters(rank - 1,
                                            utils::IteratorType::parallel);
  AffineMap rowId = AffineMap::getMultiDimIdentityMap(rank - 1, ctx);
  auto params = linalg::GenericOp::create(
      b, loc, TypeRange{lo.getType(), lo.getType()},
      ValueRange{range.getResult(0), range.getResult(1)},
      ValueRange{rowEmpty(), rowEmpty()},
      ArrayRef<AffineMap>{rowId, rowId, rowId, rowId}, rowIters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value width =
            symmetric ? a[1] : arith::SubFOp::create(nb, nl, a[1], a[0]);
        Value scale = arith::DivFOp::create(
            nb, nl, width, f32Const(nb, nl, symmetric ? 127 : 255));
        Value positive = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OGT, scale, f32Const(nb, nl, 0));
        scale = arith::SelectOp::create(nb, nl, positive, scale,
                                        f32Const(nb, nl, 1));
        Value zp = f32Const(nb, nl, 0);
        if (!symmetric) {
          Value negLo = arith::NegFOp::create(nb, nl, a[0]);
          zp = math::RoundEvenOp::create(
              nb, nl, arith::DivFOp::create(nb, nl, negLo, scale));
          zp = arith::MaximumFOp::create(nb, nl, zp, f32Const(nb, nl, 0));
          zp = arith::MinimumFOp::create(nb, nl, zp, f32Const(nb, nl, 255));
        }
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
