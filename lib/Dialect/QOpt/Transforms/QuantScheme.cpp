//===- QuantScheme.cpp - Options shared by the quantizing passes ----------===//

#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"
#include "llvm/Support/Regex.h"

#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;

FailureOr<QuantScheme> mlir::qopt::parseQuantScheme(Operation *root,
                                                    StringRef passName,
                                                    const SchemeOptions &o) {
  unsigned weightBits = o.weightBits;
  StringRef weightFormat = o.weightFormat, granularity = o.granularity,
            activations = o.activations;
  int64_t groupSize = o.groupSize;
  bool weightSymmetric = o.weightSymmetric, mseClip = o.mseClip,
       activationSymmetric = o.activationSymmetric;
  QuantScheme s;
  auto fail = [&](const Twine &message) {
    root->emitError() << passName << ": " << message;
    return failure();
  };
  if (weightFormat != "int") {
    s.floatFormat = parseFloatFormat(weightFormat);
    if (!s.floatFormat)
      return fail("weight-format must be int, fp16, bf16, fp8-e4m3 or "
                  "fp8-e5m2, got '" +
                  weightFormat + "'");
    if (granularity != "channel")
      return fail("float weight formats scale per output channel "
                  "(weight-granularity=channel)");
    if (activations != "none")
      return fail("float weight formats are weight-only (activations=none)");
  }
  if (weightBits != 3 && weightBits != 4 && weightBits != 8)
    return fail("weight-bits must be 3, 4 or 8, got " + Twine(weightBits));
  if (weightBits == 3 && weightFormat != "int")
    return fail("3-bit weights are integers (weight-format=int, stored in the "
                "4-bit container)");
  s.weights.bits = weightBits;
  s.weights.symmetric = weightSymmetric;
  s.weights.mseClip = mseClip;
  s.weights.groupSize = groupSize;
  if (granularity == "tensor")
    s.weights.granularity = WeightGranularity::Tensor;
  else if (granularity == "channel")
    s.weights.granularity = WeightGranularity::Channel;
  else if (granularity == "group")
    s.weights.granularity = WeightGranularity::Group;
  else
    return fail("weight-granularity must be tensor, channel or group, got '" +
                granularity + "'");
  if (s.weights.granularity == WeightGranularity::Group &&
      (groupSize < 2 || groupSize % 2))
    return fail("group-size must be an even number >= 2, got " +
                Twine(groupSize));
  if (activations == "none")
    s.activations = ActivationMode::None;
  else if (activations == "static")
    s.activations = ActivationMode::Static;
  else if (activations == "dynamic")
    s.activations = ActivationMode::Dynamic;
  else
    return fail("activations must be none, static or dynamic, got '" +
                activations + "'");
  s.activationSymmetric = activationSymmetric;
  s.outlierThreshold = o.outlierThreshold;
  if (s.outlierThreshold < 0)
    return fail("outlier-threshold must be >= 0");
  if (s.outlierThreshold > 0 &&
      (s.floatFormat || s.activations == ActivationMode::None))
    return fail("outlier-threshold applies to integer weights with "
                "quantized activations (static or dynamic)");
  if (s.outlierThreshold > 0 &&
      (weightBits != 8 || s.weights.granularity == WeightGranularity::Group))
    return fail("outlier-threshold needs 8-bit per-tensor or per-channel "
                "weights");
  s.floatActivations = o.floatActivations;
  s.int8Weights = o.int8Weights;
  if (failed(checkLayerPattern(root, passName, "float-activations",
                               s.floatActivations)) ||
      failed(checkLayerPattern(root, passName, "int8-weights", s.int8Weights)))
    return failure();
  if (!s.int8Weights.empty() && s.floatFormat)
    return fail("int8-weights applies to integer weight formats");
  return s;
}

LogicalResult mlir::qopt::checkLayerPattern(Operation *root, StringRef passName,
                                            StringRef option,
                                            StringRef pattern) {
  if (pattern.empty())
    return success();
  std::string regexError;
  if (!llvm::Regex(pattern).isValid(regexError))
    return emitError(root->getLoc())
           << passName << ": invalid " << option << " regular expression '"
           << pattern << "': " << regexError;
  std::vector<LayerInfo> layers = listLayers(root);
  for (const LayerInfo &layer : layers)
    if (layerPatternMatches(pattern, layer.name, layer.role))
      return success();
  // A pattern that selects nothing is a mistake the user must hear about.
  // On the location, not the op: the message must not dump the module.
  InFlightDiagnostic diag = emitError(root->getLoc())
                            << passName << ": " << option << "='" << pattern
                            << "' matches no layer; layers (name [role]):";
  for (const LayerInfo &layer : layers)
    diag << "\n  " << layer.name
         << (layer.role.empty() ? "" : " [" + layer.role + "]");
  if (layers.empty())
    diag << " none";
  return diag;
}

