//===- GatherIndex.cpp - ONNX Gather's row index, bounded -----------------===//

#include "quant-opt/Conversion/GatherIndex.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

Value qopt::gatherRowIndex(OpBuilder &b, Location loc, Value id, int64_t rows) {
  Value token = id.getType().isIndex()
                    ? id
                    : arith::IndexCastOp::create(b, loc, b.getIndexType(), id)
                          .getResult();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value negative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, token, zero);
  token = arith::SelectOp::create(
      b, loc, negative,
      arith::AddIOp::create(b, loc, token,
                            arith::ConstantIndexOp::create(b, loc, rows)),
      token);
  token = arith::MinSIOp::create(
      b, loc, token, arith::ConstantIndexOp::create(b, loc, rows - 1));
  return arith::MaxSIOp::create(b, loc, token, zero);
}
