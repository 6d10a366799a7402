//===- QOptDialect.h - The qopt dialect -------------------------*- C++ -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_H
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "quant-opt/Dialect/QOpt/IR/QOptOpsDialect.h.inc"

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_H
