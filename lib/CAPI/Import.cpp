//===- Import.cpp - Import ONNX models ------------------------------------===//

#include "quant-opt-c/Import.h"
#include "Diagnostics.h"
#include "quant-opt/Target/ONNX/ONNXImporter.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"

using namespace mlir;

MlirModule qoptImportONNXFile(MlirContext context, MlirStringRef path) {
  if (mlirContextIsNull(context)) {
    qopt::capi::refuseNull("qoptImportONNXFile", "context");
    return MlirModule{nullptr};
  }
  OwningOpRef<ModuleOp> module =
      qopt::importONNXFile(unwrap(path), unwrap(context), {});
  return wrap(module.release());
}
