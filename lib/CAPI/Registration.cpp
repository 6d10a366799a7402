//===- Registration.cpp - Dialects, passes, contexts ----------------------===//

#include "quant-opt-c/Registration.h"
#include "Diagnostics.h"
#include "quant-opt/InitAllDialects.h"
#include "quant-opt/InitAllPasses.h"

#include "mlir/CAPI/IR.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

#include <mutex>

using namespace mlir;

/// As quant-opt's main.
static void registerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  qopt::registerAllDialects(registry);
}

void qoptRegisterAllDialects(MlirDialectRegistry registry) {
  if (mlirDialectRegistryIsNull(registry)) {
    qopt::capi::refuseNull("qoptRegisterAllDialects", "registry");
    return;
  }
  registerDialects(*unwrap(registry));
}

void qoptRegisterAllPasses(void) {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    qopt::registerAllPasses();
  });
}

MlirContext qoptContextCreate(void) {
  DialectRegistry registry;
  registerDialects(registry);
  auto *context = new MLIRContext(registry);
  context->loadAllAvailableDialects();
  qoptRegisterAllPasses();
  return wrap(context);
}
