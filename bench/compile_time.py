#!/usr/bin/env python3
"""Compile time of the GPT-2 124M geometry (random weights, KV cache): import +
quantize + compile per recipe, each phase timed, next to the same compile with
--outline-loop-nests=false (every loop nest inline in its entry point, as before
qopt-outline-loop-nests) in the same run.

  /usr/bin/python3 bench/compile_time.py                       # fp32, w8, w4-g128, w4a8-g128
  /usr/bin/python3 bench/compile_time.py --recipes w4a8-g128 --repeats 3
  /usr/bin/python3 bench/compile_time.py --no-baseline         # skip the inline compiles
  /usr/bin/python3 bench/compile_time.py --speed                # + run time of both libraries

Prints, per recipe: the median wall time and peak RSS of the quantization
(quant-opt qopt-ptq, to bytecode; fp32 compiles the ONNX file directly, its
import is inside the compile), of the compile (quant-compile --mlir-timing:
reading, the lowering's passes, LLVM's optimizer, code generation, linking) and
of the whole; then the inline baseline's compile and the speed-up. The goal
(issues 21, 22): import + quantize + compile under 30 s. With --speed, both
libraries of each recipe also run quant-run bench interleaved (prefill 128
tokens, decode 64 at context 128-192, 1 and 2 threads, medians): outlining
must cost nothing at run time.
"""
import argparse
import os
import platform
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_paths import BIN, OUT, gpt2_124m_onnx  # noqa: E402
from child_usage import run_measured  # noqa: E402
import quant_run_bench  # noqa: E402

PHASES = [("read the model", "read"), ("lower to the LLVM dialect", "lower"),
          ("translate to LLVM IR", "translate"), ("optimize LLVM IR", "optimize"),
          ("generate machine code", "codegen"), ("link", "link")]


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def phases(report):
    """Wall seconds per phase from quant-compile's --mlir-timing report."""
    times = {}
    for line in report.splitlines():
        m = re.match(r"\s*(?:[\d.]+ \(\s*[\d.]+%\)\s+)?([\d.]+) \(\s*[\d.]+%\)\s+(.*\S)\s*$",
                     line)
        if not m:
            continue
        for name, key in PHASES:
            if m.group(2) == name:
                times[key] = float(m.group(1))
    return times


def quantize(recipe, onnx):
    module = os.path.join(OUT, f"compile_time_{recipe}.mlirbc")
    cmd = [os.path.join(BIN, "quant-opt"), onnx,
           f"--pass-pipeline=builtin.module(qopt-ptq{{recipe={recipe}}})",
           "--emit-bytecode", "-o", module]
    wall, rss, _ = run_measured(cmd)
    return module, wall, rss


