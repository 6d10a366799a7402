//===- ElementwiseRules.cpp - Elementwise ONNX ops ------------------------===//
//
// Unary/binary/ternary math, comparisons, logic, Cast, Where, Constant.
// Each op folds at import time when its inputs are small known tensors (the
// shape computations exporters emit), and otherwise becomes a linalg.generic
// with broadcasting.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"

#include <onnx/onnx_pb.h>

#include <cmath>

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {

//===----------------------------------------------------------------------===//
// Import-time folding
//===----------------------------------------------------------------------===//

/// One element of a FoldedTensor: a double for floats, an index
/// OpFoldResult for integers.
struct Scalar {
  double f = 0;
  OpFoldResult i;
};

using FoldFn = function_ref<std::optional<Scalar>(ArrayRef<Scalar>)>;

/// Folds an elementwise op over known inputs with broadcasting. Returns
/// nullopt when any input is unknown or an element cannot be folded.
std::optional<FoldedTensor> foldElementwise(NodeContext &ctx,
                                            int32_t resultType, FoldFn fn) {
  SmallVector<const FoldedTensor *> ins;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    const FoldedTensor *f = ctx.folded(i);
    if (!f)
      return std::nullopt;
    ins.push_back(f);
  }
  size_t rank = 0;
  for (const FoldedTensor *f : ins)
    rank = std::max(rank, f->shape.size());
  SmallVector<int64_t> shape(rank, 1);
  for (const FoldedTensor *f : ins)
    for (size_t i = 0; i < f->shape.size(); ++i) {
      int64_t d = f->shape[i], &out = shape[rank - f->shape.size() + i];
      if (d != 1 && out != 1 && d != out)
        return std::nullopt;
      if (d != 1)
        out = d;
    }
  FoldedTensor result;
  result.shape = shape;
  result.onnxType = resultType;
  int64_t n = result.numElements();
  if (n > kMaxFoldedElements)
    return std::nullopt;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t e = 0; e < n; ++e) {
    SmallVector<Scalar> args;
    for (const FoldedTensor *f : ins) {
      int64_t flat = 0, offset = rank - f->shape.size();
      for (size_t i = 0; i < f->shape.size(); ++i)
        flat = flat * f->shape[i] + (f->shape[i] == 1 ? 0 : index[offset + i]);
      Scalar s;
      if (f->isFloat())
        s.f = f->floats[flat];
      else
        s.i = f->ints[flat];
      args.push_back(s);
    }
    std::optional<Scalar> r = fn(args);
    if (!r)
      return std::nullopt;
    if (isFloatType(resultType))
      result.floats.push_back(r->f);
    else
      result.ints.push_back(r->i);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

std::optional<int64_t> knownInt(OpFoldResult r) {
  if (auto attr = dyn_cast<Attribute>(r))
    return cast<IntegerAttr>(attr).getInt();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Op descriptions
//===----------------------------------------------------------------------===//

enum class Kind { Arith, Compare, Logic };

/// How one ONNX elementwise op computes, in IR and at import time.
struct ElementwiseOp {
  StringRef name;
  unsigned arity; // 0 = variadic (Max, Min, Sum, Mean)
  Kind kind;
  /// IR for float element types (null: not defined on floats).
  Value (*floatBody)(OpBuilder &, Location, ValueRange);
  /// IR for integer element types (null: not defined on integers).
  Value (*intBody)(OpBuilder &, Location, ValueRange, bool isUnsigned);
  /// Import-time evaluation on doubles (null: do not fold floats).
  std::optional<double> (*foldFloat)(ArrayRef<double>);
  /// Import-time evaluation on integers (null: do not fold integers).
  std::optional<int64_t> (*foldInt)(ArrayRef<int64_t>);
};

Value constF(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, v));
}

#define FBODY(expr)                                                            \
  [](OpBuilder &b, Location loc, ValueRange a) -> Value { return expr; }
#define IBODY(expr)                                                            \
  [](OpBuilder &b, Location loc, ValueRange a, bool isUnsigned) -> Value {     \
    (void)isUnsigned;                                                          \
    return expr;                                                               \
  }
#define FFOLD(expr)                                                            \
  [](ArrayRef<double> a) -> std::optional<double> { return expr; }
