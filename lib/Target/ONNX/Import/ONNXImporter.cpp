//===- ONNXImporter.cpp - Public entry points of the ONNX importer --------===//

#include "quant-opt/Target/ONNX/ONNXImporter.h"

#include "GraphImporter.h"
#include "quant-opt/Target/ONNX/ModelLoader.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"
#include "llvm/Support/MathExtras.h"

#include <limits>

#include <onnx/onnx_pb.h>

using namespace mlir;
using namespace mlir::qopt;

bool mlir::qopt::isONNXFileName(StringRef path) {
  return path.ends_with(".onnx") || path.ends_with(".onnxtext");
}

void mlir::qopt::registerONNXImportDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, quant::QuantDialect, tensor::TensorDialect,
                  qopt::QOptDialect>();
}

std::string mlir::qopt::parseInputShapes(StringRef text,
                                         ONNXImportOptions &options) {
  if (text.empty())
    return "";
  SmallVector<StringRef> entries;
  text.split(entries, ',', -1, /*KeepEmpty=*/true);
  for (StringRef entry : entries) {
    if (entry.trim().empty())
      return "empty entry in '" + text.str() + "' (expected NAME=D0xD1x...)";
    auto [name, dims] = entry.split('=');
    if (name.empty() || dims.empty())
      return "expected NAME=D0xD1x..., got '" + entry.str() + "'";
    if (options.inputShapes.contains(name))
      return "input '" + name.str() + "' is given twice";
    SmallVector<int64_t> shape;
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    int64_t elements = 1;
    for (StringRef p : parts) {
      int64_t d;
      if (p.getAsInteger(10, d) || d <= 0)
        return "bad dimension '" + p.str() + "' in '" + entry.str() +
               "' (expected a positive integer below 2^63)";
      // Element counts (and byte sizes, 8 bytes at most per element) must
      // fit in 64 bits wherever the shape is used.
      if (llvm::MulOverflow(elements, d, elements) ||
          elements > std::numeric_limits<int64_t>::max() / 8)
        return "shape '" + dims.str() + "' in '" + entry.str() +
               "' has more than 2^60 elements";
      shape.push_back(d);
    }
    options.inputShapes[name] = shape;
  }
  return "";
}

static OwningOpRef<ModuleOp> importLoaded(onnx_import::LoadedModel &loaded,
                                          StringRef path, MLIRContext *context,
                                          const ONNXImportOptions &options) {
  DialectRegistry registry;
  registerONNXImportDialects(registry);
  context->appendDialectRegistry(registry);
  context->loadAllAvailableDialects();
  if (options.externalDataFiles)
    *options.externalDataFiles = loaded.externalFiles;
  onnx_import::GraphImporter importer(loaded, context, options, path);
  OwningOpRef<ModuleOp> module = importer.run();
  if (module)
    for (const std::string &note : loaded.notes)
      (*module)->setAttr("onnx.import_note", StringAttr::get(context, note));
  return module;
}

OwningOpRef<ModuleOp>
mlir::qopt::importONNXModel(std::unique_ptr<llvm::MemoryBuffer> buffer,
                            StringRef modelPath, MLIRContext *context,
                            const ONNXImportOptions &options) {
  onnx_import::LoadedModel loaded;
  std::string error;
  if (!onnx_import::loadModelBuffer(buffer->getBuffer(), modelPath,
                                    modelPath.ends_with(".onnxtext"),
                                    options.runChecker, loaded, error)) {
    emitError(FileLineColLoc::get(context, modelPath, 0, 0)) << error;
    return nullptr;
  }
  buffer.reset();
  return importLoaded(loaded, modelPath, context, options);
}

OwningOpRef<ModuleOp>
mlir::qopt::importONNXFile(StringRef path, MLIRContext *context,
                           const ONNXImportOptions &options) {
  onnx_import::LoadedModel loaded;
  std::string error;
  if (!onnx_import::loadModelFile(path, options.runChecker, loaded, error)) {
    emitError(FileLineColLoc::get(context, path, 0, 0)) << error;
    return nullptr;
  }
  return importLoaded(loaded, path, context, options);
}
