//===- NormalizationRules.cpp - Reductions, Softmax, LayerNormalization ---===//
//
// Reductions become linalg.generic with reduction iterators; Softmax becomes
// linalg.softmax; LayerNormalization becomes mean/variance reductions and one
// elementwise normalization (computed in f32 for f16/bf16 inputs when
// stash_type asks for it).
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <functional>
#include <limits>

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {

enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  SumSquare,
  LogSum,
  LogSumExp
};

struct ReduceOp {
  StringRef name;
  ReduceKind kind;
};

const ReduceOp kReduceOps[] = {
    {"ReduceSum", ReduceKind::Sum},
    {"ReduceMean", ReduceKind::Mean},
    {"ReduceMax", ReduceKind::Max},
    {"ReduceMin", ReduceKind::Min},
    {"ReduceProd", ReduceKind::Prod},
    {"ReduceL1", ReduceKind::L1},
    {"ReduceL2", ReduceKind::L2},
    {"ReduceSumSquare", ReduceKind::SumSquare},
    {"ReduceLogSum", ReduceKind::LogSum},
    {"ReduceLogSumExp", ReduceKind::LogSumExp},
};

Value constF(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

/// The initial accumulator of a reduction.
TypedAttr identity(OpBuilder &b, ReduceKind kind, Type et, bool isUnsigned) {
  bool isFloat = isa<FloatType>(et);
  switch (kind) {
  case ReduceKind::Max:
    if (isFloat)
      return b.getFloatAttr(et, -std::numeric_limits<double>::infinity());
    return b.getIntegerAttr(
        et, isUnsigned ? APInt::getZero(et.getIntOrFloatBitWidth())
                       : APInt::getSignedMinValue(et.getIntOrFloatBitWidth()));
  case ReduceKind::Min:
    if (isFloat)
      return b.getFloatAttr(et, std::numeric_limits<double>::infinity());
    return b.getIntegerAttr(
        et, isUnsigned ? APInt::getMaxValue(et.getIntOrFloatBitWidth())
                       : APInt::getSignedMaxValue(et.getIntOrFloatBitWidth()));
  case ReduceKind::Prod:
    return isFloat ? TypedAttr(b.getFloatAttr(et, 1.0))
                   : TypedAttr(b.getIntegerAttr(et, 1));
  default:
    return b.getZeroAttr(et);
  }
}

/// Reduces `x` over the sorted `axes`, keeping them as size-1 dims.
/// `pre` maps each element before accumulation; `combine` accumulates.
Value reduceKeepDims(
    OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes, TypedAttr init,
    const std::function<Value(OpBuilder &, Location, Value)> &pre,
    const std::function<Value(OpBuilder &, Location, Value, Value)> &combine) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> dims = getDims(b, loc, x), kept, keptWithOnes;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    keptWithOnes.push_back(reduced ? b.getIndexAttr(1) : dims[i]);
    if (!reduced) {
      kept.push_back(dims[i]);
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  Value empty = createEmpty(b, loc, kept, type.getElementType());
  Value initValue = arith::ConstantOp::create(b, loc, init);
  Value filled = linalg::FillOp::create(b, loc, initValue, empty).getResult(0);
  SmallVector<AffineMap> maps{
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, outExprs, b.getContext())};
  auto generic = linalg::GenericOp::create(
      b, loc, filled.getType(), ValueRange{x}, ValueRange{filled}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = pre ? pre(nb, nloc, args[0]) : args[0];
        linalg::YieldOp::create(nb, nloc, combine(nb, nloc, v, args[1]));
      });
  return reshapeTensor(b, loc, generic.getResult(0), keptWithOnes);
}

/// Number of elements in the reduced axes, as a float scalar value.
Value reducedCount(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
                   Type floatType) {
  OpFoldResult n = b.getIndexAttr(1);
  for (int64_t a : axes)
    n = indexMul(b, loc, n, getDim(b, loc, x, a));
  if (std::optional<int64_t> c = getConstantIntValue(n))
    return constF(b, loc, floatType, static_cast<double>(*c));
  Value i64 =
      arith::IndexCastOp::create(b, loc, b.getI64Type(), cast<Value>(n));
  return arith::SIToFPOp::create(b, loc, floatType, i64);
}

