//===- ImportFuzzer.h - Shared body of the importer fuzzers -----*- C++ -*-===//
//
// Each fuzzer feeds one input to the importer as a model file of a given
// kind. Diagnostics are swallowed: the fuzzer looks for crashes, hangs,
// leaks and sanitizer reports, not for refusals.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_TOOLS_FUZZERS_IMPORTFUZZER_H
#define QUANT_OPT_TOOLS_FUZZERS_IMPORTFUZZER_H

#include "quant-opt/Target/ONNX/ONNXImporter.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

inline int fuzzImport(const uint8_t *data, size_t size,
                      llvm::StringRef modelPath) {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry();
    mlir::qopt::registerONNXImportDialects(*r);
    return r;
  }();
  mlir::MLIRContext context(*registry);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler ignore(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::qopt::ONNXImportOptions options;
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), modelPath);
  (void)mlir::qopt::importONNXModel(std::move(buffer), modelPath, &context,
                                    options);
  return 0;
}

#endif // QUANT_OPT_TOOLS_FUZZERS_IMPORTFUZZER_H
