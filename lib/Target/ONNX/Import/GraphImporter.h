//===- GraphImporter.h - Import one ONNX graph as a function ----*- C++ -*-===//

#ifndef QUANT_OPT_LIB_TARGET_ONNX_GRAPHIMPORTER_H
#define QUANT_OPT_LIB_TARGET_ONNX_GRAPHIMPORTER_H

#include "ImportContext.h"
#include "quant-opt/Target/ONNX/ModelLoader.h"
#include "quant-opt/Target/ONNX/ONNXImporter.h"

namespace mlir::qopt::onnx_import {

class GraphImporter {
public:
  GraphImporter(LoadedModel &model, MLIRContext *context,
                const ONNXImportOptions &options, StringRef modelPath);

  /// Imports the main graph into a new module; null after a diagnostic.
  OwningOpRef<ModuleOp> run();

private:
  friend class NodeContext;

  LogicalResult importInitializers();
  LogicalResult importInputs(SmallVectorImpl<Type> &types,
                             SmallVectorImpl<std::string> &names);
  LogicalResult importNode(const onnx::NodeProto &node, unsigned index);
  Value materialize(ImportedValue &value);
  ImportedValue *lookup(StringRef name);
  Location fileLoc();

  LoadedModel &model;
  MLIRContext *context;
  const ONNXImportOptions &options;
  std::string modelPath;
  OpBuilder builder;
  llvm::StringMap<ImportedValue> values;
  llvm::StringMap<ElementsAttr> constants;
  llvm::StringMap<int64_t> opsets; // domain -> version
};

} // namespace mlir::qopt::onnx_import

#endif // QUANT_OPT_LIB_TARGET_ONNX_GRAPHIMPORTER_H
