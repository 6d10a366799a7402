//===- GPT2Tokenizer.cpp - GPT-2's byte-level BPE tokenizer ---------------===//
//
// Three steps, as in OpenAI's encoder.py:
//  1. pretokenize with GPT-2's regex
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
//       ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     implemented as a scanner (same as scripts/training/bpe.py);
//  2. map each piece's UTF-8 bytes to their single-byte tokens;
//  3. repeatedly merge every occurrence of the lowest-ranked adjacent pair.
// Step 3 works on token ids: every merge result is itself a vocabulary entry.
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/GPT2Tokenizer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <limits>
#include <mutex>
#include <queue>
#include <tuple>

using namespace llvm;
using namespace mlir::qopt;

//===----------------------------------------------------------------------===//
// Character classes and the pretokenizer
//===----------------------------------------------------------------------===//

namespace {
enum class CharClass : uint8_t { Other, Letter, Number, Space };

struct ClassRange {
  uint32_t first, last;
  CharClass cls;
};

// \p{L}, \p{N} and \s over all of Unicode; see
// scripts/gen-unicode-categories.py.
constexpr ClassRange kClassRanges[] = {
#include "UnicodeCategories.inc"
};

CharClass classify(uint32_t cp) {
  if (cp < 0x80) {
    if (isAlpha(cp))
      return CharClass::Letter;
    if (isDigit(cp))
      return CharClass::Number;
    // \t \n \v \f \r, the separators 0x1C-0x1F (Python's isspace), ' '.
    if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20))
      return CharClass::Space;
    return CharClass::Other;
  }
  const ClassRange *it = partition_point(
      kClassRanges, [&](const ClassRange &r) { return r.last < cp; });
  if (it != std::end(kClassRanges) && it->first <= cp)
    return it->cls;
  return CharClass::Other;
}

/// Decodes the well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates
/// or code points past U+10FFFF) at `text[i]` into `cp`; returns its size in
/// bytes, or 0 if `text[i]` does not start one.
unsigned decodeUTF8(StringRef text, size_t i, uint32_t &cp) {
  uint8_t c0 = static_cast<uint8_t>(text[i]);
  if (c0 < 0x80) {
    cp = c0;
    return 1;
  }
  const UTF8 *begin = reinterpret_cast<const UTF8 *>(text.data() + i);
  unsigned size = getNumBytesForUTF8(c0);
  if (size < 2 || size > 4 || size > text.size() - i ||
      !isLegalUTF8Sequence(begin, begin + size))
    return 0;
  cp = c0 & (0x7F >> size);
  for (unsigned k = 1; k < size; ++k)
    cp = (cp << 6) | (begin[k] & 0x3F);
  return size;
}

struct Char {
  CharClass cls;
  unsigned size; // bytes
};

/// The character at `text[i]`. A byte that does not start well-formed UTF-8
/// is a character of class Other on its own.
Char charAt(StringRef text, size_t i) {
  uint32_t cp;
  unsigned size = decodeUTF8(text, i, cp);
  if (size == 0)
    return {CharClass::Other, 1};
  return {classify(cp), size};
}

const char *const kContractions[] = {"'s", "'t",  "'re", "'ve",
                                     "'m", "'ll", "'d"};

/// Calls `emit` with each piece GPT-2's regex matches, in order. The pieces
/// cover `text` exactly.
void pretokenize(StringRef text, function_ref<void(StringRef)> emit) {
  size_t n = text.size(), i = 0;
  while (i < n) {
    if (text[i] == '\'') {
      StringRef rest = text.substr(i);
      const char *const *c = find_if(
          kContractions, [&](const char *c) { return rest.starts_with(c); });
      if (c != std::end(kContractions)) {
        size_t len = StringRef(*c).size();
        emit(rest.take_front(len));
        i += len;
        continue;
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: one run of one class.
    size_t j = text[i] == ' ' && i + 1 < n ? i + 1 : i;
    Char first = charAt(text, j);
    if (first.cls != CharClass::Space) {
      size_t k = j + first.size;
      while (k < n) {
        Char c = charAt(text, k);
        if (c.cls != first.cls)
          break;
        k += c.size;
      }
      emit(text.slice(i, k));
      i = k;
      continue;
    }
    // `\s+(?!\S)`, else `\s+`: a whitespace run followed by more text leaves
    // its last character to prefix the next piece.
    size_t k = i, last = i;
    unsigned count = 0;
    while (k < n) {
      Char c = charAt(text, k);
      if (c.cls != CharClass::Space)
        break;
      last = k;
      k += c.size;
      ++count;
    }
    if (k < n && count > 1)
      k = last;
    emit(text.slice(i, k));
    i = k;
  }
}
} // namespace

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

namespace {
/// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
/// the other 68 bytes for U+0100 onwards, in byte order.
std::array<uint32_t, 256> bytesToUnicode() {
  std::array<uint32_t, 256> cps;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                     (b >= 0xAE && b <= 0xFF);
    cps[b] = printable ? b : next++;
  }
  return cps;
}

Error fileError(StringRef file, const Twine &msg) {
  return createStringError(inconvertibleErrorCode(), Twine(file) + ": " + msg);
}
} // namespace

