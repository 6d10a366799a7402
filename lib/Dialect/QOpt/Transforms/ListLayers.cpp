//===- ListLayers.cpp - Roles and the table of quantizable layers ---------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTLISTLAYERSPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text;
  for (int64_t d : shape)
    text += (text.empty() ? "" : "x") + std::to_string(d);
  return text;
}

void printTable(raw_ostream &os, const std::vector<LayerInfo> &layers) {
  size_t width = 4;
  for (const LayerInfo &layer : layers)
    width = std::max(width, layer.name.size());
  auto padded = [&](StringRef name) {
    return name.str() + std::string(width - name.size(), ' ');
  };
  os << llvm::formatv("{0} {1,-18} {2,-7} {3,-12} {4,12}\n", padded("name"),
                      "role", "kind", "shape", "parameters");
  int64_t total = 0;
  for (const LayerInfo &layer : layers) {
    std::string role = layer.role.empty() ? "-" : layer.role;
    os << llvm::formatv("{0} {1,-18} {2,-7} {3,-12} {4,12}{5}\n",
                        padded(layer.name), role, layer.kind,
                        shapeText(layer.shape), layer.parameters,
                        layer.tied ? "  (tied: the embedding transposed)" : "");
    // A tied LM head stores no parameters of its own.
    if (!layer.tied)
      total += layer.parameters;
  }
  os << layers.size() << " layers, " << total << " parameters\n";
}

struct QOptListLayersPass
    : qopt::impl::QOptListLayersPassBase<QOptListLayersPass> {
  using Base::Base;

  void runOnOperation() override {
    markModelRoles(getOperation());
    std::vector<LayerInfo> layers = listLayers(getOperation());
    if (output == "-") {
      printTable(llvm::outs(), layers);
      llvm::outs().flush();
      return;
    }
    std::error_code error;
    llvm::raw_fd_ostream os(output, error, llvm::sys::fs::OF_Text);
    if (error) {
      getOperation().emitError() << "qopt-list-layers: cannot write '" << output
                                 << "': " << error.message();
      return signalPassFailure();
    }
    printTable(os, layers);
  }
};

} // namespace
