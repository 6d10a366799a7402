"""GPT-2's byte-level BPE, reading GPT-2's own encoder.json and vocab.bpe.

Python's `re` has no \\p{L}/\\p{N}, so GPT-2's pretokenizer regex
  's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
is implemented as a scanner over Unicode categories, alternative by alternative.
"""
import json
import unicodedata

from . import paths

_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def _is_letter(c):
    return unicodedata.category(c).startswith("L")


def _is_number(c):
    return unicodedata.category(c).startswith("N")


def _is_space(c):
    return c.isspace()


def _is_other(c):
    return not (_is_space(c) or _is_letter(c) or _is_number(c))


def pretokenize(text):
    """Splits text exactly as GPT-2's regex does."""
    out, i, n = [], 0, len(text)
    while i < n:
        # 's 't 're 've 'm 'll 'd
        m = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
        if m:
            out.append(m)
            i += len(m)
            continue
        j = i + 1 if text[i] == " " and i + 1 < n else i
        matched = False
        for cls in (_is_letter, _is_number, _is_other):
            if j < n and cls(text[j]):
                k = j
                while k < n and cls(text[k]):
                    k += 1
                out.append(text[i:k])
                i, matched = k, True
                break
        if matched:
            continue
        # \s+(?!\S) then \s+
        k = i
        while k < n and _is_space(text[k]):
            k += 1
        if k == i:  # a lone ' ' before nothing matched above cannot happen
            k = i + 1
        elif k < n and k - i > 1:
            k -= 1  # leave the last space to prefix the next token
        out.append(text[i:k])
        i = k
    return out


def _bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class Encoder:
    def __init__(self, encoder_json=None, vocab_bpe=None):
        if encoder_json is None:
            encoder_json, vocab_bpe = paths.bpe_files()
        with open(encoder_json, encoding="utf-8") as f:
            self.encoder = json.load(f)
        self.decoder = {v: k for k, v in self.encoder.items()}
        with open(vocab_bpe, encoding="utf-8") as f:
            merges = f.read().split("\n")[1:]
        merges = [tuple(m.split()) for m in merges if m.strip()]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.byte_encoder = _bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        self.cache = {}

    def _bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = list(token)
        while len(word) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), idx)
                     for idx, (a, b) in enumerate(zip(word, word[1:]))]
            rank, _ = min(pairs)
            if rank == 1 << 30:
                break
            first, second = None, None
            for (a, b) in zip(word, word[1:]):
                if self.ranks.get((a, b)) == rank:
                    first, second = a, b
                    break
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        self.cache[token] = word
        return word

    def encode(self, text):
        ids = []
        for piece in pretokenize(text):
            mapped = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(mapped))
        return ids

    def decode(self, ids):
        text = "".join(self.decoder[i] for i in ids)
        return bytearray(self.byte_decoder[c] for c in text).decode("utf-8", errors="replace")
