"""Compares two raw float32 logit files (quant-run logits, ort_logits.js).

  PYTHONPATH=scripts /usr/bin/python3 -m checks.compare_logits A.f32 B.f32 [--vocab 50257]
      [--tol 1e-4] [--prefix N] [--median-tol T] [--min-top1 F] [--label NAME]

Prints `NAME: max abs err E, max |logit| M, rel R, top-1 agreement T% over N
positions: ok` (or FAIL, exit 1), where R = E / M, the error relative to the
largest logit of A, and the top-1 agreement counts positions whose argmax
agrees. By default every position must be within --tol.

Models with static int8 activations need the other criteria: there an
activation that lands within an ulp of a rounding boundary rounds the other
way after any last-bit float difference upstream (integer against float
accumulation, another summation order), and on the coarse per-tensor grids
one such flip moves later positions by a few percent of the largest logit
(docs/export.md). --prefix N then holds only the first N positions to --tol
(before the first flip two runs of the same quantized model agree to float
precision; a wrong scale, zero point or weight shows at once), --median-tol
bounds the median position's relative error, and --min-top1 the top-1
agreement.
"""
import argparse
import sys

import numpy as np


def compare(a, b, vocab):
    """(max abs error, max |a|, per-position max abs error, top-1 agreement
    per position), as float64."""
    if a.size != b.size:
        raise ValueError(f"sizes differ: {a.size} vs {b.size} floats")
    if a.size % vocab:
        raise ValueError(f"{a.size} floats is not a multiple of vocab {vocab}")
    a = a.reshape(-1, vocab).astype(np.float64)
    b = b.reshape(-1, vocab).astype(np.float64)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("non-finite logits")
    per_position = np.abs(a - b).max(axis=1)
    return float(per_position.max()), float(np.abs(a).max()), per_position, \
        a.argmax(1) == b.argmax(1)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--tol", type=float, default=1e-4, help="largest relative error")
    p.add_argument("--prefix", type=int, default=0,
                   help="hold only the first N positions to --tol (0: all)")
    p.add_argument("--median-tol", type=float, help="largest median position error")
    p.add_argument("--min-top1", type=float, help="smallest top-1 agreement (0..1)")
    p.add_argument("--label", default="logits")
    args = p.parse_args()
    try:
        err, scale, per_position, agree = compare(
            np.fromfile(args.a, dtype=np.float32), np.fromfile(args.b, dtype=np.float32),
            args.vocab)
    except (OSError, ValueError) as e:
        print(f"{args.label}: error: {e}")
        return 1
    rel = per_position / scale if scale else per_position
    n = len(rel)
    held = rel[:args.prefix] if args.prefix else rel
    ok = float(held.max()) <= args.tol
    criteria = f"tol {args.tol:g}"
    if args.prefix:
        criteria += f" on the first {args.prefix} positions"
    median = float(np.median(rel))
    line = (f"{args.label}: max abs err {err:.3e}, max |logit| {scale:.3f}, "
            f"rel {float(rel.max()):.3e}")
    if args.median_tol is not None:
        ok &= median <= args.median_tol
        criteria += f", median tol {args.median_tol:g}"
        line += f", median position rel {median:.3e}"
    if args.prefix:
        above = np.flatnonzero(rel > args.tol)
        line += f", first position above tol {above[0] if above.size else 'none'}"
    if args.min_top1 is not None:
        ok &= float(agree.mean()) >= args.min_top1
        criteria += f", top-1 >= {100 * args.min_top1:g}%"
    print(f"{line}, top-1 agreement {100 * agree.mean():.2f}% over {n} positions: "
          f"{'ok' if ok else 'FAIL'} ({criteria})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
