//===- PrepareEntryPoints.cpp - Record the compiled model's signature -----===//

#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTPREPAREENTRYPOINTSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// [{name, type}] for a function's arguments or results.
ArrayAttr describeValues(Builder &b, TypeRange types, ArrayAttr attrs,
                         StringRef fallbackPrefix) {
  SmallVector<Attribute> values;
  for (auto [i, type] : llvm::enumerate(types)) {
    std::string name = (fallbackPrefix + Twine(i)).str();
    if (attrs && i < attrs.size())
      if (auto dict = dyn_cast_or_null<DictionaryAttr>(attrs[i]))
        if (auto onnxName = dict.getAs<StringAttr>("onnx.name"))
          name = onnxName.str();
    values.push_back(
        b.getDictionaryAttr({b.getNamedAttr("name", b.getStringAttr(name)),
                             b.getNamedAttr("type", TypeAttr::get(type))}));
  }
  return b.getArrayAttr(values);
}

/// The rows of the position embedding table `func` gathers from: the most
/// positions it can run (0 if it has none).
int64_t contextOf(func::FuncOp func) {
  markModelRoles(func);
  int64_t context = 0;
  func.walk([&](Operation *op) {
    if (roleOf(op) != kPositionEmbeddingRole)
      return;
    if (auto gather = dyn_cast<qopt::QGatherOp>(op))
      context = gather.getNumRows();
    else if (auto generic = dyn_cast<linalg::GenericOp>(op))
      if (std::optional<RowGather> rows = matchRowGather(generic))
        context = cast<ShapedType>(rows->table.getType()).getDimSize(0);
  });
  return ShapedType::isDynamic(context) ? 0 : context;
}

struct QOptPrepareEntryPointsPass
    : qopt::impl::QOptPrepareEntryPointsPassBase<QOptPrepareEntryPointsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder b(&getContext());
    SmallVector<Attribute> entries;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      for (Type type : llvm::concat<const Type>(func.getArgumentTypes(),
                                                func.getResultTypes())) {
        if (!isa<RankedTensorType, MemRefType>(type)) {
          func.emitError("entry point '")
              << func.getSymName()
              << "' takes or returns a non-tensor value of type " << type
              << "; compiled models only exchange ranked tensors";
          return signalPassFailure();
        }
      }
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
      SmallVector<NamedAttribute> entry = {
          b.getNamedAttr("name", func.getSymNameAttr()),
          b.getNamedAttr("inputs",
                         describeValues(b, func.getArgumentTypes(),
                                        func.getAllArgAttrs(), "arg")),
          b.getNamedAttr("outputs",
                         describeValues(b, func.getResultTypes(),
                                        func.getAllResultAttrs(), "result"))};
      // From qopt-kv-cache-in-place: the caller's cache buffers are updated.
      if (int64_t context = contextOf(func))
        entry.push_back(
            b.getNamedAttr("context", b.getI64IntegerAttr(context)));
      if (func->hasAttr("qopt.kv_cache_in_place"))
        entry.push_back(
            b.getNamedAttr("kv_cache", b.getStringAttr("in-place")));
      entries.push_back(b.getDictionaryAttr(entry));
    }
    if (entries.empty()) {
      module.emitError("no public function with a body: nothing to compile");
      return signalPassFailure();
    }
    module->setAttr("qopt.entry_points", b.getArrayAttr(entries));
  }
};
} // namespace
