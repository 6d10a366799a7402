//===- InitAllDialects.h - Register quant-opt's dialects --------*- C++ -*-===//

#ifndef QUANT_OPT_INITALLDIALECTS_H
#define QUANT_OPT_INITALLDIALECTS_H

#include "mlir/IR/DialectRegistry.h"
#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"

namespace mlir::qopt {

/// Registers the qopt dialect (upstream dialects are registered separately).
inline void registerAllDialects(DialectRegistry &registry) {
  registry.insert<QOptDialect>();
}

} // namespace mlir::qopt

#endif // QUANT_OPT_INITALLDIALECTS_H