FailureOr<SmallVector<float>>
mlir::qopt::calibratedChannelAbsmax(ObserveOp input, int64_t k,
                                    StringRef missing) {
  StatsAttr stats = input.getStatsAttr();
  if (!stats || !stats.getChannelAbsmax())
    return input.emitError()
           << "activation point '" << input.getPoint() << "': " << missing
           << " (run qopt-calibrate first)";
  SmallVector<float> absmax(stats.getChannelAbsmax().getValues<float>());
  if ((int64_t)absmax.size() != k)
    return input.emitError() << "activation point '" << input.getPoint()
                             << "' has statistics for " << absmax.size()
                             << " channels, the layer " << k;
  return absmax;
}

FailureOr<std::vector<double>>
mlir::qopt::calibratedXtx(ObserveOp input, int64_t k, StringRef remedy) {
  StatsAttr stats = input.getStatsAttr();
  if (!stats || !stats.getXtx())
    return input.emitError() << "layer '" << pointLayer(input)
                             << "' has no x^T x statistics: " << remedy;
  ElementsAttr xtx = stats.getXtx();
  auto type = cast<ShapedType>(xtx.getType());
  if (type.getRank() != 2 || type.getDimSize(0) != k ||
      type.getDimSize(1) != k || !type.getElementType().isF32())
    return input.emitError()
           << "layer '" << pointLayer(input) << "': x^T x must be f32 [" << k
           << ", " << k << "], got " << type;
  ArrayRef<char> bytes = denseConstantBytes(xtx, type);
  if ((int64_t)bytes.size() != k * k * 4)
    return input.emitError()
           << "layer '" << pointLayer(input) << "': cannot read x^T x";
  const float *values = reinterpret_cast<const float *>(bytes.data());
  return std::vector<double>(values, values + k * k);
}

StringRef mlir::qopt::pointLayer(ObserveOp point) {
  StringRef name = point.getPoint();
  size_t colon = name.rfind(':');
  return colon == StringRef::npos ? name : name.take_front(colon);
}

StringRef mlir::qopt::pointRole(ObserveOp point) { return roleOf(point); }

QuantScheme mlir::qopt::schemeAt(const QuantScheme &scheme, ObserveOp point) {
  auto matches = [&](StringRef pattern) {
    return layerPatternMatches(pattern, pointLayer(point), pointRole(point));
  };
  QuantScheme layer = scheme;
  if (matches(scheme.floatActivations)) {
    layer.activations = ActivationMode::None;
    layer.outlierThreshold = 0;
  }
  if (matches(scheme.int8Weights)) {
    layer.weights.bits = 8;
    layer.weights.granularity = WeightGranularity::Channel;
  }
  if (auto format = point->getAttrOfType<StringAttr>(kFormatAttr)) {
    layer.activations = ActivationMode::None;
    layer.outlierThreshold = 0;
    if (format.getValue() == "f32") {
      layer.keepFloat = true;
    } else if (FailureOr<CandidateFormat> f =
                   parseCandidateFormat(format.getValue());
               succeeded(f)) {
      layer.weights = f->scheme;
      layer.floatFormat = f->floatFormat;
    }
  }
  return layer;
}

FailureOr<std::vector<float>>
mlir::qopt::observedWeightValues(ObserveOp observe) {
  auto constant = observe.getInput().getDefiningOp<arith::ConstantOp>();
  auto type = dyn_cast<RankedTensorType>(observe.getType());
  if (!constant || !type || type.getRank() != 2)
    return observe.emitError() << "weight point '" << observe.getPoint()
                               << "' must observe a rank-2 constant";
  std::vector<float> w = readF32Constant(constant);
  if (w.empty())
    return observe.emitError() << "weight point '" << observe.getPoint()
                               << "': cannot read the constant as f32";
  return w;
}

FailureOr<QuantizedWeight>
mlir::qopt::quantizeObservedWeight(ObserveOp observe,
                                   const WeightScheme &scheme) {
  FailureOr<std::vector<float>> w = observedWeightValues(observe);
  if (failed(w))
    return failure();
  auto type = cast<RankedTensorType>(observe.getType());
  std::string error;
  QuantizedWeight q =
      quantizeWeight(*w, type.getDimSize(0), type.getDimSize(1), scheme, error);
  if (!error.empty())
    return observe.emitError()
           << "weight point '" << observe.getPoint() << "': " << error;
  return q;
}

