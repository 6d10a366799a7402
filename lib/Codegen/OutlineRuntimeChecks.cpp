//===- OutlineRuntimeChecks.cpp - Checks an entry point runs first --------===//
//
// Moves the `qopt.runtime_check`s of each entry point F into
// `F_runtime_checks(F's arguments) -> i32`, computed from the arguments
// alone, so that the packed entry can refuse bad inputs before the model
// touches memory (qopt-emit-runtime-interface calls it).
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/Passes.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTOUTLINERUNTIMECHECKSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
/// Slices larger than this are not worth running twice.
constexpr size_t kMaxSliceOps = 256;
/// Constants a checks function may copy.
constexpr int64_t kMaxConstantElements = 256;

/// The ops `check`'s condition is computed from, in order, or nothing when
/// that takes more than the inputs cheaply give: a contraction, a qopt op,
/// a call, an op with memory effects.
std::optional<SetVector<Operation *>> sliceOf(RuntimeCheckOp check,
                                              func::FuncOp func) {
  if (check->getParentOp() != func)
    return std::nullopt;
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.omitBlockArguments = true;
  options.omitUsesFromAbove = false;
  options.inclusive = true; // The condition's own op.
  if (failed(getBackwardSlice(check.getCondition(), &slice, options)))
    return std::nullopt;
  if (slice.size() > kMaxSliceOps)
    return std::nullopt;
  for (Operation *op : slice) {
    // A constant tensor would need its own copy in the checks function,
    // outside the weight archive: small ones only.
    if (auto constant = dyn_cast<arith::ConstantOp>(op))
      if (auto type = dyn_cast<ShapedType>(constant.getType());
          type && type.getNumElements() > kMaxConstantElements)
        return std::nullopt;
    if (op->getParentOp() != func || isa<QOptDialect>(op->getDialect()) ||
        isa<CallOpInterface>(op) || !isMemoryEffectFree(op))
      return std::nullopt;
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      if (linalgOp.getNumReductionLoops() > 0 && linalgOp.getNumDpsInputs() > 1)
        return std::nullopt;
  }
  return slice;
}

struct Hoisted {
  RuntimeCheckOp check;
  SetVector<Operation *> slice;
};

/// scf.if chains: check k's slice is cloned where checks before it passed,
/// so a failed size check stops before anything sized by it is computed.
Value buildChecks(OpBuilder &b, Location loc, ArrayRef<Hoisted> checks,
                  size_t k, IRMapping &mapping) {
  if (k == checks.size())
    return arith::ConstantIntOp::create(b, loc, 0, 32);
  for (Operation *op : checks[k].slice)
    if (!mapping.contains(op->getResult(0)))
      b.clone(*op, mapping);
  Value ok = mapping.lookup(RuntimeCheckOp(checks[k].check).getCondition());
  auto branch = scf::IfOp::create(
      b, loc, ok,
      [&](OpBuilder &tb, Location tloc) {
        scf::YieldOp::create(tb, tloc,
                             buildChecks(tb, tloc, checks, k + 1, mapping));
      },
      [&](OpBuilder &eb, Location eloc) {
        scf::YieldOp::create(
            eb, eloc,
            arith::ConstantIntOp::create(eb, eloc, int64_t(k) + 1, 32)
                .getResult());
      });
  return branch.getResult(0);
}

struct QOptOutlineRuntimeChecksPass
    : qopt::impl::QOptOutlineRuntimeChecksPassBase<
          QOptOutlineRuntimeChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<ArrayAttr> messagesOf;
    for (auto func : llvm::to_vector(module.getOps<func::FuncOp>())) {
      if (func.isPrivate() || func.isExternal())
        continue;
      if (failed(outline(func, messagesOf)))
        return signalPassFailure();
    }
    // Record the messages in the entry points' signatures.
    auto entries = module->getAttrOfType<ArrayAttr>("qopt.entry_points");
    if (!entries || messagesOf.empty())
      return;
    Builder b(&getContext());
    SmallVector<Attribute> updated;
    for (auto entry : entries.getAsRange<DictionaryAttr>()) {
      NamedAttrList attrs(entry);
      if (ArrayAttr messages =
              messagesOf.lookup(entry.getAs<StringAttr>("name").getValue()))
        attrs.set("checks", messages);
      updated.push_back(attrs.getDictionary(&getContext()));
    }
    module->setAttr("qopt.entry_points", b.getArrayAttr(updated));
  }

  LogicalResult outline(func::FuncOp func,
                        llvm::StringMap<ArrayAttr> &messagesOf) {
    if (!func.walk([](RuntimeCheckOp) { return WalkResult::interrupt(); })
             .wasInterrupted())
      return success();
    // Dims of results in terms of dims of the inputs: a check then needs
    // the inputs' shapes, not the ops that produce the tensors it measures.
    RewritePatternSet patterns(&getContext());
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    tensor::DimOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return func.emitError("could not resolve the dims runtime checks use");

    // Equal conditions (the same dims, once resolved) become one value.
    OpPassManager cse(func::FuncOp::getOperationName());
    cse.addPass(createCSEPass());
    if (failed(runPipeline(cse, func)))
      return failure();

    SmallVector<Hoisted> hoisted;
    SmallVector<RuntimeCheckOp> inPlace;
    llvm::DenseSet<Value> seen;
    func.walk([&](RuntimeCheckOp check) {
      // Proven at compile time, or a repeat of an earlier check.
      if (matchPattern(check.getCondition(), m_One()) ||
          !seen.insert(check.getCondition()).second) {
        check.erase();
        return;
      }
      if (auto slice = sliceOf(check, func))
        hoisted.push_back({check, std::move(*slice)});
      else
        inPlace.push_back(check);
    });
    // Checks that need the model's own results abort where they are.
    for (RuntimeCheckOp check : inPlace) {
      OpBuilder b(check);
      cf::AssertOp::create(b, check.getLoc(), check.getCondition(),
                           check.getMessage());
      check.erase();
    }
    if (hoisted.empty())
      return success();

    OpBuilder b(func);
    b.setInsertionPointAfter(func);
    Location loc = func.getLoc();
    auto type = b.getFunctionType(func.getArgumentTypes(), {b.getI32Type()});
    auto checks = func::FuncOp::create(
        b, loc, (func.getSymName() + "_runtime_checks").str(), type);
    checks.setPrivate();
    checks->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
    Block *body = checks.addEntryBlock();
    IRMapping mapping;
    for (auto [from, to] : llvm::zip(func.getArguments(), body->getArguments()))
      mapping.map(from, to);
    b.setInsertionPointToStart(body);
    Value status = buildChecks(b, loc, hoisted, 0, mapping);
    func::ReturnOp::create(b, loc, status);

    SmallVector<Attribute> messages;
    for (Hoisted &h : hoisted) {
      messages.push_back(h.check.getMessageAttr());
      h.check.erase();
    }
    messagesOf[func.getSymName()] = b.getArrayAttr(messages);
    return success();
  }
};
} // namespace
