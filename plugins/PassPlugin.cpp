//===- PassPlugin.cpp - quant-opt's passes for mlir-opt -------------------===//
//
//   mlir-opt --load-pass-plugin=libQOptPassPlugin.so \
//     --pass-pipeline='builtin.module(qopt-ptq{recipe=w8})'
//
// Pass plugins are loaded after mlir-opt has declared its flags, so their
// passes and pipelines are named in --pass-pipeline, not as --<pass> flags.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAllPasses.h"

#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

extern "C" LLVM_ATTRIBUTE_WEAK mlir::PassPluginLibraryInfo
mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "QOptPasses", LLVM_VERSION_STRING,
          []() { mlir::qopt::registerAllPasses(); }};
}
