//===- DialectPlugin.cpp - quant-opt's dialects for mlir-opt --------------===//
//
//   mlir-opt --load-dialect-plugin=libQOptDialectPlugin.so ...
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAllDialects.h"

#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "llvm/Config/llvm-config.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QOptDialect", LLVM_VERSION_STRING,
          [](mlir::DialectRegistry *registry) {
            mlir::qopt::registerAllDialects(*registry);
          }};
}