#define IFOLD(expr)                                                            \
  [](ArrayRef<int64_t> a) -> std::optional<int64_t> { return expr; }

Value cmpF(OpBuilder &b, Location loc, arith::CmpFPredicate p, ValueRange a) {
  return arith::CmpFOp::create(b, loc, p, a[0], a[1]);
}
Value cmpI(OpBuilder &b, Location loc, arith::CmpIPredicate s,
           arith::CmpIPredicate u, bool isUnsigned, ValueRange a) {
  return arith::CmpIOp::create(b, loc, isUnsigned ? u : s, a[0], a[1]);
}

Value gelu(OpBuilder &b, Location loc, Value x, bool tanhApprox) {
  Type t = x.getType();
  Value half = constF(b, loc, t, 0.5), one = constF(b, loc, t, 1.0);
  Value inner;
  if (tanhApprox) {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 =
        arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, constF(b, loc, t, 0.044715), x3));
    inner = math::TanhOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, constF(b, loc, t, std::sqrt(2 / M_PI)),
                              poly));
  } else {
    inner = math::ErfOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, constF(b, loc, t, M_SQRT1_2)));
  }
  return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, half, x),
                               arith::AddFOp::create(b, loc, one, inner));
}

/// Integer folds wrap around like the arith ops they fold (two's complement)
/// instead of overflowing in C++.
int64_t wrapAdd(int64_t x, int64_t y) {
  return static_cast<int64_t>(static_cast<uint64_t>(x) +
                              static_cast<uint64_t>(y));
}
int64_t wrapSub(int64_t x, int64_t y) {
  return static_cast<int64_t>(static_cast<uint64_t>(x) -
                              static_cast<uint64_t>(y));
}
int64_t wrapMul(int64_t x, int64_t y) {
  return static_cast<int64_t>(static_cast<uint64_t>(x) *
                              static_cast<uint64_t>(y));
}
/// x / y, or nullopt where the division is undefined (y = 0, and
/// INT64_MIN / -1, which traps).
std::optional<int64_t> foldDiv(int64_t x, int64_t y) {
  if (y == 0 || (x == INT64_MIN && y == -1))
    return std::nullopt;
  return x / y;
}

/// Integer x / y that never traps: ONNX leaves division by zero (and the
/// signed INT_MIN / -1) undefined, and a trap would kill the caller's
/// process; like numpy, x / 0 is 0 and INT_MIN / -1 wraps to INT_MIN.
Value safeIntDiv(OpBuilder &b, Location loc, Value x, Value y,
                 bool isUnsigned) {
  Type t = x.getType();
  auto constant = [&](const APInt &v) {
    return arith::ConstantOp::create(b, loc, t, b.getIntegerAttr(t, v));
  };
  unsigned bits = t.isIndex() ? 64 : t.getIntOrFloatBitWidth();
  Value zero = constant(APInt(bits, 0)), one = constant(APInt(bits, 1));
  Value byZero =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y, zero);
  Value bad = byZero;
  if (!isUnsigned)
    bad = arith::OrIOp::create(
        b, loc, bad,
        arith::AndIOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x,
                                  constant(APInt::getSignedMinValue(bits))),
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, y,
                                  constant(APInt::getAllOnes(bits)))));
  Value divisor = arith::SelectOp::create(b, loc, bad, one, y);
  Value q = isUnsigned ? arith::DivUIOp::create(b, loc, x, divisor).getResult()
                       : arith::DivSIOp::create(b, loc, x, divisor).getResult();
  // x / 1 = x is INT_MIN / -1's wrapped result; x / 0 is 0.
  return arith::SelectOp::create(b, loc, byZero, zero, q);
}

