"""Checks qopt-assign-precision against brute force over qopt-sensitivity's report.

  check_assignment.py REPORT.json MODULE.mlir (--bits-per-weight B | --max-kl K)
      [--allow-float]

Every combination of one format per tensor (f32 too when allowed) is scored with
the report's bytes and KL; the module's qopt.format choices must be optimal: the
least summed KL within the budget, or the fewest bytes within the KL bound
(ties: any optimum). Prints "optimal: ..." or the better combination found.
"""
import argparse
import itertools
import json
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("report")
ap.add_argument("module")
ap.add_argument("--bits-per-weight", type=float)
ap.add_argument("--max-kl", type=float)
ap.add_argument("--allow-float", action="store_true")
args = ap.parse_args()

tensors = json.load(open(args.report))["tensors"]
text = open(args.module).read()
options, chosen = [], []
for t in tensors:
    opts = [(name, f["bytes"], f["kl"]) for name, f in t["formats"].items()]
    if args.allow_float:
        opts.append(("f32", 4 * t["k"] * t["n"], 0.0))
    options.append(opts)
    # The tensor's weight point carries its choice.
    m = re.search(r'"%s:(?:weight|table)"[^\n]*qopt.format = "([^"]+)"' % re.escape(t["name"]),
                  text)
    if not m:
        sys.exit(f"no qopt.format on {t['name']}")
    chosen.append(m.group(1))
params = sum(t["k"] * t["n"] for t in tensors)


def score(combo):
    return sum(o[1] for o in combo), sum(o[2] for o in combo)


picked = [next(o for o in opts if o[0] == c) for opts, c in zip(options, chosen)]
pb, pk = score(picked)
best = None
for combo in itertools.product(*options):
    b, k = score(combo)
    if args.bits_per_weight is not None:
        if 8 * b > args.bits_per_weight * params:
            continue
        key = (k, b)
    else:
        if k > args.max_kl:
            continue
        key = (b, k)
    if best is None or key < best[0]:
        best = (key, combo)
limit_ok = (8 * pb <= args.bits_per_weight * params if args.bits_per_weight is not None
            else pk <= args.max_kl)
goal = pk if args.bits_per_weight is not None else pb
optimum = best[0][0]
if limit_ok and goal <= optimum * (1 + 1e-9) + 1e-12:
    print(f"optimal: {' '.join(chosen)} ({pb} bytes, KL {pk:.3e})")
else:
    print(f"NOT optimal: {' '.join(chosen)} ({pb} bytes, KL {pk:.3e}); better: "
          f"{' '.join(o[0] for o in best[1])} {score(best[1])}")
    sys.exit(1)
