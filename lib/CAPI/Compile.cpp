//===- Compile.cpp - Compile a model --------------------------------------===//

#include "quant-opt-c/Compile.h"
#include "Diagnostics.h"
#include "quant-opt/Compiler/ModelCompiler.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <functional>

using namespace mlir;

/// Each parses `value` into the field; returns null, or what was expected.
static const char *parseValue(StringRef value, std::string &field) {
  field = value.str();
  return nullptr;
}
static const char *parseValue(StringRef value, bool &field) {
  if (value != "true" && value != "false" && value != "1" && value != "0")
    return "true or false";
  field = value == "true" || value == "1";
  return nullptr;
}
static const char *parseValue(StringRef value, unsigned &field) {
  return value.getAsInteger(10, field) ? "a non-negative integer" : nullptr;
}
static const char *parseValue(StringRef value, int64_t &field) {
  return value.getAsInteger(10, field) ? "an integer" : nullptr;
}
static const char *parseValue(StringRef value, qopt::CompileOutput &field) {
  std::optional<qopt::CompileOutput> output =
      llvm::StringSwitch<std::optional<qopt::CompileOutput>>(value)
          .Case("so", qopt::CompileOutput::SharedLibrary)
          .Case("obj", qopt::CompileOutput::Object)
          .Case("asm", qopt::CompileOutput::Assembly)
          .Case("llvm-ir", qopt::CompileOutput::LLVMIR)
          .Case("mlir", qopt::CompileOutput::LLVMDialect)
          .Default(std::nullopt);
  if (!output)
    return "so, obj, asm, llvm-ir or mlir";
  field = *output;
  return nullptr;
}

template <typename T>
static std::function<const char *(StringRef)> into(T &field) {
  return [&field](StringRef value) { return parseValue(value, field); };
}

/// Parses `text`, space-separated `key=value` with the keys of
/// quant-compile's options, into `options`.
static llvm::Error parseCompileOptions(StringRef text,
                                       qopt::ModelCompileOptions &options) {
  const llvm::StringMap<std::function<const char *(StringRef)>> fields = {
      {"target", into(options.target)},
      {"target-cpu", into(options.targetCPU)},
      {"emit", into(options.output)},
      {"standalone", into(options.standalone)},
      {"O", into(options.optLevel)},
#define QOPT_CODEGEN_OPTION(TYPE, FIELD, FLAG, DEFAULT, HELP)                  \
  {FLAG, into(options.codegen.FIELD)},
#include "quant-opt/Pipelines/CodegenOptions.def"
  };
  SmallVector<StringRef> items;
  llvm::SplitString(text, items);
  llvm::StringSet<> given;
  for (StringRef item : items) {
    auto [key, value] = item.split('=');
    auto field = fields.find(key);
    if (!item.contains('=') || field == fields.end()) {
      SmallVector<StringRef> keys;
      for (const auto &entry : fields)
        keys.push_back(entry.getKey());
      llvm::sort(keys);
      return llvm::createStringError("compile option '" + item +
                                     "': expected key=value with a key of " +
                                     llvm::join(keys, ", "));
    }
    if (!given.insert(key).second)
      return llvm::createStringError("compile option '" + key +
                                     "' is given twice");
    if (const char *expected = field->second(value))
      return llvm::createStringError("compile option '" + item +
                                     "': expected " + expected);
  }
  return llvm::Error::success();
}

MlirLogicalResult qoptCompileModel(MlirModule module,
                                   MlirStringRef outputLibrary,
                                   MlirStringRef weightArchive,
                                   MlirStringRef options) {
  if (mlirModuleIsNull(module))
    return qopt::capi::refuseNull("qoptCompileModel", "module");
  ModuleOp op = unwrap(module);
  qopt::capi::CallDiagnostics diagnostics(op.getContext());
  qopt::ModelCompileOptions compile;
  if (llvm::Error error = parseCompileOptions(unwrap(options), compile))
    return diagnostics.fail(op.getLoc(), llvm::toString(std::move(error)));
  compile.outputPath = unwrap(outputLibrary).str();
  if (compile.outputPath.empty())
    return diagnostics.fail(op.getLoc(), "the output path is empty");
  compile.weightsPath = unwrap(weightArchive).empty()
                            ? qopt::defaultWeightsPath(compile.outputPath)
                            : unwrap(weightArchive).str();
  // compileModel lowers the module it is given in place.
  OwningOpRef<ModuleOp> copy(op.clone());
  if (llvm::Error error = qopt::compileModel(*copy, compile)) {
    emitError(op.getLoc()) << llvm::toString(std::move(error));
    return mlirLogicalResultFailure();
  }
  return mlirLogicalResultSuccess();
}
