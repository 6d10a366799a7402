//===- InitAllPasses.h - Register every quant-opt pass ----------*- C++ -*-===//

#ifndef QUANT_OPT_INITALLPASSES_H
#define QUANT_OPT_INITALLPASSES_H

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Pipelines/Pipelines.h"

namespace mlir::qopt {

/// Registers quant-opt's passes (upstream passes are registered separately).
inline void registerAllPasses() {
  registerQOptPasses();
  registerQOptConversionPasses();
  registerPipelines();
  registerPTQPipelines();
}

} // namespace mlir::qopt

#endif // QUANT_OPT_INITALLPASSES_H
