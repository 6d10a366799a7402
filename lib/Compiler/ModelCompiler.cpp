//===- ModelCompiler.cpp - Compile a model into a shared library ----------===//

#include "quant-opt/Compiler/ModelCompiler.h"
#include "quant-opt-runtime/ABI.h"
#include "quant-opt/Conversion/KernelTarget.h"
#include "quant-opt/Pipelines/LowerToLLVM.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/ArmNeon/ArmNeonToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static llvm::Error
writeText(StringRef path, llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::error_code ec;
  llvm::ToolOutputFile file(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return makeError("cannot write '" + path + "': " + ec.message());
  write(file.os());
  file.os().flush();
  if (file.os().has_error())
    return makeError("cannot write '" + path +
                     "': " + file.os().error().message());
  file.keep();
  return llvm::Error::success();
}

/// The target machine for `target` (a kernel target name) and `cpuName`
/// ("native": the target's CPU, or the host's).
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(StringRef targetName, StringRef cpuName,
                    unsigned optLevel) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  qopt::CodegenTarget codegen;
  if (targetName != "native" && targetName != "reference") {
    std::optional<qopt::KernelTarget> kernel =
        qopt::parseKernelTarget(targetName);
    if (!kernel)
      return makeError(
          "unknown target '" + targetName +
          "' (expected reference or one of: " + qopt::kKernelTargetNames + ")");
    codegen = qopt::codegenTargetFor(*kernel);
  }
  bool host = codegen.triple.empty();
  llvm::Triple triple(host ? llvm::sys::getProcessTriple() : codegen.triple);
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return makeError("no LLVM target for " + triple.str() + ": " + error);
  std::string cpu = cpuName.str(), features;
  if (cpuName == "native" && host) {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures subtarget;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      subtarget.AddFeature(feature.getKey(), feature.getValue());
    features = subtarget.getString();
  } else if (cpuName == "native") {
    cpu = codegen.cpu;
    features = codegen.features;
  }
  llvm::CodeGenOptLevel level =
      optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : optLevel == 0 ? llvm::CodeGenOptLevel::None
                      : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpu, features, llvm::TargetOptions(),
                                  llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    return makeError("cannot create a target machine for CPU '" + cpu + "'");
  return machine;
}

static void optimize(llvm::Module &module, llvm::TargetMachine &machine,
                     unsigned optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // LLVM's own instrumentation: --time-passes, --print-after=... apply to
  // the optimizer too.
  llvm::PassInstrumentationCallbacks instrumentation;
  llvm::StandardInstrumentations standard(module.getContext(),
                                          /*DebugLogging=*/false);
  standard.registerCallbacks(instrumentation, &mam);
  llvm::PassBuilder builder(&machine, llvm::PipelineTuningOptions(),
                            std::nullopt, &instrumentation);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel level = optLevel >= 3   ? llvm::OptimizationLevel::O3
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                                  : llvm::OptimizationLevel::O0;
  llvm::ModulePassManager passes =
      level == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(level)
          : builder.buildPerModuleDefaultPipeline(level);
  passes.run(module, mam);
}

static llvm::Error emitCode(llvm::Module &module, llvm::TargetMachine &machine,
                            StringRef path, bool assembly = false) {
  std::error_code ec;
  llvm::ToolOutputFile file(
      path, ec, assembly ? llvm::sys::fs::OF_Text : llvm::sys::fs::OF_None);
  if (ec)
    return makeError("cannot write '" + path + "': " + ec.message());
  llvm::legacy::PassManager passes;
  if (machine.addPassesToEmitFile(passes, file.os(), nullptr,
                                  assembly ? llvm::CodeGenFileType::AssemblyFile
                                           : llvm::CodeGenFileType::ObjectFile))
    return makeError("the target cannot emit this kind of file");
  passes.run(module);
  file.os().flush();
  if (file.os().has_error())
    return makeError("cannot write '" + path +
                     "': " + file.os().error().message());
  file.keep();
  return llvm::Error::success();
}

