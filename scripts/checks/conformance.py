"""ONNX backend conformance: compiles every node test the importer covers and
checks its outputs on the test's own data.

  PYTHONPATH=python:scripts /usr/bin/python3 -m checks.conformance \\
      [--quant-compile build/bin/quant-compile] [--data DIR] [--jobs 2] [--json OUT]

For each DIR/*/model.onnx (default Debian's libonnx-testdata): `quant-compile`
builds a shared library; a model the importer refuses (exit 1 with `error:`)
is not covered. Each covered model runs on every test_data_set_*/input_*.pb
through the runtime (quantopt.runtime) in a child process, so that a crash is
reported rather than fatal, and its outputs are compared with output_*.pb as
ONNX's own runner does: |got - expected| <= atol + rtol * |expected| (rtol 1e-3,
atol 1e-5; NaN matches NaN, equal infinities match; integers and booleans
exactly). Test data whose input shapes contradict the model's declared inputs is
reported as bad test data, and KNOWN_DEVIATIONS lists, with the reason, outputs
quant-opt deliberately does not reproduce. Prints the counts, the ops of the
passing models, and every failure; exits 1 if a covered model fails, crashes or
times out.
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

DEFAULT_DATA = "/usr/share/libonnx-testdata/data/node"
KINDS = ("passed", "failed", "crashed", "known deviation", "bad test data", "not covered")

# Models whose expected outputs quant-opt deliberately does not reproduce.
KNOWN_DEVIATIONS = {
    "test_cast_FLOAT_to_BFLOAT16":
        "ONNX 1.12's expected values truncate float to bfloat16 (checked: all 12 match "
        "truncation, 7 of 12 match rounding); quant-opt rounds to nearest even, as "
        "arith.truncf and later ONNX reference implementations do",
}


def compare(name, got, expected, rtol, atol):
    """None if `got` matches `expected`, else a one-line reason."""
    import numpy as np
    if got.shape != expected.shape:
        return f"{name}: shape {got.shape}, expected {expected.shape}"
    if expected.dtype.kind in "fc":
        g, e = got.astype(np.float64), expected.astype(np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~((g == e) | (np.abs(g - e) <= atol + rtol * np.abs(e)) | (np.isnan(g) & np.isnan(e)))
        if bad.any():
            i = np.unravel_index(np.argmax(bad), bad.shape)
            return (f"{name}: {int(bad.sum())} of {bad.size} values differ, "
                    f"e.g. at {tuple(int(x) for x in i)}: {g[i]!r} vs {e[i]!r}")
        return None
    if not np.array_equal(got.view(expected.dtype) if got.dtype.itemsize == expected.dtype.itemsize
                          else got, expected):
        return f"{name}: integer values differ"
    return None


def run_one(library, test_dir, rtol, atol):
    """Child process: runs every data set, prints a JSON verdict."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from quantopt.runtime import Model

    def load(path):
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        return numpy_helper.to_array(t).reshape(tuple(t.dims))

    model = Model(library)
    entry = next(iter(model.entries))
    declared = [i["shape"] for i in model.entries[entry]["inputs"]]
    problems, sets = [], sorted(glob.glob(os.path.join(test_dir, "test_data_set_*")))
    for data_set in sets:
        inputs = [load(p) for p in sorted(glob.glob(os.path.join(data_set, "input_*.pb")),
                                          key=lambda p: int(p.rsplit("_", 1)[1][:-3]))]
        expected = [load(p) for p in sorted(glob.glob(os.path.join(data_set, "output_*.pb")),
                                            key=lambda p: int(p.rsplit("_", 1)[1][:-3]))]
        for i, (a, shape) in enumerate(zip(inputs, declared)):
            if a.ndim != len(shape) or any(d >= 0 and d != n for d, n in zip(shape, a.shape)):
                print(json.dumps({"bad_data": f"{os.path.basename(data_set)} input {i} has shape "
                                  f"{list(a.shape)}, the model declares {shape}"}))
                return
        outputs = model.run(entry, inputs)
        if len(outputs) != len(expected):
            problems.append(f"{len(outputs)} outputs, expected {len(expected)}")
            continue
        for i, (g, e) in enumerate(zip(outputs, expected)):
            why = compare(f"{os.path.basename(data_set)} output {i}", g, np.asarray(e), rtol, atol)
            if why:
                problems.append(why)
    print(json.dumps({"sets": len(sets), "problems": problems}))


