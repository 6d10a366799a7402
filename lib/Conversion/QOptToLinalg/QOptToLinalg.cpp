//===- QOptToLinalg.cpp - The reference lowering of qopt ops --------------===//

#include "quant-opt/Conversion/ActivationQuantization.h"
#include "quant-opt/Conversion/GatherIndex.h"
#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOLINALGPASS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

Value i32Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
}

/// An empty tensor shaped like `like` (dynamic dims read from it).
Value emptyLike(OpBuilder &b, Location loc, Value like, Type elementType) {
  auto type = cast<RankedTensorType>(like.getType());
  SmallVector<Value> dyn;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dyn.push_back(tensor::DimOp::create(b, loc, like, i));
  return tensor::EmptyOp::create(b, loc, type.getShape(), elementType, dyn);
}

Value filled(OpBuilder &b, Location loc, Value empty, Attribute zero) {
  Value c = arith::ConstantOp::create(b, loc, cast<TypedAttr>(zero));
  return linalg::FillOp::create(b, loc, c, empty).getResult(0);
}

LogicalResult lowerFakeQuant(FakeQuantOp op, RewriterBase &b) {
  Location loc = op.getLoc();
  auto type = op.getInput().getType();
  auto qtype = cast<quant::QuantizedType>(op.getQtype());
  auto perTensor = dyn_cast<quant::UniformQuantizedType>(qtype);
  if (!perTensor) {
    auto qTensor = RankedTensorType::get(type.getShape(), qtype);
    Value q = quant::QuantizeCastOp::create(b, loc, qTensor, op.getInput());
    b.replaceOpWithNewOp<quant::DequantizeCastOp>(op, type, q);
    return success();
  }
  AffineParams p = paramsOf(qtype, {});
  AffineMap id =
      AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext());
  SmallVector<utils::IteratorType> iters(type.getRank(),
                                         utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{op.getInput()},
      ValueRange{emptyLike(b, loc, op.getInput(), type.getElementType())},
      ArrayRef<AffineMap>{id, id}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value scale = f32Const(nb, nl, p.scale);
        Value zp = f32Const(nb, nl, p.zeroPoint);
        Value q = quantizeF32(nb, nl, a[0], scale, zp, p.qmin, p.qmax);
        Value y = arith::MulFOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, q, zp), scale);
        linalg::YieldOp::create(nb, nl, y);
      });
  b.replaceOp(op, generic.getResults());
  return success();
}

LogicalResult lowerDynamicFakeQuant(DynamicFakeQuantOp op, RewriterBase &b) {
  Location loc = op.getLoc();
  auto type = op.getInput().getType();
  bool symmetric = op.getSymmetric();
  auto [scale, zp] = dynamicRowParams(b, loc, op.getInput(), symmetric);
  int64_t rank = type.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  AffineMap row = id.dropResult(rank - 1);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{op.getInput(), scale, zp},
      ValueRange{emptyLike(b, loc, op.getInput(), type.getElementType())},
      ArrayRef<AffineMap>{id, row, row, id}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value q = quantizeF32(nb, nl, a[0], a[1], a[2], symmetric ? -127 : 0,
                              symmetric ? 127 : 255);
        Value y = arith::MulFOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, q, a[2]), a[1]);
        linalg::YieldOp::create(nb, nl, y);
      });
  b.replaceOp(op, generic.getResults());
  return success();
}

/// The weight's scales (f32) and zero points (i32) as [G, N] constants,
/// G = ceil(K / group size) (1 for per-channel; 1x1 per tensor).
std::pair<Value, Value> weightParamConstants(OpBuilder &b, Location loc,
                                             quant::QuantizedType qtype,
                                             int64_t k, int64_t n,
                                             int64_t group) {
  bool perTensor = isa<quant::UniformQuantizedType>(qtype);
  int64_t groups = perTensor ? 1 : groupCount(k, group),
          cols = perTensor ? 1 : n;
  SmallVector<float> scales;
  SmallVector<int32_t> zps;
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t c = 0; c < cols; ++c) {
      AffineParams p = paramsOf(qtype, {g * group, c});
      scales.push_back(p.scale);
      zps.push_back(static_cast<int32_t>(p.zeroPoint));
    }
  auto scaleType = RankedTensorType::get({groups, cols}, b.getF32Type());
  auto zpType = RankedTensorType::get({groups, cols}, b.getI32Type());
  Value s = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(scaleType, ArrayRef<float>(scales)));
  Value z = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(zpType, ArrayRef<int32_t>(zps)));
  return {s, z};
}

