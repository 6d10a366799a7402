//===- QuantRules.cpp - Already-quantized ONNX models ---------------------===//
//
// QuantizeLinear / DequantizeLinear with constant parameters become upstream
// quant casts on `!quant` types, so quantized models keep their quantization
// instead of being dequantized away:
//   DequantizeLinear(w_i8, s, zp) -> quant.scast (i8 -> !quant.uniform)
//                                    + quant.dcast (-> f32)
//   QuantizeLinear(x, s, zp)     -> quant.qcast (f32 -> !quant.uniform)
//                                    + quant.scast (-> i8)
// Per-tensor, per-axis and blockwise (opset 21) parameters map to
// uniform, uniform per-axis and uniform sub-channel types. Parameters known
// only at run time (e.g. from DynamicQuantizeLinear) fall back to explicit
// arithmetic with ONNX's rounding (half to even) and saturation.
//
// MatMulInteger becomes an integer contraction; QLinearMatMul a
// dequantize -> matmul -> quantize chain on `!quant` types; com.microsoft
// MatMulNBits a 4-bit weight (held in i8, the type carrying the 4-bit
// range) with a sub-channel type (block along K).
//
//===----------------------------------------------------------------------===//

#include "Builders.h"

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {

//===----------------------------------------------------------------------===//
// Reading constant parameters
//===----------------------------------------------------------------------===//

ArrayRef<char> resourceBytes(ElementsAttr attr) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getRawHandle().getBlob())
    return {};
  return resource.getRawHandle().getBlob()->getData();
}

/// Values of a float constant (dense or dense_resource).
std::optional<SmallVector<double>> readFloats(ElementsAttr attr) {
  if (!attr)
    return std::nullopt;
  SmallVector<double> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!isa<FloatType>(dense.getElementType()))
      return std::nullopt;
    for (APFloat v : dense.getValues<APFloat>())
      out.push_back(v.convertToDouble());
    return out;
  }
  auto type = cast<ShapedType>(attr.getType());
  auto ft = dyn_cast<FloatType>(type.getElementType());
  ArrayRef<char> bytes = resourceBytes(attr);
  if (!ft || bytes.empty())
    return std::nullopt;
  unsigned width = ft.getWidth() / 8;
  if (static_cast<int64_t>(bytes.size()) != type.getNumElements() * width)
    return std::nullopt;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, bytes.data() + i * width, width);
    APFloat v(ft.getFloatSemantics(), APInt(ft.getWidth(), bits));
    out.push_back(v.convertToDouble());
  }
  return out;
}

/// Values of an integer constant (dense or dense_resource, one element per
/// byte for 4-bit types as MLIR stores them).
std::optional<SmallVector<int64_t>> readInts(ElementsAttr attr,
                                             bool isUnsigned) {
  if (!attr)
    return std::nullopt;
  SmallVector<int64_t> out;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (!dense.getElementType().isInteger())
      return std::nullopt;
    for (APInt v : dense.getValues<APInt>())
      out.push_back(isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue());
    return out;
  }
  auto type = cast<ShapedType>(attr.getType());
  auto it = dyn_cast<IntegerType>(type.getElementType());
  ArrayRef<char> bytes = resourceBytes(attr);
  if (!it || bytes.empty())
    return std::nullopt;
  unsigned width = std::max(1u, it.getWidth() / 8);
  if (static_cast<int64_t>(bytes.size()) != type.getNumElements() * width)
    return std::nullopt;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, bytes.data() + i * width, width);
    APInt v(width * 8, bits);
    out.push_back(isUnsigned ? (int64_t)v.getZExtValue() : v.getSExtValue());
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Quantized element types
//===----------------------------------------------------------------------===//

struct StorageInfo {
  unsigned bits;
  bool isSigned;
  int64_t min, max;
};

std::optional<StorageInfo> storageInfo(int32_t onnxType) {
  switch (onnxType) {
  case kInt8:
    return StorageInfo{8, true, -128, 127};
  case kUInt8:
    return StorageInfo{8, false, 0, 255};
  case kInt16:
    return StorageInfo{16, true, -32768, 32767};
  case kUInt16:
    return StorageInfo{16, false, 0, 65535};
  case kInt4:
    return StorageInfo{4, true, -8, 7};
  case kUInt4:
    return StorageInfo{4, false, 0, 15};
  default:
    return std::nullopt;
  }
}

