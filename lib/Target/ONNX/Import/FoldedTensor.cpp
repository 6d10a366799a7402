//===- FoldedTensor.cpp - Tensors known at import time --------------------===//

#include "ImportContext.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;

int64_t FoldedTensor::numElements() const { return saturatingProduct(shape); }

std::optional<int64_t> FoldedTensor::getInt(int64_t i) const {
  if (isFloat())
    return saturatingFloatToInt(floats[i]);
  if (auto attr = dyn_cast<Attribute>(ints[i]))
    return cast<IntegerAttr>(attr).getInt();
  return std::nullopt;
}

bool FoldedTensor::isFullyKnown() const {
  return isFloat() ||
         llvm::all_of(ints, [](OpFoldResult r) { return isa<Attribute>(r); });
}

std::optional<SmallVector<int64_t>> FoldedTensor::getInts() const {
  SmallVector<int64_t> out;
  for (int64_t i = 0, e = numElements(); i < e; ++i) {
    std::optional<int64_t> v = getInt(i);
    if (!v)
      return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::optional<FoldedTensor>
mlir::qopt::onnx_import::foldConstant(ElementsAttr attr, int32_t onnxType) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldedElements)
    return std::nullopt;
  FoldedTensor t;
  t.shape = llvm::to_vector(dense.getType().getShape());
  t.onnxType = onnxType;
  Type elementType = dense.getElementType();
  Builder b(attr.getContext());
  if (isa<FloatType>(elementType)) {
    for (APFloat v : dense.getValues<APFloat>())
      t.floats.push_back(v.convertToDouble());
    return t;
  }
  if (!elementType.isInteger())
    return std::nullopt;
  bool isUnsigned = isUnsignedType(onnxType);
  for (APInt v : dense.getValues<APInt>())
    t.ints.push_back(b.getIndexAttr(isUnsigned
                                        ? static_cast<int64_t>(v.getZExtValue())
                                        : v.getSExtValue()));
  return t;
}

Value mlir::qopt::onnx_import::materializeConstant(OpBuilder &b, Location loc,
                                                   ElementsAttr attr) {
  ShapedType type = attr.getShapedType();
  if (saturatingProduct(type.getShape()) == 0)
    return tensor::EmptyOp::create(b, loc, type.getShape(),
                                   type.getElementType());
  return arith::ConstantOp::create(b, loc, attr);
}

Value mlir::qopt::onnx_import::materializeFolded(OpBuilder &b, Location loc,
                                                 const FoldedTensor &t) {
  Type elementType = convertElementType(t.onnxType, b.getContext());
  auto type = RankedTensorType::get(t.shape, elementType);
  if (t.numElements() == 0) // see materializeConstant
    return tensor::EmptyOp::create(b, loc, t.shape, elementType);
  if (t.isFloat()) {
    SmallVector<APFloat> values;
    for (double v : t.floats) {
      APFloat f(v);
      bool lost;
      f.convert(cast<FloatType>(elementType).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &lost);
      values.push_back(f);
    }
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  if (t.isFullyKnown()) {
    SmallVector<APInt> values;
    for (int64_t i = 0, e = t.numElements(); i < e; ++i)
      values.emplace_back(width, *t.getInt(i), /*isSigned=*/true,
                          /*implicitTrunc=*/true);
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, values));
  }
  // Partly dynamic (e.g. a shape [?, 12, 64]): build it element by element.
  SmallVector<Value> elements;
  for (OpFoldResult r : t.ints) {
    Value index = getValueOrCreateConstantIndexOp(b, loc, r);
    elements.push_back(arith::IndexCastOp::create(b, loc, elementType, index));
  }
  return tensor::FromElementsOp::create(b, loc, type, elements);
}
