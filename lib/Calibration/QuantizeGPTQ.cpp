//===- QuantizeGPTQ.cpp - qopt-gptq: linear layers rounded by GPTQ --------===//
//
// Finds the observed linear layers, gets each one's Hessian (from the
// x^T x statistics already attached, by calibrating the float model in
// batches of layers whose sums fit in memory, or by calibrating stage by
// stage with the earlier stages' quantized weights in the compiled model),
// runs GPTQ (Dialect/QOpt/Algorithms/GPTQ.h) and replaces the layer by
// qopt.qmatmul.
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
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

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

/// `bytes` in a readable unit ("3.1 GB", "12.0 MB", "16.5 KB", "208 B";
/// powers of 1024, as /proc/meminfo counts).
std::string formatBytes(uint64_t bytes) {
  double value = bytes;
  if (value >= double(1 << 30))
    return llvm::formatv("{0:f1} GB", value / double(1 << 30)).str();
  if (value >= double(1 << 20))
    return llvm::formatv("{0:f1} MB", value / double(1 << 20)).str();
  if (value >= 1024)
    return llvm::formatv("{0:f1} KB", value / 1024).str();
  return llvm::formatv("{0} B", bytes).str();
}

/// `value` as printf's %g writes it.
std::string formatNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

/// The value of `field` ("MemAvailable") in a /proc file of "name: value
/// kB" lines, in bytes; nullopt when absent.
std::optional<uint64_t> procBytes(StringRef path, StringRef field) {
  auto buffer = llvm::MemoryBuffer::getFileAsStream(path);
  if (!buffer)
    return std::nullopt;
  SmallVector<StringRef> lines;
  (*buffer)->getBuffer().split(lines, '\n');
  for (StringRef line : lines) {
    if (!line.consume_front(field) || !line.consume_front(":"))
      continue;
    uint64_t value;
    line = line.trim();
    bool kilobytes = line.consume_back("kB");
    if (line.trim().getAsInteger(10, value))
      return std::nullopt;
    return kilobytes ? value * 1024 : value;
  }
  return std::nullopt;
}

/// The memory the pass can still take, in bytes: MemAvailable less the
/// pages this process already maps from files (a module read from bytecode
/// maps its weights: MemAvailable counts them as reclaimable cache, but the
/// pass reads them). QOPT_MEM_AVAILABLE_MB replaces the figure (tests).
/// nullopt when unknown (no /proc).
std::optional<uint64_t> usableMemory() {
  if (const char *text = std::getenv("QOPT_MEM_AVAILABLE_MB")) {
    double mb;
    if (!StringRef(text).getAsDouble(mb) && mb >= 0)
      return uint64_t(mb * double(1 << 20));
  }
  std::optional<uint64_t> available =
      procBytes("/proc/meminfo", "MemAvailable");
  if (!available)
    return std::nullopt;
  uint64_t mapped = procBytes("/proc/self/status", "RssFile").value_or(0);
  return *available > mapped ? *available - mapped : 0;
}

/// What calibrating in layer batches holds at its peak, term by term, in
/// bytes (sequential=false with calibration data). Measured on GPT-2 124M:
/// the compiled copy adds its weight archive as mapped file pages (the
/// weights once more) and ~60 MB of IR and code; the sums are allocated on
/// the first window of a run.
struct MemoryEstimate {
  /// The module's constants (its weights): loaded before the pass runs.
  uint64_t module = 0;
  /// The compiled copy's weight archive: the same constants, written to a
  /// temporary file and mapped; every window reads them all, so they are
  /// resident while the calibration runs (file pages, counted in RSS).
  uint64_t archive = 0;
  /// One window's activations: every layer's input and output [seq-len,
  /// K + N] in f32 and the logits, as if all were live at once (a bound).
  uint64_t window = 0;
  /// GPTQ's working set for the largest layer beyond its sums: three more
  /// K x K f64 matrices (the damped copy, the act-order permutation, the
  /// inverse Cholesky factor) and LAPACKE's row-major transpose (32 K^2
  /// bytes), and per weight element the f32 weight, two f64 copies (one
  /// permuted), the codes of GPTQ and RTN (int16) and the dequantized f32
  /// for the errors (30 K N bytes).
  uint64_t gptq = 0;
  /// What the pass needs beyond the module when a batch holds `sums`.
  uint64_t beyondModule(uint64_t sums) const {
    return archive + window + gptq + sums;
  }
};

/// The sums one input costs while its batch is alive: x^T x in f64
/// (K^2 x 8) and the block of rows converted for dsyrk (up to 256 rows of
/// K f64). (Its layers' results are replaced as soon as they are rounded:
/// their codes count in GPTQ's working set.)
uint64_t inputSumsBytes(int64_t k, int64_t seqLen) {
  return uint64_t(k) * k * 8 + std::min<int64_t>(256, seqLen) * k * 8;
}