/// Links `object` into the shared library `output` with lld. libc and libm
/// symbols resolve against the process that loads it; `memrefCopy` (strided
/// copies, which qopt-expand-strided-copies turns into loops, so only a
/// module lowered by other means asks for it) comes from MLIR's C runner
/// utils, linked as needed, and soft-float conversions such
/// as f64 -> f16 (__truncdfhf2) from compiler-rt's builtins, and the
/// OpenMP runtime (`parallel`) from LLVM's libomp.
static llvm::Error linkSharedLibrary(StringRef object, StringRef output,
                                     bool parallel) {
  llvm::ErrorOr<std::string> lld = llvm::sys::findProgramByName("ld.lld-22");
  if (!lld)
    lld = llvm::sys::findProgramByName("ld.lld");
  if (!lld)
    lld = llvm::sys::findProgramByName("ld.lld", {"/usr/lib/llvm-22/bin"});
  if (!lld)
    return makeError("cannot find ld.lld (install lld-22)");
  std::string libDir = MLIR_RUNNER_UTILS_DIR;
  std::string searchDir = "-L" + libDir, rpath = "-rpath=" + libDir;
  SmallVector<StringRef> args = {
      *lld,   "-shared", "--as-needed", "-O1", "-o",
      output, object,    searchDir,     rpath, "-lmlir_c_runner_utils"};
  if (parallel) {
    SmallString<128> omp(libDir);
    llvm::sys::path::append(omp, "libomp.so");
    if (!llvm::sys::fs::exists(omp))
      return makeError("a parallel model links LLVM's OpenMP runtime, but " +
                       omp +
                       " is missing (install libomp-22-dev, or "
                       "compile with --parallel=false)");
    args.push_back("-lomp");
  }
  SmallString<128> builtins(libDir);
  llvm::sys::path::append(builtins, "clang", Twine(LLVM_VERSION_MAJOR), "lib",
                          "linux");
  llvm::sys::path::append(
      builtins, "libclang_rt.builtins-" +
                    llvm::Triple(llvm::sys::getProcessTriple()).getArchName() +
                    ".a");
  if (llvm::sys::fs::exists(builtins))
    args.push_back(builtins);
  std::string error;
  int status =
      llvm::sys::ExecuteAndWait(*lld, args, std::nullopt, {}, 0, 0, &error);
  if (status != 0)
    return makeError("linking '" + output + "' failed (" + *lld + ", exit " +
                     llvm::Twine(status) + ")" +
                     (error.empty() ? "" : ": " + error));
  return llvm::Error::success();
}

/// Compiles `module` for the one target `options.target`, writing
/// `options.outputPath` and `options.weightsPath` directly.
static llvm::Error compileOneInPlace(ModuleOp module,
                                     const qopt::ModelCompileOptions &options) {
  using qopt::CompileOutput;
  if (options.weightsPath.empty() && !options.standalone)
    return makeError("no weight archive path given");
  if (options.standalone && options.output == CompileOutput::SharedLibrary)
    return makeError("a standalone compile writes an object, assembly or IR, "
                     "not a model library");
  // Check the target before the (long) lowering.
  auto machine =
      createTargetMachine(options.target, options.targetCPU, options.optLevel);
  if (!machine)
    return machine.takeError();
  if (options.output == CompileOutput::SharedLibrary &&
      (*machine)->getTargetTriple().getArch() !=
          llvm::Triple(llvm::sys::getProcessTriple()).getArch())
    return makeError("a model library is for this machine; cross-compiled "
                     "targets write objects or assembly (--emit=obj|asm)");
  TimingScope root =
      options.timing ? options.timing->nest("compile") : TimingScope();
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  qopt::buildLowerToLLVMPipeline(pm, options.codegen,
                                 options.standalone ? "" : options.weightsPath,
                                 options.target);
  TimingScope lowering = root.nest("lower to the LLVM dialect");
  if (options.timing)
    pm.enableTiming(lowering);
  if (failed(pm.run(module)))
    return makeError("lowering to LLVM failed (see the diagnostics above)");
  lowering.stop();
  if (options.output == CompileOutput::LLVMDialect)
    return writeText(options.outputPath,
                     [&](llvm::raw_ostream &os) { module.print(os); });

  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerArmNeonDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  TimingScope translation = root.nest("translate to LLVM IR");
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "quant-opt-model");
  if (!llvmModule)
    return makeError("translation to LLVM IR failed");
  translation.stop();

  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  TimingScope optimization = root.nest("optimize LLVM IR");
  optimize(*llvmModule, **machine, options.optLevel);
  optimization.stop();

  if (options.output == CompileOutput::LLVMIR)
    return writeText(options.outputPath, [&](llvm::raw_ostream &os) {
      llvmModule->print(os, nullptr);
    });
  if (options.output == CompileOutput::Object ||
      options.output == CompileOutput::Assembly)
    return emitCode(*llvmModule, **machine, options.outputPath,
                    options.output == CompileOutput::Assembly);

  SmallString<128> object;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("quant-opt-model", "o", object))
    return makeError("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObject(object);
  TimingScope codegen = root.nest("generate machine code");
  if (llvm::Error error = emitCode(*llvmModule, **machine, object))
    return error;
  codegen.stop();
  TimingScope link = root.nest("link");
  return linkSharedLibrary(object, options.outputPath,
                           options.codegen.parallel);
}

