//===- ONNXImporter.h - Import ONNX models into MLIR ------------*- C++ -*-===//
//
// Imports an ONNX ModelProto (binary `.onnx`, or ONNX textual syntax
// `.onnxtext`) into a `func.func` built from upstream tensor/linalg/arith/math
// operations, upstream `quant` casts for already-quantized models, and `qopt`
// operations where upstream has none.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_TARGET_ONNX_ONNXIMPORTER_H
#define QUANT_OPT_TARGET_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
namespace qopt {

struct ONNXImportOptions {
  /// Fixed shapes for graph inputs, e.g. {"input_ids": {1, 128}}. Inputs not
  /// listed keep the shape the model declares (symbolic dims stay dynamic).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Constants with more bytes than this become `dense_resource` blobs that
  /// share memory with the model file instead of being copied into attributes.
  int64_t maxInlineConstantBytes = 1024;
  /// Name of the imported function.
  std::string functionName = "main";
  /// Run ONNX's checker and shape inference before importing.
  bool runChecker = true;
  /// If set, receives the external data files the model reads (resolved
  /// paths), e.g. for tools that must not overwrite them.
  std::vector<std::string> *externalDataFiles = nullptr;
};

/// Parses `input_ids=1x128,attention_mask=1x128` into `options.inputShapes`.
/// Returns an error message on malformed text.
std::string parseInputShapes(llvm::StringRef text, ONNXImportOptions &options);

/// Imports the model in `buffer`. `modelPath` names the file for diagnostics
/// and locates external data (relative to its directory). Text syntax is used
/// when `modelPath` ends in `.onnxtext`. Emits diagnostics through `context`
/// and returns null on failure.
OwningOpRef<ModuleOp>
importONNXModel(std::unique_ptr<llvm::MemoryBuffer> buffer,
                llvm::StringRef modelPath, MLIRContext *context,
                const ONNXImportOptions &options);

/// Reads and imports the model at `path`.
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path, MLIRContext *context,
                                     const ONNXImportOptions &options);

/// True for file names the importer reads (`.onnx`, `.onnxtext`).
bool isONNXFileName(llvm::StringRef path);

/// Registers the dialects imported models use.
void registerONNXImportDialects(DialectRegistry &registry);

} // namespace qopt
} // namespace mlir

#endif // QUANT_OPT_TARGET_ONNX_ONNXIMPORTER_H
