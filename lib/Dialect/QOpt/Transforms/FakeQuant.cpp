//===- FakeQuant.cpp - Simulate quantization at observation points --------===//

#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFAKEQUANTPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
struct QOptFakeQuantPass
    : QuantSchemePass<qopt::impl::QOptFakeQuantPassBase<QOptFakeQuantPass>> {
  using QuantSchemePass::QuantSchemePass;

  void runOnOperation() override {
    FailureOr<QuantScheme> scheme = parseScheme();
    if (failed(scheme))
      return signalPassFailure();
    bool failedAny = false;
    for (ObservedLinear layer : findObservedLinears(getOperation()))
      failedAny |=
          failed(splitOutlierChannels(layer, schemeAt(*scheme, layer.input)));
    if (failed(fakeQuantizeAll(getOperation(), *scheme)) || failedAny)
      signalPassFailure();
  }
};
} // namespace
