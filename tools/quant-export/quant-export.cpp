//===- quant-export.cpp - Write a quantized module back as ONNX -----------===//
//
//   quant-export ORIGINAL.onnx QUANTIZED.mlirbc -o OUT.onnx
//       [--format=qdq|matmulnbits] [--accuracy-level=0..4]
//
// ORIGINAL is the float model QUANTIZED was imported from (quant-opt ...
// qopt-ptq); OUT is ORIGINAL with each quantized node's weight replaced:
// DequantizeLinear on integer weights (qdq) or com.microsoft MatMulNBits.
// See docs/export.md.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/InitAllDialects.h"
#include "quant-opt/Support/FileSafety.h"
#include "quant-opt/Target/ONNX/ONNXExporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> originalPath(cl::Positional, cl::Required,
                                         cl::desc("<original.onnx>"));
static cl::opt<std::string> modulePath(cl::Positional, cl::Required,
                                       cl::desc("<quantized.mlirbc|.mlir>"));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Output ONNX file"),
                                       cl::value_desc("out.onnx"));
static cl::opt<qopt::ONNXExportFormat> format(
    "format", cl::desc("How quantized weights are written"),
    cl::values(clEnumValN(qopt::ONNXExportFormat::QDQ, "qdq",
                          "DequantizeLinear on integer weights (default)"),
               clEnumValN(qopt::ONNXExportFormat::MatMulNBits, "matmulnbits",
                          "com.microsoft MatMulNBits (weight-only)")),
    cl::init(qopt::ONNXExportFormat::QDQ));
static cl::opt<int64_t> accuracyLevel(
    "accuracy-level",
    cl::desc("MatMulNBits accuracy_level: 0 computes in float (default, "
             "exact), 4 lets ONNX Runtime quantize activations to int8"),
    cl::init(0));
static cl::opt<bool> signedActivatedWeights(
    "signed-w8a8-weights",
    cl::desc("qdq: keep int8 weights of layers with quantized activations "
             "(ONNX Runtime's u8 x s8 kernels; they saturate on x86 without "
             "VNNI) instead of shifting them to uint8"),
    cl::init(false));
static cl::opt<bool> quiet("quiet", cl::desc("Print nothing on success"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "quant-export: write a quantized module back into its ONNX model\n");
  if (accuracyLevel < 0 || accuracyLevel > 4) {
    llvm::errs() << "quant-export: error: --accuracy-level must be 0..4, got "
                 << accuracyLevel << "\n";
    return 1;
  }
  if (accuracyLevel != 0 && format != qopt::ONNXExportFormat::MatMulNBits) {
    llvm::errs() << "quant-export: error: --accuracy-level applies to "
                    "--format=matmulnbits only\n";
    return 1;
  }
  // Inputs are regular files (a FIFO blocks, /dev/zero never ends), and the
  // output is neither of them (the exporter also checks the original's
  // external data files).
  llvm::Error error = llvm::joinErrors(
      qopt::checkRegularInput("the original model", originalPath),
      qopt::checkRegularInput("the quantized module", modulePath));
  if (!error)
    error = qopt::checkOutputPaths({{"-o", outputPath}},
                                   {{"the original model", originalPath},
                                    {"the quantized module", modulePath}});
  if (error) {
    llvm::errs() << "quant-export: error: " << llvm::toString(std::move(error))
                 << "\n";
    return 1;
  }

  DialectRegistry registry;
  registerAllDialects(registry);
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(
      modulePath.getValue(), sourceMgr, ParserConfig(&context));
  if (!module)
    return 1;

  qopt::ONNXExportOptions options;
  options.format = format;
  options.accuracyLevel = accuracyLevel;
  options.unsignedActivatedWeights = !signedActivatedWeights;
  qopt::ONNXExportSummary summary;
  if (failed(qopt::exportQuantizedONNX(*module, originalPath, outputPath,
                                       options, &summary)))
    return 1;
  if (!quiet) {
    llvm::outs() << "quant-export: wrote " << outputPath << ": "
                 << summary.quantizedNodes << " quantized nodes ("
                 << (format == qopt::ONNXExportFormat::QDQ ? "qdq"
                                                           : "matmulnbits")
                 << "), " << summary.removedInitializers
                 << " float initializers removed, opset "
                 << summary.opsetBefore;
    if (summary.opsetAfter != summary.opsetBefore)
      llvm::outs() << " -> " << summary.opsetAfter;
    llvm::outs() << "\n";
    for (const std::string &note : summary.notes)
      llvm::outs() << "quant-export: note: " << note << "\n";
  }
  return 0;
}
