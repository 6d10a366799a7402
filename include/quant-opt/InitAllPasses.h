//===- InitAllPasses.h - Register every quant-opt pass ----------*- C++ -*-===//

#ifndef QUANT_OPT_INITALLPASSES_H
#define QUANT_OPT_INITALLPASSES_H

#include "quant-opt/Calibration/Passes.h"
#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Pipelines/LowerToLLVM.h"
#include "quant-opt/Recipes/PTQ.h"

namespace mlir::qopt {

/// Registers quant-opt's passes and pipelines, layer by layer (upstream
/// passes are registered separately).
inline void registerAllPasses() {
  registerQOptPasses();
  registerQOptCodegenPasses();
  registerQOptConversionPasses();
  registerLowerToLLVMPipeline();
  registerQOptCalibrationPasses();
  registerPTQPipelines();
}

} // namespace mlir::qopt

#endif // QUANT_OPT_INITALLPASSES_H
