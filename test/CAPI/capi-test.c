/* Exercises the C API (include/quant-opt-c) from C: registration, the
 * dialect handle, null handles, and each error path of the pipeline and
 * compile functions. Prints one line per check and every diagnostic, for
 * capi.test to FileCheck.
 *
 *   qopt-capi-test OUTPUT_DIR */
#include "quant-opt-c/Compile.h"
#include "quant-opt-c/Dialects.h"
#include "quant-opt-c/Import.h"
#include "quant-opt-c/Pipeline.h"
#include "quant-opt-c/Registration.h"

#include "mlir-c/Diagnostics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print(MlirStringRef text, void *stream) {
  fwrite(text.data, 1, text.length, (FILE *)stream);
}

static MlirLogicalResult printDiagnostic(MlirDiagnostic diagnostic,
                                         void *userData) {
  static const char *kinds[] = {"error", "warning", "note", "remark"};
  (void)userData;
  printf("diagnostic %s: ", kinds[mlirDiagnosticGetSeverity(diagnostic)]);
  mlirDiagnosticPrint(diagnostic, print, stdout);
  printf("\n");
  return mlirLogicalResultSuccess();
}

static MlirStringRef str(const char *text) {
  return mlirStringRefCreateFromCString(text);
}

/* Appends the module's text to the buffer *userData points to. */
static void append(MlirStringRef text, void *userData) {
  char **buffer = (char **)userData;
  size_t length = *buffer ? strlen(*buffer) : 0;
  *buffer = realloc(*buffer, length + text.length + 1);
  memcpy(*buffer + length, text.data, text.length);
  (*buffer)[length + text.length] = '\0';
}

static char *moduleText(MlirModule module) {
  char *text = NULL;
  mlirOperationPrint(mlirModuleGetOperation(module), append, &text);
  return text;
}

static void runPipeline(MlirModule module, const char *pipeline) {
  printf("pipeline '%s': ", pipeline);
  fflush(stdout);
  MlirLogicalResult result = qoptRunPassPipeline(module, str(pipeline));
  printf("-> %s\n", mlirLogicalResultIsSuccess(result) ? "success" : "failure");
}

static void compile(MlirModule module, const char *output,
                    const char *options) {
  printf("compile '%s': ", options);
  fflush(stdout);
  MlirLogicalResult result =
      qoptCompileModel(module, str(output), str(""), str(options));
  printf("-> %s\n", mlirLogicalResultIsSuccess(result) ? "success" : "failure");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0); /* Ordered with stderr. */

  MlirDialectHandle qopt = mlirGetDialectHandle__qopt__();
  MlirStringRef name = mlirDialectHandleGetNamespace(qopt);
  printf("dialect handle: %.*s\n", (int)name.length, name.data);

  /* A plain MLIR context with quant-opt's dialects registered. */
  MlirDialectRegistry registry = mlirDialectRegistryCreate();
  qoptRegisterAllDialects(registry);
  MlirContext plain = mlirContextCreateWithRegistry(registry, false);
  printf("registered: qopt %d, linalg %d\n",
         !mlirDialectIsNull(mlirContextGetOrLoadDialect(plain, str("qopt"))),
         !mlirDialectIsNull(mlirContextGetOrLoadDialect(plain, str("linalg"))));
  mlirContextDestroy(plain);
  mlirDialectRegistryDestroy(registry);

  /* Null handles: refused on stderr, as no context can be reached. */
  MlirContext none = {NULL};
  MlirModule noModule = {NULL};
  qoptRegisterAllDialects((MlirDialectRegistry){NULL});
  printf("import into a null context: %s\n",
         mlirModuleIsNull(qoptImportONNXFile(none, str("m.onnx"))) ? "null"
                                                                   : "?");
  runPipeline(noModule, "builtin.module(canonicalize)");
  compile(noModule, "out.so", "");

  MlirContext context = qoptContextCreate();
  mlirContextAttachDiagnosticHandler(context, printDiagnostic, NULL, NULL);
  printf(
      "loaded: qopt %d, quant %d\n",
      !mlirDialectIsNull(mlirContextGetOrLoadDialect(context, str("qopt"))),
      !mlirDialectIsNull(mlirContextGetOrLoadDialect(context, str("quant"))));

  MlirModule missing = qoptImportONNXFile(context, str("no/such/model.onnx"));
  printf("import of a missing file: %s\n",
         mlirModuleIsNull(missing) ? "null" : "?");

  MlirModule module = mlirModuleCreateParse(
      context, str("func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n"
                   "  %0 = arith.addf %a, %a : tensor<4xf32>\n"
                   "  return %0 : tensor<4xf32>\n"
                   "}\n"));
  runPipeline(module, "builtin.module(canonicalize)");
  runPipeline(module, "builtin.module(no-such-pass)");
  runPipeline(module, "canonicalize");
  runPipeline(module, "func.func(canonicalize)");
  runPipeline(module, "builtin.module(qopt-ptq{recipe=w9})");
  runPipeline(module, "builtin.module(qopt-ptq{no-such-option=1})");

  char output[4096];
  snprintf(output, sizeof output, "%s/model.mlir", argv[1]);
  compile(module, output, "parallel=maybe");
  compile(module, output, "frobnicate=1");
  compile(module, output, "parallel");
  compile(module, output, "parallel=true parallel=false");
  compile(module, output, "emit=exe");
  compile(module, output, "O=9");
  compile(module, "", "");
  char *before = moduleText(module);
  compile(module, output, "emit=mlir target=generic parallel=false O=2");
  char *after = moduleText(module);
  printf("module unchanged by compile: %d\n", strcmp(before, after) == 0);
  free(before);
  free(after);

  mlirModuleDestroy(module);
  mlirContextDestroy(context);
  return 0;
}