/// The stored integer (i32) of column `column` in its storage `byte`: the
/// byte itself for 8 bits, else the low nibble for even columns and the
/// high one for odd columns, sign-extended for signed types.
Value storedValue(OpBuilder &b, Location loc, Value byte, Value column,
                  unsigned bits, bool isSigned) {
  Type i32 = b.getI32Type();
  if (bits == 8)
    return isSigned ? arith::ExtSIOp::create(b, loc, i32, byte).getResult()
                    : arith::ExtUIOp::create(b, loc, i32, byte).getResult();
  Value odd = arith::IndexCastOp::create(
      b, loc, i32,
      arith::RemUIOp::create(b, loc, column,
                             arith::ConstantIndexOp::create(b, loc, 2)));
  // Shift by 4 for the high nibble (odd columns), 0 for the low.
  Value shift = arith::ShLIOp::create(b, loc, odd, i32Const(b, loc, 2));
  Value u = arith::ExtUIOp::create(b, loc, i32, byte);
  Value v = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, u, shift), i32Const(b, loc, 15));
  if (isSigned) // Sign-extend the nibble: (v ^ 8) - 8.
    v = arith::SubIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, v, i32Const(b, loc, 8)),
        i32Const(b, loc, 8));
  return v;
}

/// The weight [K, N] with values `q - zp` (i32), or `(q - zp) * scale`
/// (f32) when `dequantize`, unpacked from the storage at run time (rows
/// are read in order, so this streams through the packed bytes).
Value unpackWeight(OpBuilder &b, Location loc, QMatmulOp op, bool dequantize) {
  auto qtype = cast<quant::QuantizedType>(op.getWeightType());
  int64_t k = op.getInput().getType().getDimSize(1);
  int64_t n = op.getOutputChannels();
  int64_t group = op.getGroupSize();
  unsigned bits = op.getWeightBits();
  bool isSigned = qtype.isSigned();
  bool perTensor = isa<quant::UniformQuantizedType>(qtype);
  auto [scales, zps] = weightParamConstants(b, loc, qtype, k, n, group);
  Type resultElement = dequantize ? Type(b.getF32Type()) : b.getI32Type();
  Value empty =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{k, n}, resultElement);
  // Storage, scales and zero points are inputs with affine maps (byte
  // n/2 for 4 bits, group k/G), so the loops stream through them.
  MLIRContext *ctx = b.getContext();
  AffineExpr kd = getAffineDimExpr(0, ctx), nd = getAffineDimExpr(1, ctx);
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap storageMap =
      AffineMap::get(2, 0, {kd, bits == 8 ? nd : nd.floorDiv(2)}, ctx);
  AffineMap paramMap =
      perTensor ? AffineMap::get(2, 0, {zero, zero}, ctx)
                : AffineMap::get(2, 0, {kd.floorDiv(group), nd}, ctx);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{empty.getType()},
      ValueRange{op.getWeight(), scales, zps}, ValueRange{empty},
      ArrayRef<AffineMap>{storageMap, paramMap, paramMap, id},
      SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value byte = a[0], scale = a[1], zp = a[2];
        Value v = storedValue(nb, nl, byte, linalg::IndexOp::create(nb, nl, 1),
                              bits, isSigned);
        Value centred = arith::SubIOp::create(nb, nl, v, zp);
        if (!dequantize) {
          linalg::YieldOp::create(nb, nl, centred);
          return;
        }
        Value w = arith::MulFOp::create(
            nb, nl, arith::SIToFPOp::create(nb, nl, nb.getF32Type(), centred),
            scale);
        linalg::YieldOp::create(nb, nl, w);
      });
  return generic.getResult(0);
}