/// The element type quantized values are held in: 4-bit values live in
/// i8 (with the 4-bit range in their `!quant` type), since sub-byte
/// memrefs cannot be placed in the weight archive nor loaded by the LLVM
/// lowering.
Type storageElementType(MLIRContext *ctx, const StorageInfo &info) {
  return IntegerType::get(ctx, std::max(8u, info.bits));
}

/// `v` with sub-byte integer elements widened to i8 (sign- or zero-
/// extended): constants are rewritten (the importer holds i4 constants one
/// value per byte already), other values extended at run time.
Value widenNibbles(NodeContext &ctx, Value v, bool isUnsigned) {
  auto type = cast<RankedTensorType>(v.getType());
  auto element = dyn_cast<IntegerType>(type.getElementType());
  if (!element || element.getWidth() >= 8)
    return v;
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  auto wide = RankedTensorType::get(type.getShape(), b.getI8Type());
  unsigned width = element.getWidth();
  auto extend = [&](uint8_t raw) {
    raw &= (1u << width) - 1;
    if (!isUnsigned && (raw >> (width - 1)))
      raw |= ~((1u << width) - 1);
    return static_cast<char>(raw);
  };
  if (auto constant = v.getDefiningOp<arith::ConstantOp>()) {
    auto bytes = std::make_unique<std::string>();
    ArrayRef<char> stored =
        resourceBytes(cast<ElementsAttr>(constant.getValue()));
    if ((int64_t)stored.size() == type.getNumElements()) {
      for (char c : stored)
        bytes->push_back(extend(static_cast<uint8_t>(c)));
    } else if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue())) {
      for (APInt i : dense.getValues<APInt>())
        bytes->push_back(extend(static_cast<uint8_t>(i.getRawData()[0])));
    }
    if ((int64_t)bytes->size() == type.getNumElements())
      return arith::ConstantOp::create(
          b, loc,
          makeConstant(wide, std::move(bytes), (ctx.name() + ".wide").str(),
                       ctx.maxInlineConstantBytes()));
  }
  if (isUnsigned)
    return arith::ExtUIOp::create(b, loc, wide, v);
  return arith::ExtSIOp::create(b, loc, wide, v);
}

/// Where the quantization parameters of a Q/DQ node live.
struct QDQParams {
  unsigned scaleInput, zeroPointInput;
  int32_t storageType;                  // ONNX type of the quantized side
  Type expressedType;                   // float type of the scale
  RankedTensorType quantizedTensorType; // shape of the quantized side
};

