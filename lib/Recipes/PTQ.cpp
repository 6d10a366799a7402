//===- PTQ.cpp - One-flag post-training quantization recipes --------------===//

#include "quant-opt/Recipes/PTQ.h"
#include "quant-opt/Calibration/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Recipes/RecipeTable.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qopt;

/// The first option outside its domain, as "name=value: domain", or
/// nullopt. Checked when the pipeline is parsed, before anything runs.
static std::optional<std::string>
checkPTQOptionDomains(const PTQOptions &options) {
  auto text = [](double value) {
    std::string result;
    llvm::raw_string_ostream(result) << llvm::format("%g", value);
    return result;
  };
  auto bad = [&](StringRef name, const Twine &value, const Twine &domain) {
    return (name + "=" + value + ": " + domain).str();
  };
  for (auto [name, value] :
       {std::pair<StringRef, double>{"size-mb", options.sizeMb},
        {"bits-per-weight", options.bitsPerWeight},
        {"max-kl", options.maxKl},
        {"outlier-threshold", options.outlierThreshold}})
    if (!std::isfinite(value) || value < 0)
      return bad(name, text(value), "must be finite and 0 (off) or positive");
  for (auto [name, value] : {std::pair<StringRef, double>{"damp", options.damp},
                             {"hessian-memory-mb", options.hessianMemoryMb}})
    if (!std::isfinite(value) || value < 0)
      return bad(name, text(value), "must be finite and non-negative");
  if (!(options.smoothAlpha >= 0 && options.smoothAlpha <= 1))
    return bad("smooth-alpha", text(options.smoothAlpha), "must be in [0, 1]");
  if (!(options.percentile > 0 && options.percentile <= 100))
    return bad("percentile", text(options.percentile), "must be in (0, 100]");
  // Upper bounds far above any model here, low enough that the sizes
  // computed from them cannot overflow.
  constexpr int64_t kMaxCount = int64_t(1) << 24;
  // A calibration window scores next tokens: it needs two at least.
  for (auto [name, value, least] :
       {std::tuple<StringRef, int64_t, int64_t>{"samples", options.samples, 1},
        {"seq-len", options.seqLen, 2},
        {"block-size", options.blockSize, 1}})
    if (value < least || value > kMaxCount)
      return bad(name, Twine(value),
                 "must be in " + Twine(least) + ".." + Twine(kMaxCount));
  if (!llvm::is_contained(
          {"minmax", "moving-average", "percentile", "entropy", "mse"},
          options.method.getValue()))
    return bad("method", options.method,
               "unknown method (minmax, moving-average, percentile, entropy, "
               "mse)");
  for (auto [name, value] :
       {std::pair<StringRef, StringRef>{"skip", options.skip},
        {"float-activations", options.floatActivations},
        {"int8-weights", options.int8Weights},
        {"smooth-skip", options.smoothSkip}}) {
    std::string why;
    if (!value.empty() && !llvm::Regex(value).isValid(why))
      return bad(name, "'" + value + "'",
                 "not a regular expression (" + why + ")");
  }
  return std::nullopt;
}

