//===- ConstantData.cpp - The byte image of constant tensors --------------===//

#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

size_t qopt::wholeByteWidth(Type elementType) {
  if (!elementType.isIntOrFloat() || elementType.getIntOrFloatBitWidth() % 8)
    return 0;
  return elementType.getIntOrFloatBitWidth() / 8;
}

ArrayRef<char> qopt::denseConstantBytes(Attribute value, ShapedType type) {
  size_t width = wholeByteWidth(type.getElementType());
  if (!width || !type.hasStaticShape())
    return {};
  size_t bytes = type.getNumElements() * width;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (blob && blob->getData().size() == bytes)
      return blob->getData();
    return {};
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (dense && !dense.isSplat() && dense.getRawData().size() == bytes)
    return dense.getRawData();
  return {};
}

arith::ConstantOp mlir::qopt::createResourceConstant(OpBuilder &b, Location loc,
                                                     RankedTensorType type,
                                                     ArrayRef<char> bytes,
                                                     StringRef name) {
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocate(bytes.size(), alignof(uint64_t));
  std::memcpy(blob.getMutableData().data(), bytes.data(), bytes.size());
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}