/// The integer path with weight groups: int32 sums I[m, g, n] over each
/// group of K, then `sum_g float(I) * (sx * sw[g, n])` with g in order from
/// 0 (a linalg reduction, lowered to a loop that runs g upwards). `sx` is
/// the input scale, per row ([M]) or a scalar.
Value groupedIntegerMatmul(OpBuilder &b, QMatmulOp op, Value xc, Value w,
                           ValueRange outDyn, Value sx) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto outType = op.getOutput().getType();
  int64_t k = op.getInput().getType().getDimSize(1), n = outType.getDimSize(1);
  int64_t group = op.getGroupSize(), groups = groupCount(k, group);
  int64_t m = outType.getDimSize(0);
  bool perRow = isa<RankedTensorType>(sx.getType());
  Value sumsInit =
      filled(b, loc,
             tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{m, groups, n},
                                     b.getI32Type(), outDyn),
             b.getI32IntegerAttr(0));
  // Row k of the weight adds into group k / group (the last group may be
  // shorter).
  AffineExpr md = getAffineDimExpr(0, ctx), nd = getAffineDimExpr(1, ctx),
             kd = getAffineDimExpr(2, ctx);
  using IT = utils::IteratorType;
  Value sums =
      linalg::GenericOp::create(
          b, loc, TypeRange{sumsInit.getType()}, ValueRange{xc, w},
          ValueRange{sumsInit},
          ArrayRef<AffineMap>{
              AffineMap::get(3, 0, {md, kd}, ctx),
              AffineMap::get(3, 0, {kd, nd}, ctx),
              AffineMap::get(3, 0, {md, kd.floorDiv(group), nd}, ctx)},
          SmallVector<IT>{IT::parallel, IT::parallel, IT::reduction},
          [](OpBuilder &nb, Location nl, ValueRange a) {
            Value p = arith::MulIOp::create(nb, nl, a[0], a[1]);
            linalg::YieldOp::create(
                nb, nl, arith::AddIOp::create(nb, nl, a[2], p).getResult());
          })
          .getResult(0);
  AffineExpr gd = getAffineDimExpr(2, ctx);
  auto qtype = cast<quant::QuantizedType>(op.getWeightType());
  Value weightScales =
      weightParamConstants(b, loc, qtype, k, n, group).first; // [G, N]
  SmallVector<Value> ins{sums, weightScales};
  SmallVector<AffineMap> maps{AffineMap::get(3, 0, {md, gd, nd}, ctx),
                              AffineMap::get(3, 0, {gd, nd}, ctx)};
  if (perRow) {
    ins.push_back(sx);
    maps.push_back(AffineMap::get(3, 0, {md}, ctx));
  }
  maps.push_back(AffineMap::get(3, 0, {md, nd}, ctx));
  Value outInit = filled(b, loc,
                         tensor::EmptyOp::create(b, loc, outType.getShape(),
                                                 b.getF32Type(), outDyn),
                         b.getF32FloatAttr(0));
  return linalg::GenericOp::create(
             b, loc, TypeRange{outType}, ins, ValueRange{outInit}, maps,
             SmallVector<IT>{IT::parallel, IT::parallel, IT::reduction},
             [&](OpBuilder &nb, Location nl, ValueRange a) {
               Value s =
                   arith::MulFOp::create(nb, nl, perRow ? a[2] : sx, a[1]);
               Value f = arith::SIToFPOp::create(nb, nl, nb.getF32Type(), a[0]);
               Value t = arith::MulFOp::create(nb, nl, f, s);
               linalg::YieldOp::create(
                   nb, nl,
                   arith::AddFOp::create(nb, nl, a.back(), t).getResult());
             })
      .getResult(0);
}

