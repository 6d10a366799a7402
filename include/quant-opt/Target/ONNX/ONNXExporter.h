//===- ONNXExporter.h - Export quantized models as ONNX ---------*- C++ -*-===//
//
// Writes the quantization of a module (its `qopt.qmatmul` ops) back into the
// ONNX model it was imported from, the way ONNX Runtime's quantizers rewrite
// a float model: each quantized node's float weight initializer is replaced
// by integer data plus DequantizeLinear (QDQ), or the node by
// com.microsoft MatMulNBits.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_TARGET_ONNX_ONNXEXPORTER_H
#define QUANT_OPT_TARGET_ONNX_ONNXEXPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::qopt {

enum class ONNXExportFormat {
  /// DequantizeLinear on integer weights (opset 21 blockwise for groups and
  /// 4-bit), QuantizeLinear -> DequantizeLinear on static activations.
  QDQ,
  /// com.microsoft MatMulNBits (weight-only, blocks along K).
  MatMulNBits,
};

struct ONNXExportOptions {
  ONNXExportFormat format = ONNXExportFormat::QDQ;
  /// MatMulNBits' accuracy_level: 0 computes in float (exactly the weight-only
  /// model), 4 lets ONNX Runtime quantize the activation to int8 per block.
  int64_t accuracyLevel = 0;
  /// QDQ: write the int8 weights of layers with quantized activations as
  /// uint8 (q + 128, zero point + 128: the same values), which ONNX Runtime
  /// runs exactly on every x86 CPU; its u8 x s8 kernels saturate without
  /// VNNI.
  bool unsignedActivatedWeights = true;
};

/// What an export did, for the tool's summary.
struct ONNXExportSummary {
  int64_t quantizedNodes = 0;
  int64_t removedInitializers = 0;
  int64_t opsetBefore = 0, opsetAfter = 0;
  std::vector<std::string> notes;
};

/// Rewrites the ONNX model at `originalPath` (the model `module` was imported
/// from) with the quantized weights of every `qopt.qmatmul` in `module`, found
/// by the ONNX node name in its location, and writes the result to
/// `outputPath`. Refusals (a node the format cannot express exactly, a name
/// not in the model, weights that do not match) are diagnostics through the
/// module's context naming the node; nothing is written then.
LogicalResult exportQuantizedONNX(ModuleOp module, llvm::StringRef originalPath,
                                  llvm::StringRef outputPath,
                                  const ONNXExportOptions &options,
                                  ONNXExportSummary *summary = nullptr);

} // namespace mlir::qopt

#endif // QUANT_OPT_TARGET_ONNX_ONNXEXPORTER_H
