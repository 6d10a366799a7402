//===- FreeBuffersEarly.cpp - Free each buffer after its last use ---------===//
//
// Ownership-based buffer deallocation frees a block's allocations at the end
// of the block, in one `bufferization.dealloc` that also retains the returned
// buffers. Its alias analysis cannot see through calls, so every buffer gets
// a run-time alias check against the result and all stay allocated until
// the function returns. In a model's entry point (one block) that keeps
// every intermediate buffer of every layer alive at once.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/BufferRoots.h"
#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFREEBUFFERSEARLYPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// A fresh allocation: a `memref.alloc`, or a call result (deallocation makes
/// every function return buffers it owns, never views of its arguments).
bool isFresh(Value root) {
  Operation *def = root.getDefiningOp();
  return def && (isa<memref::AllocOp>(def) ||
                 (isa<CallOpInterface>(def) && isa<OpResult>(root)));
}

/// Splits out of `dealloc` every buffer whose allocation is provably none of
/// the retained buffers' (nor another listed buffer's): its own
/// `bufferization.dealloc` needs no run-time alias check.
void splitIndependent(RewriterBase &rewriter,
                      bufferization::DeallocOp dealloc) {
  SmallVector<Value> roots =
      llvm::map_to_vector(dealloc.getMemrefs(), qopt::bufferRoot);
  SmallVector<Value> retainedRoots =
      llvm::map_to_vector(dealloc.getRetained(), qopt::bufferRoot);
  if (!llvm::all_of(retainedRoots, isFresh))
    return;
  SmallVector<Value> keptMemrefs, keptConditions;
  rewriter.setInsertionPoint(dealloc);
  for (auto [i, memref] : llvm::enumerate(dealloc.getMemrefs())) {
    Value root = roots[i];
    bool independent = isFresh(root) &&
                       !llvm::is_contained(retainedRoots, root) &&
                       llvm::count(roots, root) == 1;
    if (!independent) {
      keptMemrefs.push_back(memref);
      keptConditions.push_back(dealloc.getConditions()[i]);
      continue;
    }
    bufferization::DeallocOp::create(
        rewriter, dealloc.getLoc(), ValueRange{memref},
        ValueRange{dealloc.getConditions()[i]}, ValueRange{});
  }
  if (keptMemrefs.size() == dealloc.getMemrefs().size())
    return;
  auto rest =
      bufferization::DeallocOp::create(rewriter, dealloc.getLoc(), keptMemrefs,
                                       keptConditions, dealloc.getRetained());
  rewriter.replaceOp(dealloc, rest.getResults());
}

/// The last op of `block` that uses `buffer` or a view of it (other than
/// `except`), or null if an alias escapes what this can follow.
Operation *lastUseInBlock(Value buffer, Block *block, Operation *except) {
  SmallVector<Value> worklist = {buffer};
  Operation *last = buffer.getDefiningOp();
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (user == except)
        continue;
      if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(user)) {
        // Reads no memory: only the uses of the base buffer count.
        worklist.push_back(meta.getBaseBuffer());
        continue;
      }
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == value) {
        worklist.push_back(user->getResult(0));
      } else if (!isa<CallOpInterface>(user) &&
                 llvm::any_of(user->getResultTypes(),
                              [](Type t) { return isa<BaseMemRefType>(t); })) {
        // Another op that produces a buffer may return an alias.
        return nullptr;
      }
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor)
        return nullptr;
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
  }
  return last;
}

struct QOptFreeBuffersEarlyPass
    : qopt::impl::QOptFreeBuffersEarlyPassBase<QOptFreeBuffersEarlyPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<bufferization::DeallocOp> deallocs;
    getOperation().walk(
        [&](bufferization::DeallocOp dealloc) { deallocs.push_back(dealloc); });
    for (bufferization::DeallocOp dealloc : deallocs)
      if (!dealloc.getRetained().empty())
        splitIndependent(rewriter, dealloc);
    deallocs.clear();
    getOperation().walk(
        [&](bufferization::DeallocOp dealloc) { deallocs.push_back(dealloc); });
    for (bufferization::DeallocOp dealloc : deallocs) {
      if (dealloc.getMemrefs().size() != 1 || !dealloc.getRetained().empty())
        continue;
      Value root = qopt::bufferRoot(dealloc.getMemrefs()[0]);
      Block *block = dealloc->getBlock();
      if (!isFresh(root) || root.getDefiningOp()->getBlock() != block)
        continue;
      Operation *last = lastUseInBlock(root, block, dealloc);
      // The dealloc's operands (the buffer, its condition) must stay
      // defined before it.
      if (!last || !last->isBeforeInBlock(dealloc))
        continue;
      // A kernel's output is freed through its base buffer, queried right
      // before the dealloc: that query moves along.
      Operation *query = dealloc.getMemrefs()[0].getDefiningOp();
      auto meta = dyn_cast_or_null<memref::ExtractStridedMetadataOp>(query);
      if (meta && meta->hasOneUse() && meta.getBaseBuffer().hasOneUse() &&
          meta->getBlock() == block && last->isBeforeInBlock(meta))
        meta->moveAfter(last);
      else
        query = nullptr;
      bool operandsReady = llvm::all_of(dealloc->getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return !def || def->getBlock() != block || def == last ||
               def == query || def->isBeforeInBlock(last);
      });
      if (operandsReady)
        dealloc->moveAfter(query ? query : last);
    }
  }
};
} // namespace
