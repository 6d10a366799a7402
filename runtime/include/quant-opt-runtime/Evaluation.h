//===- Evaluation.h - Perplexity, comparison and sampling -------*- C++ -*-===//
//
// What people measure a quantized language model with, on the runtime's
// LanguageModel: perplexity over sliding windows (Hugging Face's recipe),
// the comparison of a model with a reference (perplexity of both, KL
// divergence per position, top-1 agreement), and sampling the next token.
// quant-run, the C API and the Python package all call these, so a number
// means the same wherever it is printed.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNTIME_EVALUATION_H
#define QUANT_OPT_RUNTIME_EVALUATION_H

#include "quant-opt-runtime/LanguageModel.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <random>

namespace quantopt::rt {

/// Windows of `window` tokens every `stride` tokens; each window scores only
/// the targets the previous one did not.
struct WindowOptions {
  int64_t window = 128;
  int64_t stride = 64;
};

struct PerplexityResult {
  double perplexity = 0;
  int64_t tokens = 0, windows = 0;
  double seconds = 0;
};

struct CompareResult {
  double perplexity = 0, referencePerplexity = 0;
  /// Mean and max over positions of KL(P_reference || P_model).
  double meanKl = 0, maxKl = 0;
  /// Share of positions whose top-1 tokens agree.
  double top1Agreement = 0;
  int64_t tokens = 0, windows = 0;
  double seconds = 0;
};

/// Called every 50 windows with the targets scored so far, their total, and
/// the running perplexity and mean KL (0 for perplexity).
using Progress = llvm::function_ref<void(int64_t scored, int64_t total,
                                         double perplexity, double meanKl)>;

/// Checks `options` against the model's context limit and `tokens` (at least
/// two).
llvm::Error checkWindows(const LanguageModel &lm, size_t tokens,
                         const WindowOptions &options);

llvm::Expected<PerplexityResult> perplexity(LanguageModel &lm,
                                            llvm::ArrayRef<int32_t> tokens,
                                            const WindowOptions &options,
                                            Progress progress = nullptr);

/// `lm` and `reference` score the same windows; their vocabularies must
/// agree.
llvm::Expected<CompareResult> compare(LanguageModel &lm,
                                      LanguageModel &reference,
                                      llvm::ArrayRef<int32_t> tokens,
                                      const WindowOptions &options,
                                      Progress progress = nullptr);

struct SamplingOptions {
  /// 0: greedy (argmax).
  float temperature = 0;
  /// 0: all tokens.
  int64_t topK = 0;
  float topP = 1;
};

/// Picks the next token from `logits` (`vocab` of them).
int32_t sampleToken(const float *logits, int64_t vocab,
                    const SamplingOptions &options, std::mt19937_64 &rng);

} // namespace quantopt::rt

#endif // QUANT_OPT_RUNTIME_EVALUATION_H
