"""Import benchmark: a GPT-2 124M-geometry ONNX model (12 layers, d=768,
vocab 50257, random weights) through `quant-opt` to MLIR bytecode.

  /usr/bin/python3 bench/import_gpt2_124m.py [--quant-opt build/bin/quant-opt]
      [--model FILE.onnx] [--external-data] [--repeats 5]

Creates the model once in build-bench/ (python/quantopt/export.py). Runs, side
by side and interleaved, `quant-opt MODEL --emit-bytecode` with and without
ONNX's checker + shape inference, and as the baseline the reference library
parsing the same file (`onnx.load` in Debian's Python onnx 1.12). Reports
median/min/max wall time and peak RSS of each child process. Goals (issue 2):
import < 10 s, peak RSS < 2x the model's size on disk.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"


def run(cmd):
    """Wall seconds and peak RSS (bytes) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss * 1024


def model_path(args):
    if args.model:
        return args.model
    name = "gpt2_124m_op17" + ("_extdata" if args.external_data else "") + ".onnx"
    path = os.path.join(ROOT, "build-bench", name)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"exporting {path} (random weights, ~1 min) ...", flush=True)
        cmd = [PYTHON, "-m", "quantopt.export", "--random-124m", "--opset", "17", "-o", path]
        if args.external_data:
            cmd.append("--external-data")
        subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def model_bytes(path):
    total = os.path.getsize(path)
    data = path + ".data"
    return total + (os.path.getsize(data) if os.path.exists(data) else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quant-opt", default=os.path.join(ROOT, "build", "bin", "quant-opt"))
    p.add_argument("--model")
    p.add_argument("--external-data", action="store_true")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    model = model_path(args)
    size = model_bytes(model)
    out = os.path.join(ROOT, "build-bench", "import.mlirbc")
    cases = {
        "quant-opt import": [args.quant_opt, model, "--emit-bytecode", "-o", out],
        "quant-opt, no checker": [args.quant_opt, model, "--onnx-skip-checker", "--emit-bytecode", "-o", out],
        "onnx.load (baseline)": [PYTHON, "-c", f"import onnx; onnx.load({model!r})"],
    }
    samples = {name: [] for name in cases}
    for r in range(args.repeats):
        for name, cmd in cases.items():
            samples[name].append(run(cmd))
        print(f"  repeat {r + 1}/{args.repeats}", file=sys.stderr, flush=True)

    print(f"\nmodel: {model} ({size / 1e6:.0f} MB), {args.repeats} repeats, medians [min-max]")
    print(f"{'':24} {'wall s':>18} {'peak RSS MB':>22} {'RSS/size':>9} {'time vs onnx.load':>18}")
    base = statistics.median(w for w, _ in samples["onnx.load (baseline)"])
    for name, xs in samples.items():
        walls, rss = [w for w, _ in xs], [m for _, m in xs]
        print(f"{name:24} {statistics.median(walls):6.2f} [{min(walls):4.2f}-{max(walls):5.2f}] "
              f"{statistics.median(rss) / 1e6:8.0f} [{min(rss) / 1e6:4.0f}-{max(rss) / 1e6:5.0f}] "
              f"{statistics.median(rss) / size:8.2f}x {statistics.median(walls) / base:17.2f}x")
    wall = statistics.median(w for w, _ in samples["quant-opt import"])
    rss = statistics.median(m for _, m in samples["quant-opt import"])
    print(f"\nimport wall median {wall:.2f} s (goal < 10 s): {'PASS' if wall < 10 else 'FAIL'}")
    print(f"peak RSS {rss / 1e6:.0f} MB = {rss / size:.2f}x file size (goal < 2x): "
          f"{'PASS' if rss < 2 * size else 'FAIL'}")


if __name__ == "__main__":
    main()
