/* Embeds quant-opt through its C API: imports an ONNX model, quantizes it
 * (qopt-ptq, INT8 weights by default) and compiles it into a shared library
 * plus weight archive that quant-run and the runtime load.
 *
 *   qopt-embed-c MODEL.onnx OUT.so OUT.weights [PIPELINE [COMPILE_OPTIONS]]
 *
 * README.md beside this file builds it on its own. */
#include "quant-opt-c/Compile.h"
#include "quant-opt-c/Import.h"
#include "quant-opt-c/Pipeline.h"
#include "quant-opt-c/Registration.h"

#include "mlir-c/Diagnostics.h"

#include <stdio.h>

static void print(MlirStringRef text, void *stream) {
  fwrite(text.data, 1, text.length, (FILE *)stream);
}

/* Prints each error, warning and note as "error: MESSAGE" on stderr. */
static MlirLogicalResult printDiagnostic(MlirDiagnostic diagnostic,
                                         void *userData) {
  static const char *kinds[] = {"error", "warning", "note", "remark"};
  (void)userData;
  fprintf(stderr, "%s: ", kinds[mlirDiagnosticGetSeverity(diagnostic)]);
  mlirDiagnosticPrint(diagnostic, print, stderr);
  fputc('\n', stderr);
  return mlirLogicalResultSuccess();
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 6) {
    fprintf(stderr,
            "usage: %s MODEL.onnx OUT.so OUT.weights "
            "[PIPELINE [COMPILE_OPTIONS]]\n",
            argv[0]);
    return 2;
  }
  const char *pipeline =
      argc > 4 ? argv[4] : "builtin.module(qopt-ptq{recipe=w8})";
  const char *options = argc > 5 ? argv[5] : "";

  MlirContext context = qoptContextCreate();
  mlirContextAttachDiagnosticHandler(context, printDiagnostic, NULL, NULL);
  MlirModule module =
      qoptImportONNXFile(context, mlirStringRefCreateFromCString(argv[1]));
  int ok = !mlirModuleIsNull(module) &&
           mlirLogicalResultIsSuccess(qoptRunPassPipeline(
               module, mlirStringRefCreateFromCString(pipeline))) &&
           mlirLogicalResultIsSuccess(
               qoptCompileModel(module, mlirStringRefCreateFromCString(argv[2]),
                                mlirStringRefCreateFromCString(argv[3]),
                                mlirStringRefCreateFromCString(options)));
  if (!mlirModuleIsNull(module))
    mlirModuleDestroy(module);
  mlirContextDestroy(context);
  return ok ? 0 : 1;
}
