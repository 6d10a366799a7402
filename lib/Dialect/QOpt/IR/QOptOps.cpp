//===- QOptOps.cpp - qopt operations --------------------------------------===//

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::qopt;

#define GET_OP_CLASSES
#include "quant-opt/Dialect/QOpt/IR/QOptOps.cpp.inc"
