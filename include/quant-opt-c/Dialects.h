/*===-- quant-opt-c/Dialects.h - C API for the qopt dialect -------*- C -*-===*\
|*                                                                            *|
|* The qopt dialect's handle, for mlirDialectHandleInsertDialect and          *|
|* mlirDialectHandleLoadDialect (mlir-c/IR.h). Most clients want              *|
|* qoptRegisterAllDialects or qoptContextCreate instead (Registration.h).     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QUANT_OPT_C_DIALECTS_H
#define QUANT_OPT_C_DIALECTS_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mlirGetDialectHandle__qopt__(): the qopt dialect. */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(QOpt, qopt);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_OPT_C_DIALECTS_H */
