//===- quant-run.cpp - Run a compiled model: perplexity, generate, bench --===//
//
//   quant-run MODEL.so perplexity FILE [--window 128] [--stride 64]
//   quant-run MODEL.so compare FILE --reference REF.so
//             [--reference-weights REF.weights] [--json OUT.json]
//   quant-run MODEL.so generate "PROMPT" [--max-new-tokens 40] [--top-k 0]
//             [--top-p 1] [--temperature 0] [--seed 0]
//   quant-run MODEL.so bench [--prompt-tokens 96] [--decode-tokens 32]
//             [--repeats 5]
//   quant-run MODEL.so logits IDS.txt --out LOGITS.f32 [--decode-from N]
//
// The weights are MODEL.weights unless --weights says otherwise (REF.weights
// unless --reference-weights says otherwise); GPT-2's
// tokenizer files come from --tokenizer-dir (encoder.json, vocab.bpe).
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/Evaluation.h"
#include "quant-opt-runtime/GPT2Tokenizer.h"
#include "quant-opt-runtime/LanguageModel.h"
#include "quant-opt/Support/FileSafety.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>

using namespace quantopt::rt;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.so>"));
static cl::opt<std::string>
    command(cl::Positional, cl::Required,
            cl::desc("<perplexity|compare|generate|bench|logits>"));
static cl::opt<std::string> argument(cl::Positional, cl::init(""),
                                     cl::desc("[FILE | PROMPT]"));
static cl::opt<std::string> weightsPath("weights", cl::desc("Weight archive"));
static cl::opt<std::string>
    tokenizerDir("tokenizer-dir",
                 cl::desc("Directory with GPT-2's encoder.json and vocab.bpe"),
                 cl::init(""));
static cl::opt<int> window("window", cl::desc("perplexity/compare: window"),
                           cl::init(128));
static cl::opt<int> stride("stride", cl::desc("perplexity/compare: stride"),
                           cl::init(64));
static cl::opt<int> maxTokens("max-tokens",
                              cl::desc("perplexity/compare: score only the "
                                       "first N tokens of the file (0: all)"),
                              cl::init(0));
static cl::opt<std::string>
    referencePath("reference",
                  cl::desc("compare: the float reference model (.so)"));
static cl::opt<std::string> referenceWeightsPath(
    "reference-weights",
    cl::desc("compare: the reference's weight archive (default: REF.weights)"));
static cl::opt<std::string>
    jsonOut("json", cl::desc("compare: also write the results as JSON"));
static cl::opt<int> maxNewTokens("max-new-tokens", cl::init(40),
                                 cl::desc("generate: tokens to generate"));
static cl::opt<int> topK("top-k", cl::init(0),
                         cl::desc("generate: sample from the k best (0: all)"));
static cl::opt<float> topP("top-p", cl::init(1.0f),
                           cl::desc("generate: nucleus sampling mass"));
static cl::opt<float> temperature("temperature", cl::init(0.0f),
                                  cl::desc("generate: 0 is greedy"));
static cl::opt<uint64_t> seed("seed", cl::init(0),
                              cl::desc("generate/bench: random seed"));
/// The context of a model whose compiler found no position table.
static constexpr int kDefaultContext = 128;
static cl::opt<int>
    contextLimit("context", cl::init(0),
                 cl::desc("Most positions to run (0: the model's context, "
                          "its position table's rows; 128 if it has none); "
                          "more than the model's is an error"));
static cl::opt<int> promptTokens("prompt-tokens", cl::init(96),
                                 cl::desc("bench: prefill length"));
static cl::opt<int> decodeTokens("decode-tokens", cl::init(32),
                                 cl::desc("bench: decoded tokens"));
static cl::opt<int> repeats("repeats", cl::init(5),
                            cl::desc("bench: repetitions (medians)"));
static cl::opt<std::string> logitsOut("out",
                                      cl::desc("logits: raw float32 output"));
static cl::opt<int> decodeFrom(
    "decode-from", cl::init(0),
    cl::desc("logits: prefill this many tokens, then decode the rest one "
             "at a time through the KV cache (0: one prefill)"));

enum class Positions { All, Last };
static cl::opt<Positions> positions(
    "positions", cl::init(Positions::All),
    cl::desc("bench/logits: the logits each prefill and decode step returns"),
    cl::values(clEnumValN(Positions::All, "all",
                          "every new position's, as the ONNX graph"),
               clEnumValN(Positions::Last, "last",
                          "the last position's only, as generation needs "
                          "(the model's last-position entry point)")));

