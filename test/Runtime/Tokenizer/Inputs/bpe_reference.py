"""scripts/training/bpe.py as the reference for the tokenizer lit tests.

  bpe_reference.py compare TEXT IDS    encode TEXT, compare with IDS (one a line)
  bpe_reference.py sweep OUT           write a text exercising every character
                                       class boundary of Unicode
  bpe_reference.py long-pieces OUT     write pretokens of 60-1500 bytes (the
                                       tokenizer merges those with a heap)
  bpe_reference.py invalid-utf8 OUT    write bytes that are not valid UTF-8
"""
import random
import sys
import unicodedata

from training.bpe import Encoder


def compare(text_path, ids_path):
    with open(text_path, "rb") as f:
        text = f.read().decode("utf-8")
    with open(ids_path) as f:
        got = [int(line) for line in f if line.strip()]
    want = Encoder().encode(text)
    print(f"tokens: {len(want)}")
    if got == want:
        print("match: yes")
        return 0
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
             min(len(got), len(want)))
    print(f"match: no; {len(got)} ids, first difference at {i}: "
          f"got {got[i:i + 5]}, want {want[i:i + 5]}")
    return 1


def _class(c):
    ch = chr(c)
    if ch.isspace():
        return "s"
    return unicodedata.category(ch)[0]


def sweep(out_path):
    # All of the BMP, and both sides of every class change above it.
    cps = [c for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    prev = _class(0xFFFF)
    for c in range(0x10000, 0x110000):
        cls = _class(c)
        if cls != prev:
            cps += [c - 1, c]
        prev = cls
    # Each character between a letter and a digit, doubled, after a space.
    text = "".join(f"a{chr(c)}1 {chr(c)}{chr(c)}x\n" for c in cps)
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def long_pieces(out_path):
    rng = random.Random(7)
    alphabets = ['!"#$%&()*+,-./:;<=>?@[]^_{|}~', "abcdefghijklmnopqrstuvwxyz\u00e9",
                 "0123456789", "=", "-", "ab=-"]
    parts = []
    for _ in range(40):
        chars = rng.choice(alphabets)
        parts.append("".join(rng.choice(chars) for _ in range(rng.randint(60, 1500))))
        parts.append(rng.choice([" ", "\n", " " * rng.randint(60, 300) + "x", " q "]))
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(parts))


def invalid_utf8(out_path):
    with open(out_path, "wb") as f:
        # A stray continuation byte, 0xFF, a truncated sequence, an encoded
        # surrogate, an overlong '/', a code point past U+10FFFF, and a
        # sequence cut off by the end of the file.
        f.write(b"ok \x80\xff caf\xc3 x \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80"
                b" it's\xe2\x82")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "compare":
        sys.exit(compare(*args))
    {"sweep": sweep, "long-pieces": long_pieces,
     "invalid-utf8": invalid_utf8}[cmd](*args)