MemoryEstimate estimateMemory(ModuleOp module, ArrayRef<ObservedLinear> layers,
                              int64_t seqLen) {
  MemoryEstimate estimate;
  module.walk([&](arith::ConstantOp op) {
    auto value = dyn_cast<ElementsAttr>(op.getValue());
    if (!value || value.isSplat())
      return;
    auto type = cast<ShapedType>(value.getType());
    estimate.module += uint64_t(type.getNumElements()) *
                       ((type.getElementTypeBitWidth() + 7) / 8);
  });
  estimate.archive = estimate.module;
  uint64_t rowFloats = 0, maxColumns = 0;
  for (ObservedLinear layer : layers) {
    auto type = cast<RankedTensorType>(layer.weight.getType());
    uint64_t k = type.getDimSize(0), n = type.getDimSize(1);
    rowFloats += k + n;
    maxColumns = std::max(maxColumns, n);
    estimate.gptq = std::max(estimate.gptq, 32 * k * k + 30 * k * n);
  }
  estimate.window = uint64_t(seqLen) * 4 * (rowFloats + maxColumns);
  return estimate;
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
  /// Checks samples and seq-len (errors reported).
  LogicalResult checkWindows();
  /// The calibration tokens; failure once the error is reported.
  FailureOr<std::vector<int32_t>> readTokens();
  /// sequential=false with calibration data: the Hessians of the layers
  /// `pending` from runs of the float model, one per batch of inputs whose
  /// sums fit the budget; `quantized(i)` is called when layer i is rounded.
  LogicalResult
  calibrateInBatches(ArrayRef<ObservedLinear> layers, ArrayRef<size_t> pending,
                     ArrayRef<QuantScheme> schemes, ArrayRef<int64_t> stages,
                     MutableArrayRef<LayerRecord> records,
                     function_ref<void(size_t)> quantized,
                     double &compileSeconds, double &calibrationSeconds);
};

LogicalResult QOptGPTQPass::checkWindows() {
  auto fail = [&](const Twine &message) {
    return emitError(getOperation().getLoc()) << "qopt-gptq: " << message;
  };
  if (samples < 1)
    return fail("samples must be >= 1, got " + Twine(int64_t(samples)));
  if (seqLen < 2)
    return fail("seq-len must be >= 2, got " + Twine(int64_t(seqLen)));
  return success();
}

FailureOr<std::vector<int32_t>> QOptGPTQPass::readTokens() {
  auto tokenIds = readCalibrationTokens(data, tokens, tokenizerDir, seqLen);
  if (!tokenIds)
    return emitError(getOperation().getLoc())
           << "qopt-gptq: " << llvm::toString(tokenIds.takeError());
  return std::move(*tokenIds);
}

/// The distinct observed inputs of `layers[indices]` in graph order (layers
/// may share one), and the position in `inputs` of each listed layer's.
struct DistinctInputs {
  SmallVector<ObserveOp> inputs;
  std::vector<size_t> inputOf;
  DistinctInputs(ArrayRef<ObservedLinear> layers, ArrayRef<size_t> indices) {
    DenseMap<Operation *, size_t> ids;
    for (size_t i : indices) {
      ObserveOp input = layers[i].input;
      auto [it, inserted] =
          ids.try_emplace(input.getOperation(), inputs.size());
      if (inserted)
        inputs.push_back(input);
      inputOf.push_back(it->second);
    }
  }
};

