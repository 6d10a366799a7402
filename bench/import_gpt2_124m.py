"""Import benchmark: a GPT-2 124M-geometry ONNX model (12 layers, d=768,
vocab 50257, random weights, ~650 MB) through `quant-opt` to MLIR bytecode.

  /usr/bin/python3 bench/import_gpt2_124m.py [--quant-opt build/bin/quant-opt]
      [--model FILE.onnx | --opset 13|14|17 [--external-data | --both]] [--repeats 5]

Creates the model once in build-bench/ (scripts/training/export.py; --model reuses
a given file instead). Runs, interleaved, N times each: `quant-opt MODEL
--emit-bytecode -o /tmp/...`; the same with --onnx-skip-checker (when quant-opt
has it) to show what ONNX's checker + shape inference cost; and as the baseline
the reference library parsing the same file (`onnx.load` in /usr/bin/python3).
Reports median [min-max] wall time and peak RSS (wait4's ru_maxrss) of each child
process. Goals (issue 2): import < 10 s, peak RSS < 2x the model's size on disk
(.onnx plus its .data file). --both benchmarks the inline and external-data layouts.
Exits 1 if a goal fails.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"

from child_usage import run_measured  # noqa: E402  (bench/ is the script dir)


def run(cmd):
    """Wall seconds and peak RSS (bytes) of one child process."""
    wall, rss, _ = run_measured(cmd)
    return wall, rss


def export_model(opset, external_data):
    name = f"gpt2_124m_op{opset}" + ("_extdata" if external_data else "") + ".onnx"
    path = os.path.join(ROOT, "build-bench", name)
    if os.path.exists(path):
        print(f"using cached {path}", flush=True)
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    print(f"exporting {path} (random weights, ~1 min) ...", flush=True)
    cmd = [PYTHON, "-m", "training.export", "--random-124m", "--opset", str(opset), "-o", path]
    if external_data:
        cmd.append("--external-data")
    start = time.perf_counter()
    res = subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "scripts")),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if res.returncode != 0:
        for f in (path, path + ".data"):  # no half-written cache entries
            if os.path.exists(f):
                os.remove(f)
        sys.exit(f"export failed:\n{res.stderr.decode(errors='replace')[-4000:]}")
    print(f"  exported in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def model_bytes(path):
    data = path + ".data"  # export.py's location for --external-data
    return os.path.getsize(path) + (os.path.getsize(data) if os.path.exists(data) else 0)


def bench(args, model, skip_checker):
    size = model_bytes(model)
    fd, out = tempfile.mkstemp(prefix="import_gpt2_", suffix=".mlirbc")
    os.close(fd)
    cases = {"quant-opt import": [args.quant_opt, model, "--emit-bytecode", "-o", out]}
    if skip_checker:
        cases["quant-opt, no checker"] = [args.quant_opt, model, "--onnx-skip-checker",
                                          "--emit-bytecode", "-o", out]
    cases["onnx.load (baseline)"] = [PYTHON, "-c", f"import onnx; onnx.load({model!r})"]
    samples = {name: [] for name in cases}
    try:
        for r in range(args.repeats):
            for name, cmd in cases.items():
                samples[name].append(run(cmd))
            print(f"  repeat {r + 1}/{args.repeats}: " + ", ".join(
                f"{n.split(' (')[0]} {s[-1][0]:.2f} s" for n, s in samples.items()), flush=True)
        out_size = os.path.getsize(out)
    finally:
        os.remove(out)

    print(f"\nmodel: {model} ({size / 1e6:.1f} MB = {size} bytes), bytecode {out_size / 1e6:.1f} MB, "
          f"{args.repeats} repeats, median [min-max]")
    print(f"{'':22} {'wall s':>20} {'peak RSS MB':>20} {'RSS/size':>9} {'time vs onnx.load':>18}")
    base = statistics.median(w for w, _ in samples["onnx.load (baseline)"])
    for name, xs in samples.items():
        walls, rss = [w for w, _ in xs], [m for _, m in xs]
        print(f"{name:22} {statistics.median(walls):6.2f} [{min(walls):5.2f}-{max(walls):5.2f}] "
              f"{statistics.median(rss) / 1e6:6.0f} [{min(rss) / 1e6:5.0f}-{max(rss) / 1e6:5.0f}] "
              f"{statistics.median(rss) / size:8.2f}x {statistics.median(walls) / base:17.2f}x")
    wall = statistics.median(w for w, _ in samples["quant-opt import"])
    rss = statistics.median(m for _, m in samples["quant-opt import"])
    ok_wall, ok_rss = wall < 10, rss < 2 * size
    print(f"\nimport wall median {wall:.2f} s (goal < 10 s): {'PASS' if ok_wall else 'FAIL'}")
    print(f"peak RSS {rss / 1e6:.0f} MB = {rss / size:.2f} x file size (goal < 2x): "
          f"{'PASS' if ok_rss else 'FAIL'}\n", flush=True)
    return ok_wall and ok_rss


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quant-opt", default=os.path.join(ROOT, "build", "bin", "quant-opt"))
    p.add_argument("--model", help="benchmark this .onnx instead of exporting one")
    p.add_argument("--opset", type=int, default=17, choices=[13, 14, 17])
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--external-data", action="store_true", help="weights in FILE.onnx.data")
    layout.add_argument("--both", action="store_true", help="inline and external-data layouts")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if args.model and args.both:
        p.error("--both exports its models; it does not combine with --model")
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    if args.model and not os.path.isfile(args.model):
        p.error(f"no such model: {args.model}")

    help_text = subprocess.run([args.quant_opt, "--help"], capture_output=True, text=True).stdout
    skip_checker = "--onnx-skip-checker" in help_text
    if not skip_checker:
        print("quant-opt has no --onnx-skip-checker; skipping that variant", flush=True)
    if args.model:
        models = [args.model]
    else:
        layouts = [False, True] if args.both else [args.external_data]
        models = [export_model(args.opset, ext) for ext in layouts]
    ok = True
    for model in models:
        ok = bench(args, model, skip_checker) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
