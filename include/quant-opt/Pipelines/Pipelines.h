//===- Pipelines.h - quant-opt's pass pipelines -----------------*- C++ -*-===//

#ifndef QUANT_OPT_PIPELINES_PIPELINES_H
#define QUANT_OPT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qopt {

struct LowerToLLVMOptions : public PassPipelineOptions<LowerToLLVMOptions> {
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("Compile for the runtime: write large constants to this "
                     "weight archive, emit packed entry points and the model "
                     "metadata (empty: plain lowering for mlir-runner)"),
      llvm::cl::init("")};
  Option<int64_t> minWeightBytes{
      *this, "min-weight-bytes",
      llvm::cl::desc("Constants smaller than this stay in the code"),
      llvm::cl::init(1024)};
  Option<bool> vectorizeContractions{
      *this, "vectorize-contractions",
      llvm::cl::desc("Register-blocked vector kernels for f32 matmul and "
                     "batch_matmul (qopt-vectorize-contractions; false: the "
                     "scalar reference loops)"),
      llvm::cl::init(true)};
};

/// Lowers an imported model (tensor/linalg/quant on tensors) to the LLVM
/// dialect: decompose aggregates, lower quant casts, fuse elementwise ops,
/// bufferize (function boundaries included), lower linalg to loops (matmuls
/// with a unit-stride inner loop), deallocate, and convert everything to
/// LLVM. With `weights` set, the result is a compiled model for the runtime
/// (see qopt-externalize-weights and qopt-emit-runtime-interface).
void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const LowerToLLVMOptions &options = {});

/// Registers `qopt-lower-to-llvm`.
void registerPipelines();

} // namespace mlir::qopt

#endif // QUANT_OPT_PIPELINES_PIPELINES_H
