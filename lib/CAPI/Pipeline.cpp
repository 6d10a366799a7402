//===- Pipeline.cpp - Run pass pipelines ----------------------------------===//

#include "quant-opt-c/Pipeline.h"
#include "Diagnostics.h"
#include "quant-opt-c/Registration.h"
#include "quant-opt/Recipes/RecipeTable.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/CAPI/Utils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

MlirLogicalResult qoptRunPassPipeline(MlirModule module,
                                      MlirStringRef pipeline) {
  if (mlirModuleIsNull(module))
    return qopt::capi::refuseNull("qoptRunPassPipeline", "module");
  qoptRegisterAllPasses();
  ModuleOp op = unwrap(module);
  MLIRContext *context = op.getContext();
  qopt::capi::CallDiagnostics diagnostics(context);
  std::string message;
  llvm::raw_string_ostream os(message);
  FailureOr<OpPassManager> parsed = parsePassPipeline(unwrap(pipeline), os);
  if (failed(parsed) ||
      parsed->getOpAnchorName() != ModuleOp::getOperationName()) {
    if (message.empty())
      message = "the pipeline must be anchored on the module, e.g. "
                "builtin.module(qopt-ptq{recipe=w8})";
    return diagnostics.fail(op.getLoc(), "invalid pass pipeline '" +
                                             unwrap(pipeline) +
                                             "': " + StringRef(message).trim());
  }
  PassManager pm(context, ModuleOp::getOperationName());
  static_cast<OpPassManager &>(pm) = std::move(*parsed);
  if (failed(pm.run(op)))
    return diagnostics.fail(op.getLoc(), "the pass pipeline '" +
                                             unwrap(pipeline) + "' failed");
  return mlirLogicalResultSuccess();
}

void qoptPrintRecipes(MlirStringCallback callback, void *userData) {
  mlir::detail::CallbackOstream stream(callback, userData);
  qopt::printRecipes(stream, /*json=*/true);
  stream.flush();
}
