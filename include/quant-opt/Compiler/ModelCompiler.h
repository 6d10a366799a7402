//===- ModelCompiler.h - Compile a model into a shared library --*- C++ -*-===//
//
// The back half of quant-opt: an MLIR module (as imported or after the
// quantization passes) lowered by `qopt-lower-to-llvm{weights=...}`,
// translated to LLVM IR, optimized for a target CPU and written as an object
// file, then linked into a shared library that the runtime loads next to its
// weight archive.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_COMPILER_MODELCOMPILER_H
#define QUANT_OPT_COMPILER_MODELCOMPILER_H

#include "quant-opt/Pipelines/LowerToLLVM.h"
#include "quant-opt/Support/FileSafety.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::qopt {

enum class CompileOutput {
  SharedLibrary,
  Object,
  Assembly,
  LLVMIR,
  LLVMDialect
};

struct ModelCompileOptions {
  /// The library / object / IR file to write.
  std::string outputPath;
  /// The weight archive to write (see WeightArchive.h).
  std::string weightsPath;
  CompileOutput output = CompileOutput::SharedLibrary;
  /// Kernel target (see KernelTarget.h) or "reference". A named target
  /// also sets what LLVM generates code for (an AArch64 target
  /// cross-compiles); "native", "generic" and "reference" compile for the
  /// host.
  std::string target = "native";
  /// Target CPU for code generation, overriding the target's; "native" is
  /// the host with its features.
  std::string targetCPU = "native";
  /// No weight archive and no runtime interface: constants stay in the
  /// code and functions marked llvm.emit_c_interface get C wrappers, for
  /// linking into a program (objects and assembly only).
  bool standalone = false;
  /// LLVM optimization level (0-3).
  unsigned optLevel = 3;
  /// The lowering's code-generation choices (CodegenOptions.def); the
  /// weight archive and kernels come from `weightsPath` and `target`.
  CodegenOptions codegen;
  /// The files the model was read from (the model, its external data): no
  /// output may be one of them.
  std::vector<NamedPath> inputs;
  /// Where to record the time of each phase (the lowering's passes, LLVM
  /// IR translation, optimization, code generation, linking); null: none.
  TimingScope *timing = nullptr;
};

/// Compiles `module` (consumed: it is lowered in place). Diagnostics from the
/// MLIR passes go through the module's context; other failures (target
/// lookup, I/O, the linker) come back as the error. Outputs that name an
/// input or each other are refused before anything runs; each output is
/// written under a temporary name and renamed at the end, so a failure
/// leaves the output paths as they were.
llvm::Error compileModel(ModuleOp module, const ModelCompileOptions &options);

/// The weight archive written beside `outputPath` when none is named: the
/// output with the extension .weights (quant-compile, the C API).
std::string defaultWeightsPath(llvm::StringRef outputPath);

} // namespace mlir::qopt

#endif // QUANT_OPT_COMPILER_MODELCOMPILER_H
