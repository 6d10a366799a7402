//===- QuantizeGPTQ.cpp - qopt-gptq: linear layers rounded by GPTQ --------===//
//
// Finds the observed linear layers, gets each one's Hessian (from the
// x^T x statistics already attached, or by calibrating stage by stage with
// the earlier stages' quantized weights in the compiled model), runs GPTQ
// (Dialect/QOpt/Algorithms/GPTQ.h) and replaces the layer by qopt.qmatmul.
//
//===----------------------------------------------------------------------===//

#include "CalibrationSession.h"
#include "quant-opt/Calibration/Passes.h"
#include "quant-opt/Dialect/QOpt/Algorithms/GPTQ.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <map>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTGPTQPASS
#include "quant-opt/Calibration/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
namespace json = llvm::json;

namespace {

/// One layer's outcome, for the report.
struct LayerRecord {
  std::string name;
  int64_t k = 0, n = 0, stage = 0;
  unsigned bits = 0;
  GPTQResult result;
  double seconds = 0;
};

/// Whether `op` multiplies two activations (attention's Q K^T and P V): a
/// contraction none of whose inputs is a constant weight.
bool isActivationProduct(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2 ||
      !linalg::isaContractionOpInterface(linalgOp))
    return false;
  return llvm::none_of(linalgOp.getDpsInputs(), [](Value v) {
    return lookThroughObserve(v) || v.getDefiningOp<arith::ConstantOp>();
  });
}

/// The stage of each layer: how many activation products lie on the
/// longest path from the function's inputs to the layer's input. In a
/// transformer this cuts the layers into blocks at attention.
std::vector<int64_t> layerStages(ArrayRef<ObservedLinear> layers) {
  DenseMap<Value, int64_t> depth;
  DenseSet<Operation *> seen;
  for (ObservedLinear layer : layers) {
    auto fn = layer.matmul->getParentOfType<func::FuncOp>();
    if (!fn || !seen.insert(fn).second)
      continue;
    fn.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (op == fn.getOperation())
        return WalkResult::advance();
      int64_t d = 0;
      for (Value operand : op->getOperands())
        d = std::max(d, depth.lookup(operand));
      if (isActivationProduct(op))
        ++d;
      for (Value result : op->getResults())
        depth[result] = d;
      // Bodies of linalg ops and the like are not data flow between ops.
      return op->getNumRegions() ? WalkResult::skip() : WalkResult::advance();
    });
  }
  std::vector<int64_t> stages;
  for (ObservedLinear layer : layers)
    stages.push_back(depth.lookup(layer.input.getInput()));
  return stages;
}

/// Writes the report as JSON at `path` and as markdown next to it.
LogicalResult writeReport(Operation *root, StringRef path,
                          ArrayRef<LayerRecord> records,
                          const json::Object &summary) {
  json::Array layers;
  for (const LayerRecord &r : records)
    layers.push_back(
        json::Object{{"layer", r.name},
                     {"k", r.k},
                     {"n", r.n},
                     {"bits", r.bits},
                     {"stage", r.stage},
                     {"error_h", r.result.errorH},
                     {"rtn_error_h", r.result.rtnErrorH},
                     {"error_f", r.result.errorF},
                     {"rtn_error_f", r.result.rtnErrorF},
                     {"damp", r.result.dampUsed},
                     {"dead_channels", r.result.deadChannels},
                     {"group_index", !r.result.weight.groupIndex.empty()},
                     {"seconds", r.seconds}});
  json::Object document(summary);
  document["layers"] = std::move(layers);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return root->emitError() << "qopt-gptq: cannot write the report '" << path
                             << "': " << ec.message();
  out << llvm::formatv("{0:2}", json::Value(std::move(document))) << "\n";
  SmallString<128> markdownPath(path);
  llvm::sys::path::replace_extension(markdownPath, "md");
  llvm::raw_fd_ostream md(markdownPath, ec, llvm::sys::fs::OF_Text);
  if (ec)
    return root->emitError() << "qopt-gptq: cannot write the report '"
                             << markdownPath << "': " << ec.message();
  md << "| layer | K x N | bits | stage | ||W-Q||_H GPTQ | RTN | GPTQ/RTN | "
        "||W-Q||^2 GPTQ | RTN | damp | dead | s |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const LayerRecord &r : records)
    md << "| " << r.name << " | " << r.k << " x " << r.n << " | " << r.bits
       << " | " << r.stage << " | "
       << llvm::format("%.4g | %.4g | %.3f | %.4g | %.4g | %.3g | %d | %.2f",
                       r.result.errorH, r.result.rtnErrorH,
                       r.result.errorRatio(), r.result.errorF,
                       r.result.rtnErrorF, r.result.dampUsed,
                       (int)r.result.deadChannels, r.seconds)
       << " |\n";
  return success();
}