/// Upper bounds of --context and --threads: far above any model or machine
/// here, low enough that no size computed from them overflows.
constexpr int kMaxContext = 1 << 20;
constexpr int kMaxThreads = 1024;

static int fail(const llvm::Twine &message) {
  llvm::errs() << "quant-run: error: " << message << "\n";
  return 1;
}

static double seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Checks the window options and tokenizes the text file to score.
static llvm::Expected<std::vector<int32_t>>
readScoredText(const mlir::qopt::GPT2Tokenizer &tok) {
  auto text = llvm::MemoryBuffer::getFile(argument);
  if (!text)
    return makeError("cannot read '" + argument +
                     "': " + text.getError().message());
  std::vector<int32_t> ids = tok.encode((*text)->getBuffer());
  if (maxTokens > 0 && ids.size() > size_t(maxTokens))
    ids.resize(maxTokens);
  if (ids.size() < 2)
    return makeError("'" + argument + "' has fewer than 2 tokens");
  return ids;
}

static WindowOptions windowOptions() { return {window, stride}; }

/// Progress on stderr, erased when done.
static void showProgress(int64_t scored, int64_t total, double ppl,
                         double meanKl, bool withKl) {
  llvm::errs() << llvm::format("\r  %lld/%lld tokens scored, ppl %.2f",
                               (long long)scored, (long long)total, ppl);
  if (withKl)
    llvm::errs() << llvm::format(", KL %.4f", meanKl);
}
static void clearProgress() {
  llvm::errs() << "\r" << std::string(60, ' ') << "\r";
}

static int runPerplexity(LanguageModel &lm,
                         const mlir::qopt::GPT2Tokenizer &tok) {
  auto ids = readScoredText(tok);
  if (!ids)
    return fail(llvm::toString(ids.takeError()));
  auto result =
      perplexity(lm, *ids, windowOptions(),
                 [](int64_t scored, int64_t total, double ppl, double) {
                   showProgress(scored, total, ppl, 0, /*withKl=*/false);
                 });
  clearProgress();
  if (!result)
    return fail(llvm::toString(result.takeError()));
  llvm::outs() << llvm::format(
      "perplexity %.4f over %lld tokens (window %d, stride %d, %lld windows, "
      "%.1f s, %.0f tokens/s)\n",
      result->perplexity, (long long)result->tokens, window.getValue(),
      stride.getValue(), (long long)result->windows, result->seconds,
      result->windows * double(window) / result->seconds);
  return 0;
}

/// Scores `lm` against `reference` on perplexity's windows: both models'
/// perplexity, KL(P_reference || P_model) per position (mean and max), and
/// how often their top-1 tokens agree.
static int runCompare(LanguageModel &lm, LanguageModel &reference,
                      const mlir::qopt::GPT2Tokenizer &tok) {
  auto ids = readScoredText(tok);
  if (!ids)
    return fail(llvm::toString(ids.takeError()));
  auto result =
      compare(lm, reference, *ids, windowOptions(),
              [](int64_t scored, int64_t total, double ppl, double meanKl) {
                showProgress(scored, total, ppl, meanKl, /*withKl=*/true);
              });
  clearProgress();
  if (!result)
    return fail(llvm::toString(result.takeError()));
  double delta = 100 * (result->perplexity / result->referencePerplexity - 1);
  llvm::outs() << llvm::format(
      "compare: perplexity %.4f (reference %.4f, %+.2f%%) mean KL %.6f (max "
      "%.4f) top-1 agreement %.2f%% over %lld tokens (window %d, stride %d, "
      "%lld windows, %.1f s)\n",
      result->perplexity, result->referencePerplexity, delta, result->meanKl,
      result->maxKl, 100 * result->top1Agreement, (long long)result->tokens,
      window.getValue(), stride.getValue(), (long long)result->windows,
      result->seconds);
  if (jsonOut.empty())
    return 0;
  std::error_code ec;
  llvm::raw_fd_ostream out(jsonOut, ec);
  if (ec)
    return fail("cannot write '" + jsonOut + "': " + ec.message());
  llvm::json::Object json{{"perplexity", result->perplexity},
                          {"reference_perplexity", result->referencePerplexity},
                          {"ppl_delta_percent", delta},
                          {"mean_kl", result->meanKl},
                          {"max_kl", result->maxKl},
                          {"top1_agreement", result->top1Agreement},
                          {"tokens", result->tokens},
                          {"windows", result->windows},
                          {"seconds", result->seconds}};
  out << llvm::formatv("{0:2}", llvm::json::Value(std::move(json))) << "\n";
  return 0;
}