struct GPT2Tokenizer::Cache {
  std::mutex mutex;
  StringMap<SmallVector<int32_t, 4>> pieces;
};

GPT2Tokenizer::GPT2Tokenizer() : cache(std::make_unique<Cache>()) {}
GPT2Tokenizer::GPT2Tokenizer(GPT2Tokenizer &&) noexcept = default;
GPT2Tokenizer &GPT2Tokenizer::operator=(GPT2Tokenizer &&) noexcept = default;
GPT2Tokenizer::~GPT2Tokenizer() = default;

Expected<GPT2Tokenizer> GPT2Tokenizer::load(StringRef encoderJsonPath,
                                            StringRef vocabBpePath) {
  auto read = [](StringRef path) -> Expected<std::unique_ptr<MemoryBuffer>> {
    ErrorOr<std::unique_ptr<MemoryBuffer>> buf = MemoryBuffer::getFile(path);
    if (!buf)
      return fileError(path, "cannot read: " + buf.getError().message());
    return std::move(*buf);
  };
  Expected<std::unique_ptr<MemoryBuffer>> encoder = read(encoderJsonPath);
  if (!encoder)
    return encoder.takeError();
  Expected<std::unique_ptr<MemoryBuffer>> bpe = read(vocabBpePath);
  if (!bpe)
    return bpe.takeError();
  return parse((*encoder)->getBuffer(), (*bpe)->getBuffer(), encoderJsonPath,
               vocabBpePath);
}

Expected<GPT2Tokenizer> GPT2Tokenizer::parse(StringRef encoderJson,
                                             StringRef vocabBpe,
                                             StringRef encoderName,
                                             StringRef bpeName) {
  GPT2Tokenizer tok;
  std::array<uint32_t, 256> byteToCp = bytesToUnicode();
  DenseMap<uint32_t, uint8_t> cpToByte;
  for (unsigned b = 0; b < 256; ++b)
    cpToByte[byteToCp[b]] = b;

  // encoder.json: {"<byte-encoded token>": id, ...}, ids 0..N-1.
  Expected<json::Value> json = json::parse(encoderJson);
  if (!json)
    return fileError(encoderName,
                     "invalid JSON: " + toString(json.takeError()));
  const json::Object *obj = json->getAsObject();
  if (!obj)
    return fileError(encoderName, "expected a JSON object of token -> id");
  StringMap<int32_t> idOf; // byte-encoded token -> id
  tok.tokenBytes.resize(obj->size());
  std::vector<bool> seen(obj->size());
  for (const auto &[key, value] : *obj) {
    StringRef name = key;
    std::optional<int64_t> id = value.getAsInteger();
    if (!id || *id < 0 || *id >= int64_t(obj->size()) || seen[*id])
      return fileError(encoderName, "token \"" + name + "\": ids must be 0.." +
                                        Twine(obj->size() - 1) + ", each once");
    seen[*id] = true;
    std::string &bytes = tok.tokenBytes[*id];
    for (size_t i = 0; i < name.size();) {
      uint32_t cp = 0;
      unsigned size = decodeUTF8(name, i, cp);
      auto it = cpToByte.find(cp);
      if (size == 0 || it == cpToByte.end())
        return fileError(encoderName,
                         "token \"" + name + "\" is not byte-level encoded");
      bytes.push_back(static_cast<char>(it->second));
      i += size;
    }
    idOf[name] = static_cast<int32_t>(*id);
  }
  for (unsigned b = 0; b < 256; ++b) {
    std::string utf8;
    convertUTF32ToUTF8String(ArrayRef<UTF32>(byteToCp[b]), utf8);
    auto it = idOf.find(utf8);
    if (it == idOf.end())
      return fileError(encoderName,
                       "no token for byte " + Twine(b) + " (\"" + utf8 + "\")");
    tok.byteToken[b] = it->second;
  }
  auto eot = idOf.find("<|endoftext|>");
  tok.eot = eot == idOf.end() ? -1 : eot->second;

  // vocab.bpe: "#version: ..." then one "first second" merge per line, the
  // rank being the line order. Like encoder.py, a repeated pair keeps its
  // last rank.
  SmallVector<StringRef> lines;
  vocabBpe.split(lines, '\n');
  int32_t rank = 0;
  for (size_t lineNo = 0; lineNo < lines.size(); ++lineNo) {
    StringRef line = lines[lineNo].trim();
    if (line.empty() || (lineNo == 0 && line.starts_with("#version")))
      continue;
    SmallVector<StringRef, 3> parts;
    line.split(parts, ' ', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
    std::string where = (bpeName + ":" + Twine(lineNo + 1)).str();
    if (parts.size() != 2)
      return fileError(where, "expected a merge \"first second\"");
    auto a = idOf.find(parts[0]), b = idOf.find(parts[1]);
    auto ab = idOf.find((parts[0] + parts[1]).str());
    if (a == idOf.end() || b == idOf.end() || ab == idOf.end())
      return fileError(where, "merge \"" + line +
                                  "\" uses a token missing from " +
                                  encoderName);
    tok.merges[pairKey(a->second, b->second)] = {rank++, ab->second};
  }
  // Without merges every byte is its own token: ids a GPT-2 model was never
  // trained on, so an empty or truncated file is an error, not a tokenizer.
  if (tok.merges.empty())
    return fileError(bpeName, "has no merges (empty or not a vocab.bpe)");

  // bpeLong's heap order equals GPT-2's pass order if no merge ranks before
  // a merge producing one of its parts (true of any trained BPE).
  std::vector<int32_t> lastMade(tok.tokenBytes.size(), -1);
  for (const auto &[key, merge] : tok.merges)
    lastMade[merge.result] = std::max(lastMade[merge.result], merge.rank);
  tok.mergesWellOrdered = all_of(tok.merges, [&](const auto &entry) {
    int32_t rank = entry.second.rank;
    return lastMade[entry.first >> 32] < rank &&
           lastMade[entry.first & 0xFFFFFFFF] < rank;
  });
  return std::move(tok);
}

//===----------------------------------------------------------------------===//
// Encoding and decoding
//===----------------------------------------------------------------------===//

void GPT2Tokenizer::bpe(StringRef piece, std::vector<int32_t> &out) const {
  if (piece.size() > kLongPiece && mergesWellOrdered)
    return bpeLong(piece, out);
  SmallVector<int32_t, 32> word;
  for (unsigned char b : piece)
    word.push_back(byteToken[b]);
  while (word.size() > 1) {
    int32_t bestRank = std::numeric_limits<int32_t>::max();
    int32_t first = -1, second = -1, result = -1;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = merges.find(pairKey(word[i], word[i + 1]));
      if (it != merges.end() && it->second.rank < bestRank) {
        bestRank = it->second.rank;
        first = word[i];
        second = word[i + 1];
        result = it->second.result;
      }
    }
    if (result < 0)
      break;
    // Merge every occurrence, left to right, without overlap.
    size_t kept = 0;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        word[kept++] = result;
        i += 2;
      } else {
        word[kept++] = word[i++];
      }
    }
    word.truncate(kept);
  }
  out.insert(out.end(), word.begin(), word.end());
}

