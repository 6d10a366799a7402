/*===-- quant-opt-c/Import.h - Import ONNX models -----------------*- C -*-===*\
|*                                                                            *|
|* The ONNX importer (quant-opt/Target/ONNX/ONNXImporter.h): GPT-2-style      *|
|* models as torch.onnx.export writes them, binary `.onnx` or ONNX text       *|
|* `.onnxtext`, with external data beside them. See docs/importer.md.         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QUANT_OPT_C_IMPORT_H
#define QUANT_OPT_C_IMPORT_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Imports the model at `path` into a new module in `context` (whose dialect
 * registry gains the dialects the importer creates), as `quant-opt model.onnx`
 * does: ONNX's checker and shape inference first, inputs with the shapes the
 * model declares, constants above 1 KB as dense_resource blobs. Returns a
 * null module (mlirModuleIsNull) on failure, with the importer's error, which
 * names the file, as a diagnostic on `context`. The caller destroys the module
 * with mlirModuleDestroy. */
MLIR_CAPI_EXPORTED MlirModule qoptImportONNXFile(MlirContext context,
                                                 MlirStringRef path);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_OPT_C_IMPORT_H */
