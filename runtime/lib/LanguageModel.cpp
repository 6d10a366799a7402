//===- LanguageModel.cpp - Prefill, decode and the KV cache ---------------===//

#include "quant-opt-runtime/LanguageModel.h"

#include <algorithm>

using namespace quantopt::rt;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::unique_ptr<LanguageModel>>
LanguageModel::load(llvm::StringRef library, llvm::StringRef weights) {
  auto model = Model::load(library, weights);
  if (!model)
    return model.takeError();
  return create(std::move(*model), library);
}

llvm::Expected<std::unique_ptr<LanguageModel>>
LanguageModel::create(std::unique_ptr<Model> model, llvm::StringRef library) {
  std::unique_ptr<LanguageModel> lm(new LanguageModel());
  lm->compiled = std::move(model);
  lm->entry = lm->compiled->lookup("main");
  if (!lm->entry)
    return fail("'" + library + "' has no entry point 'main'");
  const EntryPoint &e = *lm->entry;
  if (e.inputs.empty() || e.inputs[0].dtype != "i64" ||
      e.inputs[0].shape.size() != 2)
    return fail("'" + library +
                "': first input must be int64 token ids "
                "[batch, sequence]");
  if (e.outputs.empty() || e.outputs[0].dtype != "f32" ||
      e.outputs[0].shape.size() != 3 || e.outputs[0].shape[2] < 0)
    return fail("'" + library +
                "': first output must be f32 logits "
                "[batch, sequence, vocab] with a static vocab");
  lm->vocab = e.outputs[0].shape[2];
  lm->contextLimit = e.context;
  if (llvm::Error error = lm->initLastPositionEntry(library))
    return std::move(error);
  if (e.kvCacheInPlace) {
    if (llvm::Error error = lm->initInPlaceCache(library))
      return std::move(error);
    return lm;
  }
  // The remaining inputs are the past keys/values, matched by the outputs
  // after the logits (present keys/values) in the same order.
  if (e.inputs.size() != e.outputs.size())
    return fail("'" + library +
                "': expected as many past inputs as present "
                "outputs");
  for (size_t i = 1; i < e.inputs.size(); ++i) {
    const TensorSpec &past = e.inputs[i];
    if (!isCacheSpec(past))
      return fail("'" + library + "': input '" + past.name +
                  "' is not a past key/value [batch, heads, past, head_dim]");
    lm->pastShapes.push_back({1, past.shape[1], 0, past.shape[3]});
  }
  return lm;
}

llvm::Error LanguageModel::initLastPositionEntry(llvm::StringRef library) {
  const EntryPoint *last = compiled->lookup(entry->name + "_last_position");
  if (!last)
    return llvm::Error::success();
  // Called like `main`; only the logits' sequence dim differs (1).
  auto sameSpec = [](const TensorSpec &a, const TensorSpec &b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  };
  bool matches =
      last->kvCacheInPlace == entry->kvCacheInPlace &&
      last->inputs.size() == entry->inputs.size() &&
      last->outputs.size() == entry->outputs.size() &&
      last->outputs[0].dtype == "f32" && last->outputs[0].shape.size() == 3 &&
      last->outputs[0].shape[1] == 1 && last->outputs[0].shape[2] == vocab;
  for (size_t i = 0; matches && i < entry->inputs.size(); ++i)
    matches = sameSpec(last->inputs[i], entry->inputs[i]);
  for (size_t i = 1; matches && i < entry->outputs.size(); ++i)
    matches = sameSpec(last->outputs[i], entry->outputs[i]);
  if (!matches)
    return fail("'" + library + "': entry point '" + last->name +
                "' does not take main's inputs or return [batch, 1, " +
                llvm::Twine(vocab) + "] logits");
  entryLast = last;
  return llvm::Error::success();
}

Logits LanguageModel::select(const Tensor &logits, const EntryPoint &used,
                             size_t rows, size_t newTokens,
                             bool lastOnly) const {
  const float *data = logits.as<float>();
  if (&used == entryLast)
    return Logits(logits, data, vocab);
  if (lastOnly)
    return Logits(logits, data + (rows - 1) * vocab, vocab);
  return Logits(logits, data + (rows - newTokens) * vocab, newTokens * vocab);
}

bool LanguageModel::isCacheSpec(const TensorSpec &spec) {
  return spec.dtype == "f32" && spec.shape.size() == 4 && spec.shape[1] >= 0 &&
         spec.shape[3] >= 0;
}

llvm::Error LanguageModel::initInPlaceCache(llvm::StringRef library) {
  // [input_ids, cache..., past_sequence_length] -> [logits].
  const EntryPoint &e = *entry;
  const TensorSpec &length = e.inputs.back();
  if (e.inputs.size() < 3 || e.outputs.size() != 1 || length.dtype != "i64" ||
      !length.shape.empty())
    return fail("'" + library +
                "': an in-place KV cache entry takes token ids, cache "
                "buffers and a scalar past_sequence_length, and returns "
                "only logits");
  for (size_t i = 1; i + 1 < e.inputs.size(); ++i) {
    if (!isCacheSpec(e.inputs[i]))
      return fail("'" + library + "': input '" + e.inputs[i].name +
                  "' is not a KV cache buffer [batch, heads, capacity, "
                  "head_dim]");
    pastShapes.push_back({1, e.inputs[i].shape[1], 0, e.inputs[i].shape[3]});
  }
  inPlace.resize(pastShapes.size());
  return llvm::Error::success();
}

