//===- QOptOps.cpp - qopt operations --------------------------------------===//

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::qopt;

#define GET_OP_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptOps.cpp.inc"

/// Checks that a uniform quantized type's parameters fit `shape`.
static LogicalResult verifyQuantTypeFits(Operation *op, Type type,
                                         ArrayRef<int64_t> shape,
                                         Type expressed, StringRef what) {
  auto qtype = dyn_cast<quant::QuantizedType>(type);
  if (!qtype ||
      !isa<quant::UniformQuantizedType, quant::UniformQuantizedPerAxisType,
           quant::UniformQuantizedSubChannelType>(qtype))
    return op->emitOpError()
           << what << " must be a !quant.uniform type, got " << type;
  if (qtype.getExpressedType() != expressed)
    return op->emitOpError()
           << what << " expresses " << qtype.getExpressedType() << ", not "
           << expressed;
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(qtype)) {
    int32_t axis = perAxis.getQuantizedDimension();
    if (axis < 0 || axis >= (int64_t)shape.size())
      return op->emitOpError() << what << " quantizes axis " << axis
                               << " of a rank " << shape.size() << " tensor";
    if (!ShapedType::isDynamic(shape[axis]) &&
        (int64_t)perAxis.getScales().size() != shape[axis])
      return op->emitOpError()
             << what << " has " << perAxis.getScales().size()
             << " scales for a dimension of size " << shape[axis];
  }
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(qtype)) {
    auto scaleShape = sub.getScales().getType().getShape();
    if (scaleShape.size() != shape.size())
      return op->emitOpError()
             << what << " has scales of rank " << scaleShape.size()
             << " for a rank " << shape.size() << " tensor";
    for (auto [dim, block] : sub.getBlockSizeInfo()) {
      if (dim < 0 || dim >= (int64_t)shape.size())
        return op->emitOpError() << what << " blocks axis " << dim;
      if (ShapedType::isDynamic(shape[dim]))
        continue;
      if (block <= 0)
        return op->emitOpError() << what << " block size " << block
                                 << " along axis " << dim << " is not positive";
      // A block size that does not divide the axis leaves a shorter last
      // block (ONNX's blocked quantization and MatMulNBits do the same).
      int64_t blocks = llvm::divideCeil(shape[dim], block);
      if (scaleShape[dim] != blocks)
        return op->emitOpError()
               << what << " has " << scaleShape[dim] << " scales along axis "
               << dim << ", expected " << blocks << " (axis of size "
               << shape[dim] << " in blocks of " << block << ")";
    }
  }
  return success();
}

LogicalResult FakeQuantOp::verify() {
  auto type = getInput().getType();
  return verifyQuantTypeFits(*this, getQtype(), type.getShape(),
                             type.getElementType(), "qtype");
}

unsigned QMatmulOp::getWeightBits() {
  return cast<quant::QuantizedType>(getWeightType())
      .getStorageTypeIntegralWidth();
}

/// The block size along axis 0 (K) of a stored weight's type; `k` when it
/// has no blocks there.
static int64_t groupSizeAlongK(Type type, int64_t k) {
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(type))
    for (auto [dim, block] : sub.getBlockSizeInfo())
      if (dim == 0)
        return block;
  return k;
}

int64_t QMatmulOp::getGroupSize() {
  return groupSizeAlongK(getWeightType(), getInput().getType().getDimSize(1));
}

int64_t QMatmulOp::getOutputChannels() {
  return getOutput().getType().getDimSize(1);
}

LogicalResult QMatmulOp::verify() {
  auto input = getInput().getType(), weight = getWeight().getType(),
       output = getOutput().getType();
  if (input.getRank() != 2 || weight.getRank() != 2 || output.getRank() != 2)
    return emitOpError("expects rank-2 input, weight and output");
  int64_t k = input.getDimSize(1), n = output.getDimSize(1);
  if (ShapedType::isDynamic(k) || ShapedType::isDynamic(n) ||
      weight.isDynamicDim(0) || weight.isDynamicDim(1))
    return emitOpError("needs static K, N and weight dimensions");
  if (failed(verifyQuantTypeFits(*this, getWeightType(), {k, n},
                                 input.getElementType(), "weight_type")))
    return failure();
  auto qtype = cast<quant::QuantizedType>(getWeightType());
  unsigned bits = qtype.getStorageTypeIntegralWidth();
  if (bits != 8 && bits != 4)
    return emitOpError() << "supports 8- and 4-bit weights, not " << bits;
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(qtype);
      perAxis && perAxis.getQuantizedDimension() != 1)
    return emitOpError("per-axis weights must be quantized along axis 1 "
                       "(output channels)");
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(qtype)) {
    auto scaleShape = sub.getScales().getType().getShape();
    if (scaleShape[1] != n)
      return emitOpError("sub-channel weights need one scale per output "
                         "channel in each group (blocks {0:G, 1:1})");
  }
  if (Value groupIndex = getGroupIndex()) {
    auto type = cast<RankedTensorType>(groupIndex.getType());
    if (!isa<quant::UniformQuantizedSubChannelType>(qtype))
      return emitOpError("group_index needs weights quantized in groups");
    if (type.getRank() != 1 || type.getDimSize(0) != k)
      return emitOpError() << "group_index must be tensor<" << k
                           << "xi32> (one group per input channel), got "
                           << type;
  }
  int64_t rowBytes = (n * bits + 7) / 8;
  if (weight.getDimSize(0) != k || weight.getDimSize(1) != rowBytes)
    return emitOpError() << "weight storage must be [" << k << ", " << rowBytes
                         << "] for K = " << k << ", N = " << n << " at " << bits
                         << " bits, got " << weight;
  if (!input.isDynamicDim(0) && !output.isDynamicDim(0) &&
      input.getDimSize(0) != output.getDimSize(0))
    return emitOpError() << "output must be [M, " << n << "]";
  if (getInputType() && getDynamicInput())
    return emitOpError("input_type and dynamic_input exclude each other");
  if (auto inputType = getInputTypeAttr()) {
    auto q = dyn_cast<quant::UniformQuantizedType>(inputType.getValue());
    if (!q || q.getStorageTypeIntegralWidth() != 8 ||
        q.getExpressedType() != input.getElementType())
      return emitOpError("input_type must be a per-tensor 8-bit "
                         "!quant.uniform type expressing f32");
  }
  return success();
}