Value addF(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}

LogicalResult importReduce(NodeContext &ctx) {
  ReduceKind kind = llvm::find_if(kReduceOps, [&](const ReduceOp &op) {
                      return op.name == ctx.opType();
                    })->kind;
  int32_t onnxType = ctx.inputONNXType(0);
  bool isFloat = isFloatType(onnxType), isUnsigned = isUnsignedType(onnxType);
  bool floatOnly = kind == ReduceKind::Mean || kind == ReduceKind::L2 ||
                   kind == ReduceKind::LogSum || kind == ReduceKind::LogSumExp;
  if (!isFloat && floatOnly)
    return ctx.error("supports float inputs only");
  if (onnxType == kBool)
    return ctx.error("does not support bool inputs");
  Value x = ctx.input(0);
  auto type = ctx.inputType(0);
  int64_t rank = type.getRank();
  Type et = type.getElementType();

  // Axes: an input since opset 18 (13 for ReduceSum), else an attribute.
  FailureOr<std::optional<SmallVector<int64_t>>> axes =
      readAxes(ctx, 1, kind == ReduceKind::Sum ? 13 : 18, rank);
  if (failed(axes))
    return failure();
  if (!*axes || (*axes)->empty()) {
    if (ctx.attrInt("noop_with_empty_axes", 0)) {
      ctx.setOutput(0, x, onnxType);
      return success();
    }
    axes->emplace();
    for (int64_t i = 0; i < rank; ++i)
      (*axes)->push_back(i);
  }
  ArrayRef<int64_t> reduced = **axes;

  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  std::function<Value(OpBuilder &, Location, Value)> pre;
  std::function<Value(OpBuilder &, Location, Value, Value)> combine;
  auto add = [isFloat](OpBuilder &nb, Location nloc, Value v, Value acc) {
    return isFloat ? addF(nb, nloc, v, acc)
                   : arith::AddIOp::create(nb, nloc, v, acc).getResult();
  };
  combine = add;
  switch (kind) {
  case ReduceKind::Max:
    combine = [=](OpBuilder &nb, Location nloc, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::MaximumFOp::create(nb, nloc, v, acc);
      if (isUnsigned)
        return arith::MaxUIOp::create(nb, nloc, v, acc);
      return arith::MaxSIOp::create(nb, nloc, v, acc);
    };
    break;
  case ReduceKind::Min:
    combine = [=](OpBuilder &nb, Location nloc, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::MinimumFOp::create(nb, nloc, v, acc);
      if (isUnsigned)
        return arith::MinUIOp::create(nb, nloc, v, acc);
      return arith::MinSIOp::create(nb, nloc, v, acc);
    };
    break;
  case ReduceKind::Prod:
    combine = [=](OpBuilder &nb, Location nloc, Value v, Value acc) -> Value {
      if (isFloat)
        return arith::MulFOp::create(nb, nloc, v, acc);
      return arith::MulIOp::create(nb, nloc, v, acc);
    };
    break;
  case ReduceKind::L1:
    pre = [=](OpBuilder &nb, Location nloc, Value v) -> Value {
      if (isFloat)
        return math::AbsFOp::create(nb, nloc, v);
      return isUnsigned ? v : math::AbsIOp::create(nb, nloc, v).getResult();
    };
    break;
  case ReduceKind::L2:
  case ReduceKind::SumSquare:
    pre = [=](OpBuilder &nb, Location nloc, Value v) -> Value {
      if (isFloat)
        return arith::MulFOp::create(nb, nloc, v, v);
      return arith::MulIOp::create(nb, nloc, v, v);
    };
    break;
  case ReduceKind::LogSumExp:
    pre = [](OpBuilder &nb, Location nloc, Value v) -> Value {
      return math::ExpOp::create(nb, nloc, v);
    };
    break;
  default:
    break;
  }
  Value result = reduceKeepDims(
      b, loc, x, reduced, identity(b, kind, et, isUnsigned), pre, combine);
  // Post-processing on the reduced values.
  std::function<Value(OpBuilder &, Location, Value)> post;
  if (kind == ReduceKind::Mean) {
    Value count = reducedCount(b, loc, x, reduced, et);
    post = [count](OpBuilder &nb, Location nloc, Value v) -> Value {
      return arith::DivFOp::create(nb, nloc, v, count);
    };
  } else if (kind == ReduceKind::L2) {
    post = [](OpBuilder &nb, Location nloc, Value v) -> Value {
      return math::SqrtOp::create(nb, nloc, v);
    };
  } else if (kind == ReduceKind::LogSum || kind == ReduceKind::LogSumExp) {
    post = [](OpBuilder &nb, Location nloc, Value v) -> Value {
      return math::LogOp::create(nb, nloc, v);
    };
  }
  if (post) {
    FailureOr<Value> mapped = buildElementwise(
        ctx, result, et, [&](OpBuilder &nb, Location nloc, ValueRange a) {
          return post(nb, nloc, a[0]);
        });
    if (failed(mapped))
      return failure();
    result = *mapped;
  }
  if (!ctx.attrInt("keepdims", 1)) {
    SmallVector<OpFoldResult> dims = getDims(b, loc, result), kept;
    for (int64_t i = 0; i < rank; ++i)
      if (!llvm::is_contained(reduced, i))
        kept.push_back(dims[i]);
    result = reshapeTensor(b, loc, result, kept);
  }
  ctx.setOutput(0, result, onnxType);
  return success();
}