/// Builds the `!quant` element type for constant parameters; null (and no
/// diagnostic) when they are known only at run time. Fails with a diagnostic
/// on inconsistent parameters.
FailureOr<quant::QuantizedType> buildQuantType(NodeContext &ctx,
                                               const QDQParams &p) {
  std::optional<StorageInfo> info = storageInfo(p.storageType);
  if (!info)
    return ctx.error("quantized type " + dataTypeName(p.storageType) +
                     " is not supported (int8, uint8, int16, uint16, int4, "
                     "uint4)");
  ElementsAttr scaleAttr = ctx.constant(p.scaleInput);
  ElementsAttr zpAttr =
      ctx.hasInput(p.zeroPointInput) ? ctx.constant(p.zeroPointInput) : nullptr;
  if (!scaleAttr || (ctx.hasInput(p.zeroPointInput) && !zpAttr))
    return quant::QuantizedType();
  std::optional<SmallVector<double>> scales = readFloats(scaleAttr);
  if (!scales)
    return ctx.error("cannot read the scale constant");
  auto scaleType = cast<ShapedType>(scaleAttr.getType());
  SmallVector<int64_t> zps(scales->size(), 0);
  if (zpAttr) {
    std::optional<SmallVector<int64_t>> z = readInts(zpAttr, !info->isSigned);
    if (!z)
      return ctx.error("cannot read the zero point constant");
    if (cast<ShapedType>(zpAttr.getType()).getShape() != scaleType.getShape())
      return ctx.error("zero point and scale have different shapes");
    zps = *z;
  }
  for (double s : *scales)
    if (!(s > 0) || !std::isfinite(s))
      return ctx.error("scale " + std::to_string(s) +
                       " is not a positive finite number");
  for (int64_t z : zps)
    if (z < info->min || z > info->max)
      return ctx.error("zero point " + std::to_string(z) +
                       " is outside the storage range");

  MLIRContext *mctx = ctx.getContext();
  Type storage = storageElementType(mctx, *info);
  unsigned flags = info->isSigned ? quant::QuantizationFlags::Signed : 0;
  RankedTensorType xType = p.quantizedTensorType;
  int64_t rank = xType.getRank();
  int64_t blockSize = ctx.attrInt("block_size", 0);

  if (scaleType.getRank() == 0 ||
      (scaleType.getRank() == 1 && scaleType.getDimSize(0) == 1 &&
       blockSize == 0 && !ctx.attr("axis"))) {
    return cast<quant::QuantizedType>(quant::UniformQuantizedType::get(
        flags, storage, p.expressedType, (*scales)[0], zps[0], info->min,
        info->max));
  }
  FailureOr<int64_t> axis = normalizeAxis(ctx, ctx.attrInt("axis", 1), rank);
  if (failed(axis))
    return failure();
  if (blockSize == 0) {
    if (scaleType.getRank() != 1)
      return ctx.error("per-axis scale must be 1-D");
    int64_t d = xType.getDimSize(*axis);
    if (!ShapedType::isDynamic(d) && d != scaleType.getDimSize(0))
      return ctx.error("per-axis scale has " +
                       std::to_string(scaleType.getDimSize(0)) +
                       " entries but axis " + std::to_string(*axis) +
                       " has size " + std::to_string(d));
    return cast<quant::QuantizedType>(quant::UniformQuantizedPerAxisType::get(
        flags, storage, p.expressedType, *scales, zps, *axis, info->min,
        info->max));
  }
  // Blockwise: scale has x's shape with the axis divided into blocks.
  if (blockSize < 0)
    return ctx.error("block_size must be positive");
  if (scaleType.getRank() != rank)
    return ctx.error("blockwise scale must have the input's rank");
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = xType.getDimSize(i), s = scaleType.getDimSize(i);
    if (ShapedType::isDynamic(d))
      return ctx.error("blockwise quantization needs static shapes");
    int64_t expected = i == *axis ? (d + blockSize - 1) / blockSize : d;
    if (s != expected)
      return ctx.error("blockwise scale dim " + std::to_string(i) + " is " +
                       std::to_string(s) + ", expected " +
                       std::to_string(expected));
  }
  if (xType.getDimSize(*axis) % blockSize != 0)
    return ctx.error("axis size " + std::to_string(xType.getDimSize(*axis)) +
                     " is not a multiple of block_size " +
                     std::to_string(blockSize) +
                     " (partial blocks are not supported)");
  SmallVector<APFloat> scaleValues;
  for (double s : *scales) {
    APFloat f(s);
    bool lost;
    f.convert(cast<FloatType>(p.expressedType).getFloatSemantics(),
              APFloat::rmNearestTiesToEven, &lost);
    scaleValues.push_back(f);
  }
  SmallVector<APInt> zpValues;
  for (int64_t z : zps)
    zpValues.emplace_back(storage.getIntOrFloatBitWidth(), z,
                          /*isSigned=*/info->isSigned);
  auto scalesAttr = DenseElementsAttr::get(
      RankedTensorType::get(scaleType.getShape(), p.expressedType),
      scaleValues);
  auto zpsAttr = DenseElementsAttr::get(
      RankedTensorType::get(scaleType.getShape(), storage), zpValues);
  // Every dim is listed: unlisted dims would count as one whole block.
  SmallVector<int32_t> dims;
  SmallVector<int64_t> blocks;
  for (int64_t i = 0; i < rank; ++i) {
    dims.push_back(i);
    blocks.push_back(i == *axis ? blockSize : 1);
  }
  auto type = quant::UniformQuantizedSubChannelType::getChecked(
      [&] { return emitError(ctx.getLoc()); }, flags, storage, p.expressedType,
      scalesAttr, zpsAttr, dims, blocks, info->min, info->max);
  if (!type)
    return failure();
  return cast<quant::QuantizedType>(type);
}

RankedTensorType withElementType(Type shaped, Type element) {
  return cast<RankedTensorType>(shaped).clone(element);
}

