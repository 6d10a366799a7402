//===- QOptToKernels.cpp - qopt.qmatmul to vectorized kernels -------------===//

#include "KernelBuilder.h"
#include "quant-opt/Conversion/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOKERNELSPASS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct ConvertQOptToKernelsPass
    : qopt::impl::ConvertQOptToKernelsPassBase<ConvertQOptToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<KernelTarget> kernelTarget = parseKernelTarget(target);
    if (!kernelTarget) {
      getOperation().emitError()
          << "convert-qopt-to-kernels: unknown target '" << target
          << "' (expected one of: " << kKernelTargetNames << ")";
      return signalPassFailure();
    }
    SmallVector<QMatmulOp> ops;
    getOperation().walk([&](QMatmulOp op) { ops.push_back(op); });
    SymbolTable symbols(getOperation());
    IRRewriter rewriter(&getContext());
    // Stored weights the kernels repacked, for the gathers that share them.
    DenseMap<Value, PackedWeightView> packed;
    // A set: layers may share one stored weight (erased once below).
    SetVector<Operation *> storedWeights;
    for (QMatmulOp op : ops) {
      FailureOr<QMatmulWeights> weights = readQMatmulWeights(op);
      if (failed(weights))
        continue; // The reference lowering handles it.
      Value storage = op.getWeight();
      bool integer = op.getInputType() || op.getDynamicInput();
      if (integer && !integerKernelTakes(*weights, *kernelTarget))
        continue;
      PackedWeightView view =
          integer
              ? lowerToIntegerKernel(op, *weights, *kernelTarget,
                                     fuseInputQuantization, rewriter, symbols)
              : lowerToFloatKernel(op, *weights, *kernelTarget, rewriter,
                                   symbols);
      packed.try_emplace(storage, view);
      if (Operation *stored = storage.getDefiningOp())
        storedWeights.insert(stored);
    }
    // A tied embedding reads the LM head kernel's copy.
    SmallVector<QGatherOp> gathers;
    getOperation().walk([&](QGatherOp op) { gathers.push_back(op); });
    for (QGatherOp op : gathers)
      if (auto it = packed.find(op.getTable()); it != packed.end())
        lowerQGatherToPackedWeight(op, it->second, rewriter);
    // The repacked copies replace them; left alone, the canonical layout
    // would be written to the weight archive too.
    for (Operation *stored : storedWeights)
      if (stored->use_empty())
        rewriter.eraseOp(stored);
  }
};

} // namespace
