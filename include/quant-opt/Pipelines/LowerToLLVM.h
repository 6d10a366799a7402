//===- LowerToLLVM.h - the lowering pipeline to LLVM ------------*- C++ -*-===//

#ifndef QUANT_OPT_PIPELINES_LOWERTOLLVM_H
#define QUANT_OPT_PIPELINES_LOWERTOLLVM_H

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
  Option<std::string> kernels{
      *this, "kernels",
      llvm::cl::desc("Quantized matmul kernels: a target of "
                     "convert-qopt-to-kernels (generic, x86-64-avx2, "
                     "x86-64-avx512-vnni, aarch64-dotprod, aarch64-i8mm, "
                     "native) or reference (the scalar reference lowering)"),
      llvm::cl::init("native")};
  Option<bool> approximateMath{
      *this, "approximate-math",
      llvm::cl::desc("Inline polynomial approximations of tanh, exp, ... "
                     "and algebraic forms of powf (qopt-approximate-math), "
                     "so elementwise loops vectorize; false: libm calls"),
      llvm::cl::init(true)};
  Option<bool> kvCacheInPlace{
      *this, "kv-cache-in-place",
      llvm::cl::desc("With weights=: KV-cache entry points update the "
                     "caller's cache buffers in place "
                     "(qopt-kv-cache-in-place) instead of returning "
                     "concatenated copies"),
      llvm::cl::init(true)};
  Option<bool> lastPositionEntry{
      *this, "last-position-entry",
      llvm::cl::desc("With weights=: add `<entry>_last_position`, which "
                     "computes the logits of the last position only, next "
                     "to each language-model entry point "
                     "(qopt-last-position-logits)"),
      llvm::cl::init(true)};
  Option<bool> fuseInputQuantization{
      *this, "fuse-input-quantization",
      llvm::cl::desc("Quantize W8A8/W4A8 inputs inside their elementwise "
                     "producer, row by row (convert-qopt-to-kernels)"),
      llvm::cl::init(true)};
  Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Run the loops marked parallel (the kernels' column "
                     "panels, the large f32 matmuls' column tiles) on "
                     "OpenMP threads; the result links with libomp "
                     "(false: serial loops)"),
      llvm::cl::init(false)};
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
void registerLowerToLLVMPipeline();

} // namespace mlir::qopt

#endif // QUANT_OPT_PIPELINES_LOWERTOLLVM_H
