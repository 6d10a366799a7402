//===- quant-opt.cpp - The quant-opt driver -------------------------------===//
//
// mlir-opt with quant-opt's dialects and passes, which also reads ONNX models
// (`.onnx`, `.onnxtext`) directly: the model is imported first, then the
// usual pass pipeline and output flags apply.
//
//===----------------------------------------------------------------------===//

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/ToolUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "quant-opt/InitAllDialects.h"
#include "quant-opt/InitAllPasses.h"
#include "quant-opt/Recipes/RecipeTable.h"
#include "quant-opt/Support/FileSafety.h"
#include "quant-opt/Support/ModuleDiagnostics.h"
#include "quant-opt/Target/ONNX/ONNXImporter.h"

using namespace mlir;

static llvm::cl::OptionCategory onnxCategory("ONNX import options");
static llvm::cl::opt<std::string> inputShapes(
    "input-shape",
    llvm::cl::desc("Fix ONNX graph input shapes, e.g. input_ids=1x128 "
                   "(comma-separated); other dims stay as the model says"),
    llvm::cl::value_desc("name=DxD,..."), llvm::cl::cat(onnxCategory));
static llvm::cl::opt<bool>
    skipChecker("onnx-skip-checker",
                llvm::cl::desc("Do not run ONNX's checker and shape inference"),
                llvm::cl::init(false), llvm::cl::cat(onnxCategory));
static llvm::cl::opt<int64_t> inlineBytes(
    "onnx-max-inline-bytes",
    llvm::cl::desc("Constants larger than this become dense_resource blobs"),
    llvm::cl::init(1024), llvm::cl::cat(onnxCategory));

static llvm::cl::opt<std::string> listRecipes(
    "list-recipes", llvm::cl::ValueOptional,
    llvm::cl::desc("Print the qopt-ptq recipes and exit (=json: as JSON)"),
    llvm::cl::value_desc("text|json"));

/// Imports one model, runs the pass pipeline and prints the result.
static LogicalResult processONNX(std::unique_ptr<llvm::MemoryBuffer> buffer,
                                 StringRef path, bool fromFile,
                                 llvm::raw_ostream &os,
                                 DialectRegistry &registry,
                                 const MlirOptMainConfig &config,
                                 const qopt::ONNXImportOptions &options) {
  MLIRContext context(registry);
  context.allowUnregisteredDialects(config.shouldAllowUnregisteredDialects());
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  qopt::dropModuleDumpNotes(&context);
  OwningOpRef<ModuleOp> module =
      fromFile
          ? qopt::importONNXFile(path, &context, options)
          : qopt::importONNXModel(std::move(buffer), path, &context, options);
  if (!module)
    return failure();
  PassManager pm(&context, ModuleOp::getOperationName());
  pm.enableVerifier(config.shouldVerifyPasses());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  applyDefaultTimingPassManagerCLOptions(pm);
  if (failed(config.setupPassPipeline(pm)) || failed(pm.run(*module)))
    return failure();
  if (config.shouldEmitBytecode()) {
    BytecodeWriterConfig writerConfig;
    if (std::optional<int64_t> v = config.bytecodeVersionToEmit())
      writerConfig.setDesiredBytecodeVersion(*v);
    return writeBytecodeToFile(*module, os, writerConfig);
  }
  module->print(os);
  os << "\n";
  return success();
}