static int runGenerate(LanguageModel &lm,
                       const mlir::qopt::GPT2Tokenizer &tok) {
  std::vector<int32_t> prompt = tok.encode(argument);
  if (prompt.empty())
    return fail("the prompt is empty");
  if (prompt.size() >= size_t(contextLimit))
    return fail("the prompt has " + llvm::Twine(prompt.size()) +
                " tokens; the context is " + llvm::Twine(contextLimit));
  std::mt19937_64 rng(seed);
  llvm::outs() << argument;
  llvm::outs().flush();
  auto logits = lm.forwardLast(prompt);
  int generated = 0;
  double start = seconds();
  while (logits && generated < maxNewTokens &&
         lm.contextLength() < size_t(contextLimit)) {
    int32_t next = sampleToken(logits->data(), lm.vocabSize(),
                               {temperature, topK, topP}, rng);
    llvm::outs() << tok.tokenText(next);
    llvm::outs().flush();
    ++generated;
    if (next == tok.eotToken())
      break;
    logits = lm.forwardLast(next);
  }
  if (!logits)
    return fail(llvm::toString(logits.takeError()));
  llvm::outs() << "\n";
  llvm::errs() << llvm::format("[%d tokens, %.1f ms/token]\n", generated,
                               1e3 * (seconds() - start) /
                                   std::max(1, generated));
  return 0;
}

static int runBench(LanguageModel &lm) {
  if (promptTokens + decodeTokens > contextLimit || promptTokens < 1)
    return fail("--prompt-tokens + --decode-tokens must fit in --context");
  // The report is medians of prefill and decode times: both need samples.
  if (decodeTokens < 1 || repeats < 1)
    return fail("--decode-tokens and --repeats must be at least 1");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> token(0, lm.vocabSize() - 1);
  std::vector<int32_t> prompt(promptTokens);
  for (int32_t &t : prompt)
    t = token(rng);
  auto forward = [&](llvm::ArrayRef<int32_t> tokens) {
    return positions == Positions::Last ? lm.forwardLast(tokens)
                                        : lm.forward(tokens);
  };
  std::vector<double> prefill, decode;
  for (int r = 0; r < repeats; ++r) {
    lm.reset();
    double t0 = seconds();
    auto logits = forward(prompt);
    if (!logits)
      return fail(llvm::toString(logits.takeError()));
    prefill.push_back(seconds() - t0);
    for (int i = 0; i < decodeTokens; ++i) {
      double t1 = seconds();
      logits = forward(token(rng));
      if (!logits)
        return fail(llvm::toString(logits.takeError()));
      decode.push_back(seconds() - t1);
    }
  }
  llvm::outs() << llvm::format(
      "prefill %d tokens (%s logits): %.1f tokens/s (median %.1f ms over "
      "%d runs)\n"
      "decode at context %d-%d: %.2f ms/token (median of %zu)\n",
      promptTokens.getValue(),
      positions == Positions::Last ? "last-position" : "all positions'",
      promptTokens / median(prefill), 1e3 * median(prefill), repeats.getValue(),
      promptTokens.getValue(), promptTokens + decodeTokens,
      1e3 * median(decode), decode.size());
  return 0;
}

/// Writes the logits of every position of the token ids in a text file, as
/// raw float32 [tokens x vocab]: for checking the compiled model against a
/// reference, through prefill and through decode steps.
static int runLogits(LanguageModel &lm) {
  auto text = llvm::MemoryBuffer::getFile(argument);
  if (!text)
    return fail("cannot read '" + argument + "': " + text.getError().message());
  std::vector<int32_t> ids;
  llvm::SmallVector<llvm::StringRef> words;
  (*text)->getBuffer().split(words, ' ', -1, false);
  for (llvm::StringRef word : words) {
    int32_t id;
    if (word.trim().empty())
      continue;
    if (word.trim().getAsInteger(10, id))
      return fail("'" + argument + "': not a token id: '" + word.trim() + "'");
    ids.push_back(id);
  }
  if (ids.empty() || logitsOut.empty())
    return fail("logits needs token ids and --out");
  size_t prefill =
      decodeFrom > 0 ? std::min<size_t>(decodeFrom, ids.size()) : ids.size();
  std::error_code ec;
  llvm::raw_fd_ostream out(logitsOut, ec);
  if (ec)
    return fail("cannot write '" + logitsOut + "': " + ec.message());
  auto forward = [&](llvm::ArrayRef<int32_t> tokens) {
    return positions == Positions::Last ? lm.forwardLast(tokens)
                                        : lm.forward(tokens);
  };
  auto logits = forward(llvm::ArrayRef<int32_t>(ids).take_front(prefill));
  for (size_t i = prefill; logits; ++i) {
    out.write(reinterpret_cast<const char *>(logits->data()),
              logits->size() * sizeof(float));
    if (i == ids.size())
      break;
    logits = forward(ids[i]);
  }
  if (!logits)
    return fail(llvm::toString(logits.takeError()));
  return 0;
}

