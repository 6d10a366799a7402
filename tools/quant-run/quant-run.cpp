//===- quant-run.cpp - Run a compiled model: perplexity, generate, bench --===//
//
//   quant-run MODEL.so perplexity FILE [--window 128] [--stride 64]
//   quant-run MODEL.so generate "PROMPT" [--max-new-tokens 40] [--top-k 0]
//             [--top-p 1] [--temperature 0] [--seed 0]
//   quant-run MODEL.so bench [--prompt-tokens 96] [--decode-tokens 32]
//             [--repeats 5]
//   quant-run MODEL.so logits IDS.txt --out LOGITS.f32 [--decode-from N]
//
// The weights are MODEL.weights unless --weights says otherwise; GPT-2's
// tokenizer files come from --tokenizer-dir (encoder.json, vocab.bpe).
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/LanguageModel.h"
#include "quant-opt/Tokenizer/GPT2Tokenizer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

using namespace quantopt::rt;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.so>"));
static cl::opt<std::string>
    command(cl::Positional, cl::Required,
            cl::desc("<perplexity|generate|bench|logits>"));
static cl::opt<std::string> argument(cl::Positional, cl::init(""),
                                     cl::desc("[FILE | PROMPT]"));
static cl::opt<std::string> weightsPath("weights", cl::desc("Weight archive"));
static cl::opt<std::string>
    tokenizerDir("tokenizer-dir",
                 cl::desc("Directory with GPT-2's encoder.json and vocab.bpe"),
                 cl::init(""));
static cl::opt<int> window("window", cl::desc("perplexity: window"),
                           cl::init(128));
static cl::opt<int> stride("stride", cl::desc("perplexity: stride"),
                           cl::init(64));
static cl::opt<int> maxTokens("max-tokens",
                              cl::desc("perplexity: score only the first N "
                                       "tokens of the file (0: all)"),
                              cl::init(0));
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
static cl::opt<int>
    contextLimit("context", cl::init(128),
                 cl::desc("The model's context length (position embeddings)"));
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

/// log-softmax(logits)[target] in double precision.
static double logProbability(const float *logits, int64_t vocab,
                             int32_t target) {
  float max = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i)
    sum += std::exp(double(logits[i]) - max);
  return double(logits[target]) - max - std::log(sum);
}

/// Sliding-window perplexity as the field reports it (Hugging Face's
/// recipe): windows of `window` tokens every `stride` tokens; each window
/// scores only the tokens the previous one did not.
static int runPerplexity(LanguageModel &lm,
                         const mlir::qopt::GPT2Tokenizer &tok) {
  if (window <= 1 || stride <= 0 || stride > window)
    return fail("need 1 < --window and 0 < --stride <= --window");
  if (window > contextLimit)
    return fail("--window " + llvm::Twine(window) +
                " exceeds the model's context " + llvm::Twine(contextLimit));
  auto text = llvm::MemoryBuffer::getFile(argument);
  if (!text)
    return fail("cannot read '" + argument + "': " + text.getError().message());
  std::vector<int32_t> ids = tok.encode((*text)->getBuffer());
  if (maxTokens > 0 && ids.size() > size_t(maxTokens))
    ids.resize(maxTokens);
  if (ids.size() < 2)
    return fail("'" + argument + "' has fewer than 2 tokens");
  int64_t n = ids.size();
  double nll = 0;
  int64_t scored = 0, windows = 0;
  double start = seconds();
  for (int64_t s = 0; s < std::max<int64_t>(n - 1, 1); s += stride) {
    int64_t end = std::min<int64_t>(s + window, n - 1);
    int64_t first = s == 0 ? 0 : window - stride; // Offset of first target.
    if (first >= end - s)
      continue;
    lm.reset();
    auto logits = lm.forward(llvm::ArrayRef<int32_t>(ids).slice(s, end - s));
    if (!logits)
      return fail(llvm::toString(logits.takeError()));
    for (int64_t i = first; i < end - s; ++i)
      nll -= logProbability(logits->data() + i * lm.vocabSize(), lm.vocabSize(),
                            ids[s + i + 1]);
    scored += end - s - first;
    if (++windows % 50 == 0)
      llvm::errs() << llvm::format("\r  %lld/%lld tokens scored, ppl %.2f",
                                   (long long)scored, (long long)(n - 1),
                                   std::exp(nll / scored));
  }
  llvm::errs() << "\r" << std::string(60, ' ') << "\r";
  double elapsed = seconds() - start;
  llvm::outs() << llvm::format(
      "perplexity %.4f over %lld tokens (window %d, stride %d, %lld windows, "
      "%.1f s, %.0f tokens/s)\n",
      std::exp(nll / scored), (long long)scored, window.getValue(),
      stride.getValue(), (long long)windows, elapsed,
      windows * double(window) / elapsed);
  return 0;
}

