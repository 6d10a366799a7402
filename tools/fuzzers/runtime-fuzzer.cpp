//===- runtime-fuzzer.cpp - libFuzzer entry for the runtime's entry points ===//
//
// Drives a compiled model ($QOPT_FUZZ_MODEL, its .weights beside it) the
// way a caller can: LanguageModel::forward/forwardLast with any token ids
// and lengths, context limits, resets; and Model::run of every entry point
// with fuzzed shapes, ids, cache capacities and past lengths, in guarded
// buffers (GuardedBuffer.h). Every call must either fail with an error or
// return outputs of the promised size; a crash, a sanitizer report or a
// fault on a guard page is a finding.
//
//===----------------------------------------------------------------------===//

#include "FuzzInput.h"
#include "GuardedBuffer.h"

#include "quant-opt-runtime/LanguageModel.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

using namespace quantopt::rt;

namespace {
struct Target {
  std::unique_ptr<LanguageModel> lm;
  std::unique_ptr<Model> model;
  int64_t context = 0;
};
Target *target = nullptr;

void check(bool ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "runtime-fuzzer: %s\n", what);
    abort();
  }
}

std::vector<int32_t> takeTokens(FuzzInput &in, int64_t vocab) {
  std::vector<int32_t> tokens(in.range(0, 2 * target->context + 2));
  for (int32_t &t : tokens) {
    // Mostly valid ids, some just outside, some anywhere.
    switch (in.take<uint8_t>() % 4) {
    case 0:
      t = in.take<int32_t>();
      break;
    case 1:
      t = int32_t(vocab + in.range(-2, 2));
      break;
    default:
      t = int32_t(in.range(0, vocab - 1));
    }
  }
  return tokens;
}

void forward(FuzzInput &in, bool last) {
  LanguageModel &lm = *target->lm;
  std::vector<int32_t> tokens = takeTokens(in, lm.vocabSize());
  size_t before = lm.contextLength();
  auto logits = last ? lm.forwardLast(tokens) : lm.forward(tokens);
  if (!logits) {
    llvm::consumeError(logits.takeError());
    check(lm.contextLength() == before, "a failed forward changed the context");
    return;
  }
  size_t rows = last ? 1 : tokens.size();
  check(logits->size() == rows * size_t(lm.vocabSize()),
        "forward returned the wrong number of logits");
  check(lm.contextLength() == before + tokens.size(),
        "forward did not grow the context by its tokens");
}

/// One call of an entry point with fuzzed shapes and contents.
void runEntry(FuzzInput &in) {
  const std::vector<EntryPoint> &entries = target->model->entryPoints();
  const EntryPoint &entry = entries[in.range(0, entries.size() - 1)];
  int64_t limit = 2 * std::max<int64_t>(target->context, 8) + 1;
  std::vector<std::unique_ptr<GuardedBuffer>> buffers;
  std::vector<Tensor> inputs;
  for (const TensorSpec &spec : entry.inputs) {
    std::vector<int64_t> shape;
    for (int64_t d : spec.shape) {
      bool wrong = in.take<uint8_t>() % 16 == 0; // A bad static dim too.
      shape.push_back(d < 0 || wrong ? in.range(0, d == 1 || d < 0 ? 3 : limit)
                                     : d);
      if (d < 0 && shape.size() > 1)
        shape.back() = in.range(0, limit);
    }
    int64_t elements = 1;
    for (int64_t d : shape)
      elements *= d;
    auto buffer = std::make_unique<GuardedBuffer>(elements * spec.elementBytes);
    if (spec.dtype == "i64") {
      auto *ids = reinterpret_cast<int64_t *>(buffer->data);
      for (int64_t i = 0; i < elements; ++i)
        ids[i] = in.take<uint8_t>() % 8 == 0 ? in.take<int64_t>()
                                             : in.range(-4, limit);
    } else if (spec.dtype == "i32") {
      auto *ids = reinterpret_cast<int32_t *>(buffer->data);
      for (int64_t i = 0; i < elements; ++i)
        ids[i] = int32_t(in.range(-4, limit));
    } else {
      memset(buffer->data, 0, elements * spec.elementBytes);
    }
    inputs.push_back(Tensor::view(shape, buffer->data));
    buffers.push_back(std::move(buffer));
  }
  auto outputs = target->model->run(entry, inputs);
  if (!outputs) {
    llvm::consumeError(outputs.takeError());
    return;
  }
  check(outputs->size() == entry.outputs.size(), "wrong number of outputs");
  for (size_t i = 0; i < outputs->size(); ++i)
    check((*outputs)[i].shape.size() == entry.outputs[i].shape.size(),
          "an output has the wrong rank");
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const char *path = getenv("QOPT_FUZZ_MODEL");
  if (!path) {
    fprintf(stderr, "runtime-fuzzer: set QOPT_FUZZ_MODEL to a compiled "
                    "model (.so with its .weights beside it)\n");
    exit(2);
  }
  std::string weights = path;
  weights = weights.substr(0, weights.rfind('.')) + ".weights";
  target = new Target();
  auto lm = LanguageModel::load(path, weights);
  auto model = Model::load(path, weights);
  if (!lm || !model) {
    fprintf(stderr, "runtime-fuzzer: cannot load %s: %s\n", path,
            lm ? llvm::toString(model.takeError()).c_str()
               : llvm::toString(lm.takeError()).c_str());
    exit(2);
  }
  target->lm = std::move(*lm);
  target->model = std::move(*model);
  target->context = target->lm->modelContext();
  target->lm->model().setThreads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzInput in(data, size);
  LanguageModel &lm = *target->lm;
  lm.reset();
  llvm::consumeError(lm.setContextLimit(0));
  for (int step = 0; step < 6 && !in.empty(); ++step) {
    switch (in.take<uint8_t>() % 5) {
    case 0:
      forward(in, /*last=*/false);
      break;
    case 1:
      forward(in, /*last=*/true);
      break;
    case 2:
      lm.reset();
      break;
    case 3:
      llvm::consumeError(lm.setContextLimit(in.range(0, 2 * target->context)));
      break;
    default:
      runEntry(in);
    }
  }
  return 0;
}