const ElementwiseOp kOps[] = {
    {"Add", 2, Kind::Arith, FBODY(arith::AddFOp::create(b, loc, a[0], a[1])),
     IBODY(arith::AddIOp::create(b, loc, a[0], a[1])), FFOLD(a[0] + a[1]),
     IFOLD(wrapAdd(a[0], a[1]))},
    {"Sub", 2, Kind::Arith, FBODY(arith::SubFOp::create(b, loc, a[0], a[1])),
     IBODY(arith::SubIOp::create(b, loc, a[0], a[1])), FFOLD(a[0] - a[1]),
     IFOLD(wrapSub(a[0], a[1]))},
    {"Mul", 2, Kind::Arith, FBODY(arith::MulFOp::create(b, loc, a[0], a[1])),
     IBODY(arith::MulIOp::create(b, loc, a[0], a[1])), FFOLD(a[0] * a[1]),
     IFOLD(wrapMul(a[0], a[1]))},
    {"Div", 2, Kind::Arith, FBODY(arith::DivFOp::create(b, loc, a[0], a[1])),
     IBODY(safeIntDiv(b, loc, a[0], a[1], isUnsigned)), FFOLD(a[0] / a[1]),
     IFOLD(foldDiv(a[0], a[1]))},
    {"Pow", 2, Kind::Arith, FBODY(math::PowFOp::create(b, loc, a[0], a[1])),
     nullptr, FFOLD(std::pow(a[0], a[1])), nullptr},
    {"Max", 0, Kind::Arith,
     FBODY(arith::MaximumFOp::create(b, loc, a[0], a[1])),
     IBODY(isUnsigned ? arith::MaxUIOp::create(b, loc, a[0], a[1]).getResult()
                      : arith::MaxSIOp::create(b, loc, a[0], a[1]).getResult()),
     FFOLD(std::max(a[0], a[1])), IFOLD(std::max(a[0], a[1]))},
    {"Min", 0, Kind::Arith,
     FBODY(arith::MinimumFOp::create(b, loc, a[0], a[1])),
     IBODY(isUnsigned ? arith::MinUIOp::create(b, loc, a[0], a[1]).getResult()
                      : arith::MinSIOp::create(b, loc, a[0], a[1]).getResult()),
     FFOLD(std::min(a[0], a[1])), IFOLD(std::min(a[0], a[1]))},
    {"Sum", 0, Kind::Arith, FBODY(arith::AddFOp::create(b, loc, a[0], a[1])),
     IBODY(arith::AddIOp::create(b, loc, a[0], a[1])), FFOLD(a[0] + a[1]),
     IFOLD(wrapAdd(a[0], a[1]))},
    {"Sqrt", 1, Kind::Arith, FBODY(math::SqrtOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::sqrt(a[0])), nullptr},
    {"Tanh", 1, Kind::Arith, FBODY(math::TanhOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::tanh(a[0])), nullptr},
    {"Erf", 1, Kind::Arith, FBODY(math::ErfOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::erf(a[0])), nullptr},
    {"Exp", 1, Kind::Arith, FBODY(math::ExpOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::exp(a[0])), nullptr},
    {"Log", 1, Kind::Arith, FBODY(math::LogOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::log(a[0])), nullptr},
    {"Sin", 1, Kind::Arith, FBODY(math::SinOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::sin(a[0])), nullptr},
    {"Cos", 1, Kind::Arith, FBODY(math::CosOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::cos(a[0])), nullptr},
    {"Floor", 1, Kind::Arith, FBODY(math::FloorOp::create(b, loc, a[0])),
     nullptr, FFOLD(std::floor(a[0])), nullptr},
    {"Ceil", 1, Kind::Arith, FBODY(math::CeilOp::create(b, loc, a[0])), nullptr,
     FFOLD(std::ceil(a[0])), nullptr},
    {"Neg", 1, Kind::Arith, FBODY(arith::NegFOp::create(b, loc, a[0])),
     IBODY(arith::SubIOp::create(
         b, loc,
         arith::ConstantOp::create(b, loc, b.getIntegerAttr(a[0].getType(), 0)),
         a[0])),
     FFOLD(-a[0]), IFOLD(wrapSub(0, a[0]))},
    {"Abs", 1, Kind::Arith, FBODY(math::AbsFOp::create(b, loc, a[0])),
     IBODY(math::AbsIOp::create(b, loc, a[0])), FFOLD(std::fabs(a[0])),
     IFOLD(a[0] < 0 ? wrapSub(0, a[0]) : a[0])},
    {"Reciprocal", 1, Kind::Arith,
     FBODY(arith::DivFOp::create(b, loc, constF(b, loc, a[0].getType(), 1.0),
                                 a[0])),
     nullptr, FFOLD(1.0 / a[0]), nullptr},
    {"Relu", 1, Kind::Arith,
     FBODY(arith::MaximumFOp::create(b, loc, a[0],
                                     constF(b, loc, a[0].getType(), 0.0))),
     nullptr, FFOLD(std::max(a[0], 0.0)), nullptr},
    {"Sigmoid", 1, Kind::Arith,
     FBODY(arith::DivFOp::create(
         b, loc, constF(b, loc, a[0].getType(), 1.0),
         arith::AddFOp::create(
             b, loc, constF(b, loc, a[0].getType(), 1.0),
             math::ExpOp::create(b, loc,
                                 arith::NegFOp::create(b, loc, a[0]))))),
     nullptr, FFOLD(1.0 / (1.0 + std::exp(-a[0]))), nullptr},
    {"Equal", 2, Kind::Compare,
     FBODY(cmpF(b, loc, arith::CmpFPredicate::OEQ, a)),
     IBODY(cmpI(b, loc, arith::CmpIPredicate::eq, arith::CmpIPredicate::eq,
                isUnsigned, a)),
     FFOLD(a[0] == a[1]), IFOLD(a[0] == a[1])},
    {"Less", 2, Kind::Compare,
     FBODY(cmpF(b, loc, arith::CmpFPredicate::OLT, a)),
     IBODY(cmpI(b, loc, arith::CmpIPredicate::slt, arith::CmpIPredicate::ult,
                isUnsigned, a)),
     FFOLD(a[0] < a[1]), IFOLD(a[0] < a[1])},
    {"LessOrEqual", 2, Kind::Compare,
     FBODY(cmpF(b, loc, arith::CmpFPredicate::OLE, a)),
     IBODY(cmpI(b, loc, arith::CmpIPredicate::sle, arith::CmpIPredicate::ule,
                isUnsigned, a)),
     FFOLD(a[0] <= a[1]), IFOLD(a[0] <= a[1])},
    {"Greater", 2, Kind::Compare,
     FBODY(cmpF(b, loc, arith::CmpFPredicate::OGT, a)),
     IBODY(cmpI(b, loc, arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt,
                isUnsigned, a)),
     FFOLD(a[0] > a[1]), IFOLD(a[0] > a[1])},
    {"GreaterOrEqual", 2, Kind::Compare,
     FBODY(cmpF(b, loc, arith::CmpFPredicate::OGE, a)),
     IBODY(cmpI(b, loc, arith::CmpIPredicate::sge, arith::CmpIPredicate::uge,
                isUnsigned, a)),
     FFOLD(a[0] >= a[1]), IFOLD(a[0] >= a[1])},
    {"And", 2, Kind::Logic, nullptr,
     IBODY(arith::AndIOp::create(b, loc, a[0], a[1])), nullptr,
     IFOLD(a[0] && a[1])},
    {"Or", 2, Kind::Logic, nullptr,
     IBODY(arith::OrIOp::create(b, loc, a[0], a[1])), nullptr,
     IFOLD(a[0] || a[1])},
    {"Xor", 2, Kind::Logic, nullptr,
     IBODY(arith::XOrIOp::create(b, loc, a[0], a[1])), nullptr,
     IFOLD((a[0] != 0) != (a[1] != 0))},
    {"Not", 1, Kind::Logic, nullptr,
     IBODY(arith::XOrIOp::create(
         b, loc, a[0], arith::ConstantOp::create(b, loc, b.getBoolAttr(true)))),
     nullptr, IFOLD(!a[0])},
};

