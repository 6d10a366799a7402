//===- ConstantData.h - The byte image of constant tensors ------*- C++ -*-===//
//
// Shared by passes that move or rewrite constant data (weight archive,
// compile-time transposes) without going through typed attribute values.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_UTILS_CONSTANTDATA_H
#define QUANT_OPT_DIALECT_QOPT_UTILS_CONSTANTDATA_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypeInterfaces.h"

namespace mlir::qopt {

/// Bytes per element when elements are whole bytes both in attributes and in
/// memory; 0 otherwise (i1 and i4 are bit-packed in attributes).
size_t wholeByteWidth(Type elementType);

/// The row-major bytes of a non-splat dense or dense_resource constant of
/// `type`, as a buffer of that type holds them; empty for splats, for other
/// attributes and for sub-byte elements.
ArrayRef<char> denseConstantBytes(Attribute value, ShapedType type);

/// A dense_resource constant of `type` holding `bytes` (row-major, as a
/// buffer of that type holds them).
arith::ConstantOp createResourceConstant(OpBuilder &b, Location loc,
                                         RankedTensorType type,
                                         ArrayRef<char> bytes, StringRef name);

/// The same from host values of a plain type (float, int32_t, ...).
template <typename T>
arith::ConstantOp createResourceConstant(OpBuilder &b, Location loc,
                                         RankedTensorType type,
                                         ArrayRef<T> values, StringRef name) {
  return createResourceConstant(
      b, loc, type,
      ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                     values.size() * sizeof(T)),
      name);
}

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_UTILS_CONSTANTDATA_H
