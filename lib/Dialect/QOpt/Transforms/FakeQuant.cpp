//===- FakeQuant.cpp - Simulate quantization at observation points --------===//

#include "QuantScheme.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFAKEQUANTPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptFakeQuantPass
    : qopt::impl::QOptFakeQuantPassBase<QOptFakeQuantPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<QuantScheme> scheme =
        parseQuantScheme(getOperation(), getArgument(),
                         {weightBits, weightFormat, weightSymmetric,
                          weightGranularity, groupSize, weightMseClip,
                          activations, activationSymmetric, outlierThreshold});
    if (failed(scheme))
      return signalPassFailure();
    bool failedAny = false;
    for (ObservedLinear layer : findObservedLinears(getOperation()))
      failedAny |= failed(splitOutlierChannels(layer, *scheme));
    if (failed(fakeQuantizeAll(getOperation(), *scheme)) || failedAny)
      signalPassFailure();
  }
};
} // namespace