static std::string weightsFor(llvm::StringRef library, llvm::StringRef weights);

/// Checks every option with a domain before anything is loaded: the error
/// names the option and the value.
static llvm::Error validateOptions(int threads) {
  auto bad = [](llvm::StringRef option, const llvm::Twine &value,
                const llvm::Twine &domain) {
    return makeError("--" + option + "=" + value + ": " + domain);
  };
  if (command != "perplexity" && command != "compare" &&
      command != "generate" && command != "bench" && command != "logits")
    return makeError("unknown command '" + command +
                     "' (perplexity, compare, generate, bench, logits)");
  if (contextLimit < 0 || contextLimit > kMaxContext)
    return bad("context", llvm::Twine(contextLimit),
               "must be in 0.." + llvm::Twine(kMaxContext) +
                   " (0: the model's)");
  if (threads < 0 || threads > kMaxThreads)
    return bad("threads", llvm::Twine(threads),
               "must be in 0.." + llvm::Twine(kMaxThreads) +
                   " (0: OpenMP's default)");
  if (window <= 1)
    return bad("window", llvm::Twine(window), "must be at least 2");
  if (stride <= 0 || stride > window)
    return bad("stride", llvm::Twine(stride),
               "must be in 1..--window (" + llvm::Twine(window) + ")");
  if (maxTokens < 0)
    return bad("max-tokens", llvm::Twine(maxTokens),
               "must be 0 (all) or positive");
  if (maxNewTokens < 0)
    return bad("max-new-tokens", llvm::Twine(maxNewTokens),
               "must be 0 or positive");
  if (topK < 0)
    return bad("top-k", llvm::Twine(topK), "must be 0 (all) or positive");
  auto text = [](float value) {
    std::string result;
    llvm::raw_string_ostream(result) << llvm::format("%g", double(value));
    return result;
  };
  if (!std::isfinite(topP) || topP <= 0 || topP > 1)
    return bad("top-p", text(topP), "must be in (0, 1]");
  if (!std::isfinite(temperature) || temperature < 0)
    return bad("temperature", text(temperature),
               "must be finite and 0 (greedy) or positive");
  if (promptTokens < 1 || promptTokens > kMaxContext)
    return bad("prompt-tokens", llvm::Twine(promptTokens),
               "must be in 1.." + llvm::Twine(kMaxContext));
  if (decodeTokens < 1 || decodeTokens > kMaxContext)
    return bad("decode-tokens", llvm::Twine(decodeTokens),
               "must be in 1.." + llvm::Twine(kMaxContext));
  if (repeats < 1 || repeats > 1000000)
    return bad("repeats", llvm::Twine(repeats), "must be in 1..1000000");
  if (decodeFrom < 0)
    return bad("decode-from", llvm::Twine(decodeFrom),
               "must be 0 (one prefill) or positive");
  // Files are checked for what they are before any is opened: a FIFO would
  // block, a directory cannot be read, /dev/zero never ends.
  std::string weights = weightsFor(modelPath, weightsPath);
  std::vector<mlir::qopt::NamedPath> inputs = {{"the model", modelPath},
                                               {"--weights", weights}};
  if (!referencePath.empty()) {
    inputs.push_back({"--reference", referencePath});
    inputs.push_back({"--reference-weights",
                      weightsFor(referencePath, referenceWeightsPath)});
  }
  bool readsText =
      command == "perplexity" || command == "compare" || command == "logits";
  if (readsText && !argument.empty())
    inputs.push_back({command + "'s text file", argument});
  for (const mlir::qopt::NamedPath &input : inputs)
    if (llvm::Error error =
            mlir::qopt::checkRegularInput(input.what, input.path))
      return error;
  if (!tokenizerDir.empty() && command != "bench" && command != "logits" &&
      !llvm::sys::fs::is_directory(tokenizerDir.getValue()))
    return makeError("--tokenizer-dir '" + tokenizerDir +
                     "' is not a directory");
  std::vector<mlir::qopt::NamedPath> outputs;
  if (command == "logits" && !logitsOut.empty())
    outputs.push_back({"--out", logitsOut});
  if (command == "compare" && !jsonOut.empty())
    outputs.push_back({"--json", jsonOut});
  return mlir::qopt::checkOutputPaths(outputs, inputs);
}

