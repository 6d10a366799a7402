//===- ModelLoader.h - Read, resolve and check ONNX models ------*- C++ -*-===//
//
// Everything that touches ONNX's own C++ library (which reports errors with
// C++ exceptions) lives behind this interface, compiled with exceptions on.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_TARGET_ONNX_MODELLOADER_H
#define QUANT_OPT_TARGET_ONNX_MODELLOADER_H

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace mlir::qopt::onnx_import {

/// Bytes of one initializer stored in an external file: a view into a
/// memory-mapped file that stays alive as long as any view of it does.
struct ExternalBytes {
  std::shared_ptr<llvm::MemoryBuffer> file;
  llvm::StringRef bytes;
};

struct LoadedModel {
  std::unique_ptr<onnx::ModelProto> model;
  /// Initializer name -> its external data, already bounds-checked.
  llvm::StringMap<ExternalBytes> externalData;
  /// The external data files read (resolved paths), each once.
  std::vector<std::string> externalFiles;
  /// What was and was not verified, for diagnostics ("checked by ONNX 1.12
  /// checker" or why not).
  std::vector<std::string> notes;
};

/// Parses a model from a file (binary unless the name ends in `.onnxtext`),
/// resolves external data relative to the file's directory, then runs ONNX's
/// checker and shape inference where ONNX 1.12 can vouch for the opsets.
/// On failure returns false and sets `error`. Without `inferShapes` the graph
/// stays as written (the exporter rewrites it and must not add value_info).
bool loadModelFile(llvm::StringRef path, bool runChecker, LoadedModel &out,
                   std::string &error, bool inferShapes = true);

/// Same, from an in-memory buffer; `path` names it and locates external data.
bool loadModelBuffer(llvm::StringRef contents, llvm::StringRef path,
                     bool isText, bool runChecker, LoadedModel &out,
                     std::string &error, bool inferShapes = true);

} // namespace mlir::qopt::onnx_import

#endif // QUANT_OPT_TARGET_ONNX_MODELLOADER_H
