//===- TensorConversion.h - ONNX tensors and types to MLIR ------*- C++ -*-===//

#ifndef QUANT_OPT_LIB_TARGET_ONNX_TENSORCONVERSION_H
#define QUANT_OPT_LIB_TARGET_ONNX_TENSORCONVERSION_H

#include "quant-opt/Target/ONNX/ModelLoader.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

namespace onnx {
class TensorProto;
class TypeProto;
} // namespace onnx

namespace mlir::qopt::onnx_import {

/// ONNX TensorProto.DataType values, including the ones ONNX 1.12 has no
/// names for (INT4/UINT4 came with ONNX 1.16).
enum ONNXDataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUInt4 = 21,
  kInt4 = 22,
};

/// Limits on every static shape the importer builds (graph inputs,
/// initializers, node results): each dim at most 2^40, and each tensor at
/// most 2^40 bytes, so that element counts, byte sizes and offsets computed
/// later (here, in the lowering and at run time) cannot overflow int64.
constexpr int64_t kMaxDimSize = int64_t(1) << 40;
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

/// Overflow-safe arithmetic: saturates to INT64_MAX / INT64_MIN, which every
/// limit above then refuses.
int64_t saturatingAdd(int64_t a, int64_t b);
int64_t saturatingMul(int64_t a, int64_t b);
/// A double truncated toward zero, saturated to the int64 range (NaN: 0).
int64_t saturatingFloatToInt(double v);
/// The product of the static dims (dynamic ones skipped), saturated.
int64_t saturatingProduct(ArrayRef<int64_t> shape);

/// Checks `shape` (dynamic dims allowed) of elements of `elementBits` bits
/// against the limits above. Returns the reason it is refused, or an empty
/// string.
std::string checkShapeLimits(ArrayRef<int64_t> shape, int64_t elementBits);
/// "[2, ?, 4]".
std::string formatShape(ArrayRef<int64_t> shape);

/// The MLIR element type of an ONNX data type; integers are signless (the
/// importer tracks ONNX signedness itself). Null for unsupported types.
Type convertElementType(int32_t onnxType, MLIRContext *ctx);
bool isUnsignedType(int32_t onnxType);
bool isFloatType(int32_t onnxType);
std::string dataTypeName(int32_t onnxType);

/// Converts an initializer or Constant value. `external` holds its bytes when
/// stored outside the model. Takes ownership of `raw_data` (leaving the
/// proto's copy empty) so large weights are never held twice. Constants
/// larger than `maxInlineBytes` become `dense_resource` blobs.
FailureOr<ElementsAttr> convertTensor(onnx::TensorProto &tensor,
                                      const ExternalBytes *external,
                                      int64_t maxInlineBytes, MLIRContext *ctx,
                                      std::string &error);

/// A constant of `type` from little-endian element bytes (one byte per
/// element for i4, as MLIR stores them): a DenseElementsAttr up to
/// `maxInlineBytes`, else a dense_resource blob named `name` owning `bytes`.
ElementsAttr makeConstant(RankedTensorType type,
                          std::unique_ptr<std::string> bytes, StringRef name,
                          int64_t maxInlineBytes);

} // namespace mlir::qopt::onnx_import

#endif // QUANT_OPT_LIB_TARGET_ONNX_TENSORCONVERSION_H