//===----------------------------------------------------------------------===//
// Run-time parameters: explicit arithmetic
//===----------------------------------------------------------------------===//

/// Reshapes a per-axis parameter [C] so that it broadcasts against a tensor
/// of `rank` along `axis`: [C, 1, ..., 1].
Value alignToAxis(NodeContext &ctx, Value param, int64_t axis, int64_t rank) {
  auto type = cast<RankedTensorType>(param.getType());
  if (type.getRank() != 1)
    return param;
  OpBuilder &b = ctx.builder();
  SmallVector<OpFoldResult> sizes{getDim(b, ctx.getLoc(), param, 0)};
  for (int64_t i = axis + 1; i < rank; ++i)
    sizes.push_back(b.getIndexAttr(1));
  return reshapeTensor(b, ctx.getLoc(), param, sizes);
}

/// round_half_even(x / s) + zp, saturated; x float, result storage ints.
Value quantizeScalar(OpBuilder &b, Location loc, Value x, Value s, Value zp,
                     const StorageInfo &info, Type storage) {
  Type ft = x.getType();
  if (s.getType() != ft)
    s = arith::ExtFOp::create(b, loc, ft, s);
  Value q =
      math::RoundEvenOp::create(b, loc, arith::DivFOp::create(b, loc, x, s));
  Value z = info.isSigned ? arith::SIToFPOp::create(b, loc, ft, zp).getResult()
                          : arith::UIToFPOp::create(b, loc, ft, zp).getResult();
  q = arith::AddFOp::create(b, loc, q, z);
  auto cf = [&](double v) {
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
  };
  q = arith::MaximumFOp::create(b, loc, q, cf(info.min));
  q = arith::MinimumFOp::create(b, loc, q, cf(info.max));
  return info.isSigned
             ? arith::FPToSIOp::create(b, loc, storage, q).getResult()
             : arith::FPToUIOp::create(b, loc, storage, q).getResult();
}

/// (q - zp) * s; q, zp storage ints.
Value dequantizeScalar(OpBuilder &b, Location loc, Value q, Value s, Value zp,
                       const StorageInfo &info) {
  Type i32 = b.getI32Type();
  auto widen = [&](Value v) -> Value {
    if (v.getType() == i32)
      return v;
    return info.isSigned ? arith::ExtSIOp::create(b, loc, i32, v).getResult()
                         : arith::ExtUIOp::create(b, loc, i32, v).getResult();
  };
  Value d = arith::SubIOp::create(b, loc, widen(q), widen(zp));
  Value f = arith::SIToFPOp::create(b, loc, s.getType(), d);
  return arith::MulFOp::create(b, loc, f, s);
}

Value zeroPointOrDefault(NodeContext &ctx, unsigned i, Type storage) {
  if (ctx.hasInput(i))
    return ctx.input(i);
  OpBuilder &b = ctx.builder();
  return arith::ConstantOp::create(
      b, ctx.getLoc(),
      DenseElementsAttr::get(RankedTensorType::get({}, storage),
                             b.getIntegerAttr(storage, 0)));
}

//===----------------------------------------------------------------------===//
// QuantizeLinear / DequantizeLinear
//===----------------------------------------------------------------------===//

