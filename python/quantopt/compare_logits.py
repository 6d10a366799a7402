"""Compares two raw float32 logit files (quant-run logits, ort_logits.js).

  /usr/bin/python3 -m quantopt.compare_logits A.f32 B.f32 [--vocab 50257]
      [--tol 1e-4] [--label NAME]

Prints `NAME: max abs err E, max |logit| M, rel R, top-1 agreement T% over N
positions: ok` (or FAIL, exit 1), where R = E / M, the error relative to the
largest logit of A, and the top-1 agreement counts positions whose argmax
agrees.
"""
import argparse
import sys

import numpy as np


def compare(a, b, vocab):
    if a.size != b.size:
        raise ValueError(f"sizes differ: {a.size} vs {b.size} floats")
    if a.size % vocab:
        raise ValueError(f"{a.size} floats is not a multiple of vocab {vocab}")
    a = a.reshape(-1, vocab).astype(np.float64)
    b = b.reshape(-1, vocab).astype(np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("non-finite logits")
    err = float(np.abs(a - b).max())
    scale = float(np.abs(a).max())
    agree = float((a.argmax(1) == b.argmax(1)).mean())
    return err, scale, err / scale if scale else err, agree, a.shape[0]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--tol", type=float, default=1e-4, help="largest relative error")
    p.add_argument("--label", default="logits")
    args = p.parse_args()
    try:
        err, scale, rel, agree, n = compare(np.fromfile(args.a, dtype=np.float32),
                                            np.fromfile(args.b, dtype=np.float32), args.vocab)
    except (OSError, ValueError) as e:
        print(f"{args.label}: error: {e}")
        return 1
    ok = rel <= args.tol
    print(f"{args.label}: max abs err {err:.3e}, max |logit| {scale:.3f}, rel {rel:.3e}, "
          f"top-1 agreement {100 * agree:.2f}% over {n} positions: {'ok' if ok else 'FAIL'}"
          f" (tol {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
