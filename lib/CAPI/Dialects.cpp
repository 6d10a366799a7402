//===- Dialects.cpp - C API for the qopt dialect --------------------------===//

#include "quant-opt-c/Dialects.h"
#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"

#include "mlir/CAPI/Registration.h"

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(QOpt, qopt, mlir::qopt::QOptDialect)