FailureOr<FloatQuantizedWeight>
mlir::qopt::quantizeObservedWeightFloat(ObserveOp observe, FloatFormat format) {
  FailureOr<std::vector<float>> w = observedWeightValues(observe);
  if (failed(w))
    return failure();
  auto type = cast<RankedTensorType>(observe.getType());
  std::string error;
  FloatQuantizedWeight q = quantizeWeightFloat(
      *w, type.getDimSize(0), type.getDimSize(1), format, error);
  if (!error.empty())
    return observe.emitError()
           << "weight point '" << observe.getPoint() << "': " << error;
  return q;
}

FailureOr<quant::UniformQuantizedType>
mlir::qopt::calibratedActivationType(ObserveOp observe, bool symmetric) {
  StatsAttr stats = observe.getStatsAttr();
  if (!stats)
    return observe.emitError()
           << "activation point '" << observe.getPoint()
           << "' has no calibration statistics (run qopt-calibrate first, or "
              "use activations=dynamic)";
  return activationQuantType(observe.getContext(),
                             stats.getMin().getValueAsDouble(),
                             stats.getMax().getValueAsDouble(), 8, symmetric);
}

/// An embedding table [V, D] quantized per row (per token: groups along D),
/// by quantizing its transpose as a [D, V] weight; empty on error.
static std::vector<float> fakeQuantizeRows(ArrayRef<float> table,
                                           RankedTensorType type,
                                           const QuantScheme &scheme,
                                           ObserveOp observe) {
  int64_t v = type.getDimSize(0), d = type.getDimSize(1);
  std::vector<float> transposed = transposeMatrix(table, v, d), deq(v * d);
  std::string error;
  if (scheme.floatFormat) {
    FloatQuantizedWeight q =
        quantizeWeightFloat(transposed, d, v, *scheme.floatFormat, error);
    if (error.empty())
      for (int64_t c = 0; c < d; ++c)
        for (int64_t r = 0; r < v; ++r)
          deq[c * v + r] = q.valueAt(c, r);
  } else {
    QuantizedWeight q = quantizeWeight(transposed, d, v, scheme.weights, error);
    if (error.empty())
      deq = dequantizeWeight(q);
  }
  if (!error.empty()) {
    observe.emitError() << "table point '" << observe.getPoint()
                        << "': " << error;
    return {};
  }
  return transposeMatrix(deq, d, v);
}

QuantScheme mlir::qopt::tableScheme(const QuantScheme &modelScheme,
                                    ObserveOp table) {
  QuantScheme scheme = schemeAt(modelScheme, table);
  // A tied token table takes its LM head's scheme, as that layer's
  // options select it (the head still observed; once it is a qopt.qmatmul
  // the table reads its stored weight instead).
  if (pointRole(table) == kEmbeddingRole && !table->hasAttr(kFormatAttr))
    if (auto func = table->getParentOfType<func::FuncOp>())
      func.walk([&](linalg::MatmulOp head) {
        auto weight = head.getInputs()[1].getDefiningOp<ObserveOp>();
        if (!head->hasAttr(kTiedAttr) || !weight)
          return;
        QuantScheme headScheme = schemeAt(modelScheme, weight);
        scheme.weights = headScheme.weights;
        scheme.floatFormat = headScheme.floatFormat;
      });
  if (scheme.weights.granularity == WeightGranularity::Tensor)
    scheme.weights.granularity = WeightGranularity::Channel;
  return scheme;
}

