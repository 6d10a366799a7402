//===- embed.cpp - quant-opt inside another compiler ----------------------===//
//
//   qopt-embed model.onnx <recipe> model.so model.weights
//
// Imports an ONNX model, quantizes it with a qopt-ptq recipe and compiles it
// into a shared library and weight archive that quant-run (or the runtime's
// C API) loads.

#include "quant-opt/Compiler/ModelCompiler.h"
#include "quant-opt/InitAllDialects.h"
#include "quant-opt/Recipes/PTQ.h"
#include "quant-opt/Target/ONNX/ONNXImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

int main(int argc, char **argv) {
  if (argc != 5) {
    llvm::errs() << "usage: qopt-embed model.onnx recipe out.so out.weights\n";
    return 2;
  }
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);

  // Diagnostics (a bad model, a failing pass) go to stderr.
  OwningOpRef<ModuleOp> module =
      qopt::importONNXFile(argv[1], &context, qopt::ONNXImportOptions());
  if (!module)
    return 1;

  PassManager pm(&context);
  qopt::PTQOptions ptq;
  ptq.recipe = argv[2];
  if (llvm::Error error = qopt::buildPTQPipeline(pm, ptq)) {
    llvm::errs() << "qopt-embed: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  if (failed(pm.run(*module)))
    return 1;

  qopt::ModelCompileOptions options;
  options.outputPath = argv[3];
  options.weightsPath = argv[4];
  options.inputs.push_back({"the input model", argv[1]});
  if (llvm::Error error = qopt::compileModel(*module, options)) {
    llvm::errs() << "qopt-embed: " << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