const ElementwiseOp *findOp(StringRef name) {
  for (const ElementwiseOp &op : kOps)
    if (op.name == name)
      return &op;
  return nullptr;
}

/// Index arithmetic on run-time dims, so that shape computations like
/// `dim(x, 1) * 64` fold even when the dim is dynamic.
std::optional<Scalar> foldDynamicIndex(NodeContext &ctx, StringRef op,
                                       ArrayRef<Scalar> a) {
  if (a.size() != 2 ||
      !(op == "Add" || op == "Sub" || op == "Mul" || op == "Div"))
    return std::nullopt;
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value l = getValueOrCreateConstantIndexOp(b, loc, a[0].i);
  Value r = getValueOrCreateConstantIndexOp(b, loc, a[1].i);
  Value v;
  if (op == "Add")
    v = arith::AddIOp::create(b, loc, l, r);
  else if (op == "Sub")
    v = arith::SubIOp::create(b, loc, l, r);
  else if (op == "Mul")
    v = arith::MulIOp::create(b, loc, l, r);
  else
    v = safeIntDiv(b, loc, l, r, /*isUnsigned=*/false);
  return Scalar{0, v};
}

LogicalResult importElementwise(NodeContext &ctx) {
  const ElementwiseOp &op = *findOp(ctx.opType());
  unsigned n = ctx.numInputs();
  if ((op.arity && n != op.arity) || (!op.arity && n < 1))
    return ctx.error("expected " + std::to_string(op.arity) + " inputs, got " +
                     std::to_string(n));
  for (unsigned i = 0; i < n; ++i)
    if (!ctx.hasInput(i))
      return ctx.error("input " + std::to_string(i) + " is missing");
  int32_t inType = ctx.inputONNXType(0);
  for (unsigned i = 1; i < n; ++i)
    if (ctx.inputONNXType(i) != inType)
      return ctx.error("inputs have different element types (" +
                       dataTypeName(inType) + " and " +
                       dataTypeName(ctx.inputONNXType(i)) + ")");
  bool isFloat = isFloatType(inType);
  bool isUnsigned = isUnsignedType(inType);
  if ((isFloat && !op.floatBody) || (!isFloat && !op.intBody))
    return ctx.error("element type " + dataTypeName(inType) +
                     " is not supported");
  int32_t outType = op.kind == Kind::Compare ? kBool : inType;

  // Import-time folding (only for integer/float results we can represent).
  auto fold = [&](ArrayRef<Scalar> args) -> std::optional<Scalar> {
    auto foldPair = [&](ArrayRef<Scalar> pair) -> std::optional<Scalar> {
      if (isFloat) {
        if (!op.foldFloat)
          return std::nullopt;
        SmallVector<double> xs;
        for (const Scalar &s : pair)
          xs.push_back(s.f);
        std::optional<double> r = op.foldFloat(xs);
        if (!r)
          return std::nullopt;
        if (op.kind == Kind::Compare)
          return Scalar{0, ctx.builder().getIndexAttr(*r != 0)};
        return Scalar{*r, {}};
      }
      SmallVector<int64_t> xs;
      for (const Scalar &s : pair) {
        std::optional<int64_t> k = knownInt(s.i);
        if (!k)
          return op.kind == Kind::Arith ? foldDynamicIndex(ctx, op.name, pair)
                                        : std::nullopt;
        xs.push_back(*k);
      }
      if (!op.foldInt)
        return std::nullopt;
      std::optional<int64_t> r = op.foldInt(xs);
      if (!r)
        return std::nullopt;
      return Scalar{0, ctx.builder().getIndexAttr(*r)};
    };
    if (op.arity)
      return foldPair(args);
    std::optional<Scalar> acc = args[0];
    for (const Scalar &next : args.drop_front()) {
      if (!acc)
        return std::nullopt;
      acc = foldPair({*acc, next});
    }
    return acc;
  };
  if (std::optional<FoldedTensor> folded =
          foldElementwise(ctx, outType, fold)) {
    ctx.setFolded(0, std::move(*folded));
    return success();
  }

  Type outElementType = convertElementType(outType, ctx.getContext());
  auto body = [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
    auto apply = [&](ValueRange pair) {
      return isFloat ? op.floatBody(b, loc, pair)
                     : op.intBody(b, loc, pair, isUnsigned);
    };
    if (op.arity)
      return apply(args);
    Value acc = args[0];
    for (Value next : args.drop_front())
      acc = apply({acc, next});
    return acc;
  };
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < n; ++i)
    inputs.push_back(ctx.input(i));
  FailureOr<Value> result = buildElementwise(ctx, inputs, outElementType, body);
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, outType);
  return success();
}