def check(tool, model, workdir, rtol, atol, timeout):
    name = os.path.basename(os.path.dirname(model))
    library = os.path.join(workdir, name + ".so")
    try:
        p = subprocess.run([tool, model, "-o", library], capture_output=True, text=True,
                           errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "crashed", "quant-compile timed out"
    if p.returncode == 1 and "error:" in p.stderr:
        return "not covered", p.stderr.strip().splitlines()[0]
    if p.returncode != 0:
        return "crashed", f"quant-compile exit {p.returncode}: {p.stderr.strip()[:400]}"
    try:
        r = subprocess.run([sys.executable, "-m", "checks.conformance", "--run-one", library,
                            os.path.dirname(model), "--rtol", str(rtol), "--atol", str(atol)],
                           capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "crashed", "running timed out"
    finally:
        for suffix in (".so", ".weights"):
            path = library[:-3] + suffix
            if os.path.exists(path):
                os.remove(path)
    if r.returncode != 0:
        return "crashed", f"run exit {r.returncode}: {r.stderr.strip()[-600:]}"
    verdict = json.loads(r.stdout.strip().splitlines()[-1])
    if "bad_data" in verdict:
        return "bad test data", verdict["bad_data"]
    if verdict["problems"] and name in KNOWN_DEVIATIONS:
        return "known deviation", KNOWN_DEVIATIONS[name]
        return "failed", "; ".join(verdict["problems"][:3])
    return "passed", f"{verdict['sets']} data sets"


def model_ops(model):
    import onnx
    return sorted({n.op_type for n in onnx.load(model, load_external_data=False).graph.node})


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quant-compile", default="quant-compile")
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--filter", default="", help="only models whose name contains this")
    p.add_argument("--json")
    p.add_argument("--run-one", nargs=2, metavar=("LIBRARY", "TESTDIR"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run_one:
        return run_one(*args.run_one, args.rtol, args.atol)
    tool = shutil.which(args.quant_compile)
    if not tool:
        sys.exit(f"quant-compile not found: {args.quant_compile}")
    models = sorted(m for m in glob.glob(os.path.join(args.data, "*", "model.onnx"))
                    if args.filter in m)
    if not models:
        sys.exit(f"no models under {args.data}")
    results = {}
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(check, tool, m, workdir, args.rtol, args.atol, args.timeout): m
                   for m in models}
        for i, f in enumerate(concurrent.futures.as_completed(futures), 1):
            results[futures[f]] = f.result()
            if i % 50 == 0 or i == len(models):
                print(f"  {i}/{len(models)} models", file=sys.stderr, flush=True)

    counts = collections.Counter(kind for kind, _ in results.values())
    print(f"ONNX backend node tests: {len(models)} models in {args.data}")
    for kind in KINDS:
        print(f"  {kind:<12} {counts[kind]:>5}")
    covered = len(models) - counts["not covered"]
    print(f"summary: covered: {covered} passed: {counts['passed']} failed: {counts['failed']} "
          f"crashed: {counts['crashed']} known deviations: {counts['known deviation']} "
          f"bad test data: {counts['bad test data']}")
    ops = collections.Counter()
    for m, (kind, _) in results.items():
        if kind == "passed":
            ops.update(model_ops(m))
    print(f"\nops in passing models ({len(ops)}): " + ", ".join(sorted(ops)))
    for kind in ("known deviation", "bad test data"):
        listed = sorted((os.path.basename(os.path.dirname(m)), d) for m, (k, d) in results.items()
                        if k == kind)
        if listed:
            print(f"\n{kind} ({len(listed)}):")
            for name, detail in listed:
                print(f"  {name}: {detail}")
    bad = sorted((os.path.basename(os.path.dirname(m)), kind, detail)
                 for m, (kind, detail) in results.items() if kind in ("failed", "crashed"))
    if bad:
        print(f"\nfailed or crashed ({len(bad)}):")
        for name, kind, detail in bad:
            print(f"  {name}: {kind}: {detail[:500]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({os.path.basename(os.path.dirname(m)): {"result": k, "detail": d}
                       for m, (k, d) in results.items()}, f, indent=1, sort_keys=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