llvm::Error LanguageModel::reserve(size_t positions) {
  if (positions <= capacity)
    return llvm::Error::success();
  // With a context limit, room for all of it at once: only the written
  // pages become resident, and nothing is ever copied. Without one,
  // doubling (amortized copies).
  size_t grown = contextLimit ? std::max(positions, contextLimit)
                              : std::max(positions, 2 * capacity);
  size_t used = context.size();
  for (size_t i = 0; i < inPlace.size(); ++i) {
    int64_t heads = pastShapes[i][1], headDim = pastShapes[i][3];
    size_t bytes = 0;
    if (__builtin_mul_overflow(size_t(heads) * size_t(headDim) * sizeof(float),
                               grown, &bytes))
      return fail("a KV cache buffer for " + llvm::Twine(grown) +
                  " positions would overflow its size");
    std::error_code ec;
    llvm::sys::OwningMemoryBlock buffer(llvm::sys::Memory::allocateMappedMemory(
        bytes, nullptr,
        llvm::sys::Memory::MF_READ | llvm::sys::Memory::MF_WRITE, ec));
    if (ec)
      return fail("cannot map a KV cache buffer for " + llvm::Twine(grown) +
                  " positions: " + ec.message());
    auto *to = static_cast<float *>(buffer.base());
    if (capacity) {
      auto *from = static_cast<const float *>(inPlace[i].base());
      for (int64_t h = 0; h < heads; ++h)
        std::copy_n(from + h * capacity * headDim, used * headDim,
                    to + h * grown * headDim);
    }
    // OwningMemoryBlock's move assignment does not unmap what it replaces.
    inPlace[i].release();
    inPlace[i] = std::move(buffer);
  }
  capacity = grown;
  return llvm::Error::success();
}

llvm::Error LanguageModel::setContextLimit(size_t tokens) {
  size_t model = modelContext();
  if (model && tokens > model)
    return fail("a context of " + llvm::Twine(tokens) +
                " tokens exceeds the model's " + llvm::Twine(model) +
                " positions");
  if (tokens < context.size())
    return fail("a context of " + llvm::Twine(tokens) +
                " tokens is shorter than the " + llvm::Twine(context.size()) +
                " tokens already seen");
  // Buffers sized for a larger limit stay; a smaller one is only enforced.
  contextLimit = tokens ? tokens : model;
  return llvm::Error::success();
}

void LanguageModel::reset() {
  cache.clear();
  context.clear();
}

llvm::Expected<Logits> LanguageModel::forward(llvm::ArrayRef<int32_t> tokens) {
  return run(tokens, /*lastOnly=*/false);
}

llvm::Expected<Logits>
LanguageModel::forwardLast(llvm::ArrayRef<int32_t> tokens) {
  return run(tokens, /*lastOnly=*/true);
}

llvm::Expected<Logits> LanguageModel::run(llvm::ArrayRef<int32_t> tokens,
                                          bool lastOnly) {
  if (tokens.empty())
    return fail("forward needs at least one token");
  if (contextLimit && context.size() + tokens.size() > contextLimit)
    return fail(
        "the context would grow to " +
        llvm::Twine(context.size() + tokens.size()) + " tokens; the limit is " +
        llvm::Twine(contextLimit) +
        (contextLimit == modelContext() ? " (the model's context)" : ""));
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab)
      return fail("token id " + llvm::Twine(t) + " is outside the vocabulary");
  if (entry->kvCacheInPlace)
    return runInPlace(tokens, lastOnly);
  bool kv = !pastShapes.empty();
  // Without a KV cache the whole context is recomputed.
  std::vector<int64_t> ids;
  if (!kv)
    ids.assign(context.begin(), context.end());
  ids.insert(ids.end(), tokens.begin(), tokens.end());
  std::vector<Tensor> inputs;
  inputs.push_back(Tensor::view({1, (int64_t)ids.size()}, ids.data()));
  static float empty;
  for (size_t i = 0; i < pastShapes.size(); ++i)
    inputs.push_back(cache.empty() ? Tensor::view(pastShapes[i], &empty)
                                   : cache[i]);
  const EntryPoint &used = lastOnly && entryLast ? *entryLast : *entry;
  auto outputs = compiled->run(used, inputs);
  if (!outputs)
    return outputs.takeError();
  Logits result =
      select((*outputs)[0], used, ids.size(), tokens.size(), lastOnly);
  if (kv)
    cache.assign(outputs->begin() + 1, outputs->end());
  context.insert(context.end(), tokens.begin(), tokens.end());
  return result;
}

llvm::Expected<Logits> LanguageModel::runInPlace(llvm::ArrayRef<int32_t> tokens,
                                                 bool lastOnly) {
  if (llvm::Error error = reserve(context.size() + tokens.size()))
    return std::move(error);
  std::vector<int64_t> ids(tokens.begin(), tokens.end());
  int64_t past = context.size();
  std::vector<Tensor> inputs;
  inputs.push_back(Tensor::view({1, (int64_t)ids.size()}, ids.data()));
  for (size_t i = 0; i < inPlace.size(); ++i)
    inputs.push_back(
        Tensor::view({1, pastShapes[i][1], (int64_t)capacity, pastShapes[i][3]},
                     static_cast<float *>(inPlace[i].base())));
  inputs.push_back(Tensor::view({}, &past));
  const EntryPoint &used = lastOnly && entryLast ? *entryLast : *entry;
  auto outputs = compiled->run(used, inputs);
  if (!outputs)
    return outputs.takeError();
  context.insert(context.end(), tokens.begin(), tokens.end());
  return select((*outputs)[0], used, tokens.size(), tokens.size(), lastOnly);
}
