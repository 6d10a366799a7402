//===- Calibrate.cpp - JIT-run the instrumented model on calibration data -===//
//
// The module is copied, its activation observation points become calls to
// a collector, the copy is lowered with the deployment pipeline (weights in
// a temporary archive), JIT-compiled with MLIR's ExecutionEngine and driven
// through the runtime's LanguageModel, window by window. The statistics go
// back onto the original points as #qopt.stats.
//
//===----------------------------------------------------------------------===//

#include "PointStatistics.h"
#include "quant-opt-runtime/LanguageModel.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"
#include "quant-opt/Pipelines/Pipelines.h"
#include "quant-opt/Tokenizer/GPT2Tokenizer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTCALIBRATEPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

static constexpr llvm::StringLiteral kCollectorName =
    "qopt_calibration_observe";

namespace {

/// What the JIT-compiled model reports into: one PointStatistics per
/// activation point, indexed by the id passed to the collector.
struct Session {
  std::vector<PointStatistics> points;
  std::vector<std::string> errors;
};
Session *activeSession = nullptr;

/// Adds an observed buffer to point `id`. `descriptor` is MLIR's ranked
/// memref descriptor {allocated, aligned, offset, sizes[rank],
/// strides[rank]}.
void collect(int64_t id, int64_t rank, const int64_t *words) {
  Session *session = activeSession;
  if (!session || id < 0 || id >= (int64_t)session->points.size())
    return;
  const float *aligned = reinterpret_cast<const float *>(words[1]);
  int64_t offset = words[2];
  const int64_t *sizes = words + 3, *strides = words + 3 + rank;
  int64_t channels = sizes[rank - 1];
  if (strides[rank - 1] != 1 && channels > 1) {
    session->errors.push_back("point " + std::to_string(id) +
                              ": channels are not contiguous");
    return;
  }
  // Rows: every index of the leading dims, each a contiguous run.
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < rank; ++d)
    rows *= sizes[d];
  if (rows == 0 || channels == 0)
    return;
  bool uniform = true;
  for (int64_t d = 0; d + 2 < rank; ++d)
    uniform &= sizes[d + 1] == 1 || strides[d] == strides[d + 1] * sizes[d + 1];
  const float *base = aligned + offset;
  std::string error;
  if (uniform) {
    int64_t rowStride = rank == 1 ? channels : strides[rank - 2];
    error = session->points[id].observe(base, rows, channels, rowStride);
  } else {
    std::vector<int64_t> index(rank - 1, 0);
    for (int64_t r = 0; r < rows && error.empty(); ++r) {
      int64_t at = 0;
      for (int64_t d = 0; d + 1 < rank; ++d)
        at += index[d] * strides[d];
      error = session->points[id].observe(base + at, 1, channels, channels);
      for (int64_t d = rank - 1; d-- > 0;) {
        if (++index[d] < sizes[d])
          break;
        index[d] = 0;
      }
    }
  }
  if (!error.empty())
    session->errors.push_back("point " + std::to_string(id) + ": " + error);
}

/// The collector for rank `Rank`, as `llvm.emit_c_interface` calls it.
template <int Rank> void collectRanked(int64_t id, const int64_t *descriptor) {
  collect(id, Rank, descriptor);
}
constexpr int kMaxObservedRank = 6;
using Collector = void (*)(int64_t, const int64_t *);
const Collector kCollectors[kMaxObservedRank + 1] = {
    nullptr,          collectRanked<1>, collectRanked<2>, collectRanked<3>,
    collectRanked<4>, collectRanked<5>, collectRanked<6>};

std::string collectorName(int64_t rank) {
  return (kCollectorName + "_r" + Twine(rank)).str();
}