LogicalResult importQuantizeLinear(NodeContext &ctx) {
  if (!isFloatType(ctx.inputONNXType(0)) || !isFloatType(ctx.inputONNXType(1)))
    return ctx.error("input and scale must be float");
  int32_t storageType = ctx.hasInput(2) ? ctx.inputONNXType(2) : kUInt8;
  if (int64_t dt = ctx.attrInt("output_dtype", 0); dt && !ctx.hasInput(2))
    storageType = dt;
  std::optional<StorageInfo> info = storageInfo(storageType);
  if (!info)
    return ctx.error("quantized type " + dataTypeName(storageType) +
                     " is not supported");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  Type storage = storageElementType(b.getContext(), *info);
  Type expressed = getElementTypeOrSelf(ctx.input(1).getType());
  auto xType = cast<RankedTensorType>(x.getType());
  FailureOr<quant::QuantizedType> qtype =
      buildQuantType(ctx, {1, 2, storageType, expressed, xType});
  if (failed(qtype))
    return failure();
  // Upstream lower-quant-ops truncates quant.qcast instead of rounding half
  // to even and does not saturate, so per-tensor and per-axis parameters
  // (constant or not) take the explicit arithmetic below; only blockwise
  // parameters, which it cannot express, go through quant.qcast.
  if (*qtype && isa<quant::UniformQuantizedSubChannelType>(*qtype)) {
    if (xType.getElementType() != expressed)
      return ctx.error("input and scale have different float types");
    Value q = quant::QuantizeCastOp::create(b, loc,
                                            withElementType(xType, *qtype), x);
    Value stored = quant::StorageCastOp::create(
        b, loc, withElementType(xType, storage), q);
    ctx.setOutput(0, stored, storageType);
    return success();
  }
  if (ctx.attrInt("block_size", 0))
    return ctx.error("blockwise parameters must be constants");
  int64_t axis = ctx.attrInt("axis", 1);
  Value s = ctx.input(1), zp = zeroPointOrDefault(ctx, 2, storage);
  if (cast<RankedTensorType>(s.getType()).getRank() == 1) {
    FailureOr<int64_t> a = normalizeAxis(ctx, axis, xType.getRank());
    if (failed(a))
      return failure();
    s = alignToAxis(ctx, s, *a, xType.getRank());
    zp = alignToAxis(ctx, zp, *a, xType.getRank());
  }
  FailureOr<Value> result = buildElementwise(
      ctx, {x, s, zp}, storage,
      [&](OpBuilder &nb, Location nloc, ValueRange a) {
        return quantizeScalar(nb, nloc, a[0], a[1], a[2], *info, storage);
      });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, storageType);
  return success();
}

LogicalResult importDequantizeLinear(NodeContext &ctx) {
  int32_t storageType = ctx.inputONNXType(0);
  std::optional<StorageInfo> info = storageInfo(storageType);
  if (storageType == kInt32)
    info = StorageInfo{32, true, INT32_MIN, INT32_MAX};
  if (!info)
    return ctx.error("quantized type " + dataTypeName(storageType) +
                     " is not supported");
  if (!isFloatType(ctx.inputONNXType(1)))
    return ctx.error("scale must be float");
  if (ctx.hasInput(2) && ctx.inputONNXType(2) != storageType)
    return ctx.error("zero point type " + dataTypeName(ctx.inputONNXType(2)) +
                     " differs from the input type " +
                     dataTypeName(storageType));
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  auto xType = cast<RankedTensorType>(x.getType());
  Type expressed = getElementTypeOrSelf(ctx.input(1).getType());
  FailureOr<quant::QuantizedType> qtype =
      storageType == kInt32
          ? FailureOr<quant::QuantizedType>(quant::QuantizedType())
          : buildQuantType(ctx, {1, 2, storageType, expressed, xType});
  if (failed(qtype))
    return failure();
  if (*qtype) {
    x = widenNibbles(ctx, x, isUnsignedType(storageType));
    xType = cast<RankedTensorType>(x.getType());
    Value q =
        quant::StorageCastOp::create(b, loc, withElementType(xType, *qtype), x);
    Value d = quant::DequantizeCastOp::create(
        b, loc, withElementType(xType, expressed), q);
    ctx.setOutput(0, d, ctx.inputONNXType(1));
    return success();
  }
  if (ctx.attrInt("block_size", 0))
    return ctx.error("blockwise parameters must be constants");
  Type storage = xType.getElementType();
  Value s = ctx.input(1), zp = zeroPointOrDefault(ctx, 2, storage);
  if (cast<RankedTensorType>(s.getType()).getRank() == 1) {
    FailureOr<int64_t> a =
        normalizeAxis(ctx, ctx.attrInt("axis", 1), xType.getRank());
    if (failed(a))
      return failure();
    s = alignToAxis(ctx, s, *a, xType.getRank());
    zp = alignToAxis(ctx, zp, *a, xType.getRank());
  }
  FailureOr<Value> result = buildElementwise(
      ctx, {x, s, zp}, expressed,
      [&](OpBuilder &nb, Location nloc, ValueRange a) {
        return dequantizeScalar(nb, nloc, a[0], a[1], a[2], *info);
      });
  if (failed(result))
    return failure();
  ctx.setOutput(0, *result, ctx.inputONNXType(1));
  return success();
}

