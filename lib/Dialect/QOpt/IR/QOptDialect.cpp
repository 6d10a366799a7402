//===- QOptDialect.cpp - The qopt dialect ---------------------------------===//

#include "quant-opt/Dialect/QOpt/IR/QOptDialect.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

using namespace mlir;
using namespace mlir::qopt;

#include "quant-opt/Dialect/QOpt/IR/QOptOpsDialect.cpp.inc"

void QOptDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "quant-opt/Dialect/QOpt/IR/QOptOps.cpp.inc"
      >();
}
