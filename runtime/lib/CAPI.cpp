//===- CAPI.cpp - C API of the quant-opt runtime --------------------------===//

#include "quant-opt-runtime/Evaluation.h"
#include "quant-opt-runtime/GPT2Tokenizer.h"
#include "quant-opt-runtime/LanguageModel.h"
#include "quant-opt-runtime/qopt_runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace quantopt::rt;

struct qopt_model {
  std::unique_ptr<Model> model;
};
struct qopt_lm {
  std::unique_ptr<LanguageModel> lm;
};
struct qopt_tokenizer {
  mlir::qopt::GPT2Tokenizer tokenizer;
};

/// Reports `error` through the C API's error string; returns 1.
static int report(llvm::Error error, char **message) {
  std::string text = llvm::toString(std::move(error));
  if (message)
    *message = strdup(text.c_str());
  return 1;
}

qopt_model *qopt_model_load(const char *library, const char *weights,
                            char **error) {
  auto model = Model::load(library, weights ? weights : "");
  if (!model) {
    report(model.takeError(), error);
    return nullptr;
  }
  return new qopt_model{std::move(*model)};
}

void qopt_model_free(qopt_model *model) { delete model; }

const char *qopt_model_metadata(const qopt_model *model) {
  return model->model->metadata().c_str();
}

const char *qopt_model_variant(const qopt_model *model) {
  return model->model->variant().c_str();
}

int qopt_model_run(qopt_model *model, const char *entryName,
                   const qopt_tensor *inputs, size_t numInputs,
                   qopt_tensor *outputs, size_t numOutputs, char **error) {
  const EntryPoint *entry = model->model->lookup(entryName);
  if (!entry)
    return report(llvm::createStringError("the model has no entry point '" +
                                          std::string(entryName) + "'"),
                  error);
  if (numOutputs != entry->outputs.size())
    return report(llvm::createStringError(
                      "entry point '" + std::string(entryName) + "' has " +
                      std::to_string(entry->outputs.size()) +
                      " outputs, got room for " + std::to_string(numOutputs)),
                  error);
  std::vector<Tensor> args;
  for (size_t i = 0; i < numInputs; ++i) {
    if (inputs[i].rank < 0 || inputs[i].rank > QOPT_MAX_RANK)
      return report(llvm::createStringError("input rank out of range"), error);
    args.push_back(Tensor::view(
        std::vector<int64_t>(inputs[i].shape, inputs[i].shape + inputs[i].rank),
        inputs[i].data));
  }
  auto results = model->model->run(*entry, args);
  if (!results)
    return report(results.takeError(), error);
  for (size_t i = 0; i < numOutputs; ++i) {
    Tensor &t = (*results)[i];
    if (t.shape.size() > QOPT_MAX_RANK)
      return report(llvm::createStringError("output rank above 8"), error);
    outputs[i].rank = t.shape.size();
    std::copy(t.shape.begin(), t.shape.end(), outputs[i].shape);
    outputs[i].data = t.data;
    outputs[i].owner = new Tensor(std::move(t));
  }
  return 0;
}

void qopt_tensor_release(qopt_tensor *tensor) {
  delete static_cast<Tensor *>(tensor->owner);
  tensor->owner = nullptr;
  tensor->data = nullptr;
}

qopt_lm *qopt_lm_load(const char *library, const char *weights, char **error) {
  auto lm = LanguageModel::load(library, weights ? weights : "");
  if (!lm) {
    report(lm.takeError(), error);
    return nullptr;
  }
  return new qopt_lm{std::move(*lm)};
}

void qopt_lm_free(qopt_lm *lm) { delete lm; }
int64_t qopt_lm_vocab_size(const qopt_lm *lm) { return lm->lm->vocabSize(); }
size_t qopt_lm_context_length(const qopt_lm *lm) {
  return lm->lm->contextLength();
}
void qopt_lm_reset(qopt_lm *lm) { lm->lm->reset(); }
int qopt_lm_set_context_limit(qopt_lm *lm, size_t tokens, char **error) {
  if (llvm::Error e = lm->lm->setContextLimit(tokens))
    return report(std::move(e), error);
  return 0;
}
size_t qopt_lm_model_context(const qopt_lm *lm) {
  return lm->lm->modelContext();
}

int qopt_lm_set_threads(qopt_lm *lm, int threads) {
  return lm->lm->model().setThreads(threads);
}