LogicalResult mlir::qopt::fakeQuantizeObserve(ObserveOp observe,
                                              const QuantScheme &modelScheme) {
  QuantScheme scheme = observe.getPoint().ends_with(":table")
                           ? tableScheme(modelScheme, observe)
                           : schemeAt(modelScheme, observe);
  OpBuilder b(observe);
  Value replacement = observe.getInput();
  if (scheme.keepFloat) {
    // Stays f32: the point just goes.
  } else if (observe.getRole() == ObserveRole::weight) {
    std::vector<float> w;
    if (observe.getPoint().ends_with(":table")) {
      // Embedding tables: per row (token), whatever the format.
      FailureOr<std::vector<float>> table = observedWeightValues(observe);
      if (failed(table))
        return failure();
      w = fakeQuantizeRows(*table, cast<RankedTensorType>(observe.getType()),
                           scheme, observe);
      if (w.empty())
        return failure();
    } else if (scheme.floatFormat) {
      FailureOr<FloatQuantizedWeight> q =
          quantizeObservedWeightFloat(observe, *scheme.floatFormat);
      if (failed(q))
        return failure();
      for (int64_t r = 0; r < q->k; ++r)
        for (int64_t c = 0; c < q->n; ++c)
          w.push_back(q->valueAt(r, c));
    } else {
      FailureOr<QuantizedWeight> q =
          quantizeObservedWeight(observe, scheme.weights);
      if (failed(q))
        return failure();
      w = dequantizeWeight(*q);
    }
    replacement = createResourceConstant(
        b, observe.getLoc(), cast<RankedTensorType>(observe.getType()),
        ArrayRef<float>(w), "fake_quant_weight");
  } else if (scheme.activations == ActivationMode::Static) {
    FailureOr<quant::UniformQuantizedType> type =
        calibratedActivationType(observe, scheme.activationSymmetric);
    if (failed(type))
      return failure();
    replacement = FakeQuantOp::create(b, observe.getLoc(), observe.getType(),
                                      observe.getInput(), TypeAttr::get(*type));
  } else if (scheme.activations == ActivationMode::Dynamic) {
    replacement = DynamicFakeQuantOp::create(
        b, observe.getLoc(), observe.getType(), observe.getInput(),
        scheme.activationSymmetric ? b.getUnitAttr() : UnitAttr());
  }
  auto constant = observe.getInput().getDefiningOp<arith::ConstantOp>();
  observe.replaceAllUsesWith(replacement);
  observe.erase();
  if (constant && constant->use_empty())
    constant.erase();
  return success();
}

LogicalResult mlir::qopt::fakeQuantizeAll(Operation *root,
                                          const QuantScheme &scheme) {
  SmallVector<ObserveOp> points;
  root->walk([&](ObserveOp op) { points.push_back(op); });
  bool failedAny = false;
  for (ObserveOp point : points)
    failedAny |= failed(fakeQuantizeObserve(point, scheme));
  return failure(failedAny);
}

FailureOr<CandidateFormat> mlir::qopt::parseCandidateFormat(StringRef name) {
  CandidateFormat f;
  f.name = name.str();
  if (std::optional<FloatFormat> ff = parseFloatFormat(name);
      ff && (*ff == FloatFormat::F16 || *ff == FloatFormat::BF16)) {
    f.floatFormat = ff;
    return f;
  }
  auto [bitsText, groupText] = name.split("-g");
  unsigned bits = 0;
  if (bitsText == "int8")
    bits = 8;
  else if (bitsText == "int4")
    bits = 4;
  else if (bitsText == "int3")
    bits = 3;
  else
    return failure();
  f.scheme.bits = bits;
  f.scheme.symmetric = true;
  f.scheme.granularity = WeightGranularity::Channel;
  if (!groupText.empty()) {
    if (groupText.getAsInteger(10, f.scheme.groupSize) ||
        f.scheme.groupSize <= 0)
      return failure();
    f.scheme.granularity = WeightGranularity::Group;
  }
  return f;
}

double CandidateFormat::bytes(int64_t k, int64_t n) const {
  if (floatFormat)
    return 2.0 * k * n;
  unsigned container = containerBits(scheme.bits);
  int64_t groups =
      scheme.granularity == WeightGranularity::Group ? k / scheme.groupSize : 1;
  return (double)k * ((n * container + 7) / 8) + 4.0 * groups * n;
}

std::vector<StoredTensor> mlir::qopt::storedTensors(Operation *root) {
  std::vector<StoredTensor> tensors;
  std::optional<size_t> tiedHead;
  for (ObservedLinear layer : findObservedLinears(root)) {
    auto type = cast<RankedTensorType>(layer.weight.getType());
    if (layer.matmul->hasAttr(kTiedAttr))
      tiedHead = tensors.size();
    tensors.push_back({pointLayer(layer.weight).str(),
                       roleOf(layer.matmul).str(),
                       type.getDimSize(0),
                       type.getDimSize(1),
                       {layer.weight},
                       {false},
                       layer.input});
  }
  SmallVector<ObserveOp> tables;
  root->walk([&](ObserveOp op) {
    if (op.getRole() == ObserveRole::weight &&
        op.getPoint().ends_with(":table"))
      tables.push_back(op);
  });
  for (ObserveOp table : tables) {
    // The tied token table is the LM head's weight, read transposed.
    if (tiedHead && pointRole(table) == kEmbeddingRole) {
      StoredTensor &head = tensors[*tiedHead];
      head.points.push_back(table);
      head.transposed.push_back(true);
      head.role = "lm_head+embedding";
      continue;
    }
    auto type = cast<RankedTensorType>(table.getType());
    tensors.push_back({pointLayer(table).str(),
                       pointRole(table).str(),
                       type.getDimSize(1),
                       type.getDimSize(0),
                       {table},
                       {true},
                       nullptr});
  }
  return tensors;
}
