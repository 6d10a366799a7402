"""Imports every model of ONNX's backend node tests and classifies the result.

  PYTHONPATH=scripts /usr/bin/python3 -m checks.backend_sweep \\
      --quant-opt build/bin/quant-opt [--data DIR] [--jobs 2] [--json OUT]

Each model (DIR/*/model.onnx, default Debian's libonnx-testdata) either
imports (exit 0), is refused cleanly (exit 1 with an `error:` diagnostic), or
is a bug: a crash (signal, abort, any other exit code, or exit 1 without a
diagnostic) or a timeout (--timeout, 30 s). Prints a summary table, the
refusal reasons grouped, and every bug with its first stderr lines; --json
writes every model's result and stderr. Exits 1 if there is any bug.
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
KINDS = ("imported", "refused", "crashed", "timeout")


def classify(quant_opt, model, timeout):
    """Returns (kind, detail) for importing one model."""
    try:
        p = subprocess.run([quant_opt, model, "-o", os.devnull],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", f"no result after {timeout:g} s"
    err = p.stderr.strip()
    if p.returncode == 0:
        return "imported", err
    if p.returncode == 1 and "error:" in err:
        return "refused", err
    if p.returncode < 0:
        try:
            status = signal.Signals(-p.returncode).name
        except ValueError:
            status = f"signal {-p.returncode}"
    else:
        status = f"exit {p.returncode}"
    return "crashed", f"{status}\n{err}"


def reason_key(message):
    """The first diagnostic without file, node name and opset, for grouping:
    "unsupported operator: Conv", "Slice: starts must be ...", ..."""
    line = next((l for l in message.splitlines() if "error:" in l), message)
    line = line.split("error:", 1)[1].strip()
    m = re.match(r"node '.*' \(([^,]+), opset \d+\): (.*)", line)
    if m:
        op, what = m.groups()
        return f"{what}: {op}" if what == "unsupported operator" else f"{op}: {what}"
    line = re.sub(r"'[^']*'", "'*'", line)  # graph input and tensor names
    return re.sub(r"opset \d+ is", "opset N is", line)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quant-opt", default="quant-opt", help="path or name on PATH")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--timeout", type=float, default=30, help="seconds per model")
    p.add_argument("--top", type=int, default=25, help="refusal groups to show")
    p.add_argument("--json", help="write per-model results here")
    args = p.parse_args()
    tool = shutil.which(args.quant_opt)
    if not tool:
        sys.exit(f"quant-opt not found: {args.quant_opt}")
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
    print(f"ONNX backend node tests: {len(models)} models in {args.data}")
    print(f"quant-opt: {tool}\n")
    print(f"  {'result':<10} {'models':>6}")
    for kind in KINDS:
        print(f"  {kind:<10} {counts[kind]:>6}")
    print(f"  {'total':<10} {len(models):>6}")
    print("summary: " + " ".join(f"{kind}: {counts[kind]}" for kind in KINDS))

    reasons = collections.Counter(reason_key(detail) for kind, detail
                                  in results.values() if kind == "refused")
    print(f"\nrefusals by reason ({len(reasons)} groups, top {args.top}):")
    for reason, n in reasons.most_common(args.top):
        print(f"  {reason} ({n} model{'s' if n != 1 else ''})")

    bugs = sorted((name, kind, detail) for name, (kind, detail) in results.items()
                  if kind in ("crashed", "timeout"))
    if bugs:
        print(f"\ncrashed or timed out ({len(bugs)} models):")
        for name, kind, detail in bugs:
            lines = detail.splitlines()
            print(f"  {name}: {kind}, {lines[0]}")
            for line in lines[1:9]:
                print(f"      {line[:300]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({name: {"result": kind, "stderr": detail}
                       for name, (kind, detail) in results.items()},
                      f, indent=1, sort_keys=True)
    sys.exit(1 if bugs else 0)


if __name__ == "__main__":
    main()