LogicalResult importMean(NodeContext &ctx) {
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    inputs.push_back(ctx.input(i));
  if (inputs.empty() || !isFloatType(ctx.inputONNXType(0)))
    return ctx.error("expects one or more float inputs");
  Type t = getElementTypeOrSelf(inputs[0].getType());
  double count = inputs.size();
  FailureOr<Value> result = buildElementwise(
      ctx, inputs, t,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value acc = args[0];
        for (Value next : args.drop_front())
          acc = arith::AddFOp::create(b, loc, acc, next);
        return arith::DivFOp::create(b, loc, acc, constF(b, loc, t, count));
      });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, ctx.inputONNXType(0));
  return success();
}

LogicalResult importGelu(NodeContext &ctx) {
  std::string approx = ctx.attrString("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return ctx.error("unknown approximate='" + approx + "'");
  if (!isFloatType(ctx.inputONNXType(0)))
    return ctx.error("expects a float input");
  Value x = ctx.input(0);
  FailureOr<Value> result =
      buildElementwise(ctx, x, getElementTypeOrSelf(x.getType()),
                       [&](OpBuilder &b, Location loc, ValueRange args) {
                         return gelu(b, loc, args[0], approx == "tanh");
                       });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, ctx.inputONNXType(0));
  return success();
}

