//===- QOptOps.h - qopt operations ------------------------------*- C++ -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_H
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"

#include "quant-opt/Dialect/QOpt/IR/QOptEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptAttrs.h.inc"

#define GET_OP_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h.inc"

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_H