/// Turns the copy's activation points into collector calls (in walk
/// order, which is the order of `ids`) and drops its weight points.
LogicalResult instrument(ModuleOp module) {
  OpBuilder b(module.getBodyRegion());
  MLIRContext *ctx = module.getContext();
  Type f32 = Float32Type::get(ctx);
  // One read-only collector per rank (dynamic sizes), so that the call
  // needs no copy and C gets a ranked descriptor.
  SmallVector<func::FuncOp> collectors(kMaxObservedRank + 1);
  auto collectorFor = [&](int64_t rank) {
    if (!collectors[rank]) {
      b.setInsertionPointToStart(module.getBody());
      auto type = RankedTensorType::get(
          SmallVector<int64_t>(rank, ShapedType::kDynamic), f32);
      auto fn =
          func::FuncOp::create(b, module.getLoc(), collectorName(rank),
                               b.getFunctionType({b.getI64Type(), type}, {}));
      fn.setPrivate();
      fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
      fn.setArgAttr(1, "bufferization.access", b.getStringAttr("read"));
      collectors[rank] = fn;
    }
    return collectors[rank];
  };
  int64_t id = 0;
  SmallVector<ObserveOp> points;
  module.walk([&](ObserveOp op) { points.push_back(op); });
  for (ObserveOp op : points) {
    auto type = cast<RankedTensorType>(op.getType());
    if (op.getRole() == ObserveRole::activation &&
        type.getElementType().isF32()) {
      if (type.getRank() < 1 || type.getRank() > kMaxObservedRank)
        return op.emitError()
               << "activation point '" << op.getPoint() << "' has rank "
               << type.getRank() << "; calibration observes ranks 1 to "
               << kMaxObservedRank;
      func::FuncOp collector = collectorFor(type.getRank());
      b.setInsertionPoint(op);
      Value idValue =
          arith::ConstantOp::create(b, op.getLoc(), b.getI64IntegerAttr(id++));
      Value cast = tensor::CastOp::create(
          b, op.getLoc(), collector.getArgumentTypes()[1], op.getInput());
      func::CallOp::create(b, op.getLoc(), collector,
                           ValueRange{idValue, cast});
    }
    op.replaceAllUsesWith(op.getInput());
    op.erase();
  }
  return success();
}

/// Reads the calibration tokens: a pre-tokenized file, or text encoded
/// with GPT-2's BPE.
llvm::Expected<std::vector<int32_t>>
readTokens(StringRef data, StringRef tokens, StringRef tokenizerDir) {
  auto fail = [](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (data.empty() == tokens.empty())
    return fail("give exactly one of data=<text file> and tokens=<file>");
  StringRef path = data.empty() ? tokens : data;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail("cannot read '" + path + "': " + buffer.getError().message());
  StringRef text = (*buffer)->getBuffer();
  std::vector<int32_t> ids;
  if (!tokens.empty()) {
    SmallVector<StringRef> fields;
    llvm::SplitString(text, fields); // Any whitespace separates ids.
    for (StringRef field : fields) {
      int32_t v;
      if (field.getAsInteger(10, v) || v < 0)
        return fail("'" + path + "': '" + field + "' is not a token id");
      ids.push_back(v);
    }
    return ids;
  }
  size_t badOffset = 0;
  if (!llvm::json::isUTF8(text, &badOffset))
    return fail("'" + path + "' is not UTF-8 (invalid byte at offset " +
                Twine(badOffset) + ")");
  SmallString<256> encoder(tokenizerDir), vocab(tokenizerDir);
  llvm::sys::path::append(encoder, "encoder.json");
  llvm::sys::path::append(vocab, "vocab.bpe");
  auto tokenizer = GPT2Tokenizer::load(encoder, vocab);
  if (!tokenizer)
    return tokenizer.takeError();
  return tokenizer->encode(text);
}

/// Progress on stderr: a bar redrawn in place on a terminal, a line per
/// quarter in logs.
void showProgress(int64_t done, int64_t total, int64_t tokens, double seconds) {
  bool terminal = llvm::errs().is_displayed();
  if (!terminal && done != total &&
      (done * 4 / total) == ((done - 1) * 4 / total))
    return;
  int width = 30, filled = total ? int(width * done / total) : width;
  llvm::errs() << (terminal ? "\r" : "") << "qopt-calibrate: ["
               << std::string(filled, '=') << std::string(width - filled, ' ')
               << "] " << done << "/" << total << " windows, " << tokens
               << " tokens, " << llvm::format("%.1f", seconds) << " s";
  if (!terminal || done == total)
    llvm::errs() << "\n";
}

DenseElementsAttr f32Vector(Builder &b, ArrayRef<float> values) {
  return DenseElementsAttr::get(
      RankedTensorType::get({(int64_t)values.size()}, b.getF32Type()), values);
}

StatsAttr weightStats(ObserveOp op) {
  auto constant = lookThroughObserve(op.getInput());
  std::vector<float> w =
      constant ? readF32Constant(constant) : std::vector<float>();
  if (w.empty())
    return nullptr;
  auto type = cast<RankedTensorType>(op.getType());
  int64_t channels = type.getDimSize(type.getRank() - 1);
  std::vector<float> absmax(channels, 0.0f);
  double lo = 0, hi = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i]))
      return nullptr;
    lo = std::min<double>(lo, w[i]);
    hi = std::max<double>(hi, w[i]);
    absmax[i % channels] = std::max(absmax[i % channels], std::fabs(w[i]));
  }
  Builder b(op.getContext());
  return StatsAttr::get(op.getContext(), "constant",
                        (int64_t)w.size() / channels, b.getF64FloatAttr(lo),
                        b.getF64FloatAttr(hi), nullptr, nullptr,
                        f32Vector(b, absmax), nullptr, nullptr);
}