unsigned QGatherOp::getTableBits() {
  return cast<quant::QuantizedType>(getTableType())
      .getStorageTypeIntegralWidth();
}

int64_t QGatherOp::getRowWidth() { return getTable().getType().getDimSize(0); }

int64_t QGatherOp::getGroupSize() {
  return groupSizeAlongK(getTableType(), getRowWidth());
}

int64_t QGatherOp::getNumRows() {
  Type type = getTableType();
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(type))
    return perAxis.getScales().size();
  if (auto sub = dyn_cast<quant::UniformQuantizedSubChannelType>(type))
    return sub.getScales().getType().getDimSize(1);
  return ShapedType::kDynamic;
}

LogicalResult QGatherOp::verify() {
  auto table = getTable().getType(), ids = getIds().getType(),
       output = getOutput().getType();
  if (table.getRank() != 2 || !table.hasStaticShape())
    return emitOpError("expects a static rank-2 table [D, V bytes]");
  auto qtype = dyn_cast<quant::QuantizedType>(getTableType());
  if (!qtype || !isa<quant::UniformQuantizedPerAxisType,
                     quant::UniformQuantizedSubChannelType>(qtype))
    return emitOpError("table_type must be a per-axis (axis 1) or "
                       "sub-channel (blocks {0:G, 1:1}) !quant.uniform type, "
                       "got ")
           << getTableType();
  int64_t d = getRowWidth(), v = getNumRows();
  if (failed(verifyQuantTypeFits(*this, qtype, {d, v}, output.getElementType(),
                                 "table_type")))
    return failure();
  if (auto perAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(qtype);
      perAxis && perAxis.getQuantizedDimension() != 1)
    return emitOpError("per-axis tables must be quantized along axis 1 "
                       "(one scale per token)");
  unsigned bits = qtype.getStorageTypeIntegralWidth();
  if (bits != 8 && bits != 4)
    return emitOpError() << "supports 8- and 4-bit tables, not " << bits;
  int64_t rowBytes = (v * bits + 7) / 8;
  if (table.getDimSize(1) != rowBytes)
    return emitOpError() << "table storage must be [" << d << ", " << rowBytes
                         << "] for " << v << " rows of " << d << " at " << bits
                         << " bits, got " << table;
  if (output.getRank() != ids.getRank() + 1 ||
      output.getDimSize(ids.getRank()) != d)
    return emitOpError() << "output must be the ids' shape followed by " << d;
  for (int64_t i = 0; i < ids.getRank(); ++i)
    if (!ids.isDynamicDim(i) && !output.isDynamicDim(i) &&
        ids.getDimSize(i) != output.getDimSize(i))
      return emitOpError() << "output dimension " << i << " is "
                           << output.getDimSize(i) << ", the ids' "
                           << ids.getDimSize(i);
  return success();
}

LogicalResult FMatmulOp::verify() {
  auto input = getInput().getType(), weight = getWeight().getType(),
       output = getOutput().getType();
  if (input.getRank() != 2 || weight.getRank() != 2 || output.getRank() != 2)
    return emitOpError("expects rank-2 input, weight and output");
  if (!weight.hasStaticShape() || input.isDynamicDim(1))
    return emitOpError("needs static K and weight dimensions");
  int64_t k = weight.getDimSize(0), n = weight.getDimSize(1);
  if (input.getDimSize(1) != k)
    return emitOpError() << "input has " << input.getDimSize(1)
                         << " channels, the weight " << k;
  if (output.getDimSize(1) != n ||
      (!input.isDynamicDim(0) && !output.isDynamicDim(0) &&
       input.getDimSize(0) != output.getDimSize(0)))
    return emitOpError() << "output must be [M, " << n << "]";
  if (auto scales = getScales()) {
    auto type = cast<RankedTensorType>(scales.getType());
    if (type.getRank() != 1 || type.getDimSize(0) != n)
      return emitOpError() << "scales must be [" << n << "]";
  }
  return success();
}

LogicalResult PureIntrinsicOp::verify() {
  if (!getIntrinsic().starts_with("llvm."))
    return emitOpError() << "expects an LLVM intrinsic name (llvm.*), got '"
                         << getIntrinsic() << "'";
  return success();
}
