/*===-- quant-opt-c/Registration.h - Dialects, passes, contexts ---*- C -*-===*\
|*                                                                            *|
|* What quant-opt's tools register: the upstream dialects and extensions the  *|
|* importer and the pipelines create, the qopt dialect, and every upstream    *|
|* and quant-opt pass (qopt-ptq, qopt-lower-to-llvm, ...).                    *|
|*                                                                            *|
|* Conventions of the whole C API (include/quant-opt-c), as MLIR's: handles   *|
|* are opaque, strings are MlirStringRef (not necessarily null-terminated),   *|
|* the functions that can fail return a null handle or a failed               *|
|* MlirLogicalResult and report why as an error diagnostic on the context     *|
|* (mlirContextAttachDiagnosticHandler; without a handler MLIR prints it on   *|
|* stderr). A null handle argument is refused on stderr, as no context can be *|
|* reached from it. No C++ exception crosses the API.                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QUANT_OPT_C_REGISTRATION_H
#define QUANT_OPT_C_REGISTRATION_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Adds to `registry` the upstream dialects and extensions (as mlir-opt has
 * them) and the qopt dialect: the list quant-opt's main registers. */
MLIR_CAPI_EXPORTED void qoptRegisterAllDialects(MlirDialectRegistry registry);

/* Registers every upstream pass and every quant-opt pass and pipeline in
 * MLIR's global registry, for textual pipelines (qoptRunPassPipeline).
 * Thread-safe; calls after the first do nothing. */
MLIR_CAPI_EXPORTED void qoptRegisterAllPasses(void);

/* A context with qoptRegisterAllDialects' dialects registered and loaded,
 * and qoptRegisterAllPasses done. Destroy it with mlirContextDestroy. */
MLIR_CAPI_EXPORTED MlirContext qoptContextCreate(void);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_OPT_C_REGISTRATION_H */