LogicalResult QOptGPTQPass::calibrateInBatches(
    ArrayRef<ObservedLinear> layers, ArrayRef<size_t> pending,
    ArrayRef<QuantScheme> schemes, ArrayRef<int64_t> stages,
    MutableArrayRef<LayerRecord> records, function_ref<void(size_t)> quantized,
    double &compileSeconds, double &calibrationSeconds) {
  ModuleOp module = getOperation();
  auto fail = [&](const Twine &message) {
    return emitError(module.getLoc()) << "qopt-gptq: " << message;
  };
  if (failed(checkWindows()))
    return failure();
  if (!(hessianMemoryMb >= 0) || !std::isfinite(hessianMemoryMb))
    return fail("hessian-memory-mb must be >= 0 (0: derived from the "
                "available memory), got " +
                formatNumber(hessianMemoryMb));
  FailureOr<std::vector<int32_t>> tokenIds = readTokens();
  if (failed(tokenIds))
    return failure();

  // The distinct inputs in graph order, the layers reading each.
  DistinctInputs distinct(layers, pending);
  SmallVector<ObserveOp> &inputs = distinct.inputs;
  std::vector<std::vector<size_t>> readers(inputs.size());
  for (auto [i, input] : llvm::zip_equal(pending, distinct.inputOf))
    readers[input].push_back(i);
  std::vector<uint64_t> bytes;
  for (const std::vector<size_t> &members : readers) {
    ObservedLinear layer = layers[members[0]];
    int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
    bytes.push_back(inputSumsBytes(k, seqLen));
  }
  uint64_t total = 0, largest = 0;
  size_t largestInput = 0;
  for (auto [i, b] : llvm::enumerate(bytes)) {
    total += b;
    if (b > largest)
      largest = b, largestInput = i;
  }

  // The budget, and a refusal before anything is compiled when even a
  // batch of one input cannot fit.
  MemoryEstimate estimate = estimateMemory(module, layers, seqLen);
  std::optional<uint64_t> usable = usableMemory();
  auto describe = [&](uint64_t sums) {
    return "the module's weights " + formatBytes(estimate.module) +
           " (loaded), the calibration model's weight archive " +
           formatBytes(estimate.archive) + ", GPTQ's working set " +
           formatBytes(estimate.gptq) + ", one window's activations " +
           formatBytes(estimate.window) + ", x^T x " + formatBytes(sums);
  };
  if (usable && estimate.beyondModule(largest) > *usable)
    return fail(
        "calibrating in layer batches needs about " +
        formatBytes(estimate.module + estimate.beyondModule(largest)) +
        " at its peak even one layer at a time (" + describe(largest) +
        " for layer '" + records[readers[largestInput][0]].name +
        "'): " + formatBytes(estimate.beyondModule(largest)) +
        " beyond the module, but " + formatBytes(*usable) +
        " is available (MemAvailable less the files this process maps)");
  uint64_t budget = UINT64_MAX;
  if (hessianMemoryMb > 0)
    budget = uint64_t(hessianMemoryMb * double(1 << 20));
  else if (usable)
    budget =
        std::max(largest, *usable / 4 * 3 - std::min(*usable / 4 * 3,
                                                     estimate.beyondModule(0)));
  // Only an explicit budget can be smaller than one input's sums.
  if (largest > budget) {
    inputs[largestInput].emitError()
        << "qopt-gptq: layer '" << records[readers[largestInput][0]].name
        << "': its x^T x sums need " << largest << " bytes ("
        << formatBytes(largest) << "), more than one calibration run may hold "
        << "(hessian-memory-mb=" << formatNumber(hessianMemoryMb) << ": "
        << budget << " bytes)";
    return failure();
  }
  // Greedy, in graph order.
  std::vector<std::vector<size_t>> batches;
  uint64_t batchBytes = 0;
  for (auto [i, b] : llvm::enumerate(bytes)) {
    if (batches.empty() || batchBytes + b > budget) {
      batches.emplace_back();
      batchBytes = 0;
    }
    batches.back().push_back(i);
    batchBytes += b;
  }
  if (progress) {
    llvm::errs() << "qopt-gptq: memory: " << describe(total) << " for "
                 << inputs.size() << " inputs";
    if (usable)
      llvm::errs() << "; " << formatBytes(*usable) << " available";
    llvm::errs() << ": " << batches.size()
                 << (batches.size() == 1 ? " batch" : " batches");
    if (budget != UINT64_MAX)
      llvm::errs() << " of at most " << formatBytes(budget);
    llvm::errs() << "\n";
  }

  auto compileStart = CalibrationClock::now();
  if (progress)
    llvm::errs() << "qopt-gptq: compiling the calibration model\n";
  // No weight slots: the weights stay the module's constants (float), and
  // slots would hold another copy of them.
  auto created = CalibrationSession::create(module, inputs, {});
  if (!created)
    return fail(llvm::toString(created.takeError()));
  std::unique_ptr<CalibrationSession> session = std::move(*created);
  compileSeconds += secondsSince(compileStart);

  // The LM head runs on every position only in batches that observe a
  // layer of the last stage (as the sequential calibration does).
  int64_t lastStage = *llvm::max_element(stages);
  StatisticsOptions statsOptions;
  statsOptions.xtx = true;
  for (auto [b, batch] : llvm::enumerate(batches)) {
    SmallVector<bool> active(inputs.size(), false);
    uint64_t sums = 0;
    size_t layerCount = 0;
    bool everyPosition = false;
    for (size_t i : batch) {
      active[i] = true;
      sums += bytes[i];
      layerCount += readers[i].size();
      for (size_t l : readers[i])
        everyPosition |= stages[l] == lastStage;
    }
    std::string label;
    if (progress) {
      llvm::errs() << "qopt-gptq: batch " << b + 1 << "/" << batches.size()
                   << ": " << layerCount
                   << (layerCount == 1 ? " layer, " : " layers, ")
                   << formatBytes(sums) << " of x^T x\n";
      label = ("qopt-gptq: batch " + Twine(b + 1) + "/" +
               Twine(batches.size()) + " calibration")
                  .str();
    }
    std::vector<PointStatistics> stats;
    auto runStart = CalibrationClock::now();
    if (auto err = session->run(*tokenIds, {samples, seqLen}, statsOptions,
                                active, !everyPosition, label, stats))
      return fail(llvm::toString(std::move(err)));
    calibrationSeconds += secondsSince(runStart);
    // After the last run the compiled copy (its mapped weight archive, its
    // code) is freed before GPTQ's working sets join the sums.
    if (b + 1 == batches.size())
      session.reset();
    for (size_t i : batch) {
      PointStatistics &input = stats[i];
      if (input.sawNonFinite())
        return inputs[i].emitError()
               << "qopt-gptq: layer '" << records[readers[i][0]].name
               << "': its input saw NaN or Inf during calibration";
      int64_t rows = input.rowCount();
      std::vector<double> xtx = input.takeXtxMatrix();
      // Rounded to f32, as qopt-calibrate{collect-xtx=true} stores them:
      // the same Hessians, so the same codes, whichever way they came.
      for (double &v : xtx)
        v = static_cast<float>(v);
      for (auto [r, l] : llvm::enumerate(readers[i])) {
        bool last = r + 1 == readers[i].size();
        if (failed(quantizeLayer(layers[l], schemes[l],
                                 last ? std::move(xtx) : xtx, rows,
                                 records[l])))
          return failure();
        quantized(l);
      }
    }
  }
  return success();
}

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
  // Layers are replaced in order, each as soon as it and every layer
  // before it are rounded (the batches free their results as they go).
  std::vector<bool> rounded(layers.size(), false);
  size_t replaced = 0;
  // A layer that cannot be replaced is reported and skipped.
  auto replaceRounded = [&]() -> LogicalResult {
    bool ok = true;
    for (; replaced < layers.size() && rounded[replaced]; ++replaced) {
      ok &= succeeded(replaceWithQMatmul(layers[replaced], schemes[replaced],
                                         records[replaced].result.weight));
      records[replaced].result.weight = QuantizedWeight();
    }
    return success(ok);
  };
  if (!sequential) {
    // The x^T x attached by qopt-calibrate where there is one; given
    // calibration data, the other layers are calibrated in batches.
    bool calibrates = !data.empty() || !tokens.empty();
    SmallVector<size_t> pending;
    for (auto [i, layer] : llvm::enumerate(layers)) {
      int64_t k = cast<RankedTensorType>(layer.weight.getType()).getDimSize(0);
      StatsAttr stats = layer.input.getStatsAttr();
      if (calibrates && !(stats && stats.getXtx())) {
        pending.push_back(i);
        continue;
      }
      FailureOr<std::vector<double>> xtx = calibratedXtx(
          layer.input, k,
          "run qopt-calibrate{collect-xtx=true} first, or give qopt-gptq "
          "calibration data (data= or tokens=)");
      if (failed(xtx) ||
          failed(quantizeLayer(layer, schemes[i], std::move(*xtx),
                               layer.input.getStatsAttr().getSamples(),
                               records[i]))) {
        failedAny = true;
        continue;
      }
    }
    if (failedAny)
      return signalPassFailure();
    if (!pending.empty()) {
      for (size_t i = 0; i < layers.size(); ++i)
        rounded[i] = !llvm::is_contained(pending, i);
      if (failed(calibrateInBatches(
              layers, pending, schemes, stages, records,
              [&](size_t i) {
                rounded[i] = true;
                failedAny |= failed(replaceRounded());
              },
              compileSeconds, calibrationSeconds)))
        return signalPassFailure();
    }
  } else {
    if (data.empty() == tokens.empty())
      return fail("sequential calibration needs calibration data: give "
                  "data=<text file> or tokens=<file> (or run "
                  "qopt-calibrate{collect-xtx=true} and sequential=false)");
    if (failed(checkWindows()))
      return signalPassFailure();
    FailureOr<std::vector<int32_t>> tokenIds = readTokens();
    if (failed(tokenIds))
      return signalPassFailure();
    // Inputs (maybe shared between layers) report; every weight is a slot.
    auto all = llvm::to_vector(llvm::seq<size_t>(0, layers.size()));
    DistinctInputs distinct(layers, all);
    SmallVector<ObserveOp> &inputs = distinct.inputs;
    std::vector<size_t> &inputOf = distinct.inputOf;
    SmallVector<ObserveOp> weights;
    for (ObservedLinear layer : layers)
      weights.push_back(layer.weight);
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
  for (const LayerRecord &record : records)
    gptqSeconds += record.seconds;
  rounded.assign(layers.size(), true);
  if (failed(replaceRounded()) || failedAny)
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
