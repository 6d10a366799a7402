//===- CalibrationSession.cpp - A JIT-compiled instrumented model ---------===//
//
// The module is copied, its activation observation points become calls to
// a collector, its weight slots reads of mutable globals, the copy is
// lowered with the deployment pipeline (weights in a temporary archive),
// JIT-compiled with MLIR's ExecutionEngine and driven through the runtime's
// LanguageModel, window by window.
//
//===----------------------------------------------------------------------===//

#include "CalibrationSession.h"
#include "quant-opt-runtime/GPT2Tokenizer.h"
#include "quant-opt-runtime/LanguageModel.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"
#include "quant-opt/Pipelines/LowerToLLVM.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>

using namespace mlir;
using namespace mlir::qopt;

static constexpr llvm::StringLiteral kCollectorName =
    "qopt_calibration_observe";
static constexpr llvm::StringLiteral kWeightSlotName =
    "qopt_calibration_weight_";

namespace {

/// What the JIT-compiled model reports into during `run`.
struct Collection {
  std::vector<PointStatistics> *points = nullptr;
  ArrayRef<bool> active;
  std::vector<std::string> errors;
};
Collection *activeCollection = nullptr;

/// Adds an observed buffer to point `id`. `words` is MLIR's ranked memref
/// descriptor {allocated, aligned, offset, sizes[rank], strides[rank]}.
void collect(int64_t id, int64_t rank, const int64_t *words) {
  Collection *c = activeCollection;
  if (!c || id < 0 || id >= (int64_t)c->points->size() ||
      (!c->active.empty() && !c->active[id]))
    return;
  PointStatistics &point = (*c->points)[id];
  const float *aligned = reinterpret_cast<const float *>(words[1]);
  int64_t offset = words[2];
  const int64_t *sizes = words + 3, *strides = words + 3 + rank;
  int64_t channels = sizes[rank - 1];
  if (strides[rank - 1] != 1 && channels > 1) {
    c->errors.push_back("point " + std::to_string(id) +
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
    error = point.observe(base, rows, channels, rowStride);
  } else {
    std::vector<int64_t> index(rank - 1, 0);
    for (int64_t r = 0; r < rows && error.empty(); ++r) {
      int64_t at = 0;
      for (int64_t d = 0; d + 1 < rank; ++d)
        at += index[d] * strides[d];
      error = point.observe(base + at, 1, channels, channels);
      for (int64_t d = rank - 1; d-- > 0;) {
        if (++index[d] < sizes[d])
          break;
        index[d] = 0;
      }
    }
  }
  if (!error.empty())
    c->errors.push_back("point " + std::to_string(id) + ": " + error);
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

/// Turns the copy's points into collector calls (activation i reports as
/// id i) and weight-slot reads (slot j reads global
/// qopt_calibration_weight_<j>), dropping the rest. `roles[p]` is, for the
/// p-th point in walk order, {activation index, -1}, {-1, slot} or {-1, -1}.
LogicalResult instrument(ModuleOp module,
                         ArrayRef<std::pair<int64_t, int64_t>> roles) {
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
  SmallVector<ObserveOp> points;
  module.walk([&](ObserveOp op) { points.push_back(op); });
  if (points.size() != roles.size())
    return module.emitError("calibration: the module copy differs");
  for (auto [op, role] : llvm::zip(points, roles)) {
    auto type = cast<RankedTensorType>(op.getType());
    auto [activation, slot] = role;
    if (activation >= 0) {
      if (type.getRank() < 1 || type.getRank() > kMaxObservedRank)
        return op.emitError()
               << "activation point '" << op.getPoint() << "' has rank "
               << type.getRank() << "; calibration observes ranks 1 to "
               << kMaxObservedRank;
      func::FuncOp collector = collectorFor(type.getRank());
      b.setInsertionPoint(op);
      Value idValue = arith::ConstantOp::create(
          b, op.getLoc(), b.getI64IntegerAttr(activation));
      Value cast = tensor::CastOp::create(
          b, op.getLoc(), collector.getArgumentTypes()[1], op.getInput());
      func::CallOp::create(b, op.getLoc(), collector,
                           ValueRange{idValue, cast});
    }
    if (slot >= 0) {
      // A mutable global the session writes; the model reads it in place.
      auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
      std::string name = (kWeightSlotName + Twine(slot)).str();
      b.setInsertionPointToStart(module.getBody());
      memref::GlobalOp::create(b, op.getLoc(), name, /*sym_visibility=*/{},
                               memrefType, b.getUnitAttr(),
                               /*constant=*/false, b.getI64IntegerAttr(64));
      b.setInsertionPoint(op);
      Value buffer =
          memref::GetGlobalOp::create(b, op.getLoc(), memrefType, name);
      Value tensor = bufferization::ToTensorOp::create(
          b, op.getLoc(), type, buffer, /*restrict=*/true);
      op.replaceAllUsesWith(tensor);
      op.erase();
      continue;
    }
    op.replaceAllUsesWith(op.getInput());
    op.erase();
  }
  return success();
}

/// Progress on stderr: a bar redrawn in place on a terminal, a line per
/// quarter in logs.
void showProgress(StringRef label, int64_t done, int64_t total, int64_t tokens,
                  double seconds) {
  bool terminal = llvm::errs().is_displayed();
  if (!terminal && done != total &&
      (done * 4 / total) == ((done - 1) * 4 / total))
    return;
  int width = 30, filled = total ? int(width * done / total) : width;
  llvm::errs() << (terminal ? "\r" : "") << label << ": ["
               << std::string(filled, '=') << std::string(width - filled, ' ')
               << "] " << done << "/" << total << " windows, " << tokens
               << " tokens, " << llvm::format("%.1f", seconds) << " s";
  if (!terminal || done == total)
    llvm::errs() << "\n";
}

llvm::Error makeError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Why `count` tokens cannot hold a window of `seqLen`, or success.
llvm::Error checkWindow(size_t count, int64_t seqLen) {
  if (count == 0)
    return makeError("the calibration data is empty");
  if ((int64_t)count < seqLen)
    return makeError("the calibration data has " + Twine(count) +
                     " tokens, fewer than one window (seq-len " +
                     Twine(seqLen) + ")");
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<int32_t>>
mlir::qopt::readCalibrationTokens(StringRef data, StringRef tokens,
                                  StringRef tokenizerDir, int64_t seqLen) {
  if (data.empty() == tokens.empty())
    return makeError("give exactly one of data=<text file> and tokens=<file>");
  StringRef path = data.empty() ? tokens : data;
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  StringRef text = (*buffer)->getBuffer();
  std::vector<int32_t> ids;
  if (!tokens.empty()) {
    SmallVector<StringRef> fields;
    llvm::SplitString(text, fields); // Any whitespace separates ids.
    for (StringRef field : fields) {
      int32_t v;
      if (field.getAsInteger(10, v) || v < 0)
        return makeError("'" + path + "': '" + field + "' is not a token id");
      ids.push_back(v);
    }
    if (auto err = checkWindow(ids.size(), seqLen))
      return std::move(err);
    return ids;
  }
  size_t badOffset = 0;
  if (!llvm::json::isUTF8(text, &badOffset))
    return makeError("'" + path + "' is not UTF-8 (invalid byte at offset " +
                     Twine(badOffset) + ")");
  std::string dir = tokenizerDir.empty() ? std::string(QOPT_TOKENIZER_DIR)
                                         : tokenizerDir.str();
  SmallString<256> encoder(dir), vocab(dir);
  llvm::sys::path::append(encoder, "encoder.json");
  llvm::sys::path::append(vocab, "vocab.bpe");
  auto tokenizer = GPT2Tokenizer::load(encoder, vocab);
  if (!tokenizer)
    return tokenizer.takeError();
  ids = tokenizer->encode(text);
  if (auto err = checkWindow(ids.size(), seqLen))
    return std::move(err);
  return ids;
}

CalibrationSession::~CalibrationSession() {
  model.reset();
  engine.reset();
  if (!archive.empty())
    llvm::sys::fs::remove(archive);
}

llvm::Expected<std::unique_ptr<CalibrationSession>>
CalibrationSession::create(ModuleOp module, ArrayRef<ObserveOp> activations,
                           ArrayRef<ObserveOp> weightSlots) {
  std::unique_ptr<CalibrationSession> session(new CalibrationSession());
  session->activationCount = activations.size();
  // The copy's points in walk order are the module's.
  DenseMap<Operation *, int64_t> activationIds, slotIds;
  for (auto [i, op] : llvm::enumerate(activations))
    activationIds[op] = i;
  for (auto [i, op] : llvm::enumerate(weightSlots))
    slotIds[op] = i;
  SmallVector<std::pair<int64_t, int64_t>> roles;
  module.walk([&](ObserveOp op) {
    roles.push_back(
        {activationIds.lookup_or(op, -1), slotIds.lookup_or(op, -1)});
  });
  session->copy = cast<ModuleOp>(module->clone());
  if (failed(instrument(*session->copy, roles)))
    return makeError("instrumenting the model failed");

  if (llvm::sys::fs::createTemporaryFile("qopt-calibrate", "weights",
                                         session->archive))
    return makeError("cannot create a temporary weight archive");
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  // The JIT loads no OpenMP runtime: serial loops.
  CodegenOptions codegen;
  codegen.parallel = false;
  buildLowerToLLVMPipeline(pm, codegen, session->archive.str());
  if (failed(pm.run(*session->copy)))
    return makeError("lowering the instrumented model failed");
  // The collectors' access annotation has no LLVM meaning.
  session->copy->walk([](LLVM::LLVMFuncOp fn) {
    for (unsigned i = 0, e = fn.getNumArguments(); i < e; ++i)
      fn.removeArgAttr(i, "bufferization.access");
  });

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  session->copy->getContext()->appendDialectRegistry(registry);
  auto transformer = makeOptimizingTransformer(3, 0, nullptr);
  ExecutionEngineOptions options;
  options.transformer = transformer;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  std::string runnerUtils =
      std::string(MLIR_RUNNER_UTILS_DIR) + "/libmlir_c_runner_utils.so";
  SmallVector<StringRef> libs{runnerUtils};
  options.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*session->copy, options);
  if (!engine)
    return makeError("JIT compilation failed: " +
                     llvm::toString(engine.takeError()));
  (*engine)->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    for (int64_t rank = 1; rank <= kMaxObservedRank; ++rank)
      map[interner("_mlir_ciface_" + collectorName(rank))] = {
          llvm::orc::ExecutorAddr::fromPtr(kCollectors[rank]),
          llvm::JITSymbolFlags::Exported};
    return map;
  });
  session->engine = std::move(*engine);
  ExecutionEngine *jit = session->engine.get();
  for (auto [i, slotOp] : llvm::enumerate(weightSlots)) {
    ObserveOp op = slotOp;
    auto address = jit->lookup((kWeightSlotName + Twine(i)).str());
    if (!address)
      return makeError("weight slot of '" + op.getPoint() +
                       "' not found in the compiled model: " +
                       llvm::toString(address.takeError()));
    session->slots.push_back(
        {static_cast<float *>(*address),
         (size_t)cast<RankedTensorType>(op.getType()).getNumElements()});
  }
  auto model = quantopt::rt::Model::fromSymbols(
      [jit](StringRef symbol) -> void * {
        auto address = jit->lookup(symbol);
        if (!address) {
          llvm::consumeError(address.takeError());
          return nullptr;
        }
        return *address;
      },
      "the instrumented model", session->archive);
  if (!model)
    return model.takeError();
  auto lm = quantopt::rt::LanguageModel::create(std::move(*model),
                                                "the instrumented model");
  if (!lm)
    return lm.takeError();
  session->model = std::move(*lm);
  return session;
}

void CalibrationSession::setWeight(size_t slot, ArrayRef<float> values) {
  auto [address, count] = slots[slot];
  std::memcpy(address, values.data(),
              std::min(count, values.size()) * sizeof(float));
}

llvm::Error CalibrationSession::runWindows(
    ArrayRef<int32_t> tokens, const CalibrationWindows &windows,
    bool lastPositionOnly,
    function_ref<void(int64_t, ArrayRef<float>)> consume) {
  int64_t samples = windows.samples, seqLen = windows.seqLen;
  if (auto err = checkWindow(tokens.size(), seqLen))
    return err;
  if (size_t context = model->modelContext();
      context && seqLen > (int64_t)context)
    return makeError("seq-len " + Twine(seqLen) + " exceeds the model's " +
                     "context of " + Twine(context) +
                     " positions (its position embedding table's rows)");
  bool last = lastPositionOnly && model->hasLastPositionEntry();
  int64_t span = (int64_t)tokens.size() - seqLen;
  for (int64_t i = 0; i < samples; ++i) {
    int64_t offset = samples > 1 ? span * i / (samples - 1) : 0;
    ArrayRef<int32_t> window(tokens.data() + offset, seqLen);
    model->reset();
    auto logits = last ? model->forwardLast(window) : model->forward(window);
    if (!logits)
      return makeError("running window " + Twine(i) + ": " +
                       llvm::toString(logits.takeError()));
    consume(i, ArrayRef<float>(logits->data(), logits->size()));
  }
  return llvm::Error::success();
}

llvm::Error CalibrationSession::run(ArrayRef<int32_t> tokens,
                                    const CalibrationWindows &windows,
                                    const StatisticsOptions &options,
                                    ArrayRef<bool> active,
                                    bool lastPositionOnly,
                                    StringRef progressLabel,
                                    std::vector<PointStatistics> &stats) {
  stats.assign(activationCount, PointStatistics(options));
  Collection collection;
  collection.points = &stats;
  collection.active = active;
  activeCollection = &collection;
  auto start = CalibrationClock::now();
  int64_t seen = 0;
  llvm::Error err = runWindows(
      tokens, windows, lastPositionOnly, [&](int64_t i, ArrayRef<float>) {
        for (auto [id, p] : llvm::enumerate(stats))
          if (active.empty() || active[id])
            p.endWindow();
        seen += windows.seqLen;
        if (!progressLabel.empty())
          showProgress(progressLabel, i + 1, windows.samples, seen,
                       secondsSince(start));
      });
  activeCollection = nullptr;
  if (err)
    return err;
  if (!collection.errors.empty())
    return makeError(collection.errors.front());
  return llvm::Error::success();
}

llvm::Error CalibrationSession::forEachWindowLogits(
    ArrayRef<int32_t> tokens, const CalibrationWindows &windows,
    function_ref<void(int64_t, ArrayRef<float>)> consume) {
  return runWindows(tokens, windows, /*lastPositionOnly=*/false, consume);
}
