//===- QuantScheme.h - Options shared by the quantizing passes -*- C++ -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_QUANTSCHEME_H
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_QUANTSCHEME_H

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::qopt {

enum class ActivationMode { None, Static, Dynamic };

struct QuantScheme {
  WeightScheme weights;
  std::optional<FloatFormat> floatFormat; // Float weights instead of ints.
  ActivationMode activations = ActivationMode::None;
  bool activationSymmetric = false;
  double outlierThreshold = 0; // 0: no outlier decomposition.
  /// Regular expression: layers whose name matches keep float activations.
  std::string floatActivations;
  /// Regular expression: layers whose name matches get INT8 per-channel
  /// weights whatever `weights` says.
  std::string int8Weights;
  /// The layer stays f32 (a per-layer `qopt.format = "f32"`).
  bool keepFloat = false;
};

/// The discardable attribute on observation points that fixes their
/// layer's weight format (a CandidateFormat name, or "f32"), as
/// qopt-assign-precision chooses it; it overrides the pass options.
constexpr llvm::StringLiteral kFormatAttr = "qopt.format";

/// A tensor the model stores once, with the weight points that read it: a
/// linear layer's weight, a gathered table, or a tied token table and its
/// LM head (quantizing one quantizes the other).
struct StoredTensor {
  std::string name, role; ///< The first point's layer; "lm_head+embedding".
  int64_t k = 0, n = 0;   ///< As a [K, N] weight (a table: [D, V]).
  SmallVector<ObserveOp> points;
  SmallVector<bool> transposed; ///< Point i holds [N, K] (a table).
  ObserveOp input;              ///< The linear layer's input point, or null.
};

/// The stored tensors of the observed weights under `root`: linear layers
/// in walk order, then the tables (a tied token table joins its LM head).
std::vector<StoredTensor> storedTensors(Operation *root);

/// A weight format mixed precision chooses from (qopt-sensitivity,
/// qopt-assign-precision): "fp16", "bf16", "int8", "int4", "int3" (per
/// output channel), "int8-gG", "int4-gG", "int3-gG" (groups of G), all
/// symmetric.
struct CandidateFormat {
  std::string name;
  WeightScheme scheme;
  std::optional<FloatFormat> floatFormat;
  /// Bytes a [K, N] weight stores in this format: its codes (rows padded
  /// to whole bytes) and one f32 scale per group and column.
  double bytes(int64_t k, int64_t n) const;
};
FailureOr<CandidateFormat> parseCandidateFormat(StringRef name);

/// The scheme options as the passes declare them (QOptQuantSchemeOptions).
struct SchemeOptions {
  unsigned weightBits;
  std::string weightFormat;
  bool weightSymmetric;
  std::string granularity;
  int64_t groupSize;
  bool mseClip;
  std::string activations;
  bool activationSymmetric;
  double outlierThreshold;
  std::string floatActivations;
  std::string int8Weights;
};

/// Reads the pass options into a scheme; reports bad values on `root`.
FailureOr<QuantScheme> parseQuantScheme(Operation *root, StringRef passName,
                                        const SchemeOptions &options);

/// Between a pass and its generated base when the pass declares
/// QOptQuantSchemeOptions (qopt-fake-quant, qopt-quantize): reads them.
template <typename PassBaseT> struct QuantSchemePass : PassBaseT {
  using PassBaseT::PassBaseT;

protected:
  FailureOr<QuantScheme> parseScheme() {
    return parseQuantScheme(
        this->getOperation(), this->getArgument(),
        {this->weightBits, this->weightFormat, this->weightSymmetric,
         this->weightGranularity, this->groupSize, this->weightMseClip,
         this->activations, this->activationSymmetric, this->outlierThreshold,
         this->floatActivations, this->int8Weights});
  }
};

/// Checks a layer-selecting regular expression option (empty: none; it
/// matches a layer's name or its role): reports an invalid one on `root` as
/// "<pass>: invalid <option> regular expression '<pattern>': <reason>", and
/// one that selects no layer under `root` with the list of layers it could
/// select.
LogicalResult checkLayerPattern(Operation *root, StringRef passName,
                                StringRef option, StringRef pattern);

/// The calibrated per-channel max |x| of the activation point `input` of a
/// layer with `k` input channels. Errors name the point; without statistics
/// the message says "<missing> (run qopt-calibrate first)".
FailureOr<SmallVector<float>>
calibratedChannelAbsmax(ObserveOp input, int64_t k, StringRef missing);

/// The calibrated x^T x ([K, K], as f64) of the activation point `input`
/// of a layer with `k` input channels. Errors name the layer; without the
/// statistics the message ends with `remedy`.
FailureOr<std::vector<double>> calibratedXtx(ObserveOp input, int64_t k,
                                             StringRef remedy);

/// The layer name of an observation point ("<layer>:input" -> "<layer>").
StringRef pointLayer(ObserveOp point);
/// The role of the point's layer (`lm_head`, `embedding`, ...; "" if none).
StringRef pointRole(ObserveOp point);

/// `scheme` as it applies to the layer of `point`: weight-only (no
/// activation quantization, no outlier decomposition) when the layer's name
/// matches `floatActivations`, with INT8 per-channel weights when it
/// matches `int8Weights`; a `qopt.format` on the point decides the weight
/// format (and keeps the layer weight-only).
QuantScheme schemeAt(const QuantScheme &scheme, ObserveOp point);

/// The scheme of a table point (a gathered embedding): per row at least
/// (per tensor becomes per token); a token embedding whose LM head is tied
/// to it takes the LM head's weight format, since the two share one stored
/// copy.
QuantScheme tableScheme(const QuantScheme &scheme, ObserveOp table);

/// LLM.int8()-style decomposition of a linear layer: the input channels
/// whose calibrated max |x| exceeds the scheme's threshold are split off
/// into a float matmul (their activation columns times their weight rows)
/// added to the layer, whose observed operands become the input with those
/// columns zeroed and the weight with those rows zeroed. `layer` is updated
/// to the remaining (to be quantized) layer. No-op without outliers.
LogicalResult splitOutlierChannels(ObservedLinear &layer,
                                   const QuantScheme &scheme);

/// The constant weight [K, N] of `observe` (a weight point of a linear
/// layer) as floats; errors name the point.
FailureOr<std::vector<float>> observedWeightValues(ObserveOp observe);

/// Quantizes the constant weight [K, N] of `observe`; errors name the
/// point.
FailureOr<QuantizedWeight> quantizeObservedWeight(ObserveOp observe,
                                                  const WeightScheme &scheme);
FailureOr<FloatQuantizedWeight> quantizeObservedWeightFloat(ObserveOp observe,
                                                            FloatFormat format);

/// Replaces the linear layer by `qopt.qmatmul` on `weight` (quantized
/// under `scheme.weights` by RTN, GPTQ, ...; with a group index when it has
/// one), its activation as `scheme` says; drops its observation points.
LogicalResult replaceWithQMatmul(ObservedLinear layer,
                                 const QuantScheme &scheme,
                                 const QuantizedWeight &weight);

/// Replaces the gathers of observed tables (`<name>:table` points) by
/// `qopt.qgather` on integer tables quantized per row under the scheme (at
/// least one scale per token); the token embedding of a tied LM head that
/// is already a `qopt.qmatmul` without group index reads that layer's
/// stored weight instead, whatever the scheme says, so the model stores
/// the table once. Float formats leave tables to fake quantization.
LogicalResult quantizeTables(Operation *root, const QuantScheme &scheme);

/// The per-tensor activation type of a calibrated point (error if the
/// point has no statistics).
FailureOr<quant::UniformQuantizedType>
calibratedActivationType(ObserveOp observe, bool symmetric);

/// Replaces `observe` by its simulation in float under `scheme`.
LogicalResult fakeQuantizeObserve(ObserveOp observe, const QuantScheme &scheme);

/// Simulates every observation point under `root` (errors on each).
LogicalResult fakeQuantizeAll(Operation *root, const QuantScheme &scheme);

} // namespace mlir::qopt

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_QUANTSCHEME_H
