"""Runs a compiled KV-cache model through the C API's language model
(qopt_lm_*, via quantopt.runtime.LanguageModel) and compares its logits with
PyTorch's: one token at a time without a context limit (the runtime's cache
buffers double and are copied), a prefill and decode steps with a limit
(one buffer for the whole context), again after reset, and the errors."""
import sys

import numpy as np

from quantopt.runtime import LanguageModel, RuntimeFailure


def report(label, got, ref):
    err = float(np.abs(got - ref).max() / np.abs(ref).max())
    print(f"{label}: max rel err {err:.2e}: {'ok' if err <= 1e-4 else 'FAIL'}")


def main():
    library, base = sys.argv[1:3]
    ids = np.load(base + ".input.npy")[0]
    ref = np.load(base + ".logits.npy")[0]
    n = len(ids)

    lm = LanguageModel(library)
    rows = [lm.forward(ids[:1])] + [lm.forward(ids[i:i + 1]) for i in range(1, n)]
    report("one token at a time, no limit", np.concatenate(rows), ref)
    print("context length:", lm.context_length)

    lm = LanguageModel(library, context_limit=32)
    for label in ("prefill and decode, limit 32", "the same after reset"):
        half = n // 2
        rows = [lm.forward(ids[:half])] + [lm.forward_last(ids[i:i + 1])[None]
                                           for i in range(half, n)]
        report(label, np.concatenate(rows), ref)
        lm.reset()

    lm = LanguageModel(library, context_limit=n)
    for tokens in ([], [lm.vocab_size], ids, [int(ids[0])]):
        try:
            lm.forward(tokens)
            print(f"{len(tokens)} tokens: no error")
        except RuntimeFailure as e:
            print("error:", e)


if __name__ == "__main__":
    main()