def compile_library(source, library, inline):
    """(wall seconds, peak RSS, phases) of quant-compile SOURCE -o LIBRARY; inline: with
    --outline-loop-nests=false."""
    cmd = [os.path.join(BIN, "quant-compile"), source, "-o", library, "--mlir-timing"]
    if inline:
        cmd.append("--outline-loop-nests=false")
    wall, rss, report = run_measured(cmd, merge_stderr=True)
    return wall, rss, phases(report)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", default="fp32,w8,w4-g128,w4a8-g128")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--speed", action="store_true")
    args = p.parse_args()
    if args.speed and args.no_baseline:
        sys.exit("--speed compares with the inline baseline: drop --no-baseline")
    onnx = gpt2_124m_onnx()
    rows = []
    for recipe in args.recipes.split(","):
        print(f"{recipe} ...", flush=True)
        quant_walls, quant_rss, compiles, baselines = [], 0, [], []
        source = onnx
        for _ in range(args.repeats):
            if recipe != "fp32":
                source, wall, rss = quantize(recipe, onnx)
                quant_walls.append(wall)
                quant_rss = max(quant_rss, rss)
            compiles.append(compile_library(
                source, os.path.join(OUT, f"compile_time_{recipe}.so"), inline=False))
            if not args.no_baseline:
                baselines.append(compile_library(
                    source, os.path.join(OUT, f"compile_time_{recipe}_inline.so"),
                    inline=True))
        quant = statistics.median(quant_walls) if quant_walls else 0.0
        compile_wall = statistics.median(c[0] for c in compiles)
        median_phases = {k: statistics.median(c[2].get(k, 0.0) for c in compiles)
                         for _, k in PHASES}
        base = statistics.median(b[0] for b in baselines) if baselines else None
        base_phases = ({k: statistics.median(b[2].get(k, 0.0) for b in baselines)
                        for _, k in PHASES} if baselines else None)
        size = os.path.getsize(os.path.join(OUT, f"compile_time_{recipe}.so"))
        rows.append((recipe, quant, quant_rss, compile_wall, max(c[1] for c in compiles),
                     median_phases, base, base_phases, size))

    print(f"\nGPT-2 124M geometry (12 layers, d=768, KV cache, 2 entry points), "
          f"{cpu_name()}, {os.cpu_count()} CPUs; medians of {args.repeats} run(s)")
    head = (f"{'recipe':<10} | {'quantize s':>10} {'RSS MB':>6} | {'compile s':>9} "
            f"{'read':>5} {'lower':>5} {'opt':>5} {'cg':>5} {'RSS MB':>6} | {'total s':>7} | "
            f"{'inline s':>8} {'opt':>5} {'cg':>5} | {'speed-up':>8} | {'.so KB':>7}")
    print(head)
    print("-" * len(head))
    for recipe, quant, qrss, wall, rss, ph, base, bph, size in rows:
        line = (f"{recipe:<10} | {quant:>10.1f} {qrss / 1e6:>6.0f} | {wall:>9.1f} "
                f"{ph['read']:>5.1f} {ph['lower']:>5.1f} {ph['optimize']:>5.1f} "
                f"{ph['codegen']:>5.1f} {rss / 1e6:>6.0f} | {quant + wall:>7.1f} | ")
        if base is not None:
            line += (f"{base:>8.1f} {bph['optimize']:>5.1f} {bph['codegen']:>5.1f} | "
                     f"{base / wall:>7.2f}x | ")
        else:
            line += f"{'-':>8} {'-':>5} {'-':>5} | {'-':>8} | "
        print(line + f"{size / 1024:>7.0f}")
    print("quantize: quant-opt MODEL.onnx qopt-ptq{recipe} to bytecode (import included; fp32: "
          "none, quant-compile imports the ONNX file itself). compile: quant-compile with "
          "its phases (read, lower = the MLIR lowering, opt = LLVM's optimizer, cg = code "
          "generation). inline: the same compile with --outline-loop-nests=false. "
          "total: quantize + compile (goal < 30 s).")
    if args.speed:
        speed(rows, args.repeats)
    return 0 if all(q + w < 30 for _, q, _, w, *_ in rows) else 1


def speed(rows, repeats):
    """quant-run bench of the outlined and the inline library, interleaved."""
    print("\nrun time, outlined vs inline library (quant-run bench, prefill 128 tokens "
          "with every position's logits, decode at context 128-192; medians)")
    head = (f"{'recipe':<10} {'thr':>3} | {'prefill ms':>10} {'inline':>8} {'ratio':>6} | "
            f"{'decode ms':>9} {'inline':>8} {'ratio':>6}")
    print(head)
    print("-" * len(head))
    for recipe, *_ in rows:
        outlined = os.path.join(OUT, f"compile_time_{recipe}.so")
        inline = os.path.join(OUT, f"compile_time_{recipe}_inline.so")
        for threads in (1, 2):
            results = {outlined: [], inline: []}
            for _ in range(max(repeats, 3)):
                for library in (outlined, inline):
                    prefill, decode, _ = quant_run_bench.run(library, 128, 64, 3, threads)
                    results[library].append((prefill, decode))
            (p1, d1), (p2, d2) = [(statistics.median(r[0] for r in results[lib]),
                                   statistics.median(r[1] for r in results[lib]))
                                  for lib in (outlined, inline)]
            print(f"{recipe:<10} {threads:>3} | {p1 * 1e3:>10.1f} {p2 * 1e3:>8.1f} "
                  f"{p1 / p2:>6.2f} | {d1 * 1e3:>9.2f} {d2 * 1e3:>8.2f} {d1 / d2:>6.2f}")
    print("ratio: outlined / inline (below 1: the outlined library is faster)")


if __name__ == "__main__":
    sys.exit(main())
