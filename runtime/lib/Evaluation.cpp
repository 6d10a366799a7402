//===- Evaluation.cpp - Perplexity, comparison and sampling ---------------===//

#include "quant-opt-runtime/Evaluation.h"

#include "llvm/ADT/Twine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

using namespace quantopt::rt;

static double seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

namespace {
/// max(logits) and log(sum(exp(logits - max))) in double precision: what
/// log-softmax subtracts from each logit.
struct LogNormalizer {
  float max;
  double logSum;
};
} // namespace

static LogNormalizer logNormalizer(const float *logits, int64_t vocab) {
  float max = *std::max_element(logits, logits + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i)
    sum += std::exp(double(logits[i]) - max);
  return {max, std::log(sum)};
}

/// log-softmax(logits) in double precision.
static void logSoftmax(const float *logits, int64_t vocab,
                       std::vector<double> &result) {
  LogNormalizer n = logNormalizer(logits, vocab);
  result.resize(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    result[i] = double(logits[i]) - n.max - n.logSum;
}

/// log-softmax(logits)[target], as logSoftmax computes it.
static double logProbability(const float *logits, int64_t vocab,
                             int32_t target) {
  LogNormalizer n = logNormalizer(logits, vocab);
  return double(logits[target]) - n.max - n.logSum;
}

llvm::Error quantopt::rt::checkWindows(const LanguageModel &lm, size_t tokens,
                                       const WindowOptions &options) {
  if (options.window <= 1 || options.stride <= 0 ||
      options.stride > options.window)
    return makeError("need 1 < window and 0 < stride <= window (window " +
                     llvm::Twine(options.window) + ", stride " +
                     llvm::Twine(options.stride) + ")");
  if (lm.positionLimit() && size_t(options.window) > lm.positionLimit())
    return makeError("window " + llvm::Twine(options.window) +
                     " exceeds the context of " +
                     llvm::Twine(lm.positionLimit()) + " tokens");
  if (tokens < 2)
    return makeError("the text has fewer than 2 tokens");
  return llvm::Error::success();
}

namespace {
struct WindowStats {
  int64_t scored = 0, windows = 0;
  double seconds = 0;
};
} // namespace

/// Calls `score(tokens, first)` with each window's inputs plus the last
/// target; it scores the targets tokens[i + 1] for i in [first,
/// tokens.size() - 1). `report(scored)` runs every 50 windows.
static llvm::Expected<WindowStats> forEachWindow(
    llvm::ArrayRef<int32_t> ids, const WindowOptions &options,
    llvm::function_ref<llvm::Error(llvm::ArrayRef<int32_t>, int64_t)> score,
    llvm::function_ref<void(int64_t)> report) {
  int64_t n = ids.size(), window = options.window, stride = options.stride;
  WindowStats stats;
  double start = seconds();
  for (int64_t s = 0; s < std::max<int64_t>(n - 1, 1); s += stride) {
    int64_t end = std::min<int64_t>(s + window, n - 1);
    int64_t first = s == 0 ? 0 : window - stride; // Offset of first target.
    if (first >= end - s)
      continue;
    if (llvm::Error error = score(ids.slice(s, end - s + 1), first))
      return std::move(error);
    stats.scored += end - s - first;
    if (++stats.windows % 50 == 0)
      report(stats.scored);
  }
  stats.seconds = seconds() - start;
  return stats;
}

/// The logits of a window's inputs (all its tokens but the last), from an
/// empty context.
static llvm::Expected<Logits> windowLogits(LanguageModel &lm,
                                           llvm::ArrayRef<int32_t> tokens) {
  lm.reset();
  return lm.forward(tokens.drop_back());
}

llvm::Expected<PerplexityResult>
quantopt::rt::perplexity(LanguageModel &lm, llvm::ArrayRef<int32_t> ids,
                         const WindowOptions &options, Progress progress) {
  if (llvm::Error error = checkWindows(lm, ids.size(), options))
    return std::move(error);
  int64_t vocab = lm.vocabSize();
  double nll = 0;
  auto stats = forEachWindow(
      ids, options,
      [&](llvm::ArrayRef<int32_t> tokens, int64_t first) -> llvm::Error {
        auto logits = windowLogits(lm, tokens);
        if (!logits)
          return logits.takeError();
        for (int64_t i = first, e = tokens.size() - 1; i < e; ++i)
          nll -=
              logProbability(logits->data() + i * vocab, vocab, tokens[i + 1]);
        return llvm::Error::success();
      },
      [&](int64_t scored) {
        if (progress)
          progress(scored, ids.size() - 1, std::exp(nll / scored), 0);
      });
  if (!stats)
    return stats.takeError();
  return PerplexityResult{std::exp(nll / stats->scored), stats->scored,
                          stats->windows, stats->seconds};
}

llvm::Expected<CompareResult>
quantopt::rt::compare(LanguageModel &lm, LanguageModel &reference,
                      llvm::ArrayRef<int32_t> ids, const WindowOptions &options,
                      Progress progress) {
  if (lm.vocabSize() != reference.vocabSize())
    return makeError("the model has " + llvm::Twine(lm.vocabSize()) +
                     " tokens and the reference " +
                     llvm::Twine(reference.vocabSize()));
  for (const LanguageModel *model : {&lm, &reference})
    if (llvm::Error error = checkWindows(*model, ids.size(), options))
      return std::move(error);
  int64_t vocab = lm.vocabSize();
  double nll = 0, referenceNll = 0, klSum = 0, klMax = 0;
  int64_t agree = 0;
  std::vector<double> logP, referenceLogP;
  auto stats = forEachWindow(
      ids, options,
      [&](llvm::ArrayRef<int32_t> tokens, int64_t first) -> llvm::Error {
        auto logits = windowLogits(lm, tokens);
        if (!logits)
          return logits.takeError();
        auto referenceLogits = windowLogits(reference, tokens);
        if (!referenceLogits)
          return referenceLogits.takeError();
        for (int64_t i = first, e = tokens.size() - 1; i < e; ++i) {
          const float *row = logits->data() + i * vocab;
          const float *referenceRow = referenceLogits->data() + i * vocab;
          logSoftmax(row, vocab, logP);
          logSoftmax(referenceRow, vocab, referenceLogP);
          nll -= logP[tokens[i + 1]];
          referenceNll -= referenceLogP[tokens[i + 1]];
          double kl = 0;
          for (int64_t v = 0; v < vocab; ++v)
            kl += std::exp(referenceLogP[v]) * (referenceLogP[v] - logP[v]);
          klSum += kl;
          klMax = std::max(klMax, kl);
          agree += std::max_element(row, row + vocab) - row ==
                   std::max_element(referenceRow, referenceRow + vocab) -
                       referenceRow;
        }
        return llvm::Error::success();
      },
      [&](int64_t scored) {
        if (progress)
          progress(scored, ids.size() - 1, std::exp(nll / scored),
                   klSum / scored);
      });
  if (!stats)
    return stats.takeError();
  int64_t scored = stats->scored;
  CompareResult result;
  result.perplexity = std::exp(nll / scored);
  result.referencePerplexity = std::exp(referenceNll / scored);
  result.meanKl = klSum / scored;
  result.maxKl = klMax;
  result.top1Agreement = double(agree) / scored;
  result.tokens = scored;
  result.windows = stats->windows;
  result.seconds = stats->seconds;
  return result;
}

int32_t quantopt::rt::sampleToken(const float *logits, int64_t vocab,
                                  const SamplingOptions &options,
                                  std::mt19937_64 &rng) {
  if (options.temperature <= 0)
    return std::max_element(logits, logits + vocab) - logits;
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t k = options.topK > 0 ? std::min<int64_t>(options.topK, vocab) : vocab;
  std::partial_sort(
      order.begin(), order.begin() + k, order.end(),
      [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  order.resize(k);
  std::vector<double> p(k);
  for (int64_t i = 0; i < k; ++i)
    p[i] =
        std::exp((logits[order[i]] - logits[order[0]]) / options.temperature);
  double total = std::accumulate(p.begin(), p.end(), 0.0), mass = 0;
  int64_t keep = 0;
  while (keep < k && (keep == 0 || mass < options.topP * total))
    mass += p[keep++];
  std::discrete_distribution<int64_t> pick(p.begin(), p.begin() + keep);
  return order[pick(rng)];
}
