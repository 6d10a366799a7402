//===- OutlineLoopNests.cpp - One function per distinct loop nest ---------===//
//
// A model's layers lower to the same loop nests over and over (GPT-2 XL: 48
// layers, in every entry point). LLVM's optimizer and code generator take
// time in proportion to the code, and its loop passes more than that in the
// size of the function, so each distinct nest is compiled once, in a
// function of its own that every copy calls.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTOUTLINELOOPNESTSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

bool isLoop(Operation *op) {
  return isa<scf::ForOp, scf::ParallelOp, scf::ForallOp>(op);
}

/// A loop nest and the function it would become: the values it uses from
/// outside (in order of first use) as arguments, constants cloned in.
struct Candidate {
  Operation *loop;
  SmallVector<Value> arguments;
  SmallVector<Operation *> constants; // cloned into the function
  func::FuncOp function;              // detached until chosen
  llvm::hash_code hash;
};

/// The detached function `loop` becomes, and the values to call it with.
Candidate makeCandidate(Operation *loop) {
  Candidate candidate{loop, {}, {}, nullptr, {}};
  llvm::SetVector<Value> captured;
  llvm::SetVector<Operation *> constants;
  loop->walk<WalkOrder::PreOrder>([&](Operation *op) {
    for (Value operand : op->getOperands()) {
      if (loop->isAncestor(operand.getParentRegion()->getParentOp()))
        continue;
      Operation *def = operand.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>() &&
          def->getNumOperands() == 0 && def->getNumRegions() == 0)
        constants.insert(def);
      else
        captured.insert(operand);
    }
  });
  candidate.arguments.assign(captured.begin(), captured.end());
  candidate.constants.assign(constants.begin(), constants.end());

  OpBuilder builder(loop->getContext());
  auto type = builder.getFunctionType(
      ValueRange(candidate.arguments).getTypes(), loop->getResultTypes());
  auto function = func::FuncOp::create(loop->getLoc(), "qopt_loop", type);
  Block *body = function.addEntryBlock();
  builder.setInsertionPointToStart(body);
  IRMapping mapping;
  for (auto [value, argument] :
       llvm::zip_equal(candidate.arguments, body->getArguments()))
    mapping.map(value, argument);
  for (Operation *constant : constants)
    builder.clone(*constant, mapping);
  Operation *clone = builder.clone(*loop, mapping);
  func::ReturnOp::create(builder, loop->getLoc(), clone->getResults());
  candidate.function = function;

  // Cheap to compare first: the type and the sequence of op names.
  llvm::hash_code hash = llvm::hash_value(type.getAsOpaquePointer());
  function.walk([&](Operation *op) {
    hash = llvm::hash_combine(hash, op->getName().getAsOpaquePointer(),
                              op->getNumOperands());
  });
  candidate.hash = hash;
  return candidate;
}

bool sameBody(func::FuncOp a, func::FuncOp b) {
  return a.getFunctionType() == b.getFunctionType() &&
         OperationEquivalence::isRegionEquivalentTo(
             &a.getBody(), &b.getBody(),
             OperationEquivalence::Flags::IgnoreLocations);
}

/// Every loop nest of at least `minOps` ops that is not inside a loop, in
/// the public functions (the entry points; private functions such as the
/// kernels are shared already).
SmallVector<Operation *> outermostLoops(ModuleOp module, int64_t minOps) {
  SmallVector<Operation *> loops;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal() || !function.isPublic())
      continue;
    function.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (!isLoop(op))
        return WalkResult::advance();
      int64_t ops = 0;
      op->walk([&](Operation *) { ++ops; });
      if (ops >= minOps)
        loops.push_back(op);
      return WalkResult::skip();
    });
  }
  return loops;
}

struct QOptOutlineLoopNestsPass
    : qopt::impl::QOptOutlineLoopNestsPassBase<QOptOutlineLoopNestsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (minOps < 1) {
      module.emitError("qopt-outline-loop-nests: min-ops must be at "
                       "least 1, got ")
          << static_cast<int64_t>(minOps);
      return signalPassFailure();
    }
    std::vector<Candidate> candidates;
    for (Operation *loop : outermostLoops(module, minOps))
      candidates.push_back(makeCandidate(loop));

    // Classes of equivalent nests, in order of first occurrence.
    SmallVector<SmallVector<size_t>> classes;
    llvm::DenseMap<llvm::hash_code, SmallVector<size_t>> byHash;
    for (size_t i = 0; i < candidates.size(); ++i) {
      SmallVector<size_t> &bucket = byHash[candidates[i].hash];
      bool placed = false;
      for (size_t c : bucket) {
        if (sameBody(candidates[classes[c].front()].function,
                     candidates[i].function)) {
          classes[c].push_back(i);
          placed = true;
          break;
        }
      }
      if (!placed) {
        bucket.push_back(classes.size());
        classes.push_back({i});
      }
    }

    SymbolTable symbols(module);
    int64_t nextName = 0;
    OpBuilder builder(&getContext());
    auto internal =
        LLVM::LinkageAttr::get(&getContext(), LLVM::Linkage::Internal);
    for (ArrayRef<size_t> members : classes) {
      func::FuncOp function = candidates[members.front()].function;
      candidates[members.front()].function = nullptr;
      function.setPrivate();
      function->setAttr("llvm.linkage", internal);
      // Kept out of line: inlined back, LLVM would optimize each copy (and
      // the loop passes would work on the whole entry point again).
      function->setAttr(
          "passthrough",
          builder.getArrayAttr({builder.getStringAttr("noinline")}));
      std::string name;
      do
        name = "qopt_loop_" + std::to_string(nextName++);
      while (symbols.lookup(name));
      function.setName(name);
      symbols.insert(function);
      for (size_t i : members) {
        Candidate &candidate = candidates[i];
        builder.setInsertionPoint(candidate.loop);
        auto call = func::CallOp::create(builder, candidate.loop->getLoc(),
                                         function, candidate.arguments);
        candidate.loop->replaceAllUsesWith(call.getResults());
        candidate.loop->erase();
      }
    }
    // The copies no class kept, and the constants only the outlined nests
    // used (each function has its own now).
    llvm::SetVector<Operation *> constants;
    for (Candidate &candidate : candidates) {
      if (candidate.function)
        candidate.function->erase();
      constants.insert(candidate.constants.begin(), candidate.constants.end());
    }
    for (Operation *constant : constants)
      if (constant->use_empty())
        constant->erase();
  }
};

} // namespace
