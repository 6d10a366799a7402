/*===-- quant-opt-c/Compile.h - Compile a model -------------------*- C -*-===*\
|*                                                                            *|
|* The back half of quant-compile (quant-opt/Compiler/ModelCompiler.h): a     *|
|* module, as imported or after qopt-ptq, lowered and compiled into a shared  *|
|* library plus the weight archive it maps at run time, which the runtime     *|
|* (quant-opt-runtime/qopt_runtime.h, quant-run) loads.                       *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QUANT_OPT_C_COMPILE_H
#define QUANT_OPT_C_COMPILE_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compiles a copy of `module` (the module itself is left as it is) to
 * `outputLibrary` and `weightArchive` (empty: `outputLibrary` with the
 * extension .weights), as `quant-compile MODULE -o OUTPUT --weights ARCHIVE`
 * does. `options` is a space-separated list of `key=value` with the keys of
 * quant-compile's options (`quant-compile --help`), e.g.
 * `target=generic parallel=false` (empty: quant-compile's defaults):
 *   target, target-cpu, emit (so|obj|asm|llvm-ir|mlir), standalone, O, and
 *   the code-generation choices (quant-opt/Pipelines/CodegenOptions.def:
 *   min-weight-bytes, vectorize-contractions, approximate-math,
 *   fuse-input-quantization, kv-cache-in-place, last-position-entry,
 *   parallel).
 * Each output is written under a temporary name and renamed when complete;
 * outputs that name each other are refused. An unknown key, a bad value, and
 * any failure of the compiler (a pass, the target, I/O, the linker) are an
 * error diagnostic on the module's context and a failed result, and leave the
 * output paths as they were. */
MLIR_CAPI_EXPORTED MlirLogicalResult
qoptCompileModel(MlirModule module, MlirStringRef outputLibrary,
                 MlirStringRef weightArchive, MlirStringRef options);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_OPT_C_COMPILE_H */