/// Why `options` cannot be built into a pipeline, or success. Checked
/// before anything runs.
static llvm::Error checkPTQOptions(const PTQOptions &options) {
  auto fail = [](const Twine &message) {
    return llvm::createStringError(message.str());
  };
  if (std::optional<std::string> error = checkPTQOptionDomains(options))
    return fail("qopt-ptq: " + *error);
  if (!lookupRecipe(options.recipe))
    return fail("qopt-ptq: unknown recipe '" + options.recipe + "' (" +
                recipeNames() + ")");
  if (!llvm::is_contained({"rtn", "gptq", "awq", "awq+gptq"},
                          options.algorithm.getValue()))
    return fail("qopt-ptq: unknown algorithm '" + options.algorithm +
                "' (rtn, gptq, awq, awq+gptq)");
  if (options.algorithm != "rtn") {
    const Recipe &r = *lookupRecipe(options.recipe);
    if (!r.isInteger())
      return fail("qopt-ptq: algorithm=" + options.algorithm +
                  " works on integer weights; recipe '" + options.recipe +
                  "' has " + r.format + " weights");
    if (options.fake)
      return fail("qopt-ptq: algorithm=" + options.algorithm +
                  " quantizes for real (fake=true is RTN "
                  "only)");
    if (options.data.empty() == options.tokens.empty())
      return fail("qopt-ptq: algorithm=" + options.algorithm +
                  " calibrates: give "
                  "calibration-data=<text> or "
                  "calibration-tokens=<file>");
  }
  if (options.outlierThreshold > 0 &&
      lookupRecipe(options.recipe)->activations == "none")
    return fail("qopt-ptq: outlier-threshold needs a recipe with quantized "
                "activations and 8-bit weights (" +
                recipeNames([](const Recipe &r) {
                  return r.activations != "none" && r.bits == 8;
                }) +
                ")");
  if (options.smooth && lookupRecipe(options.recipe)->activations == "none")
    return fail(
        "qopt-ptq: smooth needs a recipe with quantized activations (" +
        recipeNames([](const Recipe &r) { return r.activations != "none"; }) +
        ")");
  if (options.recipe == "auto" && options.algorithm != "rtn")
    return fail("qopt-ptq: recipe=auto measures and applies "
                "round-to-nearest formats (algorithm=rtn); "
                "algorithm=" +
                options.algorithm + " is not offered with it");
  if (options.recipe == "auto" && (options.sizeMb > 0) +
                                          (options.bitsPerWeight > 0) +
                                          (options.maxKl > 0) !=
                                      1)
    return fail("qopt-ptq: recipe=auto needs one of size-mb, "
                "bits-per-weight or max-kl");
  bool calibrates = lookupRecipe(options.recipe)->calibrates() ||
                    options.smooth || options.outlierThreshold > 0;
  if (calibrates && options.data.empty() == options.tokens.empty())
    return fail("qopt-ptq: recipe '" + options.recipe + "'" +
                (options.outlierThreshold > 0 ? " with outlier-threshold"
                 : options.smooth             ? " with smooth"
                                              : "") +
                " calibrates: give calibration-data=<text> or "
                "calibration-tokens=<file>");
  return llvm::Error::success();
}