/// Compiles `module` for the one target `options.target` into temporary
/// files next to the output and the weight archive, renamed onto them once
/// both are complete.
static llvm::Error compileOne(ModuleOp module,
                              const qopt::ModelCompileOptions &options) {
  bool writesWeights = !options.standalone && !options.weightsPath.empty();
  auto output = qopt::PendingOutput::create(options.outputPath);
  if (!output)
    return output.takeError();
  std::optional<qopt::PendingOutput> weights;
  if (writesWeights) {
    auto pending = qopt::PendingOutput::create(options.weightsPath);
    if (!pending)
      return pending.takeError();
    weights.emplace(std::move(*pending));
  }
  qopt::ModelCompileOptions temporary = options;
  temporary.outputPath = output->path().str();
  if (weights)
    temporary.weightsPath = weights->path().str();
  if (llvm::Error error = compileOneInPlace(module, temporary)) {
    // Diagnostics name the final paths, not the temporaries.
    std::string message = llvm::toString(std::move(error));
    for (auto [from, to] : {std::pair<std::string, std::string>(
                                temporary.outputPath, options.outputPath),
                            {temporary.weightsPath, options.weightsPath}})
      for (size_t at;
           !from.empty() && (at = message.find(from)) != std::string::npos;)
        message.replace(at, from.size(), to);
    return makeError(message);
  }
  // The archive first: a library is never left without its weights.
  if (weights)
    if (llvm::Error error = weights->commit())
      return error;
  return output->commit();
}

/// `path` without its extension, then `.suffix`.
static std::string siblingPath(StringRef path, const Twine &suffix) {
  SmallString<128> result(path);
  llvm::sys::path::replace_extension(result, "");
  return (result + "." + suffix).str();
}

