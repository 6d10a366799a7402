//===- IntrinsicsToLLVM.cpp - qopt.pure_intrinsic to llvm.call_intrinsic --===//

#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTINTRINSICSTOLLVMPASS
#include "quant-opt/Conversion/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct ConvertQOptIntrinsicsToLLVMPass
    : qopt::impl::ConvertQOptIntrinsicsToLLVMPassBase<
          ConvertQOptIntrinsicsToLLVMPass> {
  void runOnOperation() override {
    SmallVector<PureIntrinsicOp> ops;
    getOperation().walk([&](PureIntrinsicOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (PureIntrinsicOp op : ops) {
      rewriter.setInsertionPoint(op);
      rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
          op, op.getResult().getType(), op.getIntrinsicAttr(),
          op.getOperands());
    }
  }
};

} // namespace