LogicalResult importClip(NodeContext &ctx) {
  int32_t type = ctx.inputONNXType(0);
  if (!isFloatType(type))
    return ctx.error("supports float inputs only");
  SmallVector<Value> inputs{ctx.input(0)};
  bool hasMin = ctx.hasInput(1), hasMax = ctx.hasInput(2);
  if (hasMin)
    inputs.push_back(ctx.input(1));
  if (hasMax)
    inputs.push_back(ctx.input(2));
  FailureOr<Value> result = buildElementwise(
      ctx, inputs, getElementTypeOrSelf(inputs[0].getType()),
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value v = args[0];
        unsigned next = 1;
        if (hasMin)
          v = arith::MaximumFOp::create(b, loc, v, args[next++]);
        if (hasMax)
          v = arith::MinimumFOp::create(b, loc, v, args[next]);
        return v;
      });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, type);
  return success();
}

LogicalResult importWhere(NodeContext &ctx) {
  if (ctx.numInputs() != 3)
    return ctx.error("expected 3 inputs");
  int32_t type = ctx.inputONNXType(1);
  if (ctx.inputONNXType(2) != type)
    return ctx.error("X and Y have different element types");
  const FoldedTensor *c = ctx.folded(0), *x = ctx.folded(1), *y = ctx.folded(2);
  if (c && x && y) {
    auto fold = [&](ArrayRef<Scalar> a) -> std::optional<Scalar> {
      std::optional<int64_t> cond = knownInt(a[0].i);
      if (!cond)
        return std::nullopt;
      return *cond ? a[1] : a[2];
    };
    if (std::optional<FoldedTensor> f = foldElementwise(ctx, type, fold)) {
      ctx.setFolded(0, std::move(*f));
      return success();
    }
  }
  SmallVector<Value> inputs{ctx.input(0), ctx.input(1), ctx.input(2)};
  FailureOr<Value> result = buildElementwise(
      ctx, inputs, convertElementType(type, ctx.getContext()),
      [](OpBuilder &b, Location loc, ValueRange a) -> Value {
        return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
      });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, type);
  return success();
}

LogicalResult importCastTo(NodeContext &ctx, int32_t to) {
  int32_t from = ctx.inputONNXType(0);
  if (!convertElementType(to, ctx.getContext()))
    return ctx.error("cannot cast to " + dataTypeName(to));
  if (const FoldedTensor *f = ctx.folded(0)) {
    bool toFloat = isFloatType(to);
    FoldedTensor r = *f;
    r.onnxType = to;
    if (f->isFloat() && !toFloat) {
      r.floats.clear();
      for (double v : f->floats)
        r.ints.push_back(ctx.builder().getIndexAttr(
            to == kBool ? v != 0 : saturatingFloatToInt(v)));
      ctx.setFolded(0, std::move(r));
      return success();
    }
    if (!f->isFloat() && toFloat && f->isFullyKnown()) {
      r.ints.clear();
      for (int64_t i = 0; i < f->numElements(); ++i)
        r.floats.push_back(static_cast<double>(*f->getInt(i)));
      ctx.setFolded(0, std::move(r));
      return success();
    }
    if (f->isFloat() == toFloat && to != kBool) {
      ctx.setFolded(0, std::move(r));
      return success();
    }
  }
  Value x = ctx.input(0);
  if (from == to) {
    ctx.setOutput(0, x, to);
    return success();
  }
  FailureOr<Value> result =
      buildElementwise(ctx, x, convertElementType(to, ctx.getContext()),
                       [&](OpBuilder &b, Location loc, ValueRange a) {
                         return convertScalar(b, loc, a[0], from, to);
                       });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, to);
  return success();
}

