//===- ChannelScaling.h - x W = (x / s) (s W) -------------------*- C++ -*-===//
//
// What the passes that rescale a linear layer's input channels share
// (SmoothQuant's qopt-smooth-activations, AWQ's qopt-awq): the producer the
// division folds into, and applying a scale to the producer and the layers.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_CHANNELSCALING_H
#define QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_CHANNELSCALING_H

#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <vector>

namespace mlir::qopt {

/// The all-parallel single-result generic whose result reaches `x` through
/// channel-preserving reshapes (LayerNorm's normalization, GELU), or null.
linalg::GenericOp channelProducer(Value x, int64_t k);

/// Whether every reader of `producer`'s values, through reshapes, is the
/// input point of one of `layers`, read only by those layers' matmuls:
/// scaling the result then changes nothing but these layers' inputs.
bool feedsOnly(linalg::GenericOp producer, ArrayRef<ObservedLinear> layers);

/// Multiplies `producer`'s result by `invScale` (1 / scale) per channel and
/// replaces each layer's weight by `weights[i]` ([K, N], the original values)
/// with row j multiplied by scale[j]; records the factors as `qopt.smoothing`
/// on the matmuls and drops the points' statistics (they describe the old
/// input). With `weightsScaled`, `weights` already hold the scaled rows.
void scaleLayerInputs(linalg::GenericOp producer,
                      MutableArrayRef<ObservedLinear> layers,
                      MutableArrayRef<std::vector<float>> weights,
                      ArrayRef<float> scale, ArrayRef<float> invScale,
                      bool weightsScaled = false);

/// Replaces `layer`'s weight constant by `values` ([K, N]) and drops the
/// weight point's statistics.
void replaceLayerWeight(ObservedLinear &layer, ArrayRef<float> values,
                        StringRef name);

} // namespace mlir::qopt

#endif // QUANT_OPT_LIB_DIALECT_QOPT_TRANSFORMS_CHANNELSCALING_H