struct QOptGPTQPass
    : QuantSchemePass<qopt::impl::QOptGPTQPassBase<QOptGPTQPass>> {
  using QuantSchemePass::QuantSchemePass;

  void runOnOperation() override;

private:
  /// GPTQ of one layer from its Hessian sums (x^T x over `rows` rows).
  LogicalResult quantizeLayer(ObservedLinear layer, const QuantScheme &scheme,
                              std::vector<double> xtx, int64_t rows,
                              LayerRecord &record);
};

LogicalResult QOptGPTQPass::quantizeLayer(ObservedLinear layer,
                                          const QuantScheme &scheme,
                                          std::vector<double> xtx, int64_t rows,
                                          LayerRecord &record) {
  auto start = CalibrationClock::now();
  FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
  if (failed(w))
    return failure();
  auto type = cast<RankedTensorType>(layer.weight.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  if (rows <= 0)
    return layer.input.emitError()
           << "layer '" << record.name << "' saw no calibration rows";
  for (double &v : xtx)
    v *= 2.0 / rows; // H = 2/N sum x x^T.
  GPTQOptions options;
  options.scheme = scheme.weights;
  options.damp = damp;
  options.blockSize = blockSize;
  options.actOrder = actOrder;
  options.staticGroups = staticGroups;
  std::string error;
  if (!runGPTQ(*w, k, n, xtx, options, record.result, error))
    return layer.input.emitError()
           << "qopt-gptq: layer '" << record.name << "': " << error;
  record.k = k;
  record.n = n;
  record.bits = scheme.weights.bits;
  record.seconds = secondsSince(start);
  if (progress)
    llvm::errs() << llvm::format(
        "qopt-gptq: stage %lld layer '%s' [%lld x %lld] %u-bit: "
        "||W-Q||_H %.3g (RTN %.3g, x%.2f), damp %.3g, %.2f s\n",
        (long long)record.stage, record.name.c_str(), (long long)k,
        (long long)n, record.bits, record.result.errorH,
        record.result.rtnErrorH, record.result.errorRatio(),
        record.result.dampUsed, record.seconds);
  return success();
}

void QOptGPTQPass::runOnOperation() {
  ModuleOp module = getOperation();
  auto passStart = CalibrationClock::now();
  auto fail = [&](const Twine &message) {
    emitError(module.getLoc()) << "qopt-gptq: " << message;
    signalPassFailure();
  };
  FailureOr<QuantScheme> scheme = parseScheme();
  if (failed(scheme))
    return signalPassFailure();
  if (scheme->floatFormat)
    return fail("GPTQ rounds integer weights (weight-format=int)");
  if (scheme->weights.granularity == WeightGranularity::Tensor)
    return fail("GPTQ quantizes per output channel or per group "
                "(weight-granularity=channel or group)");
  if (scheme->weights.mseClip)
    return fail("weight-mse-clip does not apply: GPTQ's grid is each "
                "group's min/max");
  if (scheme->outlierThreshold > 0)
    return fail("outlier-threshold does not combine with GPTQ");
  if (blockSize < 1)
    return fail("block-size must be >= 1, got " + Twine(blockSize));
  if (!(damp > 0) || damp >= 1)
    return fail("damp must be in (0, 1), got " + std::to_string(damp));
  if (staticGroups && !actOrder)
    return fail("static-groups only applies with act-order=true");

  SmallVector<ObservedLinear> layers = findObservedLinears(module);
  if (layers.empty())
    return fail("no observed linear layers (run qopt-insert-observers "
                "first)");
  std::vector<QuantScheme> schemes;
  std::vector<LayerRecord> records(layers.size());
  std::vector<int64_t> stages = layerStages(layers);
  for (auto [i, layer] : llvm::enumerate(layers)) {
    schemes.push_back(schemeAt(*scheme, layer.input));
    records[i].name = pointLayer(layer.input).str();
    records[i].stage = stages[i];
    auto type = cast<RankedTensorType>(layer.weight.getType());
    std::string error =
        checkWeightScheme(schemes.back().weights, type.getDimSize(0));
    if (!error.empty()) {
      layer.weight.emitError()
          << "qopt-gptq: layer '" << records[i].name << "': " << error;
      return signalPassFailure();
    }
  }

  double calibrationSeconds = 0, compileSeconds = 0;
  bool failedAny = false;
  if (!sequential) {
    for (auto [i, layer] : llvm::enumerate(layers)) {
      int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
      FailureOr<std::vector<double>> xtx = calibratedXtx(
          layer.input, k,
          "run qopt-calibrate{collect-xtx=true} first, or qopt-gptq with "
          "sequential=true and calibration data");
      if (failed(xtx) ||
          failed(quantizeLayer(layer, schemes[i], std::move(*xtx),
                               layer.input.getStatsAttr().getSamples(),
                               records[i]))) {
        failedAny = true;
        continue;
      }
    }
  } else {
    if (data.empty() == tokens.empty())
      return fail("sequential calibration needs calibration data: give "
                  "data=<text file> or tokens=<file> (or run "
                  "qopt-calibrate{collect-xtx=true} and sequential=false)");
    if (samples < 1)
      return fail("samples must be >= 1, got " + Twine(int64_t(samples)));
    if (seqLen < 2)
      return fail("seq-len must be >= 2, got " + Twine(int64_t(seqLen)));
    auto tokenIds = readCalibrationTokens(data, tokens, tokenizerDir, seqLen);
    if (!tokenIds)
      return fail(llvm::toString(tokenIds.takeError()));
    // Inputs (maybe shared between layers) report; every weight is a slot.
    SmallVector<ObserveOp> inputs, weights;
    DenseMap<Operation *, size_t> inputIds;
    std::vector<size_t> inputOf;
    for (ObservedLinear layer : layers) {
      auto [it, inserted] =
          inputIds.try_emplace(layer.input.getOperation(), inputs.size());
      if (inserted)
        inputs.push_back(layer.input);
      inputOf.push_back(it->second);
      weights.push_back(layer.weight);
    }
    auto compileStart = CalibrationClock::now();
    if (progress)
      llvm::errs() << "qopt-gptq: compiling the calibration model\n";
    auto session = CalibrationSession::create(module, inputs, weights);
    if (!session)
      return fail(llvm::toString(session.takeError()));
    compileSeconds = secondsSince(compileStart);
    for (auto [i, layer] : llvm::enumerate(layers)) {
      FailureOr<std::vector<float>> w = observedWeightValues(layer.weight);
      if (failed(w))
        return signalPassFailure();
      (*session)->setWeight(i, *w);
    }
    std::map<int64_t, std::vector<size_t>> byStage;
    for (auto [i, stage] : llvm::enumerate(stages))
      byStage[stage].push_back(i);
    StatisticsOptions statsOptions;
    statsOptions.xtx = true;
    size_t stageNumber = 0;
    for (auto &[stage, members] : byStage) {
      ++stageNumber;
      SmallVector<bool> active(inputs.size(), false);
      for (size_t i : members)
        active[inputOf[i]] = true;
      bool lastStage = stageNumber == byStage.size();
      std::vector<PointStatistics> stats;
      auto runStart = CalibrationClock::now();
      std::string label = progress
                              ? ("qopt-gptq: stage " + Twine(stageNumber) +
                                 "/" + Twine(byStage.size()) + " calibration")
                                    .str()
                              : "";
      if (auto err = (*session)->run(
              *tokenIds, {samples, seqLen}, statsOptions, active,
              /*lastPositionOnly=*/!lastStage, label, stats))
        return fail(llvm::toString(std::move(err)));
      calibrationSeconds += secondsSince(runStart);
      for (size_t i : members) {
        PointStatistics &input = stats[inputOf[i]];
        if (input.sawNonFinite()) {
          layers[i].input.emitError()
              << "qopt-gptq: layer '" << records[i].name
              << "': its input saw NaN or Inf during calibration";
          return signalPassFailure();
        }
        if (failed(quantizeLayer(layers[i], schemes[i], input.xtxMatrix(),
                                 input.rowCount(), records[i])))
          return signalPassFailure();
        (*session)->setWeight(i, dequantizeWeight(records[i].result.weight));
      }
    }
  }
  if (failedAny)
    return signalPassFailure();

  double gptqSeconds = 0;
  for (auto [i, layer] : llvm::enumerate(layers)) {
    gptqSeconds += records[i].seconds;
    if (failed(replaceWithQMatmul(layer, schemes[i], records[i].result.weight)))
      failedAny = true;
  }
  if (failedAny)
    return signalPassFailure();
  // Tables as qopt-quantize quantizes them (a tied embedding shares the
  // LM head's GPTQ weight); other points (attention) are simulated.
  if (failed(quantizeTables(module, *scheme)) ||
      failed(fakeQuantizeAll(module, *scheme)))
    return signalPassFailure();

  double total = secondsSince(passStart);
  if (progress)
    llvm::errs() << llvm::format(
        "qopt-gptq: %zu layers in %.1f s: compiling the calibration model "
        "%.1f s, calibration runs %.1f s, GPTQ %.1f s\n",
        layers.size(), total, compileSeconds, calibrationSeconds, gptqSeconds);
  if (!report.empty()) {
    json::Object summary{{"layers_quantized", (int64_t)layers.size()},
                         {"sequential", (bool)sequential},
                         {"act_order", (bool)actOrder},
                         {"static_groups", (bool)staticGroups},
                         {"block_size", (int64_t)blockSize},
                         {"damp", (double)damp},
                         {"seconds_total", total},
                         {"seconds_compile", compileSeconds},
                         {"seconds_calibration", calibrationSeconds},
                         {"seconds_gptq", gptqSeconds}};
    if (failed(writeReport(module, report, records, summary)))
      return signalPassFailure();
  }
}

} // namespace
