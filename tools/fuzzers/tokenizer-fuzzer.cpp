//===- tokenizer-fuzzer.cpp - libFuzzer entry for GPT-2's tokenizer -------===//
//
// Encodes any bytes with GPT-2's tokenizer ($QOPT_FUZZ_TOKENIZER_DIR holds
// encoder.json and vocab.bpe) and decodes them back: byte-level BPE must
// give back exactly the input, and every id must be in the vocabulary.
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/GPT2Tokenizer.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <cstdio>
#include <cstdlib>

using mlir::qopt::GPT2Tokenizer;

static GPT2Tokenizer *tokenizer = nullptr;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const char *dir = getenv("QOPT_FUZZ_TOKENIZER_DIR");
  if (!dir) {
    fprintf(stderr, "tokenizer-fuzzer: set QOPT_FUZZ_TOKENIZER_DIR\n");
    exit(2);
  }
  llvm::SmallString<128> encoder(dir), bpe(dir);
  llvm::sys::path::append(encoder, "encoder.json");
  llvm::sys::path::append(bpe, "vocab.bpe");
  auto loaded = GPT2Tokenizer::load(encoder, bpe);
  if (!loaded) {
    fprintf(stderr, "tokenizer-fuzzer: %s\n",
            llvm::toString(loaded.takeError()).c_str());
    exit(2);
  }
  tokenizer = new GPT2Tokenizer(std::move(*loaded));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  std::vector<int32_t> ids = tokenizer->encode(text);
  for (int32_t id : ids)
    if (id < 0 || size_t(id) >= tokenizer->vocabSize())
      abort();
  llvm::Expected<std::string> back = tokenizer->decode(ids);
  if (!back || *back != text)
    abort();
  return 0;
}
