//===- LowerToLLVM.h - the lowering pipeline to LLVM ------------*- C++ -*-===//

#ifndef QUANT_OPT_PIPELINES_LOWERTOLLVM_H
#define QUANT_OPT_PIPELINES_LOWERTOLLVM_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::qopt {

/// The code-generation choices (CodegenOptions.def) as a plain struct: what
/// ModelCompileOptions, the C API and calibration's JIT pass around.
struct CodegenOptions {
#define QOPT_CODEGEN_OPTION(TYPE, FIELD, FLAG, DEFAULT, HELP)                  \
  TYPE FIELD = DEFAULT;
#include "quant-opt/Pipelines/CodegenOptions.def"
};

/// The options of the qopt-lower-to-llvm pipeline: where the weights go,
/// which kernels, and the code-generation choices.
struct LowerToLLVMOptions : public PassPipelineOptions<LowerToLLVMOptions> {
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("Compile for the runtime: write large constants to this "
                     "weight archive, emit packed entry points and the model "
                     "metadata (empty: plain lowering for mlir-runner)"),
      llvm::cl::init("")};
  Option<std::string> kernels{
      *this, "kernels",
      llvm::cl::desc("Quantized matmul kernels: a target of "
                     "convert-qopt-to-kernels (generic, x86-64-avx2, "
                     "x86-64-avx512-vnni, aarch64-dotprod, aarch64-i8mm, "
                     "native) or reference (the scalar reference lowering)"),
      llvm::cl::init("native")};
#define QOPT_CODEGEN_OPTION(TYPE, FIELD, FLAG, DEFAULT, HELP)                  \
  Option<TYPE> FIELD{*this, FLAG, llvm::cl::desc(HELP),                        \
                     llvm::cl::init(DEFAULT)};
#include "quant-opt/Pipelines/CodegenOptions.def"

  /// The code-generation choices these options hold.
  CodegenOptions codegen() const;
};

/// Lowers an imported model (tensor/linalg/quant on tensors) to the LLVM
/// dialect: decompose aggregates, lower quant casts, fuse elementwise ops,
/// bufferize (function boundaries included), lower linalg to loops (matmuls
/// with a unit-stride inner loop), deallocate, and convert everything to
/// LLVM. With `weights` set, the result is a compiled model for the runtime
/// (see qopt-externalize-weights and qopt-emit-runtime-interface).
void buildLowerToLLVMPipeline(OpPassManager &pm,
                              const CodegenOptions &codegen = {},
                              llvm::StringRef weights = "",
                              llvm::StringRef kernels = "native");

/// Registers `qopt-lower-to-llvm`.
void registerLowerToLLVMPipeline();

} // namespace mlir::qopt

#endif // QUANT_OPT_PIPELINES_LOWERTOLLVM_H