LogicalResult importDynamicQuantizeLinear(NodeContext &ctx) {
  if (ctx.inputONNXType(0) != kFloat)
    return ctx.error("supports float32 input only");
  OpBuilder &b = ctx.builder();
  Value x = ctx.input(0);
  auto xType = cast<RankedTensorType>(x.getType());
  Type i8 = b.getI8Type();
  auto op = qopt::DynamicQuantizeOp::create(
      b, ctx.getLoc(), withElementType(xType, i8), b.getF32Type(), i8, x);
  Value y = op.getOutput();
  Value scale = tensor::FromElementsOp::create(
      b, ctx.getLoc(), RankedTensorType::get({}, b.getF32Type()),
      op.getScale());
  Value zp = tensor::FromElementsOp::create(
      b, ctx.getLoc(), RankedTensorType::get({}, i8), op.getZeroPoint());
  ctx.setOutput(0, y, kUInt8);
  ctx.setOutput(1, scale, kFloat);
  ctx.setOutput(2, zp, kUInt8);
  return success();
}

//===----------------------------------------------------------------------===//
// MatMulInteger and QLinearMatMul
//===----------------------------------------------------------------------===//

LogicalResult importMatMulInteger(NodeContext &ctx) {
  int32_t aType = ctx.inputONNXType(0), bType = ctx.inputONNXType(1);
  for (int32_t t : {aType, bType})
    if (t != kInt8 && t != kUInt8)
      return ctx.error("operands must be int8 or uint8");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value lhs = ctx.input(0), rhs = ctx.input(1);
  auto rt = cast<RankedTensorType>(rhs.getType());
  auto lt = cast<RankedTensorType>(lhs.getType());
  if (rt.getRank() != 2 || lt.getRank() < 2)
    return ctx.error("supports A of rank >= 2 and a 2-D B");
  // Widen each operand to i32 and subtract its zero point, then contract.
  Type i32 = b.getI32Type();
  auto centered = [&](Value v, int32_t type, unsigned zpIndex,
                      bool perColumn) -> FailureOr<Value> {
    Value zp = zeroPointOrDefault(ctx, zpIndex, b.getI8Type());
    auto zt = cast<RankedTensorType>(zp.getType());
    if (zt.getRank() > 1 || (zt.getRank() == 1 && !perColumn))
      return ctx.error("zero point " + std::to_string(zpIndex) +
                       " must be a scalar" +
                       (perColumn ? " or 1-D per column" : ""));
    bool isUnsigned = type == kUInt8;
    return buildElementwise(
        ctx, {v, zp}, i32, [&](OpBuilder &nb, Location nloc, ValueRange a) {
          auto widen = [&](Value x) -> Value {
            return isUnsigned
                       ? arith::ExtUIOp::create(nb, nloc, i32, x).getResult()
                       : arith::ExtSIOp::create(nb, nloc, i32, x).getResult();
          };
          return arith::SubIOp::create(nb, nloc, widen(a[0]), widen(a[1]));
        });
  };
  FailureOr<Value> a32 = centered(lhs, aType, 2, false);
  FailureOr<Value> b32 = centered(rhs, bType, 3, true);
  if (failed(a32) || failed(b32))
    return failure();
  // [..., M, K] -> [M', K] x [K, N] with i32 accumulation.
  SmallVector<OpFoldResult> dims = getDims(b, loc, *a32), flat;
  OpFoldResult m = b.getIndexAttr(1);
  for (size_t i = 0; i + 1 < dims.size(); ++i)
    m = indexMul(b, loc, m, dims[i]);
  Value a2 = reshapeTensor(b, loc, *a32, {m, dims.back()});
  OpFoldResult n = getDim(b, loc, *b32, 1);
  Value init = createEmpty(b, loc, {m, n}, i32);
  Value zero = arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(0));
  Value acc = linalg::FillOp::create(b, loc, zero, init).getResult(0);
  Value mm =
      linalg::MatmulOp::create(b, loc, ValueRange{a2, *b32}, acc).getResult(0);
  SmallVector<OpFoldResult> outDims(dims.begin(), dims.end() - 1);
  outDims.push_back(n);
  ctx.setOutput(0, reshapeTensor(b, loc, mm, outDims), kInt32);
  return success();
}

