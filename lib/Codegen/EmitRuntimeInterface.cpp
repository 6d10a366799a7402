//===- EmitRuntimeInterface.cpp - Packed entry points and model metadata --===//

#include "quant-opt-runtime/ABI.h"
#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTEMITRUNTIMEINTERFACEPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

using quantopt::rt::kRuntimeABIVersion;

namespace {
llvm::json::Array describeValues(ArrayAttr values) {
  llvm::json::Array out;
  for (auto value : values.getAsRange<DictionaryAttr>()) {
    auto type = cast<ShapedType>(value.getAs<TypeAttr>("type").getValue());
    std::string dtype;
    llvm::raw_string_ostream(dtype) << type.getElementType();
    llvm::json::Array shape;
    for (int64_t dim : type.getShape())
      shape.push_back(ShapedType::isDynamic(dim) ? -1 : dim);
    out.push_back(
        llvm::json::Object{{"name", value.getAs<StringAttr>("name").getValue()},
                           {"dtype", dtype},
                           {"shape", std::move(shape)}});
  }
  return out;
}

struct QOptEmitRuntimeInterfacePass
    : qopt::impl::QOptEmitRuntimeInterfacePassBase<
          QOptEmitRuntimeInterfacePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entries = module->getAttrOfType<ArrayAttr>("qopt.entry_points");
    if (!entries) {
      module.emitError("no qopt.entry_points attribute: run "
                       "qopt-prepare-entry-points before lowering");
      return signalPassFailure();
    }
    auto weights = module->getAttrOfType<DictionaryAttr>("qopt.weights");
    llvm::json::Array entryMeta;
    for (auto entry : entries.getAsRange<DictionaryAttr>()) {
      StringRef name = entry.getAs<StringAttr>("name").getValue();
      std::string symbol = ("qopt_entry_" + name).str();
      auto inputs = entry.getAs<ArrayAttr>("inputs");
      if (failed(emitPackedEntry(module, name, symbol, inputs.size(),
                                 !entry.getAs<ArrayAttr>("outputs").empty())))
        return signalPassFailure();
      llvm::json::Object entryJson{
          {"name", name},
          {"symbol", symbol},
          {"inputs", describeValues(entry.getAs<ArrayAttr>("inputs"))},
          {"outputs", describeValues(entry.getAs<ArrayAttr>("outputs"))},
          {"weights_argument", static_cast<bool>(weights)}};
      if (auto kvCache = entry.getAs<StringAttr>("kv_cache"))
        entryJson["kv_cache"] = kvCache.getValue();
      if (auto context = entry.getAs<IntegerAttr>("context"))
        entryJson["context"] = context.getInt();
      llvm::json::Array checks;
      if (auto messages = entry.getAs<ArrayAttr>("checks"))
        for (auto message : messages.getAsRange<StringAttr>())
          checks.push_back(message.getValue());
      entryJson["checks"] = std::move(checks);
      entryMeta.push_back(std::move(entryJson));
    }
    llvm::json::Object meta{{"abi", kRuntimeABIVersion},
                            {"entries", std::move(entryMeta)}};
    if (weights)
      meta["weights"] = llvm::json::Object{
          {"bytes", cast<IntegerAttr>(weights.get("bytes")).getInt()},
          {"fingerprint",
           cast<StringAttr>(weights.get("fingerprint")).getValue()},
          {"tensors", cast<IntegerAttr>(weights.get("tensors")).getInt()}};
    if (failed(defineAllocationFunctions(module)))
      return signalPassFailure(); // lookupOrCreateFn reported the clash.
    std::string text;
    llvm::raw_string_ostream(text) << llvm::json::Value(std::move(meta));
    text.push_back('\0');

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(&getContext(), 8),
                                         text.size());
    LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, "qopt_model_meta",
                           b.getStringAttr(text));
    module->removeAttr("qopt.entry_points");
    module->removeAttr("qopt.weights");
  }

  /// finalize-memref-to-llvm{use-generic-functions} calls
  /// _mlir_memref_to_llvm_alloc/_free: malloc and free, except that a failed
  /// allocation writes a message to stderr and aborts. Buffers sized at run
  /// time are bounded by the runtime checks, so this is the machine running
  /// out of memory, not a corrupt input; a null buffer would be written.
  LogicalResult defineAllocationFunctions(ModuleOp module) {
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64), i32 = IntegerType::get(ctx, 32);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    Location loc = module.getLoc();
    if (auto free =
            module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_memref_to_llvm_free");
        free && free.isExternal()) {
      OpBuilder b(ctx);
      FailureOr<LLVM::LLVMFuncOp> libcFree =
          LLVM::lookupOrCreateFreeFn(b, module);
      if (failed(libcFree))
        return failure();
      b.setInsertionPointToStart(free.addEntryBlock(b));
      LLVM::CallOp::create(b, loc, *libcFree, free.getArgument(0));
      LLVM::ReturnOp::create(b, loc, ValueRange{});
    }
    auto alloc =
        module.lookupSymbol<LLVM::LLVMFuncOp>("_mlir_memref_to_llvm_alloc");
    if (!alloc || !alloc.isExternal())
      return success();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    FailureOr<LLVM::LLVMFuncOp> malloc =
        LLVM::lookupOrCreateMallocFn(b, module, i64);
    FailureOr<LLVM::LLVMFuncOp> write =
        LLVM::lookupOrCreateFn(b, module, "write", {i32, ptr, i64}, i64);
    FailureOr<LLVM::LLVMFuncOp> abort =
        LLVM::lookupOrCreateFn(b, module, "abort", {}, voidType);
    if (failed(malloc) || failed(write) || failed(abort))
      return failure();
    StringRef text = "quant-opt compiled model: out of memory (malloc "
                     "failed)\n";
    auto textType =
        LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size());
    auto message = LLVM::GlobalOp::create(
        b, loc, textType, /*isConstant=*/true, LLVM::Linkage::Private,
        "qopt_out_of_memory_message", b.getStringAttr(text));
    Block *entry = alloc.addEntryBlock(b);
    Block *ok = alloc.addBlock(), *fail = alloc.addBlock();
    b.setInsertionPointToStart(entry);
    Value size = alloc.getArgument(0);
    Value p = LLVM::CallOp::create(b, loc, *malloc, size).getResult();
    Value isNull = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, p,
                                        LLVM::ZeroOp::create(b, loc, ptr));
    // malloc(0) may return null legitimately.
    Value nonEmpty =
        LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::ne, size,
                             LLVM::ConstantOp::create(b, loc, i64, 0));
    LLVM::CondBrOp::create(
        b, loc, LLVM::AndOp::create(b, loc, isNull, nonEmpty), fail, ok);
    b.setInsertionPointToStart(ok);
    LLVM::ReturnOp::create(b, loc, p);
    b.setInsertionPointToStart(fail);
    Value address = LLVM::AddressOfOp::create(b, loc, message);
    LLVM::CallOp::create(
        b, loc, *write,
        ValueRange{LLVM::ConstantOp::create(b, loc, i32, 2), address,
                   LLVM::ConstantOp::create(b, loc, i64, text.size())});
    LLVM::CallOp::create(b, loc, *abort, ValueRange{});
    LLVM::UnreachableOp::create(b, loc);
    return success();
  }

  /// int32_t <symbol>(void **args): returns the status of
  /// _mlir_ciface_<name>_runtime_checks(inputs...) when there is one and it
  /// is not 0 (the number of the failed check); else calls
  /// _mlir_ciface_<name>(args[0], ...) and returns 0.
  LogicalResult emitPackedEntry(ModuleOp module, StringRef name,
                                StringRef symbol, unsigned numInputs,
                                bool hasOutputs) {
    std::string cifaceName = ("_mlir_ciface_" + name).str();
    auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
    if (!ciface)
      return module.emitError("entry point '")
             << name << "' has no C interface '" << cifaceName
             << "' (run convert-func-to-llvm first)";
    LLVM::LLVMFunctionType cifaceType = ciface.getFunctionType();
    auto ptrType = LLVM::LLVMPointerType::get(&getContext());
    auto i32 = IntegerType::get(&getContext(), 32);
    auto byPointer = [&](LLVM::LLVMFunctionType type) {
      return llvm::all_of(type.getParams(),
                          [&](Type t) { return t == ptrType; });
    };
    if (!isa<LLVM::LLVMVoidType>(cifaceType.getReturnType()) ||
        !byPointer(cifaceType))
      return ciface.emitError("C interface of '")
             << name << "' does not pass everything by pointer";
    // The results' struct comes first, then the inputs (then the weights).
    unsigned firstInput = hasOutputs ? 1 : 0;
    if (cifaceType.getNumParams() < firstInput + numInputs)
      return ciface.emitError("C interface of '")
             << name << "' takes fewer arguments than the entry's inputs";
    auto checks = module.lookupSymbol<LLVM::LLVMFuncOp>(
        ("_mlir_ciface_" + name + "_runtime_checks").str());
    if (checks && (checks.getFunctionType().getReturnType() != i32 ||
                   checks.getFunctionType().getNumParams() != numInputs ||
                   !byPointer(checks.getFunctionType())))
      return checks.emitError("runtime checks of '")
             << name << "' do not take the entry's inputs by pointer";

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = ciface.getLoc();
    auto func = LLVM::LLVMFuncOp::create(
        b, loc, symbol, LLVM::LLVMFunctionType::get(i32, {ptrType}));
    Block *body = func.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> args;
    for (unsigned i = 0, e = cifaceType.getNumParams(); i < e; ++i) {
      Value slot =
          LLVM::GEPOp::create(b, loc, ptrType, ptrType, body->getArgument(0),
                              ArrayRef<LLVM::GEPArg>{int32_t(i)});
      args.push_back(LLVM::LoadOp::create(b, loc, ptrType, slot));
    }
    Value zero = LLVM::ConstantOp::create(b, loc, i32, 0);
    Block *run = func.addBlock();
    if (checks) {
      Value status = LLVM::CallOp::create(
                         b, loc, checks,
                         ArrayRef<Value>(args).slice(firstInput, numInputs))
                         .getResult();
      Block *refuse = func.addBlock();
      Value ok =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, status, zero);
      LLVM::CondBrOp::create(b, loc, ok, run, refuse);
      b.setInsertionPointToStart(refuse);
      LLVM::ReturnOp::create(b, loc, status);
    } else {
      LLVM::BrOp::create(b, loc, ValueRange{}, run);
    }
    b.setInsertionPointToStart(run);
    LLVM::CallOp::create(b, loc, ciface, args);
    LLVM::ReturnOp::create(b, loc, zero);
    return success();
  }
};
} // namespace
