//===- Pipelines.h - quant-opt's pass pipelines -----------------*- C++ -*-===//

#ifndef QUANT_OPT_PIPELINES_PIPELINES_H
#define QUANT_OPT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::qopt {

/// Lowers an imported model (tensor/linalg/quant on tensors) to the LLVM
/// dialect: decompose aggregates, lower quant casts, fuse elementwise ops,
/// bufferize (function boundaries included), lower linalg to loops,
/// deallocate, and convert everything to LLVM. The scalar reference
/// lowering; vectorized kernels come in front of it.
void buildLowerToLLVMPipeline(OpPassManager &pm);

/// Registers `qopt-lower-to-llvm`.
void registerPipelines();

} // namespace mlir::qopt

#endif // QUANT_OPT_PIPELINES_PIPELINES_H