void GPT2Tokenizer::bpeLong(StringRef piece, std::vector<int32_t> &out) const {
  // Symbols form a linked list over the byte positions; a merged symbol keeps
  // its left position, so positions order the symbols. -1: none / removed.
  int32_t n = static_cast<int32_t>(piece.size());
  std::vector<int32_t> sym(n), prev(n), next(n);
  struct Entry {
    int32_t rank, pos, left, right, result;
  };
  auto later = [](const Entry &a, const Entry &b) {
    return std::tie(a.rank, a.pos) > std::tie(b.rank, b.pos);
  };
  std::priority_queue<Entry, std::vector<Entry>, decltype(later)> heap(later);
  auto push = [&](int32_t i) {
    if (i < 0 || next[i] < 0)
      return;
    auto it = merges.find(pairKey(sym[i], sym[next[i]]));
    if (it != merges.end())
      heap.push({it->second.rank, i, sym[i], sym[next[i]], it->second.result});
  };
  for (int32_t i = 0; i < n; ++i) {
    sym[i] = byteToken[static_cast<uint8_t>(piece[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  for (int32_t i = 0; i < n; ++i)
    push(i);
  while (!heap.empty()) {
    Entry e = heap.top();
    heap.pop();
    int32_t i = e.pos, j = next[i];
    if (sym[i] != e.left || j < 0 || sym[j] != e.right)
      continue; // stale: a neighbour was merged since
    sym[i] = e.result;
    sym[j] = -1;
    next[i] = next[j];
    if (next[j] >= 0)
      prev[next[j]] = i;
    push(prev[i]);
    push(i);
  }
  for (int32_t i = 0; i >= 0; i = next[i])
    out.push_back(sym[i]);
}

std::vector<int32_t> GPT2Tokenizer::encode(StringRef text) const {
  constexpr size_t kMaxCacheEntries = 1 << 20;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 4);
  pretokenize(text, [&](StringRef piece) {
    if (piece.size() == 1) {
      ids.push_back(byteToken[static_cast<uint8_t>(piece[0])]);
      return;
    }
    if (piece.size() > kLongPiece) {
      bpe(piece, ids);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(cache->mutex);
      auto it = cache->pieces.find(piece);
      if (it != cache->pieces.end()) {
        ids.insert(ids.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    size_t start = ids.size();
    bpe(piece, ids);
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (cache->pieces.size() < kMaxCacheEntries)
      cache->pieces.try_emplace(piece, ids.begin() + start, ids.end());
  });
  return ids;
}

Expected<std::string> GPT2Tokenizer::decode(ArrayRef<int32_t> ids) const {
  std::string text;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tokenBytes.size())
      return createStringError(inconvertibleErrorCode(),
                               "token id " + Twine(id) +
                                   " is outside the vocabulary (0.." +
                                   Twine(tokenBytes.size() - 1) + ")");
    text += tokenBytes[id];
  }
  return text;
}

StringRef GPT2Tokenizer::tokenText(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokenBytes.size())
    return {};
  return tokenBytes[id];
}