LogicalResult importSoftmax(NodeContext &ctx) {
  if (!isFloatType(ctx.inputONNXType(0)))
    return ctx.error("supports float inputs only");
  auto type = ctx.inputType(0);
  FailureOr<int64_t> axis =
      normalizeAxis(ctx, ctx.attrInt("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  Value init = createEmpty(b, loc, getDims(b, loc, x), type.getElementType());
  Value result =
      linalg::SoftmaxOp::create(b, loc, init.getType(), x, init, *axis)
          .getResult()[0];
  ctx.setOutput(0, result, ctx.inputONNXType(0));
  return success();
}

LogicalResult importLogSoftmax(NodeContext &ctx) {
  if (!isFloatType(ctx.inputONNXType(0)))
    return ctx.error("supports float inputs only");
  auto type = ctx.inputType(0);
  FailureOr<int64_t> axis =
      normalizeAxis(ctx, ctx.attrInt("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Type et = type.getElementType();
  Value x = ctx.input(0);
  // x - max - log(sum(exp(x - max))), stable for large logits.
  Value max = reduceKeepDims(
      b, loc, x, {*axis},
      b.getFloatAttr(et, -std::numeric_limits<double>::infinity()), nullptr,
      [](OpBuilder &nb, Location nloc, Value v, Value acc) -> Value {
        return arith::MaximumFOp::create(nb, nloc, v, acc);
      });
  FailureOr<Value> shifted = buildElementwise(
      ctx, {x, max}, et, [](OpBuilder &nb, Location nloc, ValueRange a) {
        return arith::SubFOp::create(nb, nloc, a[0], a[1]);
      });
  if (failed(shifted))
    return failure();
  Value sum = reduceKeepDims(
      b, loc, *shifted, {*axis}, b.getZeroAttr(et),
      [](OpBuilder &nb, Location nloc, Value v) -> Value {
        return math::ExpOp::create(nb, nloc, v);
      },
      [](OpBuilder &nb, Location nloc, Value v, Value acc) {
        return addF(nb, nloc, v, acc);
      });
  FailureOr<Value> result = buildElementwise(
      ctx, {*shifted, sum}, et, [](OpBuilder &nb, Location nloc, ValueRange a) {
        return arith::SubFOp::create(nb, nloc, a[0],
                                     math::LogOp::create(nb, nloc, a[1]));
      });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, ctx.inputONNXType(0));
  return success();
}

/// ArgMax/ArgMin: one reduction carrying (best value, its index).
LogicalResult importArgExtremum(NodeContext &ctx) {
  bool isMax = ctx.opType() == "ArgMax";
  int32_t onnxType = ctx.inputONNXType(0);
  if (onnxType == kBool)
    return ctx.error("does not support bool inputs");
  bool isFloat = isFloatType(onnxType), isUnsigned = isUnsignedType(onnxType);
  auto type = ctx.inputType(0);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = normalizeAxis(ctx, ctx.attrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  bool selectLast = ctx.attrInt("select_last_index", 0) != 0;
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  Type et = type.getElementType(), i64 = b.getI64Type();
  SmallVector<OpFoldResult> dims = getDims(b, loc, x), kept, keptWithOnes;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = i == *axis;
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    keptWithOnes.push_back(reduced ? b.getIndexAttr(1) : dims[i]);
    if (!reduced) {
      kept.push_back(dims[i]);
      outExprs.push_back(b.getAffineDimExpr(i));
    }
  }
  TypedAttr worst =
      identity(b, isMax ? ReduceKind::Max : ReduceKind::Min, et, isUnsigned);
  Value worstValue = arith::ConstantOp::create(b, loc, worst);
  Value noIndex = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(-1));
  Value bestInit =
      linalg::FillOp::create(b, loc, worstValue, createEmpty(b, loc, kept, et))
          .getResult(0);
  Value indexInit =
      linalg::FillOp::create(b, loc, noIndex, createEmpty(b, loc, kept, i64))
          .getResult(0);
  AffineMap outMap = AffineMap::get(rank, 0, outExprs, b.getContext());
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{bestInit.getType(), indexInit.getType()}, ValueRange{x},
      ValueRange{bestInit, indexInit},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank), outMap, outMap},
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = args[0], best = args[1], bestIndex = args[2];
        Value i = arith::IndexCastOp::create(
            nb, nloc, i64, linalg::IndexOp::create(nb, nloc, *axis));
        // Strictly better, or equal and (select_last or nothing chosen yet).
        Value better, equal;
        if (isFloat) {
          better = arith::CmpFOp::create(nb, nloc,
                                         isMax ? arith::CmpFPredicate::OGT
                                               : arith::CmpFPredicate::OLT,
                                         v, best);
          equal = arith::CmpFOp::create(nb, nloc, arith::CmpFPredicate::OEQ, v,
                                        best);
        } else {
          auto pred = isMax ? (isUnsigned ? arith::CmpIPredicate::ugt
                                          : arith::CmpIPredicate::sgt)
                            : (isUnsigned ? arith::CmpIPredicate::ult
                                          : arith::CmpIPredicate::slt);
          better = arith::CmpIOp::create(nb, nloc, pred, v, best);
          equal = arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::eq, v,
                                        best);
        }
        Value unset = arith::CmpIOp::create(
            nb, nloc, arith::CmpIPredicate::slt, bestIndex,
            arith::ConstantOp::create(nb, nloc, nb.getI64IntegerAttr(0)));
        Value tieWins =
            selectLast
                ? equal
                : arith::AndIOp::create(nb, nloc, equal, unset).getResult();
        Value take = arith::OrIOp::create(
            nb, nloc, arith::OrIOp::create(nb, nloc, better, tieWins), unset);
        linalg::YieldOp::create(
            nb, nloc,
            ValueRange{arith::SelectOp::create(nb, nloc, take, v, best),
                       arith::SelectOp::create(nb, nloc, take, i, bestIndex)});
      });
  Value result = generic.getResult(1);
  if (ctx.attrInt("keepdims", 1))
    result = reshapeTensor(b, loc, result, keptWithOnes);
  ctx.setOutput(0, result, kInt64);
  return success();
}

