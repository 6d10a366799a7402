//===- ApproximateMath.cpp - Inline approximations of libm functions ------===//

#include "quant-opt/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTAPPROXIMATEMATHPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

struct QOptApproximateMathPass
    : qopt::impl::QOptApproximateMathPassBase<QOptApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathAlgebraicSimplificationPatterns(patterns);
    // Upstream's default set: tanh, exp, expm1, log, log1p, log2, erf,
    // erfc, atan, atan2, sin, cos, cbrt (f16/bf16 through f32).
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
