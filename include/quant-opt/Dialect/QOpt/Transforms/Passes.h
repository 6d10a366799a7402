//===- Passes.h - qopt transformation passes --------------------*- C++ -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_H
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_H

#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qopt {

#define GEN_PASS_DECL
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_H