/// Picks the next token from `logits` under the sampling options.
static int32_t sample(const float *logits, int64_t vocab,
                      std::mt19937_64 &rng) {
  if (temperature <= 0)
    return std::max_element(logits, logits + vocab) - logits;
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t k = topK > 0 ? std::min<int64_t>(topK, vocab) : vocab;
  std::partial_sort(
      order.begin(), order.begin() + k, order.end(),
      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  order.resize(k);
  std::vector<double> p(k);
  for (int64_t i = 0; i < k; ++i)
    p[i] = std::exp((logits[order[i]] - logits[order[0]]) / temperature);
  double total = std::accumulate(p.begin(), p.end(), 0.0), mass = 0;
  int64_t keep = 0;
  while (keep < k && (keep == 0 || mass < topP * total))
    mass += p[keep++];
  std::discrete_distribution<int64_t> pick(p.begin(), p.begin() + keep);
  return order[pick(rng)];
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
  auto logits = lm.forward(prompt);
  int generated = 0;
  double start = seconds();
  while (logits && generated < maxNewTokens &&
         lm.contextLength() < size_t(contextLimit)) {
    const float *last =
        logits->data() + (logits->size() / lm.vocabSize() - 1) * lm.vocabSize();
    int32_t next = sample(last, lm.vocabSize(), rng);
    llvm::outs() << tok.tokenText(next);
    llvm::outs().flush();
    ++generated;
    if (next == tok.eotToken())
      break;
    logits = lm.forward(next);
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
  std::vector<double> prefill, decode;
  for (int r = 0; r < repeats; ++r) {
    lm.reset();
    double t0 = seconds();
    auto logits = lm.forward(prompt);
    if (!logits)
      return fail(llvm::toString(logits.takeError()));
    prefill.push_back(seconds() - t0);
    for (int i = 0; i < decodeTokens; ++i) {
      double t1 = seconds();
      logits = lm.forward(token(rng));
      if (!logits)
        return fail(llvm::toString(logits.takeError()));
      decode.push_back(seconds() - t1);
    }
  }
  llvm::outs() << llvm::format(
      "prefill %d tokens: %.1f tokens/s (median %.1f ms over %d runs)\n"
      "decode at context %d-%d: %.2f ms/token (median of %zu)\n",
      promptTokens.getValue(), promptTokens / median(prefill),
      1e3 * median(prefill), repeats.getValue(), promptTokens.getValue(),
      promptTokens + decodeTokens, 1e3 * median(decode), decode.size());
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
  auto logits = lm.forward(llvm::ArrayRef<int32_t>(ids).take_front(prefill));
  for (size_t i = prefill; logits; ++i) {
    out.write(reinterpret_cast<const char *>(logits->data()),
              logits->size() * sizeof(float));
    if (i == ids.size())
      break;
    logits = lm.forward(ids[i]);
  }
  if (!logits)
    return fail(llvm::toString(logits.takeError()));
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv, "quant-run: run a model compiled by quant-compile\n");
  std::string weights = weightsPath;
  if (weights.empty()) {
    llvm::SmallString<128> path(modelPath.getValue());
    llvm::sys::path::replace_extension(path, "weights");
    weights = std::string(path);
  }
  auto lm = LanguageModel::load(modelPath, weights);
  if (!lm)
    return fail(llvm::toString(lm.takeError()));
  if (contextLimit <= 0)
    return fail("--context must be positive");
  (*lm)->setContextLimit(contextLimit);
  if (command == "bench")
    return runBench(**lm);
  if (command == "logits")
    return runLogits(**lm);
  if (command != "perplexity" && command != "generate")
    return fail("unknown command '" + command +
                "' (perplexity, generate, bench, logits)");
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
  return command == "generate" ? runGenerate(**lm, *tok)
                               : runPerplexity(**lm, *tok);
}