LogicalResult importCast(NodeContext &ctx) {
  if (!ctx.attr("to"))
    return ctx.error("missing attribute 'to'");
  return importCastTo(ctx, ctx.attrInt("to", 0));
}

LogicalResult importCastLike(NodeContext &ctx) {
  return importCastTo(ctx, ctx.inputONNXType(1));
}

LogicalResult importIdentity(NodeContext &ctx) {
  if (const FoldedTensor *f = ctx.folded(0)) {
    ctx.setFolded(0, *f);
    return success();
  }
  ctx.setOutput(0, ctx.input(0), ctx.inputONNXType(0));
  return success();
}

/// Inference-mode Dropout: the identity, with an all-true mask.
LogicalResult importDropout(NodeContext &ctx) {
  if (ctx.hasInput(2) && !ctx.folded(2))
    return ctx.error("training_mode must be a constant");
  if (const FoldedTensor *training = ctx.folded(2);
      training && training->getInt(0).value_or(0) != 0)
    return ctx.error("training_mode=true is not supported (inference only)");
  Value x = ctx.input(0);
  ctx.setOutput(0, x, ctx.inputONNXType(0));
  if (ctx.hasOutput(1)) {
    OpBuilder &b = ctx.builder();
    Location loc = ctx.getLoc();
    Value init = createEmpty(b, loc, getDims(b, loc, x), b.getI1Type());
    Value one = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
    ctx.setOutput(1, linalg::FillOp::create(b, loc, one, init).getResult(0),
                  kBool);
  }
  return success();
}

LogicalResult importConstant(NodeContext &ctx) {
  Builder b(ctx.getContext());
  if (const onnx::AttributeProto *a = ctx.attr("value")) {
    onnx::TensorProto tensor = a->t();
    std::string error;
    FailureOr<ElementsAttr> attr =
        convertTensor(tensor, nullptr, 1024, ctx.getContext(), error);
    if (failed(attr))
      return ctx.error(error);
    ctx.setConstant(0, *attr, tensor.data_type());
    return success();
  }
  auto scalarOrList = [&](int32_t onnxType, SmallVector<int64_t> shape,
                          auto values) {
    Type et = convertElementType(onnxType, ctx.getContext());
    auto type = RankedTensorType::get(shape, et);
    ctx.setConstant(0, DenseElementsAttr::get(type, ArrayRef(values)),
                    onnxType);
    return success();
  };
  if (const onnx::AttributeProto *a = ctx.attr("value_float"))
    return scalarOrList(kFloat, {}, SmallVector<float>{a->f()});
  if (const onnx::AttributeProto *a = ctx.attr("value_int"))
    return scalarOrList(kInt64, {}, SmallVector<int64_t>{a->i()});
  if (const onnx::AttributeProto *a = ctx.attr("value_floats"))
    return scalarOrList(
        kFloat, {a->floats_size()},
        SmallVector<float>(a->floats().begin(), a->floats().end()));
  if (const onnx::AttributeProto *a = ctx.attr("value_ints"))
    return scalarOrList(
        kInt64, {a->ints_size()},
        SmallVector<int64_t>(a->ints().begin(), a->ints().end()));
  return ctx.error("supports 'value', 'value_float(s)' and 'value_int(s)' "
                   "only");
}

} // namespace

void mlir::qopt::onnx_import::registerElementwiseRules(RuleRegistry &r) {
  for (const ElementwiseOp &op : kOps)
    r.add("", op.name, importElementwise);
  r.add("", "Mean", importMean);
  r.add("", "Gelu", importGelu);
  r.add("", "Clip", importClip);
  r.add("", "Where", importWhere);
  r.add("", "Cast", importCast);
  r.add("", "CastLike", importCastLike);
  r.add("", "Identity", importIdentity);
  r.add("", "Dropout", importDropout);
  r.add("", "Constant", importConstant);
}
