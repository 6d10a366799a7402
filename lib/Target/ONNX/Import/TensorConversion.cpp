//===- TensorConversion.cpp - ONNX tensors and types to MLIR --------------===//

#include "TensorConversion.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <cmath>

#include <onnx/onnx_pb.h>

using namespace mlir;
using namespace mlir::qopt::onnx_import;

Type mlir::qopt::onnx_import::convertElementType(int32_t onnxType,
                                                 MLIRContext *ctx) {
  Builder b(ctx);
  switch (onnxType) {
  case kFloat:
    return b.getF32Type();
  case kDouble:
    return b.getF64Type();
  case kFloat16:
    return b.getF16Type();
  case kBFloat16:
    return b.getBF16Type();
  case kFloat8E4M3FN:
    return b.getType<Float8E4M3FNType>();
  case kFloat8E4M3FNUZ:
    return b.getType<Float8E4M3FNUZType>();
  case kFloat8E5M2:
    return b.getType<Float8E5M2Type>();
  case kFloat8E5M2FNUZ:
    return b.getType<Float8E5M2FNUZType>();
  case kBool:
    return b.getI1Type();
  case kInt4:
  case kUInt4:
    return b.getIntegerType(4);
  case kInt8:
  case kUInt8:
    return b.getI8Type();
  case kInt16:
  case kUInt16:
    return b.getI16Type();
  case kInt32:
  case kUInt32:
    return b.getI32Type();
  case kInt64:
  case kUInt64:
    return b.getI64Type();
  default:
    return {};
  }
}

bool mlir::qopt::onnx_import::isUnsignedType(int32_t t) {
  return t == kUInt4 || t == kUInt8 || t == kUInt16 || t == kUInt32 ||
         t == kUInt64 || t == kBool;
}

bool mlir::qopt::onnx_import::isFloatType(int32_t t) {
  return t == kFloat || t == kDouble || t == kFloat16 || t == kBFloat16 ||
         (t >= kFloat8E4M3FN && t <= kFloat8E5M2FNUZ);
}

std::string mlir::qopt::onnx_import::dataTypeName(int32_t t) {
  static const char *names[] = {
      "UNDEFINED",      "FLOAT",      "UINT8",
      "INT8",           "UINT16",     "INT16",
      "INT32",          "INT64",      "STRING",
      "BOOL",           "FLOAT16",    "DOUBLE",
      "UINT32",         "UINT64",     "COMPLEX64",
      "COMPLEX128",     "BFLOAT16",   "FLOAT8E4M3FN",
      "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",          "INT4"};
  if (t >= 0 && t < static_cast<int32_t>(std::size(names)))
    return names[t];
  return "data type " + std::to_string(t);
}

int64_t mlir::qopt::onnx_import::saturatingAdd(int64_t a, int64_t b) {
  if (std::optional<int64_t> r = llvm::checkedAdd(a, b))
    return *r;
  return b > 0 ? INT64_MAX : INT64_MIN;
}

int64_t mlir::qopt::onnx_import::saturatingMul(int64_t a, int64_t b) {
  if (std::optional<int64_t> r = llvm::checkedMul(a, b))
    return *r;
  return (a < 0) == (b < 0) ? INT64_MAX : INT64_MIN;
}

int64_t mlir::qopt::onnx_import::saturatingFloatToInt(double v) {
  if (std::isnan(v))
    return 0;
  // 2^63 is exactly representable; every double below it converts.
  if (v >= 0x1p63)
    return INT64_MAX;
  if (v < -0x1p63)
    return INT64_MIN;
  return static_cast<int64_t>(v);
}

int64_t mlir::qopt::onnx_import::saturatingProduct(ArrayRef<int64_t> shape) {
  // A 0 dim makes the product 0 whatever the other dims are.
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (!ShapedType::isDynamic(d))
      n = saturatingMul(n, d);
  return n;
}

std::string mlir::qopt::onnx_import::formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(d) ? "?" : std::to_string(d);
  }
  return s + "]";
}

