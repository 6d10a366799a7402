//===- EmitRuntimeInterface.cpp - Packed entry points and model metadata --===//

#include "quant-opt-runtime/ABI.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTEMITRUNTIMEINTERFACEPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
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
      if (failed(emitPackedEntry(module, name, symbol)))
        return signalPassFailure();
      llvm::json::Object entryJson{
          {"name", name},
          {"symbol", symbol},
          {"inputs", describeValues(entry.getAs<ArrayAttr>("inputs"))},
          {"outputs", describeValues(entry.getAs<ArrayAttr>("outputs"))},
          {"weights_argument", static_cast<bool>(weights)}};
      if (auto kvCache = entry.getAs<StringAttr>("kv_cache"))
        entryJson["kv_cache"] = kvCache.getValue();
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

  /// void <symbol>(void **args): calls _mlir_ciface_<name>(args[0], ...).
  LogicalResult emitPackedEntry(ModuleOp module, StringRef name,
                                StringRef symbol) {
    std::string cifaceName = ("_mlir_ciface_" + name).str();
    auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
    if (!ciface)
      return module.emitError("entry point '")
             << name << "' has no C interface '" << cifaceName
             << "' (run convert-func-to-llvm first)";
    LLVM::LLVMFunctionType cifaceType = ciface.getFunctionType();
    auto ptrType = LLVM::LLVMPointerType::get(&getContext());
    if (!isa<LLVM::LLVMVoidType>(cifaceType.getReturnType()) ||
        llvm::any_of(cifaceType.getParams(),
                     [&](Type t) { return t != ptrType; }))
      return ciface.emitError("C interface of '")
             << name << "' does not pass everything by pointer";

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = ciface.getLoc();
    auto voidType = LLVM::LLVMVoidType::get(&getContext());
    auto func = LLVM::LLVMFuncOp::create(
        b, loc, symbol, LLVM::LLVMFunctionType::get(voidType, {ptrType}));
    Block *body = func.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> args;
    for (unsigned i = 0, e = cifaceType.getNumParams(); i < e; ++i) {
      Value slot =
          LLVM::GEPOp::create(b, loc, ptrType, ptrType, body->getArgument(0),
                              ArrayRef<LLVM::GEPArg>{int32_t(i)});
      args.push_back(LLVM::LoadOp::create(b, loc, ptrType, slot));
    }
    LLVM::CallOp::create(b, loc, ciface, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    return success();
  }
};
} // namespace
