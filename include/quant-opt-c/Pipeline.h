/*===-- quant-opt-c/Pipeline.h - Run pass pipelines ---------------*- C -*-===*\
|*                                                                            *|
|* Textual pass pipelines on a module, as quant-opt's --pass-pipeline.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QUANT_OPT_C_PIPELINE_H
#define QUANT_OPT_C_PIPELINE_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses `pipeline`, anchored on the module, e.g.
 * `builtin.module(qopt-ptq{recipe=w8})` (docs/quantization.md lists the
 * recipes and their options), and runs it on `module`, verifying the IR after
 * each pass. Registers the passes first if they are not yet
 * (qoptRegisterAllPasses). A pipeline that does not parse (an unknown pass or
 * option, a bad value, another anchor) and a pass that fails are an error
 * diagnostic on the module's context and a failed result; a failing pass may
 * leave the module partly transformed. */
MLIR_CAPI_EXPORTED MlirLogicalResult
qoptRunPassPipeline(MlirModule module, MlirStringRef pipeline);

/* Writes the qopt-ptq recipe table (the one list qopt-ptq, its errors and
 * `quant-opt --list-recipes=json` read) as a JSON array of objects with
 * name, alias, format, bits, granularity, group_size, activations and
 * summary, in one or more calls of `callback`. */
MLIR_CAPI_EXPORTED void qoptPrintRecipes(MlirStringCallback callback,
                                         void *userData);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_OPT_C_PIPELINE_H */