LogicalResult lowerQMatmul(QMatmulOp op, RewriterBase &b) {
  if (op.getGroupIndex())
    return op.emitError("a group_index is lowered by qopt-sort-group-index, "
                        "which must run first");
  Location loc = op.getLoc();
  Value x = op.getInput();
  auto outType = op.getOutput().getType();
  MLIRContext *ctx = b.getContext();
  bool quantizedInput = op.getInputType() || op.getDynamicInput();
  if (!quantizedInput) {
    Value w = unpackWeight(b, loc, op, /*dequantize=*/true);
    Value acc = filled(b, loc,
                       tensor::EmptyOp::create(
                           b, loc, outType.getShape(), b.getF32Type(),
                           outType.isDynamicDim(0)
                               ? ValueRange{tensor::DimOp::create(b, loc, x, 0)}
                               : ValueRange{}),
                       b.getF32FloatAttr(0));
    b.replaceOpWithNewOp<linalg::MatmulOp>(op, TypeRange{outType},
                                           ValueRange{x, w}, ValueRange{acc});
    return success();
  }
  // Integer path: x - zx (i32) times w - zw (i32), summed in int32.
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap row = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
  AffineMap col = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
  SmallVector<utils::IteratorType> par(2, utils::IteratorType::parallel);
  InputQuantization input = inputQuantization(b, loc, op, x);
  Value scale = input.scale, zp = input.zeroPoint; // Per row [M] or scalars.
  int64_t qmin = input.qmin, qmax = input.qmax;
  bool perRow = input.perRow;
  SmallVector<Value> ins{x};
  SmallVector<AffineMap> maps{id};
  if (perRow) {
    ins.append({scale, zp});
    maps.append({row, row});
  }
  maps.push_back(id);
  Value xEmpty = emptyLike(b, loc, x, b.getI32Type());
  auto xc = linalg::GenericOp::create(
      b, loc, TypeRange{xEmpty.getType()}, ins, ValueRange{xEmpty}, maps, par,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value s = perRow ? a[1] : scale, z = perRow ? a[2] : zp;
        Value q = quantizeF32(nb, nl, a[0], s, z, qmin, qmax);
        Value c = arith::SubFOp::create(nb, nl, q, z);
        linalg::YieldOp::create(
            nb, nl,
            arith::FPToSIOp::create(nb, nl, nb.getI32Type(), c).getResult());
      });
  Value w = unpackWeight(b, loc, op, /*dequantize=*/false);
  SmallVector<Value> outDyn;
  if (outType.isDynamicDim(0))
    outDyn.push_back(tensor::DimOp::create(b, loc, x, 0));
  int64_t k = op.getInput().getType().getDimSize(1), group = op.getGroupSize();
  if (group < k) {
    b.replaceOp(op,
                groupedIntegerMatmul(b, op, xc.getResult(0), w, outDyn, scale));
    return success();
  }
  Value accInit = filled(b, loc,
                         tensor::EmptyOp::create(b, loc, outType.getShape(),
                                                 b.getI32Type(), outDyn),
                         b.getI32IntegerAttr(0));
  Value acc = linalg::MatmulOp::create(b, loc, TypeRange{accInit.getType()},
                                       ValueRange{xc.getResult(0), w},
                                       ValueRange{accInit})
                  .getResult(0);
  // Output scale: input scale (per row or scalar) times the weight's.
  auto qtype = cast<quant::QuantizedType>(op.getWeightType());
  int64_t n = outType.getDimSize(1);
  SmallVector<float> weightScales;
  for (int64_t c = 0; c < n; ++c)
    weightScales.push_back(paramsOf(qtype, {0, c}).scale);
  Value ws = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({n}, b.getF32Type()),
                             ArrayRef<float>(weightScales)));
  SmallVector<Value> outIns{acc, ws};
  SmallVector<AffineMap> outMaps{id, col};
  if (perRow) {
    outIns.push_back(scale);
    outMaps.push_back(row);
  }
  outMaps.push_back(id);
  Value outEmpty = tensor::EmptyOp::create(b, loc, outType.getShape(),
                                           b.getF32Type(), outDyn);
  auto out = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, outIns, ValueRange{outEmpty}, outMaps, par,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value s = arith::MulFOp::create(nb, nl, perRow ? a[2] : scale, a[1]);
        Value f = arith::SIToFPOp::create(nb, nl, nb.getF32Type(), a[0]);
        linalg::YieldOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, f, s).getResult());
      });
  b.replaceOp(op, out.getResults());
  return success();
}

/// The f32 value of every 8-bit pattern of an 8-bit float type.
Value float8Table(OpBuilder &b, Location loc, FloatType type) {
  SmallVector<float> values;
  for (unsigned bits = 0; bits < 256; ++bits) {
    APFloat v(type.getFloatSemantics(), APInt(8, bits));
    bool lost;
    v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
    values.push_back(v.convertToFloat());
  }
  auto tableType = RankedTensorType::get({256}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(tableType, ArrayRef<float>(values)));
}

LogicalResult lowerFMatmul(FMatmulOp op, RewriterBase &b) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto weightType = op.getWeight().getType();
  auto element = cast<FloatType>(weightType.getElementType());
  int64_t k = weightType.getDimSize(0), n = weightType.getDimSize(1);
  AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
  AffineMap col = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
  SmallVector<Value> ins{op.getWeight()};
  SmallVector<AffineMap> maps{id};
  if (op.getScales()) {
    ins.push_back(op.getScales());
    maps.push_back(col);
  }
  maps.push_back(id);
  // 8-bit floats decode through a table (LLVM has no such types).
  Value table =
      element.getWidth() == 8 ? float8Table(b, loc, element) : Value();
  Value empty =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{k, n}, b.getF32Type());
  auto decoded = linalg::GenericOp::create(
      b, loc, TypeRange{empty.getType()}, ins, ValueRange{empty}, maps,
      SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value w;
        if (table) {
          Value byte = arith::BitcastOp::create(nb, nl, nb.getI8Type(), a[0]);
          Value index = arith::IndexCastUIOp::create(
              nb, nl, nb.getIndexType(),
              arith::ExtUIOp::create(nb, nl, nb.getI32Type(), byte));
          w = tensor::ExtractOp::create(nb, nl, table, ValueRange{index});
        } else {
          w = arith::ExtFOp::create(nb, nl, nb.getF32Type(), a[0]);
        }
        if (op.getScales())
          w = arith::MulFOp::create(nb, nl, w, a[1]);
        linalg::YieldOp::create(nb, nl, w);
      });
  auto outType = op.getOutput().getType();
  SmallVector<Value> outDyn;
  if (outType.isDynamicDim(0))
    outDyn.push_back(tensor::DimOp::create(b, loc, op.getInput(), 0));
  Value acc = filled(b, loc,
                     tensor::EmptyOp::create(b, loc, outType.getShape(),
                                             b.getF32Type(), outDyn),
                     b.getF32FloatAttr(0));
  b.replaceOpWithNewOp<linalg::MatmulOp>(
      op, TypeRange{outType}, ValueRange{op.getInput(), decoded.getResult(0)},
      ValueRange{acc});
  return success();
}

