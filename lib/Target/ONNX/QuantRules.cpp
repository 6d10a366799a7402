//===- QuantRules.cpp
//------------------------------------------------------===//

#include "Builders.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;

void mlir::qopt::onnx_import::registerQuantRules(RuleRegistry &r) {}