llvm::Error mlir::qopt::buildPTQPipeline(OpPassManager &pm,
                                         const PTQOptions &options) {
  if (llvm::Error error = checkPTQOptions(options))
    return error;
  const Recipe *recipe = lookupRecipe(options.recipe);
  pm.addNestedPass<func::FuncOp>(createQOptFoldConstantTransposesPass());
  QOptInsertObserversPassOptions observe;
  observe.attention = options.attention;
  // Tables are stored quantized for integer formats only (qopt.qgather).
  observe.embedding = options.embedding && recipe->format == "int";
  observe.skip = options.skip;
  pm.addPass(createQOptInsertObserversPass(observe));
  // Outlier decomposition and smoothing need per-channel maxima even for
  // dynamic activations; static ones need calibrated ranges, after smoothing
  // when it changed them.
  bool isStatic = recipe->activations == "static";
  bool calibrate = isStatic || options.outlierThreshold > 0 || options.smooth;
  // The passes that run the model on calibration text read it alike.
  auto copyCalibrationData = [&](auto &pass) {
    pass.data = options.data;
    pass.tokens = options.tokens;
    pass.tokenizerDir = options.tokenizerDir;
    pass.samples = options.samples;
    pass.seqLen = options.seqLen;
  };
  QOptCalibratePassOptions calibration;
  copyCalibrationData(calibration);
  calibration.method = options.method;
  calibration.percentile = options.percentile;
  calibration.progress = options.progress;
  calibration.perChannel = options.outlierThreshold > 0;
  if (calibrate)
    pm.addPass(createQOptCalibratePass(calibration));
  if (options.smooth) {
    QOptSmoothActivationsPassOptions smoothing;
    // Layers with float activations are smoothed too: the scales then
    // give their high-activation weight rows finer steps (as AWQ does).
    smoothing.alpha = options.smoothAlpha;
    smoothing.skip = options.smoothSkip;
    pm.addPass(createQOptSmoothActivationsPass(smoothing));
    if (isStatic || options.outlierThreshold > 0)
      pm.addPass(createQOptCalibratePass(calibration));
  }
  auto fill = [&](auto &scheme) {
    // Float formats carry their width in the format; weight-bits stays 8.
    scheme.weightBits = recipe->isInteger() ? recipe->bits : 8;
    scheme.weightFormat = recipe->format.str();
    scheme.weightSymmetric = options.symmetric;
    scheme.weightGranularity = recipe->granularity.str();
    scheme.groupSize = recipe->groupSize;
    scheme.weightMseClip = options.mseClip;
    scheme.activations = recipe->activations.str();
    scheme.outlierThreshold = options.outlierThreshold;
    scheme.floatActivations = options.floatActivations;
    scheme.int8Weights = options.int8Weights;
  };
  if (options.recipe == "auto") {
    QOptSensitivityPassOptions sensitivity;
    copyCalibrationData(sensitivity);
    sensitivity.formats = options.formats;
    sensitivity.progress = options.progress;
    pm.addPass(createQOptSensitivityPass(sensitivity));
    QOptAssignPrecisionPassOptions assign;
    assign.sizeMb = options.sizeMb;
    assign.bitsPerWeight = options.bitsPerWeight;
    assign.maxKl = options.maxKl;
    pm.addPass(createQOptAssignPrecisionPass(assign));
  }
  bool awq = options.algorithm == "awq" || options.algorithm == "awq+gptq";
  bool gptqRounding =
      options.algorithm == "gptq" || options.algorithm == "awq+gptq";
  if (awq) {
    // AWQ searches on x^T x, and leaves float weights for the rounding.
    QOptCalibratePassOptions xtx = calibration;
    xtx.collectXtx = true;
    pm.addPass(createQOptCalibratePass(xtx));
    QOptAWQPassOptions scaling;
    fill(scaling);
    pm.addPass(createQOptAWQPass(scaling));
    if (isStatic)
      pm.addPass(createQOptCalibratePass(calibration));
  }
  if (gptqRounding) {
    QOptGPTQPassOptions gptq;
    fill(gptq);
    copyCalibrationData(gptq);
    gptq.damp = options.damp;
    gptq.blockSize = options.blockSize;
    gptq.actOrder = options.actOrder;
    gptq.staticGroups = options.staticGroups;
    gptq.sequential = options.sequential;
    gptq.hessianMemoryMb = options.hessianMemoryMb;
    gptq.report = options.report;
    gptq.progress = options.progress;
    // Without sequential, qopt-gptq calibrates the float model by itself,
    // in batches of layers that fit in memory. After AWQ (which changed
    // the weights and dropped the statistics of the inputs it scaled) the
    // x^T x of the whole AWQ'd model is taken at once, as before.
    if (!options.sequential && awq) {
      QOptCalibratePassOptions xtx = calibration;
      xtx.collectXtx = true;
      pm.addPass(createQOptCalibratePass(xtx));
    }
    pm.addPass(createQOptGPTQPass(gptq));
  } else if (options.fake) {
    QOptFakeQuantPassOptions scheme;
    fill(scheme);
    pm.addPass(createQOptFakeQuantPass(scheme));
  } else {
    QOptQuantizePassOptions scheme;
    fill(scheme);
    pm.addPass(createQOptQuantizePass(scheme));
  }
  return llvm::Error::success();
}

void mlir::qopt::registerPTQPipelines() {
  registerPassPipeline(
      "qopt-ptq",
      "Post-training quantization with one recipe (e.g. "
      "qopt-ptq{recipe=w4-g128}, "
      "qopt-ptq{recipe=w8a8-static calibration-data=FILE})",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        PTQOptions options;
        // An unknown option is reported where the pipeline's other errors
        // go (a C API caller's diagnostics), not on stderr; a bad value
        // (llvm::cl prints why on stderr) names the options.
        std::string message;
        llvm::raw_string_ostream os(message);
        if (failed(options.parseFromString(text, os)))
          return errorHandler(message.empty()
                                  ? "qopt-ptq: invalid options '" + text + "'"
                                  : StringRef(message).trim());
        if (llvm::Error error = buildPTQPipeline(pm, options))
          return errorHandler(llvm::toString(std::move(error)));
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> handler) {
        handler(PTQOptions());
      });
}
