"""Checks a `quant-run compare --json` result against bounds.

  check_bars.py RESULT.json NAME [--max-ppl-delta PCT] [--min-top1 FRACTION]
                [--max-mean-kl KL]

Prints the numbers and which bounds hold; exits 1 if one does not.
"""
import argparse
import json
import sys

ap = argparse.ArgumentParser()
ap.add_argument("result")
ap.add_argument("name")
ap.add_argument("--max-ppl-delta", type=float)
ap.add_argument("--min-top1", type=float)
ap.add_argument("--max-mean-kl", type=float)
args = ap.parse_args()
r = json.load(open(args.result))
delta = abs(r["ppl_delta_percent"])
checks = []
if args.max_ppl_delta is not None:
    checks.append((f"|ppl delta| {delta:.3f}% <= {args.max_ppl_delta}%", delta <= args.max_ppl_delta))
if args.min_top1 is not None:
    checks.append((f"top-1 {100 * r['top1_agreement']:.2f}% >= {100 * args.min_top1:.0f}%",
                   r["top1_agreement"] >= args.min_top1))
if args.max_mean_kl is not None:
    checks.append((f"mean KL {r['mean_kl']:.5f} <= {args.max_mean_kl}", r["mean_kl"] <= args.max_mean_kl))
ok = all(c for _, c in checks)
print(f"{args.name}: ppl {r['perplexity']:.4f} vs {r['reference_perplexity']:.4f}; "
      + "; ".join(t for t, _ in checks) + (": ok" if ok else ": FAIL"))
sys.exit(0 if ok else 1)
