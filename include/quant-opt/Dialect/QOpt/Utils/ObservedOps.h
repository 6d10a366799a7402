//===- ObservedOps.h - Finding quantizable ops and their points -*- C++ -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_UTILS_OBSERVEDOPS_H
#define QUANT_OPT_DIALECT_QOPT_UTILS_OBSERVEDOPS_H

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <string>

namespace mlir::qopt {

/// A readable, stable name for the op at `loc`: the ONNX node name the
/// importer recorded (NameLoc, also inside fused locations), else "".
std::string locationName(Location loc);

/// Whether `op` is a linear layer: a 2-D f32 `linalg.matmul` on tensors
/// with the default maps whose right operand is (possibly through a
/// `qopt.observe`) a float constant.
bool isLinearLayer(linalg::MatmulOp op);

/// The constant behind `value`, looking through `qopt.observe`.
arith::ConstantOp lookThroughObserve(Value value);

/// A linear layer whose input and weight are both observed.
struct ObservedLinear {
  linalg::MatmulOp matmul;
  ObserveOp input, weight;
  arith::ConstantOp weightConstant;
};
/// The linear layers of `root` whose operands are observation points.
SmallVector<ObservedLinear> findObservedLinears(Operation *root);

/// The f32 values of a dense or dense_resource constant (empty for other
/// element types).
std::vector<float> readF32Constant(arith::ConstantOp constant);

/// Whether `init` is a tensor filled with +0.0 (the accumulator every
/// imported MatMul starts from), so that the layer is just the product.
bool isZeroFilled(Value init);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_UTILS_OBSERVEDOPS_H