/// `weights`, or `library` with the extension .weights.
static std::string weightsFor(llvm::StringRef library,
                              llvm::StringRef weights) {
  if (!weights.empty())
    return weights.str();
  llvm::SmallString<128> path(library);
  llvm::sys::path::replace_extension(path, "weights");
  return std::string(path);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // libLLVM registers an undocumented --threads of its own; this one is
  // the user's, so it is registered after that one is removed.
  if (cl::Option *llvmThreads = cl::getRegisteredOptions().lookup("threads"))
    llvmThreads->removeArgument();
  cl::opt<int> threads(
      "threads",
      cl::desc("Threads for the model's parallel loops (0: OpenMP's "
               "default, OMP_NUM_THREADS or all cores)"),
      cl::init(0));
  cl::ParseCommandLineOptions(
      argc, argv, "quant-run: run a model compiled by quant-compile\n");
  if (llvm::Error error = validateOptions(threads))
    return fail(llvm::toString(std::move(error)));
  auto lm = LanguageModel::load(modelPath, weightsFor(modelPath, weightsPath));
  if (!lm)
    return fail(llvm::toString(lm.takeError()));
  if (const std::string &variant = (*lm)->model().variant(); !variant.empty())
    llvm::errs() << "quant-run: " << modelPath << ": variant " << variant
                 << (std::getenv("QOPT_VARIANT") ? " (QOPT_VARIANT)"
                                                 : " (picked for this CPU)")
                 << "\n";
  if (!contextLimit)
    contextLimit =
        (*lm)->modelContext() ? int((*lm)->modelContext()) : kDefaultContext;
  if (llvm::Error error = (*lm)->setContextLimit(contextLimit))
    return fail("--context: " + llvm::toString(std::move(error)));
  if (threads > 0 && !(*lm)->model().setThreads(threads) && threads > 1)
    llvm::errs() << "warning: " << modelPath
                 << " was compiled with --parallel=false; it runs on 1 "
                    "thread\n";
  if (command == "bench")
    return runBench(**lm);
  if (command == "logits")
    return runLogits(**lm);
  if (command != "perplexity" && command != "compare" && command != "generate")
    return fail("unknown command '" + command +
                "' (perplexity, compare, generate, bench, logits)");
  std::unique_ptr<LanguageModel> reference;
  if (command == "compare") {
    if (referencePath.empty())
      return fail("compare needs --reference REF.so (the model to compare "
                  "against)");
    auto ref = LanguageModel::load(
        referencePath, weightsFor(referencePath, referenceWeightsPath));
    if (!ref)
      return fail(llvm::toString(ref.takeError()));
    if ((*ref)->vocabSize() != (*lm)->vocabSize())
      return fail("the vocabularies differ: '" + modelPath + "' has " +
                  llvm::Twine((*lm)->vocabSize()) + " tokens, the reference '" +
                  referencePath + "' " + llvm::Twine((*ref)->vocabSize()));
    reference = std::move(*ref);
    if (llvm::Error error = reference->setContextLimit(contextLimit))
      return fail("--reference: " + llvm::toString(std::move(error)));
  }
  if (argument.empty())
    return fail(command + " needs " +
                (command == "generate" ? "a prompt" : "a text file"));
  std::string dir = tokenizerDir;
  if (dir.empty())
    return fail("--tokenizer-dir is required for " + command);
  llvm::SmallString<128> encoder(dir), bpe(dir);
  llvm::sys::path::append(encoder, "encoder.json");
  llvm::sys::path::append(bpe, "vocab.bpe");
  auto tok = mlir::qopt::GPT2Tokenizer::load(encoder, bpe);
  if (!tok)
    return fail(llvm::toString(tok.takeError()));
  if (command == "compare")
    return runCompare(**lm, *reference, *tok);
  return command == "generate" ? runGenerate(**lm, *tok)
                               : runPerplexity(**lm, *tok);
}
