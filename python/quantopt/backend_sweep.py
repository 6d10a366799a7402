"""Imports every model of ONNX's backend node tests and classifies the result.

  PYTHONPATH=python /usr/bin/python3 -m quantopt.backend_sweep \\
      --quant-opt build/bin/quant-opt [--data DIR] [--jobs 2] [--json OUT]

Each model either imports (exit 0), is refused cleanly (exit 1 with an
`error:` diagnostic), or is a bug: a crash (signal, abort, any other exit
code, or exit 1 without a diagnostic) or a timeout. Prints a summary table,
the refusal reasons grouped, and every bug with its first stderr lines.
Exits 1 if there is any bug.
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"


def classify(quant_opt, model, timeout):
    try:
        p = subprocess.run([quant_opt, model, "-o", os.devnull], capture_output=True,
                           text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    err = p.stderr.strip()
    if p.returncode == 0:
        return "imported", ""
    if p.returncode == 1 and "error:" in err:
        return "refused", err
    return "crashed", f"exit {p.returncode}: {err[:2000]}"


def reason_key(message):
    """The first diagnostic without file, node name and numbers, for grouping."""
    line = next((l for l in message.splitlines() if "error:" in l), message)
    line = line.split("error:", 1)[1].strip()
    line = re.sub(r"node '[^']*' ", "", line)
    line = re.sub(r"tensor name: [^)]*", "tensor name: *", line)
    line = re.sub(r"'[^']*'", "'*'", line)
    return re.sub(r"\d+", "N", line)[:110]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quant-opt", default="quant-opt")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--json", help="write per-model results here")
    args = p.parse_args()
    tool = shutil.which(args.quant_opt) or args.quant_opt
    models = sorted(glob.glob(os.path.join(args.data, "*", "model.onnx")))
    if not models:
        sys.exit(f"no models under {args.data}")
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(classify, tool, m, args.timeout): m for m in models}
        for i, f in enumerate(concurrent.futures.as_completed(futures), 1):
            results[os.path.basename(os.path.dirname(futures[f]))] = f.result()
            if i % 100 == 0 or i == len(models):
                print(f"  {i}/{len(models)} models", file=sys.stderr, flush=True)

    counts = collections.Counter(kind for kind, _ in results.values())
    print(f"ONNX backend node tests: {len(models)} models ({args.data})")
    print(f"{'result':<10} {'models':>7}")
    for kind in ("imported", "refused", "crashed", "timeout"):
        print(f"{kind:<10} {counts[kind]:>7}")
    print(f"summary: imported: {counts['imported']} refused: {counts['refused']} "
          f"crashed: {counts['crashed']} timeout: {counts['timeout']}")

    reasons = collections.Counter(reason_key(msg) for kind, msg in results.values()
                                  if kind == "refused")
    print("\nrefusals by reason (top 25):")
    for reason, n in reasons.most_common(25):
        print(f"{n:>5}  {reason}")
    bugs = sorted((name, kind, msg) for name, (kind, msg) in results.items()
                  if kind in ("crashed", "timeout"))
    if bugs:
        print("\nbugs:")
        for name, kind, msg in bugs:
            print(f"  {name}: {kind} {msg[:600]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: {"result": v[0], "message": v[1]} for k, v in results.items()},
                      f, indent=1, sort_keys=True)
    sys.exit(1 if bugs else 0)


if __name__ == "__main__":
    main()
