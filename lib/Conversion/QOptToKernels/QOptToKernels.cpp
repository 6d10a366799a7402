//===- QOptToKernels.cpp - qopt.qmatmul to vectorized kernels -------------===//

#include "KernelBuilder.h"
#include "quant-opt/Conversion/Passes.h"

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
    for (QMatmulOp op : ops) {
      FailureOr<QMatmulWeights> weights = readQMatmulWeights(op);
      if (failed(weights))
        continue; // The reference lowering handles it.
      Operation *storedWeight = op.getWeight().getDefiningOp();
      bool integer = op.getInputType() || op.getDynamicInput();
      if (integer && !integerKernelTakes(*weights, *kernelTarget))
        continue;
      if (integer)
        lowerToIntegerKernel(op, *weights, *kernelTarget, fuseInputQuantization,
                             rewriter, symbols);
      else
        lowerToFloatKernel(op, *weights, *kernelTarget, rewriter, symbols);
      // The repacked copy replaces it; left alone, the canonical layout
      // would be written to the weight archive too.
      if (storedWeight->use_empty())
        rewriter.eraseOp(storedWeight);
    }
  }
};

} // namespace
