//===- GPT2Tokenizer.h - GPT-2's byte-level BPE tokenizer -------*- C++ -*-===//
//
// GPT-2's tokenizer, reading GPT-2's own encoder.json and vocab.bpe, and
// producing the same ids as OpenAI's encoder.py (and scripts/training/bpe.py).
// See docs/tokenizer.md.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNTIME_GPT2TOKENIZER_H
#define QUANT_OPT_RUNTIME_GPT2TOKENIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir::qopt {

class GPT2Tokenizer {
public:
  /// Reads encoder.json (token string -> id) and vocab.bpe (merges, ranked by
  /// line order after the "#version" line). Errors name the offending file.
  static llvm::Expected<GPT2Tokenizer> load(llvm::StringRef encoderJsonPath,
                                            llvm::StringRef vocabBpePath);

  /// Builds a tokenizer from the two files' contents; `encoderName` and
  /// `bpeName` only label error messages.
  static llvm::Expected<GPT2Tokenizer>
  parse(llvm::StringRef encoderJson, llvm::StringRef vocabBpe,
        llvm::StringRef encoderName = "encoder.json",
        llvm::StringRef bpeName = "vocab.bpe");

  GPT2Tokenizer(GPT2Tokenizer &&) noexcept;
  GPT2Tokenizer &operator=(GPT2Tokenizer &&) noexcept;
  ~GPT2Tokenizer();

  /// Tokenizes `text` exactly as GPT-2 does. Never fails: bytes that are not
  /// valid UTF-8 are pretokenized as one "other" character each and still
  /// encoded byte-level, so decode(encode(x)) == x for any bytes x.
  /// "<|endoftext|>" in the text is plain text, as in GPT-2's encoder.
  /// Thread-safe (the word cache is locked).
  std::vector<int32_t> encode(llvm::StringRef text) const;

  /// The bytes the ids stand for, concatenated. Fails on an id outside
  /// [0, vocabSize()); the bytes need not be valid UTF-8 (a character may be
  /// split across tokens).
  llvm::Expected<std::string> decode(llvm::ArrayRef<int32_t> ids) const;

  /// The bytes of one token; empty for an id outside the vocabulary.
  llvm::StringRef tokenText(int32_t id) const;

  size_t vocabSize() const { return tokenBytes.size(); }

  /// `<|endoftext|>` (50256 in GPT-2), or -1 if the vocabulary lacks it.
  int32_t eotToken() const { return eot; }

private:
  GPT2Tokenizer();

  /// Applies the merges to a pretokenized piece, appending the ids to `out`:
  /// GPT-2's loop (merge every occurrence of the lowest-ranked pair, repeat).
  void bpe(llvm::StringRef piece, std::vector<int32_t> &out) const;
  /// The same in O(n log n) with a heap, for long pieces, whose quadratic
  /// loop would be slow (e.g. a 200 KB run of punctuation).
  void bpeLong(llvm::StringRef piece, std::vector<int32_t> &out) const;
  /// Pieces longer than this use bpeLong and are not cached.
  static constexpr size_t kLongPiece = 64;

  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pairKey(int32_t a, int32_t b) {
    return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
  }

  std::vector<std::string> tokenBytes; // id -> raw bytes
  std::array<int32_t, 256> byteToken;  // byte -> id of its single-byte token
  llvm::DenseMap<uint64_t, Merge> merges;
  int32_t eot = -1;
  bool mergesWellOrdered = false; // bpeLong is exact; see parse()

  struct Cache;
  std::unique_ptr<Cache> cache; // piece -> ids, shared by const encode()
};

} // namespace mlir::qopt

#endif // QUANT_OPT_RUNTIME_GPT2TOKENIZER_H
