"""Runs compiled models with inputs that break their shape assumptions and
prints what the runtime says: every bad call must be refused with the
message of the check that failed, every good call must compute the right
numbers (checked against numpy).

  check_runtime_checks.py ADD.so LM.so LM.onnxtext-constants-as-json
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np

from quantopt.runtime import LanguageModel, Model, RuntimeFailure


def attempt(what, call):
    try:
        result = call()
    except RuntimeFailure as error:
        print(f"{what}: refused: {error}")
        return None
    print(f"{what}: ran")
    return result


def main():
    add_so, lm_so, weights_json = sys.argv[1:4]
    add = Model(add_so)
    x = np.arange(32, dtype=np.float32).reshape(8, 4)
    attempt("add 8 rows + 2 rows", lambda: add.run("main", [x, x[:2]]))
    attempt("add 2 rows + 8 rows", lambda: add.run("main", [x[:2], x]))
    out = attempt("add 8 rows + 8 rows", lambda: add.run("main", [x, x + 1]))
    print("add matches numpy:", np.array_equal(out[0], 2 * x + 1))
    out = attempt("add 0 rows + 0 rows", lambda: add.run("main", [x[:0], x[:0]]))
    print("add of empty tensors has shape", out[0].shape)

    # Special files are refused, not waited on; an archive's index must lie
    # inside the file (header: magic, data offset, data bytes, fingerprint,
    # index offset, ...).
    scratch = tempfile.mkdtemp()
    fifo = os.path.join(scratch, "fifo")
    os.mkfifo(fifo)
    attempt("weights are a FIFO", lambda: Model(add_so, weights=fifo))
    attempt("library is a FIFO", lambda: Model(fifo))
    archive = bytearray(open(os.path.splitext(add_so)[0] + ".weights", "rb").read())
    struct.pack_into("<Q", archive, 32, len(archive) + 100)
    moved = os.path.join(scratch, "moved-index.weights")
    open(moved, "wb").write(archive)
    attempt("archive index outside the file", lambda: Model(add_so, weights=moved))

    w = {k: np.array(v, np.float32) for k, v in json.load(open(weights_json)).items()}
    wte, wpe, w1 = w["wte"].reshape(6, 4), w["wpe"].reshape(3, 4), w["w1"].reshape(4, 4)

    def reference(ids):
        ids = np.asarray(ids)
        h = wte[ids] + wpe[np.arange(len(ids))]
        return (h @ w1) @ wte.T

    lm = Model(lm_so)
    print("context in metadata:", lm.entries["main"].get("context"))
    ids = np.array([[1, 5, 2]], np.int64)
    out = attempt("lm 3 positions", lambda: lm.run("main", [ids]))
    print("lm matches numpy:", np.allclose(out[0][0], reference([1, 5, 2]), atol=1e-5))
    out = attempt("lm negative id", lambda: lm.run("main", [np.array([[-1]], np.int64)]))
    print("id -1 reads the last row:", np.allclose(out[0][0], reference([5]), atol=1e-5))
    attempt("lm 4 positions", lambda: lm.run("main", [np.array([[1, 2, 3, 4]], np.int64)]))
    attempt("lm id 6", lambda: lm.run("main", [np.array([[6]], np.int64)]))
    attempt("lm id -7", lambda: lm.run("main", [np.array([[-7]], np.int64)]))
    attempt("lm id 2^40", lambda: lm.run("main", [np.array([[1 << 40]], np.int64)]))
    attempt("lm rank 3 ids", lambda: lm.run("main", [np.zeros((1, 1, 1), np.int64)]))

    attempt("language model, context 8", lambda: LanguageModel(lm_so, context_limit=8))
    model = LanguageModel(lm_so)
    print("model context:", model.model_context)
    attempt("language model, 3 tokens", lambda: model.forward([1, 2, 3]))
    attempt("language model, 1 more", lambda: model.forward([4]))
    model.reset()
    attempt("language model, 4 tokens", lambda: model.forward([1, 2, 3, 4]))
    attempt("language model, token 6", lambda: model.forward([6]))


if __name__ == "__main__":
    main()
