//===- quant-compile.cpp - Compile a model for the quant-opt runtime ------===//
//
//   quant-compile model.onnx -o model.so [--weights model.weights]
//       [--input-shape input_ids=1x128] [--emit=so|obj|llvm-ir|mlir]
//       [--target-cpu=native|<cpu>] [-O3]
//
// Reads an ONNX model (imported first) or MLIR (.mlir/.mlirbc, e.g. the
// output of quant-opt's quantization passes), and writes a shared library
// with the model's entry points plus the weight archive it maps at run time.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Compiler/ModelCompiler.h"
#include "quant-opt/InitAllDialects.h"
#include "quant-opt/InitAllPasses.h"
#include "quant-opt/Support/FileSafety.h"
#include "quant-opt/Support/ModuleDiagnostics.h"
#include "quant-opt/Target/ONNX/ONNXImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.onnx|.onnxtext|.mlir>"));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Output file"),
                                       cl::value_desc("model.so"));
static cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("Weight archive to write (default: the output with the "
             "extension .weights)"),
    cl::value_desc("file"));
static cl::opt<std::string>
    inputShapes("input-shape",
                cl::desc("Fix ONNX graph input shapes, e.g. input_ids=1x128"),
                cl::value_desc("name=DxD,..."));
static cl::opt<qopt::CompileOutput> emit(
    "emit", cl::desc("What to write"),
    cl::values(clEnumValN(qopt::CompileOutput::SharedLibrary, "so",
                          "a shared library (default)"),
               clEnumValN(qopt::CompileOutput::Object, "obj", "an object file"),
               clEnumValN(qopt::CompileOutput::Assembly, "asm", "assembly"),
               clEnumValN(qopt::CompileOutput::LLVMIR, "llvm-ir",
                          "optimized LLVM IR"),
               clEnumValN(qopt::CompileOutput::LLVMDialect, "mlir",
                          "the LLVM dialect module")),
    cl::init(qopt::CompileOutput::SharedLibrary));
static cl::opt<std::string> target(
    "target",
    cl::desc("Quantized kernels and the CPU they are for: generic, "
             "x86-64-avx2, x86-64-avx512-vnni, aarch64-dotprod, aarch64-i8mm "
             "(AArch64 cross-compiles; --emit=obj|asm), native (the host's "
             "best, default) or reference (the scalar reference lowering). "
             "Several, comma-separated, make a bundle: one library per "
             "target (OUT.<target>.so and .weights) and at OUT a library "
             "that tells the runtime which to load on the CPU it runs on"),
    cl::init("native"));
static cl::opt<std::string>
    targetCPU("target-cpu",
              cl::desc("CPU to generate code for (native: the target's, or "
                       "the host's)"),
              cl::init("native"));
static cl::opt<bool> standalone(
    "standalone",
    cl::desc("No weight archive or runtime interface: constants stay in the "
             "code, functions marked llvm.emit_c_interface get C wrappers "
             "(for linking into a program; --emit=obj|asm|llvm-ir|mlir)"),
    cl::init(false));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::Prefix, cl::init(3));
// The code-generation choices, declared once (CodegenOptions.def).
#define QOPT_CODEGEN_OPTION(TYPE, FIELD, FLAG, DEFAULT, HELP)                  \
  static cl::opt<TYPE> FIELD##Flag(FLAG, cl::desc(HELP), cl::init(DEFAULT));
#include "quant-opt/Pipelines/CodegenOptions.def"

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  registerDefaultTimingManagerCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv, "quant-compile: compile a model for the quant-opt runtime\n");
  auto refuse = [](const llvm::Twine &message) {
    llvm::errs() << "quant-compile: error: " << message << "\n";
    return 1;
  };
  if (optLevel > 3)
    return refuse("-O" + llvm::Twine(optLevel.getValue()) +
                  ": the optimization level must be 0, 1, 2 or 3");
  if (minWeightBytesFlag < 0)
    return refuse("--min-weight-bytes=" + llvm::Twine(minWeightBytesFlag) +
                  ": must be 0 or positive");
  if (outputPath.empty())
    return refuse("-o: the output path is empty");
  if (llvm::Error error = qopt::checkRegularInput("the model", inputPath))
    return refuse(llvm::toString(std::move(error)));
  std::string weights = weightsPath.empty()
                            ? qopt::defaultWeightsPath(outputPath)
                            : weightsPath.getValue();
  // Checked again with the model's external data files once it is read.
  std::vector<qopt::NamedPath> outputs = {{"-o", outputPath}};
  if (!standalone)
    outputs.push_back({"--weights", weights});
  if (llvm::Error error =
          qopt::checkOutputPaths(outputs, {{"the input model", inputPath}}))
    return refuse(llvm::toString(std::move(error)));

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  qopt::registerAllDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  qopt::dropModuleDumpNotes(&context);

  // --mlir-timing: the time of each phase, the lowering's passes nested.
  DefaultTimingManager timingManager;
  applyDefaultTimingManagerCLOptions(timingManager);
  TimingScope timing = timingManager.getRootScope();
  TimingScope reading = timing.nest("read the model");

  OwningOpRef<ModuleOp> module;
  std::vector<std::string> externalDataFiles;
  if (qopt::isONNXFileName(inputPath)) {
    qopt::ONNXImportOptions options;
    std::string error = qopt::parseInputShapes(inputShapes, options);
    if (!error.empty()) {
      llvm::errs() << "error: --input-shape: " << error << "\n";
      return 1;
    }
    options.externalDataFiles = &externalDataFiles;
    module = qopt::importONNXFile(inputPath, &context, options);
  } else {
    if (!inputShapes.empty()) {
      llvm::errs() << "error: --input-shape applies to ONNX inputs only\n";
      return 1;
    }
    module = parseSourceFile<ModuleOp>(inputPath.getValue(), sourceMgr,
                                       ParserConfig(&context));
  }
  if (!module)
    return 1;
  reading.stop();

  qopt::ModelCompileOptions options;
  options.timing = &timing;
  options.outputPath = outputPath;
  options.weightsPath = weights;
  options.output = emit;
  options.target = target;
  options.targetCPU = targetCPU;
  options.standalone = standalone;
  options.optLevel = optLevel;
#define QOPT_CODEGEN_OPTION(TYPE, FIELD, FLAG, DEFAULT, HELP)                  \
  options.codegen.FIELD = FIELD##Flag;
#include "quant-opt/Pipelines/CodegenOptions.def"
  options.inputs.push_back({"the input model", inputPath});
  for (const std::string &file : externalDataFiles)
    options.inputs.push_back({"the model's external data", file});
  if (llvm::Error error = qopt::compileModel(*module, options)) {
    llvm::errs() << "error: " << inputPath << ": "
                 << llvm::toString(std::move(error)) << "\n";
    return 1;
  }
  return 0;
}