std::string mlir::qopt::onnx_import::checkShapeLimits(ArrayRef<int64_t> shape,
                                                      int64_t elementBits) {
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (ShapedType::isDynamic(d))
      continue;
    if (d < 0)
      return "shape " + formatShape(shape) + " has negative dim " +
             std::to_string(i);
    if (d > kMaxDimSize)
      return "shape " + formatShape(shape) + " has dim " + std::to_string(i) +
             " larger than 2^40";
  }
  int64_t elements = saturatingProduct(shape);
  int64_t bytes =
      saturatingMul(elements, std::max<int64_t>(elementBits, 8)) / 8;
  if (bytes > kMaxTensorBytes)
    return "shape " + formatShape(shape) + " holds more than 2^40 bytes";
  return "";
}

namespace {
/// Bytes one element occupies in ONNX raw_data; 0 for packed 4-bit types.
int64_t rawElementBytes(int32_t t) {
  switch (t) {
  case kDouble:
  case kInt64:
  case kUInt64:
    return 8;
  case kFloat:
  case kInt32:
  case kUInt32:
    return 4;
  case kFloat16:
  case kBFloat16:
  case kInt16:
  case kUInt16:
    return 2;
  case kInt4:
  case kUInt4:
    return 0;
  default:
    return 1;
  }
}

/// Owns bytes for a dense_resource blob.
AsmResourceBlob blobFromString(std::unique_ptr<std::string> bytes) {
  ArrayRef<char> data(bytes->data(), bytes->size());
  std::string *raw = bytes.release();
  // malloc'd string storage is at least 16-byte aligned.
  return AsmResourceBlob(
      data, /*dataAlignment=*/16, [raw](void *, size_t, size_t) { delete raw; },
      /*dataIsMutable=*/false);
}

/// Expands packed 4-bit values (low nibble first) to one byte per element,
/// sign-extended for INT4, as MLIR stores i4 elements.
std::string unpackNibbles(StringRef packed, int64_t count, bool isSigned) {
  std::string out(count, '\0');
  for (int64_t i = 0; i < count; ++i) {
    uint8_t byte = static_cast<uint8_t>(packed[i / 2]);
    uint8_t nibble = (i % 2) ? (byte >> 4) : (byte & 0xF);
    int8_t value = isSigned ? static_cast<int8_t>(nibble << 4) >> 4
                            : static_cast<int8_t>(nibble);
    out[i] = static_cast<char>(value);
  }
  return out;
}

/// Serializes a typed field (int32_data etc.) into little-endian raw bytes
/// of `elementBytes` each.
template <typename Field>
std::string narrowToRaw(const Field &values, int64_t elementBytes) {
  std::string out(values.size() * elementBytes, '\0');
  for (int i = 0; i < values.size(); ++i) {
    auto v = values.Get(i);
    std::memcpy(&out[i * elementBytes], &v, elementBytes);
  }
  return out;
}
} // namespace