LogicalResult importQLinearMatMul(NodeContext &ctx) {
  // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  auto dequant = [&](unsigned x, unsigned s, unsigned zp) -> FailureOr<Value> {
    Value v = ctx.input(x);
    auto type = cast<RankedTensorType>(v.getType());
    Type expressed = getElementTypeOrSelf(ctx.input(s).getType());
    FailureOr<quant::QuantizedType> qt =
        buildQuantType(ctx, {s, zp, ctx.inputONNXType(x), expressed, type});
    if (failed(qt))
      return failure();
    if (!*qt)
      return ctx.error("scales and zero points must be constants");
    Value q =
        quant::StorageCastOp::create(b, loc, withElementType(type, *qt), v);
    return quant::DequantizeCastOp::create(b, loc,
                                           withElementType(type, expressed), q)
        .getResult();
  };
  if (ctx.numInputs() != 8)
    return ctx.error("expected 8 inputs");
  FailureOr<Value> a = dequant(0, 1, 2);
  FailureOr<Value> w = dequant(3, 4, 5);
  if (failed(a) || failed(w))
    return failure();
  FailureOr<Value> y = buildMatMul(ctx, *a, *w);
  if (failed(y))
    return failure();
  auto yType = cast<RankedTensorType>(y->getType());
  Type expressed = yType.getElementType();
  int32_t outType = ctx.inputONNXType(7);
  FailureOr<quant::QuantizedType> qt =
      buildQuantType(ctx, {6, 7, outType, expressed, yType});
  if (failed(qt))
    return failure();
  if (!*qt)
    return ctx.error("scales and zero points must be constants");
  Value q =
      quant::QuantizeCastOp::create(b, loc, withElementType(yType, *qt), *y);
  Value stored = quant::StorageCastOp::create(
      b, loc, withElementType(yType, (*qt).getStorageType()), q);
  ctx.setOutput(0, stored, outType);
  return success();
}

//===----------------------------------------------------------------------===//
// com.microsoft MatMulNBits
//===----------------------------------------------------------------------===//

