//===- LanguageModel.h - Prefill, decode and the KV cache -------*- C++ -*-===//
//
// A causal language model on top of a compiled GPT-2-style model whose entry
// `main` takes `input_ids` [batch, seq] and, for KV-cache exports, the pairs
// `past_key_values.N.key/value` [batch, heads, past, head_dim], and returns
// `logits` [batch, seq, vocab] (and `present.N.key/value`). The runtime owns
// the cache: `forward` feeds new tokens after the cached context. Models
// compiled with qopt-kv-cache-in-place instead take cache buffers with room
// for the whole context plus `past_sequence_length`, and write the new
// positions into them: no copy of the cache per step. Models without a KV
// cache are run on the whole context at every step.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNTIME_LANGUAGEMODEL_H
#define QUANT_OPT_RUNTIME_LANGUAGEMODEL_H

#include "quant-opt-runtime/Model.h"

#include "llvm/Support/Memory.h"

namespace quantopt::rt {

/// The logits of the positions one `forward` call ran, [positions x vocab]
/// row-major, read in place from the buffer the model returned (a prefill's
/// logits are as large as a layer's weights: no copy).
class Logits {
public:
  Logits(Tensor output, const float *first, size_t count)
      : output(std::move(output)), first(first), count(count) {}
  const float *data() const { return first; }
  size_t size() const { return count; }
  const float *begin() const { return first; }
  const float *end() const { return first + count; }

private:
  Tensor output; // Owns the buffer.
  const float *first;
  size_t count;
};

class LanguageModel {
public:
  static llvm::Expected<std::unique_ptr<LanguageModel>>
  load(llvm::StringRef library, llvm::StringRef weights);
  /// Wraps an already loaded model (`name` is used in messages).
  static llvm::Expected<std::unique_ptr<LanguageModel>>
  create(std::unique_ptr<Model> model, llvm::StringRef name);

  /// Runs `tokens` after the cached context (prefill when the cache is
  /// empty, decode for one token) and returns the logits of every new
  /// position, [tokens.size() x vocabSize()] row-major.
  llvm::Expected<Logits> forward(llvm::ArrayRef<int32_t> tokens);
  /// As forward, but returns the logits of the last new position only
  /// ([vocabSize()]): what generation needs. Models compiled with
  /// `<entry>_last_position` (qopt-last-position-logits) then skip the LM
  /// head on the other positions; others compute all and return the last.
  llvm::Expected<Logits> forwardLast(llvm::ArrayRef<int32_t> tokens);
  /// Whether forwardLast runs a last-position entry point.
  bool hasLastPositionEntry() const { return entryLast != nullptr; }
  /// Forgets the context.
  void reset();
  /// Refuse to run past `tokens` positions (0: the model's own context).
  /// The model's context (its position table's rows, recorded by the
  /// compiler) is always the upper bound: a larger limit is refused.
  llvm::Error setContextLimit(size_t tokens);
  /// The positions the model can run (0 when the compiler found no position
  /// table).
  size_t modelContext() const { return entry->context; }
  /// The limit in force (0: none, for a model without a position table).
  size_t positionLimit() const { return contextLimit; }

  size_t contextLength() const { return context.size(); }
  int64_t vocabSize() const { return vocab; }
  bool hasKVCache() const { return !pastShapes.empty(); }
  const Model &model() const { return *compiled; }

private:
  static bool isCacheSpec(const TensorSpec &spec);
  /// Checks an in-place KV cache entry and sets up its (empty) buffers.
  llvm::Error initInPlaceCache(llvm::StringRef library);
  /// Grows the in-place buffers to hold `positions` positions.
  llvm::Error reserve(size_t positions);
  /// Checks `<main>_last_position` against `main` and keeps it.
  llvm::Error initLastPositionEntry(llvm::StringRef library);
  llvm::Expected<Logits> run(llvm::ArrayRef<int32_t> tokens, bool lastOnly);
  llvm::Expected<Logits> runInPlace(llvm::ArrayRef<int32_t> tokens,
                                    bool lastOnly);
  /// The logits of the last new position, or all of them, from a call of
  /// `used` whose logits output holds `rows` rows.
  Logits select(const Tensor &logits, const EntryPoint &used, size_t rows,
                size_t newTokens, bool lastOnly) const;

  std::unique_ptr<Model> compiled;
  const EntryPoint *entry = nullptr;
  const EntryPoint *entryLast = nullptr; // Logits of the last position only.
  int64_t vocab = 0;
  std::vector<std::vector<int64_t>> pastShapes; // Per past input.
  std::vector<Tensor> cache;                    // present.* of the last step.
  // In-place entries: one [1, heads, capacity, head_dim] buffer per input,
  // mapped from the OS rather than the heap: pages are committed as
  // positions are written (a whole-context buffer costs only what is used)
  // and a grown-out buffer goes back to the OS at once instead of leaving a
  // hole in a heap that the runtime never trims (Model.cpp).
  std::vector<llvm::sys::OwningMemoryBlock> inPlace;
  size_t capacity = 0;
  std::vector<int32_t> context; // Tokens seen so far.
  size_t contextLimit = 0;
};

} // namespace quantopt::rt

#endif // QUANT_OPT_RUNTIME_LANGUAGEMODEL_H
