//===- Passes.h - calibration passes ----------------------------*- C++ -*-===//
//
// Passes that compile the instrumented model with qopt-lower-to-llvm, run it
// on calibration data through the JIT and write what they measured back
// into the IR: qopt-calibrate, qopt-sensitivity, qopt-gptq.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CALIBRATION_PASSES_H
#define QUANT_OPT_CALIBRATION_PASSES_H

#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qopt {

#define GEN_PASS_DECL
#include "quant-opt/Calibration/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant-opt/Calibration/Passes.h.inc"

} // namespace mlir::qopt

#endif // QUANT_OPT_CALIBRATION_PASSES_H