FailureOr<ElementsAttr> mlir::qopt::onnx_import::convertTensor(
    onnx::TensorProto &tensor, const ExternalBytes *external,
    int64_t maxInlineBytes, MLIRContext *ctx, std::string &error) {
  int32_t dtype = tensor.data_type();
  Type elementType = convertElementType(dtype, ctx);
  if (!elementType) {
    error =
        "tensor '" + tensor.name() + "' has unsupported " + dataTypeName(dtype);
    return failure();
  }
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  // Dims and the byte size within the limits, so that the sizes below cannot
  // overflow (a wrapped size could match a short or empty buffer).
  std::string tooLarge =
      checkShapeLimits(shape, elementType.getIntOrFloatBitWidth());
  if (!tooLarge.empty()) {
    error = "tensor '" + tensor.name() + "' of " + tooLarge;
    return failure();
  }
  int64_t count = saturatingProduct(shape);
  auto type = RankedTensorType::get(shape, elementType);
  int64_t elementBytes = rawElementBytes(dtype);
  int64_t expectedRaw = elementBytes ? count * elementBytes : (count + 1) / 2;

  // Gather the bytes in ONNX raw layout, without copying where possible.
  std::unique_ptr<std::string> owned;
  StringRef raw;
  std::shared_ptr<llvm::MemoryBuffer> keepAlive;
  if (external) {
    raw = external->bytes;
    keepAlive = external->file;
  } else if (tensor.has_raw_data()) {
    owned.reset(tensor.release_raw_data());
    raw = *owned;
  } else {
    int64_t fieldCount = 0;
    switch (dtype) {
    case kFloat:
      fieldCount = tensor.float_data_size();
      owned =
          std::make_unique<std::string>(narrowToRaw(tensor.float_data(), 4));
      break;
    case kDouble:
      fieldCount = tensor.double_data_size();
      owned =
          std::make_unique<std::string>(narrowToRaw(tensor.double_data(), 8));
      break;
    case kInt64:
      fieldCount = tensor.int64_data_size();
      owned =
          std::make_unique<std::string>(narrowToRaw(tensor.int64_data(), 8));
      break;
    case kUInt32:
    case kUInt64:
      fieldCount = tensor.uint64_data_size();
      owned = std::make_unique<std::string>(
          narrowToRaw(tensor.uint64_data(), elementBytes));
      break;
    default: // int32_data carries every narrower type, 4-bit ones packed.
      fieldCount = tensor.int32_data_size();
      owned = std::make_unique<std::string>(
          narrowToRaw(tensor.int32_data(), elementBytes ? elementBytes : 1));
      break;
    }
    int64_t expectedCount = elementBytes ? count : (count + 1) / 2;
    if (fieldCount != expectedCount) {
      error = "tensor '" + tensor.name() + "' of shape " +
              std::to_string(count) + " elements holds " +
              std::to_string(fieldCount) + " values, expected " +
              std::to_string(expectedCount);
      return failure();
    }
    raw = *owned;
  }
  if (static_cast<int64_t>(raw.size()) != expectedRaw) {
    error = "tensor '" + tensor.name() + "' has " + std::to_string(raw.size()) +
            " bytes of data, expected " + std::to_string(expectedRaw) +
            " for " + std::to_string(count) + " " + dataTypeName(dtype) +
            " elements";
    return failure();
  }

  // MLIR stores i1 and i4 elements one per byte in resources; expand them.
  if (dtype == kInt4 || dtype == kUInt4) {
    owned = std::make_unique<std::string>(
        unpackNibbles(raw, count, dtype == kInt4));
    raw = *owned;
    keepAlive.reset();
  }

  int64_t storedBytes = static_cast<int64_t>(raw.size());
  if (storedBytes <= maxInlineBytes || elementType.isInteger(1)) {
    if (elementType.isInteger(1)) {
      SmallVector<bool> bits(raw.begin(), raw.end());
      for (bool &bit : bits)
        bit = bit != 0;
      return ElementsAttr(DenseElementsAttr::get(type, bits));
    }
    if (elementType.isInteger(4)) {
      SmallVector<APInt> values;
      for (char c : raw)
        values.emplace_back(4, static_cast<int64_t>(c), /*isSigned=*/true,
                            /*implicitTrunc=*/true);
      return ElementsAttr(DenseElementsAttr::get(type, values));
    }
    return ElementsAttr(DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(raw.data(), raw.size())));
  }

  std::string blobName = tensor.name().empty() ? "onnx_tensor" : tensor.name();
  AsmResourceBlob blob;
  // Kernels read weights with aligned vector loads: share the memory-mapped
  // file only where the tensor starts 16-byte aligned, else copy it.
  bool aligned = reinterpret_cast<uintptr_t>(raw.data()) % 16 == 0;
  if (!owned && !aligned)
    owned = std::make_unique<std::string>(raw.str());
  if (owned) {
    blob = blobFromString(std::move(owned));
  } else {
    // Share the memory-mapped file; the blob keeps the mapping alive.
    blob = AsmResourceBlob(
        ArrayRef<char>(raw.data(), raw.size()),
        /*dataAlignment=*/16,
        [keepAlive](void *, size_t, size_t) mutable { keepAlive.reset(); },
        /*dataIsMutable=*/false);
  }
  return ElementsAttr(
      DenseResourceElementsAttr::get(type, blobName, std::move(blob)));
}

ElementsAttr
mlir::qopt::onnx_import::makeConstant(RankedTensorType type,
                                      std::unique_ptr<std::string> bytes,
                                      StringRef name, int64_t maxInlineBytes) {
  if (static_cast<int64_t>(bytes->size()) <= maxInlineBytes) {
    if (type.getElementType().isInteger(4)) {
      SmallVector<APInt> values;
      for (char c : *bytes)
        values.emplace_back(4, static_cast<int64_t>(c), /*isSigned=*/true,
                            /*implicitTrunc=*/true);
      return DenseElementsAttr::get(type, values);
    }
    return DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(bytes->data(), bytes->size()));
  }
  return DenseResourceElementsAttr::get(type, name,
                                        blobFromString(std::move(bytes)));
}
