//===- ActivationQuantization.h - Run-time activation quantization -*- C++
//-*-===//
//
// The arithmetic that quantizes activations at run time, shared by the
// reference lowering and the fast kernels so that both round identically
// (ONNX QuantizeLinear: f32 division, round half to even, saturate).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CONVERSION_ACTIVATIONQUANTIZATION_H
#define QUANT_OPT_CONVERSION_ACTIVATIONQUANTIZATION_H

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/Builders.h"

#include <utility>

namespace mlir::qopt {

/// An f32 constant.
Value f32Const(OpBuilder &b, Location loc, double v);

/// clamp(roundeven(x / scale) + zp, qmin, qmax) as f32 (scalars).
Value quantizeF32(OpBuilder &b, Location loc, Value x, Value scale, Value zp,
                  int64_t qmin, int64_t qmax);

/// The dynamic int8 scale and zero point (f32 scalars) of a row whose
/// values lie in [lo, hi] (lo <= 0 <= hi; for `symmetric`, hi = max|x|):
/// asymmetric u8 or symmetric i8; a zero range gets scale 1.
std::pair<Value, Value> rowParamsFromRange(OpBuilder &b, Location loc, Value lo,
                                           Value hi, bool symmetric);

/// Per-row (all but the last axis) scale and zero point of the f32 tensor
/// `x` for dynamic int8 quantization, as f32 tensors of rank r-1:
/// asymmetric u8 over [min(lo, 0), max(hi, 0)], or symmetric i8 over
/// max|x|. A zero range gets scale 1 (see computeParams).
std::pair<Value, Value> dynamicRowParams(OpBuilder &b, Location loc, Value x,
                                         bool symmetric);

/// How a quantized-activation qopt.qmatmul quantizes its input `x` at run
/// time: per tensor with its input_type's parameters (f32 scalars), or per
/// row (dynamic_input: asymmetric u8, f32 [M] tensors).
struct InputQuantization {
  Value scale, zeroPoint;
  int64_t qmin = 0, qmax = 255;
  bool perRow = false;
};
InputQuantization inputQuantization(OpBuilder &b, Location loc, QMatmulOp op,
                                    Value x);

} // namespace mlir::qopt

#endif // QUANT_OPT_CONVERSION_ACTIVATIONQUANTIZATION_H