/// qopt.qgather: one generic over the output; each element reads its
/// token's stored value, scale and zero point (column `id` of the table).
LogicalResult lowerQGather(QGatherOp op, RewriterBase &b) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  auto qtype = cast<quant::QuantizedType>(op.getTableType());
  int64_t d = op.getRowWidth(), v = op.getNumRows();
  int64_t group = op.getGroupSize();
  unsigned bits = op.getTableBits();
  auto [scales, zps] = weightParamConstants(b, loc, qtype, d, v, group);
  auto outType = op.getOutput().getType();
  int64_t rank = outType.getRank();
  SmallVector<Value> dyn;
  for (int64_t i = 0; i + 1 < rank; ++i)
    if (outType.isDynamicDim(i))
      dyn.push_back(tensor::DimOp::create(b, loc, op.getIds(), i));
  Value empty =
      tensor::EmptyOp::create(b, loc, outType.getShape(), b.getF32Type(), dyn);
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{op.getIds()}, ValueRange{empty},
      ArrayRef<AffineMap>{id.dropResult(rank - 1), id},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value token = gatherRowIndex(nb, nl, a[0], v);
        Value channel = linalg::IndexOp::create(nb, nl, rank - 1);
        Value byteColumn =
            bits == 8
                ? token
                : arith::DivUIOp::create(
                      nb, nl, token, arith::ConstantIndexOp::create(nb, nl, 2))
                      .getResult();
        Value byte = tensor::ExtractOp::create(nb, nl, op.getTable(),
                                               ValueRange{channel, byteColumn});
        Value groupRow = arith::DivUIOp::create(
            nb, nl, channel, arith::ConstantIndexOp::create(nb, nl, group));
        Value scale = tensor::ExtractOp::create(nb, nl, scales,
                                                ValueRange{groupRow, token});
        Value zp =
            tensor::ExtractOp::create(nb, nl, zps, ValueRange{groupRow, token});
        Value q = storedValue(nb, nl, byte, token, bits, qtype.isSigned());
        Value centred = arith::SubIOp::create(nb, nl, q, zp);
        Value y = arith::MulFOp::create(
            nb, nl, arith::SIToFPOp::create(nb, nl, nb.getF32Type(), centred),
            scale);
        linalg::YieldOp::create(nb, nl, y);
      });
  b.replaceOp(op, generic.getResults());
  return success();
}

struct ConvertQOptToLinalgPass
    : qopt::impl::ConvertQOptToLinalgPassBase<ConvertQOptToLinalgPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<ObserveOp, FakeQuantOp, DynamicFakeQuantOp, QMatmulOp, FMatmulOp,
              QGatherOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      LogicalResult result =
          llvm::TypeSwitch<Operation *, LogicalResult>(op)
              .Case([&](ObserveOp o) {
                rewriter.replaceOp(o, o.getInput());
                return success();
              })
              .Case([&](FakeQuantOp o) { return lowerFakeQuant(o, rewriter); })
              .Case([&](DynamicFakeQuantOp o) {
                return lowerDynamicFakeQuant(o, rewriter);
              })
              .Case([&](QMatmulOp o) { return lowerQMatmul(o, rewriter); })
              .Case([&](FMatmulOp o) { return lowerFMatmul(o, rewriter); })
              .Case([&](QGatherOp o) { return lowerQGather(o, rewriter); });
      if (failed(result))
        return signalPassFailure();
    }
  }
};

} // namespace