struct QOptCalibratePass
    : qopt::impl::QOptCalibratePassBase<QOptCalibratePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto error = [&](const Twine &message) {
      module.emitError() << "qopt-calibrate: " << message;
      signalPassFailure();
    };
    if (!llvm::is_contained(
            {"minmax", "moving-average", "percentile", "entropy", "mse"},
            method.getValue()))
      return error("unknown method '" + method +
                   "' (minmax, moving-average, percentile, entropy, mse)");
    if (samples <= 0 || seqLen <= 1)
      return error("samples must be >= 1 and seq-len >= 2");
    if (percentile <= 0 || percentile > 100)
      return error("percentile must be in (0, 100]");

    SmallVector<ObserveOp> activations;
    bool weightFailed = false;
    module.walk([&](ObserveOp op) {
      if (op.getRole() == ObserveRole::weight) {
        StatsAttr stats = weightStats(op);
        if (!stats) {
          op.emitError() << "weight point '" << op.getPoint()
                         << "' is not a finite f32 constant";
          weightFailed = true;
          return;
        }
        op.setStatsAttr(stats);
      } else if (cast<RankedTensorType>(op.getType())
                     .getElementType()
                     .isF32()) {
        activations.push_back(op);
      }
    });
    if (weightFailed)
      return signalPassFailure();
    if (activations.empty())
      return;

    std::string dir = tokenizerDir.empty() ? std::string(QOPT_TOKENIZER_DIR)
                                           : tokenizerDir.getValue();
    auto tokens = readTokens(data, this->tokens, dir);
    if (!tokens)
      return error(llvm::toString(tokens.takeError()));
    if (tokens->empty())
      return error("the calibration data is empty");
    if ((int64_t)tokens->size() < seqLen)
      return error("the calibration data has " + Twine(tokens->size()) +
                   " tokens, fewer than one window (seq-len " + Twine(seqLen) +
                   ")");

    // Compile a copy for the runtime, weights in a temporary archive.
    OwningOpRef<ModuleOp> copy = cast<ModuleOp>(module->clone());
    if (failed(instrument(*copy)))
      return signalPassFailure();
    SmallString<128> archive;
    if (llvm::sys::fs::createTemporaryFile("qopt-calibrate", "weights",
                                           archive))
      return error("cannot create a temporary weight archive");
    llvm::FileRemover removeArchive(archive);
    PassManager pm(&getContext(), ModuleOp::getOperationName());
    LowerToLLVMOptions lowering;
    lowering.weights = archive.str().str();
    buildLowerToLLVMPipeline(pm, lowering);
    if (failed(pm.run(*copy)))
      return error("lowering the instrumented model failed");
    // The collectors' access annotation has no LLVM meaning.
    copy->walk([](LLVM::LLVMFuncOp fn) {
      for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
        fn.removeArgAttr(i, "bufferization.access");
    });

    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    DialectRegistry registry;
    registerBuiltinDialectTranslation(registry);
    registerLLVMDialectTranslation(registry);
    copy->getContext()->appendDialectRegistry(registry);
    auto transformer = makeOptimizingTransformer(3, 0, nullptr);
    ExecutionEngineOptions options;
    options.transformer = transformer;
    options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
    std::string runnerUtils =
        std::string(MLIR_RUNNER_UTILS_DIR) + "/libmlir_c_runner_utils.so";
    SmallVector<StringRef> libs{runnerUtils};
    options.sharedLibPaths = libs;
    auto engine = ExecutionEngine::create(*copy, options);
    if (!engine)
      return error("JIT compilation failed: " +
                   llvm::toString(engine.takeError()));
    (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
      llvm::orc::SymbolMap map;
      for (int64_t rank = 1; rank <= kMaxObservedRank; ++rank)
        map[interner("_mlir_ciface_" + collectorName(rank))] = {
            llvm::orc::ExecutorAddr::fromPtr(kCollectors[rank]),
            llvm::JITSymbolFlags::Exported};
      return map;
    });
    ExecutionEngine *jit = engine->get();
    auto model = quantopt::rt::Model::fromSymbols(
        [jit](StringRef symbol) -> void * {
          auto address = jit->lookup(symbol);
          if (!address) {
            llvm::consumeError(address.takeError());
            return nullptr;
          }
          return *address;
        },
        "the instrumented model", archive);
    if (!model)
      return error(llvm::toString(model.takeError()));
    auto lm = quantopt::rt::LanguageModel::create(std::move(*model),
                                                  "the instrumented model");
    if (!lm)
      return error(llvm::toString(lm.takeError()));

    // Run the windows: evenly spaced over the tokens, deterministic.
    StatisticsOptions statsOptions;
    statsOptions.bins = bins;
    statsOptions.perChannel = perChannel;
    statsOptions.xtx = collectXtx;
    statsOptions.averagingConstant = averagingConstant;
    Session session;
    session.points.assign(activations.size(), PointStatistics(statsOptions));
    activeSession = &session;
    auto start = std::chrono::steady_clock::now();
    int64_t span = (int64_t)tokens->size() - seqLen, seen = 0;
    for (int64_t i = 0; i < samples; ++i) {
      int64_t offset = samples > 1 ? span * i / (samples - 1) : 0;
      ArrayRef<int32_t> window(tokens->data() + offset, seqLen);
      (*lm)->reset();
      auto logits = (*lm)->forward(window);
      if (!logits) {
        activeSession = nullptr;
        return error("running window " + Twine(i) + ": " +
                     llvm::toString(logits.takeError()));
      }
      for (PointStatistics &p : session.points)
        p.endWindow();
      seen += seqLen;
      if (progress)
        showProgress(i + 1, samples, seen,
                     std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count());
    }
    activeSession = nullptr;
    if (!session.errors.empty())
      return error(session.errors.front());

    // Attach the statistics.
    Builder b(&getContext());
    bool failedAny = false;
    for (auto [op, stats] : llvm::zip(activations, session.points)) {
      if (stats.sawNonFinite()) {
        op.emitError() << "activation point '" << op.getPoint()
                       << "' saw NaN or Inf during calibration";
        failedAny = true;
        continue;
      }
      std::string message;
      auto [lo, hi] = stats.range(method, percentile, message);
      if (!message.empty()) {
        op.emitError() << "activation point '" << op.getPoint()
                       << "': " << message;
        failedAny = true;
        continue;
      }
      DenseElementsAttr chMin, chMax;
      if (perChannel) {
        chMin = f32Vector(b, stats.channelMin());
        chMax = f32Vector(b, stats.channelMax());
      }
      ElementsAttr xtx;
      if (collectXtx) {
        std::vector<float> m = stats.xtxMatrix();
        int64_t k = stats.channelCount();
        AsmResourceBlob blob =
            HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(m));
        xtx = DenseResourceElementsAttr::get(
            RankedTensorType::get({k, k}, b.getF32Type()), "xtx",
            std::move(blob));
      }
      op.setStatsAttr(StatsAttr::get(
          &getContext(), method, stats.rowCount(), b.getF64FloatAttr(lo),
          b.getF64FloatAttr(hi), chMin, chMax,
          f32Vector(b, stats.channelAbsMax()), xtx, nullptr));
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
