"""Kernel-level benchmark (Google Benchmark) of GPT-2's linear layers, one thread.

  /usr/bin/python3 bench/kernels_gpt2_shapes.py [--recipes fp32,w8a8-dynamic,w4-g128,w4a8-g128]
      [--shapes 768x2304,768x768,768x3072,3072x768,768x50257] [--batches 1,128,512]
      [--min-time 0.3]

For each shape K x N and recipe, a one-MatMul ONNX model with random weights is
quantized the way a user would (`quant-opt --pass-pipeline=...qopt-ptq{recipe=...}`)
and compiled with `quant-compile` (native kernels; fp32: the vectorized f32
matmul). `quant-opt-kernel-bench` (bench/kernels/kernel_bench.cpp) then times each
layer through the runtime at batch M = 1, 128, 512, with warm caches ("hot") and, for
M = 1, with the caches flushed before every call ("cold": weights from DRAM). In the
same process it measures the read bandwidth (1 GiB) and one core's peaks: AVX2 (FMA f32;
vpmaddwd, which the AVX2 W8A8 kernel uses; vpmaddubsw, which the AVX2 W4A8 one uses) and,
where the CPU has AVX-512, FMA on zmm and VNNI vpdpbusd (which `native` picks there for
W8A8 and W4A8).

Batch 1 is reported as GB/s of weights read and as a fraction of the read bandwidth;
larger batches as Gop/s (2*M*K*N) and as a fraction of the peak of the instruction the
kernel runs on (FMA for fp32 and W4, whose weights are unpacked to f32 in registers; on
AVX-512 VNNI hosts vpdpbusd for W8A8 and W4A8, otherwise vpmaddwd for W8A8 and vpmaddubsw
for W4A8). AMX is not measured: no x86 CPU here has it.
"""
import argparse
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "build", "bin")
OUT = os.path.join(REPO, "build-bench", "kernels-gpt2")


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, **kw)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout[-2000:]}{r.stderr[-4000:]}")
    return r


def linear_onnx(path, k, n, seed):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = np.random.default_rng(seed).normal(0, 0.02, (k, n)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", n])],
        [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def weight_bytes(recipe, k, n):
    """Bytes a batch-1 call must read: the stored weight and its scales."""
    if recipe == "fp32":
        return 4 * k * n
    if recipe.startswith("w8"):
        return k * n + 4 * n
    group = int(recipe.split("-g")[1]) if "-g" in recipe else k
    return k * n // 2 + 4 * n * (k // group)


def build(recipe, k, n):
    stem = os.path.join(OUT, f"k{k}_n{n}")
    onnx_path = stem + ".onnx"
    if not os.path.exists(onnx_path):
        linear_onnx(onnx_path, k, n, seed=k * 7 + n)
    source = onnx_path
    if recipe != "fp32":
        source = f"{stem}_{recipe}.mlirbc"
        if not os.path.exists(source) or os.path.getmtime(source) < os.path.getmtime(
                os.path.join(BIN, "quant-opt")):
            sh([os.path.join(BIN, "quant-opt"), onnx_path,
                f"--pass-pipeline=builtin.module(qopt-ptq{{recipe={recipe}}})",
                "--emit-bytecode", "-o", source])
    library = f"{stem}_{recipe}.so"
    compiler = os.path.join(BIN, "quant-compile")
    if not os.path.exists(library) or os.path.getmtime(library) < max(
            os.path.getmtime(compiler), os.path.getmtime(source)):
        sh([compiler, source, "-o", library])
    return library


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipes", default="fp32,w8a8-dynamic,w4-g128,w4a8-g128")
    ap.add_argument("--shapes", default="768x2304,768x768,768x3072,3072x768,768x50257")
    ap.add_argument("--batches", default="1,128,512")
    ap.add_argument("--min-time", default="0.3", help="seconds per benchmark")
    ap.add_argument("--report-only", action="store_true",
                    help="print the table of the last run's results.json")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    recipes = args.recipes.split(",")
    result = os.path.join(OUT, "results.json")
    if not args.report_only:
        run_benchmarks(args, shapes, recipes, result)
    report(args, shapes, recipes, result)


def run_benchmarks(args, shapes, recipes, result):
    sh(["ninja", "-C", os.path.join(REPO, "build"), "quant-opt-kernel-bench"])
    layers = []
    for k, n in shapes:
        for recipe in recipes:
            print(f"building {recipe} {k}x{n} ...", flush=True)
            lib = build(recipe, k, n)
            layers.append(f"{recipe}_{k}x{n}={lib}:{k}:{n}:{weight_bytes(recipe, k, n)}")
    print("running quant-opt-kernel-bench ...", flush=True)
    sh([os.path.join(BIN, "quant-opt-kernel-bench"), *layers, f"--batches={args.batches}",
        f"--benchmark_min_time={args.min_time}", "--benchmark_repetitions=3",
        "--benchmark_report_aggregates_only=true", "--benchmark_format=json",
        f"--benchmark_out={result}"])


def report(args, shapes, recipes, result):
    with open(result) as f:
        runs = [b for b in json.load(f)["benchmarks"] if b.get("aggregate_name") == "median"]
    by_name = {b["run_name"].replace("/manual_time", ""): b for b in runs}
    bandwidth = by_name["read_bandwidth"]["GBps"]
    gops = {name[len("peak/"):]: b["Gops"] for name, b in by_name.items() if name.startswith("peak/")}
    vnni = gops.get("vpdpbusd_u8s8_zmm")
    fma = gops.get("fma_f32_zmm", gops["fma_f32"])
    integer_peak = ({"w8a8": vnni, "w4a8": vnni} if vnni else
                    {"w8a8": gops["vpmaddwd_i16"], "w4a8": gops["vpmaddubsw_u8s8"]})
    print(f"\nmeasured in the same process (1 core): read bandwidth {bandwidth:.1f} GB/s; peaks " +
          "; ".join(f"{name} {value:.0f} Gop/s" for name, value in gops.items()) +
          ("" if vnni else " (no AVX-512 VNNI on this CPU)") + "; no AMX on this CPU")
    print(f"{'layer':<22} {'M':>4} {'cache':>5} {'time us':>10} {'weight GB/s':>12} "
          f"{'% bandwidth':>12} {'Gop/s':>8} {'% peak':>7}")
    for k, n in shapes:
        for recipe in recipes:
            name = f"{recipe}_{k}x{n}"
            peak = integer_peak.get(recipe[:4], fma)
            for m in [int(b) for b in args.batches.split(",")]:
                for cache in ("hot", "cold") if m == 1 else ("hot",):
                    b = by_name.get(f"{name}/m{m}/{cache}")
                    if not b:
                        continue
                    print(f"{name:<22} {m:>4} {cache:>5} {b['real_time']:>10.1f} "
                          f"{b['weight_GBps']:>12.2f} {100 * b['weight_GBps'] / bandwidth:>11.0f}% "
                          f"{b['Gops']:>8.1f} {100 * b['Gops'] / peak:>6.0f}%")


if __name__ == "__main__":
    sys.exit(main())