/// A variant bundle: each target compiled into its own library and weight
/// archive next to `options.outputPath` (`model.<target>.so`,
/// `model.<target>.weights`), and at `options.outputPath` a library that
/// holds only the metadata listing them with the CPU features each needs.
/// The runtime loads the first variant the CPU can run.
static llvm::Error compileBundle(ModuleOp module,
                                 const qopt::ModelCompileOptions &options,
                                 ArrayRef<std::string> targets) {
  if (options.output != qopt::CompileOutput::SharedLibrary ||
      options.standalone)
    return makeError("several targets make a variant bundle, which is a "
                     "model library (--emit=so, not --standalone)");
  // Resolve and check every name before the (long) compiles.
  SmallVector<std::pair<std::string, SmallVector<StringRef>>> resolved;
  llvm::StringSet<> seen;
  for (const std::string &name : targets) {
    std::string target = name;
    SmallVector<StringRef> features;
    if (target != "reference") {
      std::optional<qopt::KernelTarget> kernel =
          qopt::parseKernelTarget(target);
      if (!kernel)
        return makeError("unknown target '" + target +
                         "' (expected reference or one of: " +
                         qopt::kKernelTargetNames + ")");
      // `native` is recorded as what it stands for here.
      target = qopt::kernelTargetName(*kernel).str();
      features = qopt::requiredCPUFeatures(*kernel);
    }
    if (!seen.insert(target).second)
      return makeError("target '" + target + "' is listed twice");
    resolved.push_back({target, features});
  }
  llvm::json::Array variants;
  for (auto &[target, features] : resolved) {
    qopt::ModelCompileOptions variant = options;
    variant.target = target;
    // Each variant is for the CPUs its features name: the named targets'
    // own CPU models, and for `generic` and `reference`, which require
    // nothing, the architecture's baseline instead of this host.
    bool portable = target == "generic" || target == "reference";
    variant.targetCPU = !portable ? "native"
                        : llvm::Triple(llvm::sys::getProcessTriple()).isX86()
                            ? "x86-64"
                            : "generic";
    variant.outputPath = siblingPath(options.outputPath, target + ".so");
    variant.weightsPath = siblingPath(options.outputPath, target + ".weights");
    OwningOpRef<ModuleOp> copy(module.clone());
    if (llvm::Error error = compileOne(*copy, variant))
      return makeError("variant " + target + ": " +
                       llvm::toString(std::move(error)));
    llvm::json::Array required;
    for (StringRef feature : features)
      required.push_back(feature);
    variants.push_back(llvm::json::Object{
        {"target", target},
        {"requires", std::move(required)},
        {"library", llvm::sys::path::filename(variant.outputPath).str()},
        {"weights", llvm::sys::path::filename(variant.weightsPath).str()}});
  }
  std::string meta;
  llvm::raw_string_ostream(meta) << llvm::json::Value(
      llvm::json::Object{{"abi", quantopt::rt::kRuntimeABIVersion},
                         {"variants", std::move(variants)}});

  // The bundle's own library: `qopt_model_meta` and nothing else.
  auto machine = createTargetMachine("generic", "native", options.optLevel);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext llvmContext;
  llvm::Module bundle("quant-opt-bundle", llvmContext);
  bundle.setDataLayout((*machine)->createDataLayout());
  bundle.setTargetTriple((*machine)->getTargetTriple());
  llvm::Constant *text =
      llvm::ConstantDataArray::getString(llvmContext, meta, /*AddNull=*/true);
  new llvm::GlobalVariable(bundle, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text,
                           "qopt_model_meta");
  SmallString<128> object;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("quant-opt-bundle", "o", object))
    return makeError("cannot create a temporary object file: " + ec.message());
  llvm::FileRemover removeObject(object);
  if (llvm::Error error = emitCode(bundle, **machine, object))
    return error;
  auto output = qopt::PendingOutput::create(options.outputPath);
  if (!output)
    return output.takeError();
  if (llvm::Error error =
          linkSharedLibrary(object, output->path(), /*parallel=*/false))
    return error;
  return output->commit();
}

std::string mlir::qopt::defaultWeightsPath(StringRef outputPath) {
  SmallString<128> path(outputPath);
  llvm::sys::path::replace_extension(path, "weights");
  return std::string(path);
}

llvm::Error mlir::qopt::compileModel(ModuleOp module,
                                     const ModelCompileOptions &options) {
  if (options.optLevel > 3)
    return makeError("optimization level " + Twine(options.optLevel) +
                     " is not in 0..3");
  if (options.codegen.minWeightBytes < 0)
    return makeError("the minimum weight size " +
                     Twine(options.codegen.minWeightBytes) + " is negative");
  SmallVector<StringRef> names;
  StringRef(options.target).split(names, ',', -1, /*KeepEmpty=*/false);
  SmallVector<std::string> targets;
  for (StringRef name : names)
    targets.push_back(name.trim().str());
  // Every file the compile writes, checked against the inputs and each
  // other before anything runs.
  std::vector<NamedPath> outputs = {{"the output", options.outputPath}};
  bool writesWeights = !options.standalone && !options.weightsPath.empty();
  if (targets.size() <= 1) {
    if (writesWeights)
      outputs.push_back({"the weight archive", options.weightsPath});
  } else {
    llvm::StringSet<> seen;
    for (std::string target : targets) {
      // As compileBundle names them (`native` as what it stands for).
      if (std::optional<KernelTarget> kernel = parseKernelTarget(target))
        target = kernelTargetName(*kernel).str();
      if (!seen.insert(target).second)
        return makeError("target '" + target + "' is listed twice");
      outputs.push_back({"variant " + target + "'s library",
                         siblingPath(options.outputPath, target + ".so")});
      outputs.push_back({"variant " + target + "'s weight archive",
                         siblingPath(options.outputPath, target + ".weights")});
    }
  }
  if (llvm::Error error = checkOutputPaths(outputs, options.inputs))
    return error;
  if (targets.size() <= 1)
    return compileOne(module, options);
  return compileBundle(module, options, targets);
}