int main(int argc, char **argv) {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllPasses();
  qopt::registerAllDialects(registry);
  qopt::registerAllPasses();

  auto [inputArg, outputArg] = registerAndParseCLIOptions(
      argc, argv,
      "quant-opt: quantization compiler for ONNX transformer models\n\n"
      "Reads .mlir/.mlirbc, or .onnx/.onnxtext which are imported first.",
      registry);
  std::string inputFile = inputArg, outputFile = outputArg;
  auto refuse = [](llvm::Error error) {
    llvm::errs() << "quant-opt: error: " << llvm::toString(std::move(error))
                 << "\n";
    return 1;
  };
  if (listRecipes.getNumOccurrences()) {
    if (listRecipes != "" && listRecipes != "text" && listRecipes != "json")
      return refuse(llvm::createStringError("--list-recipes=" + listRecipes +
                                            ": expected text or json"));
    qopt::printRecipes(llvm::outs(), listRecipes == "json");
    return 0;
  }
  // The input may be memory-mapped while the output is written: never let
  // them be one file. The output is written under a temporary name and
  // renamed once complete, so a failure keeps what was there.
  if (llvm::Error error = qopt::checkOutputPaths({{"-o", outputFile}},
                                                 {{"the input", inputFile}}))
    return refuse(std::move(error));
  if (inputFile != "-" && !qopt::isONNXFileName(inputFile)) {
    // /dev/zero never ends and a directory cannot be read; MLIR may stream
    // from a pipe. (The ONNX importer checks its files itself.)
    std::optional<std::string> kind = qopt::nonRegularFileKind(inputFile);
    if (kind && *kind != "a FIFO")
      return refuse(qopt::checkRegularInput("the input", inputFile));
  }
  auto pending = qopt::PendingOutput::create(outputFile);
  if (!pending)
    return refuse(pending.takeError());
  if (!qopt::isONNXFileName(inputFile)) {
    MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
    if (config.shouldShowDialects() || config.shouldListPasses() ||
        config.shouldRunReproducer()) {
      if (failed(MlirOptMain(argc, argv, inputFile, pending->path().str(),
                             registry)))
        return 1;
    } else {
      // As MlirOptMain(argc, argv, ...) does, with errors on the module
      // printed without the module (see ModuleDiagnostics.h).
      MlirOptMainConfig pipeline = config;
      config.setPassPipelineSetupFn([pipeline](PassManager &pm) {
        qopt::dropModuleDumpNotes(pm.getContext());
        return pipeline.setupPassPipeline(pm);
      });
      std::string errorMessage;
      auto input = openInputFile(inputFile, &errorMessage);
      if (!input) {
        llvm::errs() << errorMessage << "\n";
        return 1;
      }
      auto output = openOutputFile(pending->path(), &errorMessage);
      if (!output) {
        llvm::errs() << errorMessage << "\n";
        return 1;
      }
      if (failed(MlirOptMain(output->os(), std::move(input), registry, config)))
        return 1;
      output->keep();
    }
    if (llvm::Error error = pending->commit())
      return refuse(std::move(error));
    return 0;
  }

  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (inlineBytes < 0)
    return refuse(llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--onnx-max-inline-bytes=" + llvm::Twine(inlineBytes) +
            ": must be 0 or positive"));
  qopt::ONNXImportOptions options;
  options.runChecker = !skipChecker;
  options.maxInlineConstantBytes = inlineBytes;
  std::string shapeError = qopt::parseInputShapes(inputShapes, options);
  if (!shapeError.empty()) {
    llvm::errs() << "error: --input-shape: " << shapeError << "\n";
    return 1;
  }
  std::string errorMessage;
  auto output = openOutputFile(pending->path(), &errorMessage);
  if (!output) {
    llvm::errs() << errorMessage << "\n";
    return 1;
  }

  LogicalResult result = success();
  StringRef marker = config.inputSplitMarker();
  if (marker.empty() || !StringRef(inputFile).ends_with(".onnxtext")) {
    // Binary models stream from the file; never read whole into memory.
    result = processONNX(nullptr, inputFile, /*fromFile=*/true, output->os(),
                         registry, config, options);
  } else {
    auto buffer = openInputFile(inputFile, &errorMessage);
    if (!buffer) {
      llvm::errs() << errorMessage << "\n";
      return 1;
    }
    result = splitAndProcessBuffer(
        std::move(buffer),
        [&](std::unique_ptr<llvm::MemoryBuffer> chunk,
            const llvm::MemoryBufferRef &, llvm::raw_ostream &os) {
          return processONNX(std::move(chunk), inputFile, /*fromFile=*/false,
                             os, registry, config, options);
        },
        output->os(), marker, std::as_const(config).outputSplitMarker());
  }
  if (failed(result))
    return 1;
  output->os().flush();
  if (output->os().has_error()) {
    llvm::errs() << "quant-opt: error: cannot write '" << outputFile
                 << "': " << output->os().error().message() << "\n";
    return 1;
  }
  output->keep();
  output.reset();
  if (llvm::Error error = pending->commit())
    return refuse(std::move(error));
  return 0;
}