LogicalResult importMatMulNBits(NodeContext &ctx) {
  int64_t k = ctx.attrInt("K", 0), n = ctx.attrInt("N", 0);
  int64_t bits = ctx.attrInt("bits", 4),
          blockSize = ctx.attrInt("block_size", 0);
  if (k <= 0 || n <= 0)
    return ctx.error("attributes K and N must be positive");
  // (With block_size dividing K, this bounds every size computed below.)
  if (k > kMaxDimSize || n > kMaxDimSize)
    return ctx.error("attributes K and N must be at most 2^40");
  if (bits != 4 && bits != 8)
    return ctx.error("bits=" + std::to_string(bits) +
                     " is not supported (4 or 8)");
  if (blockSize < 16 || (blockSize & (blockSize - 1)))
    return ctx.error("block_size must be a power of two >= 16, got " +
                     std::to_string(blockSize));
  if (ctx.hasInput(4))
    return ctx.error("g_idx (act-order) is not supported");
  if (k % blockSize != 0)
    return ctx.error("K=" + std::to_string(k) +
                     " is not a multiple of block_size (partial blocks are "
                     "not supported)");
  int64_t blocks = k / blockSize;
  int64_t blobSize = blockSize * bits / 8;
  ElementsAttr packedAttr = ctx.constant(1);
  if (!packedAttr)
    return ctx.error("the packed weight B must be a constant");
  auto packedType = cast<ShapedType>(packedAttr.getType());
  if (packedType.getShape() != ArrayRef<int64_t>{n, blocks, blobSize})
    return ctx.error("B must have shape [N, K/block_size, block_size*bits/8] "
                     "= [" +
                     std::to_string(n) + ", " + std::to_string(blocks) + ", " +
                     std::to_string(blobSize) + "]");
  std::optional<SmallVector<int64_t>> packed = readInts(packedAttr, true);
  std::optional<SmallVector<double>> scales = readFloats(ctx.constant(2));
  if (!packed || !scales)
    return ctx.error("B and scales must be readable constants");
  if ((int64_t)scales->size() != n * blocks)
    return ctx.error("scales must have N * K/block_size = " +
                     std::to_string(n * blocks) + " elements");
  // Zero points: packed like B (one per block), default 2^(bits-1).
  SmallVector<int64_t> zps(n * blocks, int64_t(1) << (bits - 1));
  if (ctx.hasInput(3)) {
    if (ctx.inputONNXType(3) != kUInt8)
      return ctx.error("float zero points are not supported (uint8 only)");
    std::optional<SmallVector<int64_t>> z = readInts(ctx.constant(3), true);
    int64_t perRow = (blocks * bits + 7) / 8;
    if (!z || (int64_t)z->size() != n * perRow)
      return ctx.error("zero_points must be a constant of N * ceil(blocks * "
                       "bits / 8) bytes");
    for (int64_t r = 0; r < n; ++r)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        int64_t byte = (*z)[r * perRow + blk * bits / 8];
        zps[r * blocks + blk] =
            bits == 8 ? byte : (blk % 2 ? byte >> 4 : byte & 0xF);
      }
  }
  // Unpack to [N, K] storage (low nibble first), u4 or u8.
  MLIRContext *mctx = ctx.getContext();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Type storage = IntegerType::get(mctx, 8); // 4-bit values held in i8.
  auto bytes = std::make_unique<std::string>(n * k, '\0');
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int64_t byte = (*packed)[r * blocks * blobSize + c * bits / 8];
      (*bytes)[r * k + c] = static_cast<char>(
          bits == 8 ? byte : (c % 2 ? byte >> 4 : byte & 0xF));
    }
  auto storageType = RankedTensorType::get({n, k}, storage);
  Value w = arith::ConstantOp::create(
      b, loc,
      makeConstant(storageType, std::move(bytes), (ctx.name() + ".B").str(),
                   ctx.maxInlineConstantBytes()));
  Type expressed = getElementTypeOrSelf(ctx.input(2).getType());
  SmallVector<APFloat> scaleValues;
  for (double s : *scales) {
    APFloat f(s);
    bool lost;
    f.convert(cast<FloatType>(expressed).getFloatSemantics(),
              APFloat::rmNearestTiesToEven, &lost);
    scaleValues.push_back(f);
  }
  SmallVector<APInt> zpValues;
  for (int64_t z : zps)
    zpValues.emplace_back(8, z, /*isSigned=*/false);
  auto qtype = quant::UniformQuantizedSubChannelType::getChecked(
      [&] { return emitError(loc); }, unsigned(0) /*unsigned*/, storage,
      expressed,
      DenseElementsAttr::get(RankedTensorType::get({n, blocks}, expressed),
                             scaleValues),
      DenseElementsAttr::get(RankedTensorType::get({n, blocks}, storage),
                             zpValues),
      ArrayRef<int32_t>{0, 1}, ArrayRef<int64_t>{1, blockSize}, 0,
      (int64_t(1) << bits) - 1);
  if (!qtype)
    return failure();
  Value q = quant::StorageCastOp::create(
      b, loc, RankedTensorType::get({n, k}, qtype), w);
  Value wf = quant::DequantizeCastOp::create(
      b, loc, RankedTensorType::get({n, k}, expressed), q);
  // y = A @ W^T (+ bias).
  Value wt = linalg::TransposeOp::create(
                 b, loc, wf,
                 createEmpty(b, loc, {b.getIndexAttr(k), b.getIndexAttr(n)},
                             expressed),
                 ArrayRef<int64_t>{1, 0})
                 .getResult()[0];
  FailureOr<Value> y = buildMatMul(ctx, ctx.input(0), wt);
  if (failed(y))
    return failure();
  if (ctx.hasInput(5)) {
    FailureOr<Value> biased =
        buildElementwise(ctx, {*y, ctx.input(5)}, expressed,
                         [](OpBuilder &nb, Location nloc, ValueRange a) {
                           return arith::AddFOp::create(nb, nloc, a[0], a[1]);
                         });
    if (failed(biased))
      return failure();
    y = *biased;
  }
  ctx.setOutput(0, *y, ctx.inputONNXType(0));
  return success();
}

} // namespace

void mlir::qopt::onnx_import::registerQuantRules(RuleRegistry &r) {
  r.add("", "QuantizeLinear", importQuantizeLinear);
  r.add("", "DequantizeLinear", importDequantizeLinear);
  r.add("", "DynamicQuantizeLinear", importDynamicQuantizeLinear);
  r.add("", "MatMulInteger", importMatMulInteger);
  r.add("", "QLinearMatMul", importQLinearMatMul);
  r.add("com.microsoft", "MatMulNBits", importMatMulNBits);
}