int qopt_model_set_threads(qopt_model *model, int threads) {
  return model->model->setThreads(threads);
}

int qopt_lm_forward(qopt_lm *lm, const int32_t *tokens, size_t count,
                    float *logits, char **error) {
  auto result = lm->lm->forward(llvm::ArrayRef<int32_t>(tokens, count));
  if (!result)
    return report(result.takeError(), error);
  std::copy(result->begin(), result->end(), logits);
  return 0;
}

int qopt_lm_forward_last(qopt_lm *lm, const int32_t *tokens, size_t count,
                         float *logits, char **error) {
  auto result = lm->lm->forwardLast(llvm::ArrayRef<int32_t>(tokens, count));
  if (!result)
    return report(result.takeError(), error);
  std::copy(result->begin(), result->end(), logits);
  return 0;
}

int qopt_lm_perplexity(qopt_lm *lm, const int32_t *tokens, size_t count,
                       int64_t window, int64_t stride, qopt_eval_result *result,
                       char **error) {
  if (!lm || !result || (!tokens && count))
    return report(llvm::createStringError("null model, tokens or result"),
                  error);
  auto scored = quantopt::rt::perplexity(
      *lm->lm, llvm::ArrayRef<int32_t>(tokens, count), {window, stride});
  if (!scored)
    return report(scored.takeError(), error);
  *result = qopt_eval_result{
      scored->perplexity, 0, 0, 0, 0, scored->tokens, scored->windows,
      scored->seconds};
  return 0;
}

int qopt_lm_compare(qopt_lm *lm, qopt_lm *reference, const int32_t *tokens,
                    size_t count, int64_t window, int64_t stride,
                    qopt_eval_result *result, char **error) {
  if (!lm || !reference || !result || (!tokens && count))
    return report(
        llvm::createStringError("null model, reference, tokens or result"),
        error);
  auto scored = quantopt::rt::compare(*lm->lm, *reference->lm,
                                      llvm::ArrayRef<int32_t>(tokens, count),
                                      {window, stride});
  if (!scored)
    return report(scored.takeError(), error);
  *result = qopt_eval_result{scored->perplexity,    scored->referencePerplexity,
                             scored->meanKl,        scored->maxKl,
                             scored->top1Agreement, scored->tokens,
                             scored->windows,       scored->seconds};
  return 0;
}

qopt_tokenizer *qopt_tokenizer_load(const char *encoderJson,
                                    const char *vocabBpe, char **error) {
  auto tokenizer = mlir::qopt::GPT2Tokenizer::load(encoderJson, vocabBpe);
  if (!tokenizer) {
    report(tokenizer.takeError(), error);
    return nullptr;
  }
  return new qopt_tokenizer{std::move(*tokenizer)};
}

void qopt_tokenizer_free(qopt_tokenizer *tokenizer) { delete tokenizer; }

int32_t *qopt_tokenizer_encode(const qopt_tokenizer *tokenizer,
                               const char *text, size_t length, size_t *count) {
  std::vector<int32_t> ids =
      tokenizer->tokenizer.encode(llvm::StringRef(text, length));
  auto *result =
      static_cast<int32_t *>(malloc(std::max<size_t>(ids.size(), 1) * 4));
  std::copy(ids.begin(), ids.end(), result);
  *count = ids.size();
  return result;
}

int qopt_tokenizer_decode(const qopt_tokenizer *tokenizer, const int32_t *ids,
                          size_t count, char **text, size_t *length,
                          char **error) {
  auto bytes = tokenizer->tokenizer.decode(llvm::ArrayRef<int32_t>(ids, count));
  if (!bytes)
    return report(bytes.takeError(), error);
  *text = static_cast<char *>(malloc(bytes->size() + 1));
  std::memcpy(*text, bytes->c_str(), bytes->size() + 1);
  *length = bytes->size();
  return 0;
}

int32_t qopt_tokenizer_eot(const qopt_tokenizer *tokenizer) {
  return tokenizer->tokenizer.eotToken();
}

size_t qopt_tokenizer_vocab_size(const qopt_tokenizer *tokenizer) {
  return tokenizer->tokenizer.vocabSize();
}

void qopt_tokens_free(int32_t *ids) { free(ids); }

void qopt_string_free(char *string) { free(string); }