LogicalResult importLayerNormalization(NodeContext &ctx) {
  int32_t onnxType = ctx.inputONNXType(0);
  if (!isFloatType(onnxType))
    return ctx.error("supports float inputs only");
  if (!ctx.hasInput(1))
    return ctx.error("missing Scale input");
  auto type = ctx.inputType(0);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = normalizeAxis(ctx, ctx.attrInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  float epsilon = ctx.attrFloat("epsilon", 1e-5f);
  int64_t stash = ctx.attrInt("stash_type", kFloat);
  if (stash != kFloat && stash != onnxType)
    return ctx.error("stash_type " + dataTypeName(stash) +
                     " is not supported (float or the input type)");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Type et = type.getElementType();
  // Statistics are computed in f32 (stash_type 1) even for f16/bf16 inputs.
  Type computeType = stash == kFloat ? b.getF32Type() : et;
  auto toCompute = [&](Value v, int32_t from) -> FailureOr<Value> {
    if (getElementTypeOrSelf(v.getType()) == computeType)
      return v;
    return buildElementwise(
        ctx, v, computeType, [&](OpBuilder &nb, Location nloc, ValueRange a) {
          return convertScalar(nb, nloc, a[0], from, kFloat);
        });
  };
  FailureOr<Value> x = toCompute(ctx.input(0), onnxType);
  if (failed(x))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t i = *axis; i < rank; ++i)
    axes.push_back(i);
  auto sum = [](OpBuilder &nb, Location nloc, Value v, Value acc) {
    return addF(nb, nloc, v, acc);
  };
  Value count = reducedCount(b, loc, *x, axes, computeType);
  Value sumX = reduceKeepDims(b, loc, *x, axes, b.getZeroAttr(computeType),
                              nullptr, sum);
  FailureOr<Value> mean = buildElementwise(
      ctx, sumX, computeType, [&](OpBuilder &nb, Location nloc, ValueRange a) {
        return arith::DivFOp::create(nb, nloc, a[0], count);
      });
  if (failed(mean))
    return failure();
  FailureOr<Value> centered =
      buildElementwise(ctx, {*x, *mean}, computeType,
                       [](OpBuilder &nb, Location nloc, ValueRange a) {
                         return arith::SubFOp::create(nb, nloc, a[0], a[1]);
                       });
  if (failed(centered))
    return failure();
  Value sumSq = reduceKeepDims(
      b, loc, *centered, axes, b.getZeroAttr(computeType),
      [](OpBuilder &nb, Location nloc, Value v) -> Value {
        return arith::MulFOp::create(nb, nloc, v, v);
      },
      sum);
  FailureOr<Value> invStd = buildElementwise(
      ctx, sumSq, computeType, [&](OpBuilder &nb, Location nloc, ValueRange a) {
        Value var = arith::DivFOp::create(nb, nloc, a[0], count);
        Value eps = constF(nb, nloc, computeType, epsilon);
        return math::RsqrtOp::create(nb, nloc,
                                     arith::AddFOp::create(nb, nloc, var, eps));
      });
  if (failed(invStd))
    return failure();
  // y = (x - mean) * invStd * scale + bias, back in the input type.
  SmallVector<Value> operands{*centered, *invStd, ctx.input(1)};
  bool hasBias = ctx.hasInput(2);
  if (hasBias)
    operands.push_back(ctx.input(2));
  FailureOr<Value> y = buildElementwise(
      ctx, operands, et, [&](OpBuilder &nb, Location nloc, ValueRange a) {
        auto up = [&](Value v) {
          return convertScalar(nb, nloc, v, onnxType, kFloat);
        };
        bool widen = computeType != et;
        Value v = arith::MulFOp::create(nb, nloc, a[0], a[1]);
        v = arith::MulFOp::create(nb, nloc, v, widen ? up(a[2]) : a[2]);
        if (hasBias)
          v = arith::AddFOp::create(nb, nloc, v, widen ? up(a[3]) : a[3]);
        return widen ? convertScalar(nb, nloc, v, kFloat, onnxType) : v;
      });
  if (failed(y))
    return failure();
  ctx.setOutput(0, *y, onnxType);
  // Mean and InvStdDev are in stash_type.
  ctx.setOutput(1, *mean, stash);
  ctx.setOutput(2, *invStd, stash);
  return success();
}

} // namespace

void mlir::qopt::onnx_import::registerNormalizationRules(RuleRegistry &r) {
  for (const ReduceOp &op : kReduceOps)
    r.add("", op.name, importReduce);
  r.add("", "Softmax", importSoftmax);
  r.add("", "LogSoftmax", importLogSoftmax);
  r.add("", "ArgMax", importArgExtremum);
  r.add("", "ArgMin", importArgExtremum);
  r.add("", "LayerNormalization", importLayerNormalization);
}
