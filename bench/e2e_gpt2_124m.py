"""End-to-end speed on the GPT-2 124M geometry (12 layers, d=768, vocab 50257, random
weights): quant-opt's compiled models side by side with ONNX Runtime on the same weights.

  /usr/bin/python3 bench/e2e_gpt2_124m.py [--recipes fp32,w8a8-static,w4-g128,w4a8-g128]
      [--threads 1,2] [--prefill 512] [--context 128] [--decode-tokens 16] [--repeats 3]

Exports the KV-cache model once (build-bench/gpt2_124m_op17_kv.onnx). For each recipe:
  fp32          quant-compile on the ONNX file; ONNX Runtime on the same file.
  w8a8-static   qopt-ptq (calibrated on Brown held-out text); ONNX Runtime on our QDQ
                export of the same quantized weights and activation scales.
  w4-g128       qopt-ptq; ONNX Runtime on our MatMulNBits export (accuracy_level 4:
                ORT's int8-activation INT4 kernels, its fastest CPU path).
  w4a8-g128     the same INT4 weights with INT8 per-token activations (our integer
                kernels); ONNX Runtime on the same MatMulNBits export as w4-g128, which
                with accuracy_level 4 also multiplies int8 activations.
Then `quant-run bench --threads N` (prefill of --prefill tokens; decode of
--decode-tokens tokens after a --context-token prompt) and ONNX Runtime 1.30 CPU (npm
onnxruntime-node, bench/ort_gpt2.js) with N intra-op threads, one after the other.

Also measures the read bandwidth (numpy sum over 1 GiB) and prints each recipe's decode
floor: the bytes of the matmul weights read per token (12 layers' linear layers and the
tied LM head, at the recipe's bits plus its scales) / bandwidth. Peak RSS is quant-run's
own (os.wait4), against the weight archive, with every position's logits and on
generation's path (--positions=last). Medians; the machine is shared, so compare rows of
one run.
"""
import argparse
import json
import os
import statistics
import sys
import time

import quant_run_bench  # noqa: E402  (bench/ is the script dir)
from bench_paths import BIN, OUT, REPO, gpt2_124m_onnx, gpt2_124m_quantized, sh, stale  # noqa: E402


# GPT-2 124M: per layer c_attn 768x2304, attn c_proj 768x768, c_fc 768x3072,
# mlp c_proj 3072x768; the LM head 768x50257 (tied to the embedding).
LINEAR_PARAMS = 12 * (768 * 2304 + 768 * 768 + 768 * 3072 + 3072 * 768)
LM_HEAD_PARAMS = 768 * 50257
# Bytes per weight read in decode: the stored bits plus per-channel or group scales.
BYTES_PER_WEIGHT = {
    "fp32": 4.0,
    "w8a8-static": 1.0 + 4.0 / 768,  # per-channel f32 scales over K = 768 (about)
    "w4-g128": 0.5 + 4.0 / 128,      # nibbles + one f32 scale per group of 128
    "w4a8-g128": 0.5 + 4.0 / 128,
}
ORT_FORMAT = {"w8a8-static": ["--format=qdq"],
              "w4-g128": ["--format=matmulnbits", "--accuracy-level=4"],
              "w4a8-g128": ["--format=matmulnbits", "--accuracy-level=4"]}
# ONNX Runtime's model is exported from this recipe's module (same weights;
# MatMulNBits is weight-only, so the W4A8 module itself has no export).
ORT_SOURCE = {"w4a8-g128": "w4-g128"}


def read_bandwidth():
    import numpy as np
    a = np.ones(1 << 28, dtype=np.float32)  # 1 GiB
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        a.sum()
        times.append(time.perf_counter() - t0)
    return a.nbytes / statistics.median(times)


def ort_bench(model, threads, args):
    out = sh(["node", os.path.join(REPO, "bench/ort_gpt2.js"), model, str(threads),
              str(args.prefill), str(args.context), str(args.decode_tokens),
              str(args.repeats)]).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return statistics.median(r["prefill_s"]), statistics.median(r["decode_s"])


def prepare(recipe, onnx):
    """(our library, the ONNX file ONNX Runtime runs) for `recipe`, built if stale."""
    compiler = os.path.join(BIN, "quant-compile")
    source, ort_model = onnx, onnx
    if recipe != "fp32":
        source = gpt2_124m_quantized(recipe, onnx)
        ort_recipe = ORT_SOURCE.get(recipe, recipe)
        ort_source = os.path.join(OUT, f"gpt2_124m_{ort_recipe}.mlirbc")
        if ort_recipe != recipe:
            prepare(ort_recipe, onnx)
        ort_model = os.path.join(OUT, f"gpt2_124m_{ort_recipe}.onnx")
        if stale(ort_model, ort_source, os.path.join(BIN, "quant-export")):
            print(f"exporting for ONNX Runtime: {ort_recipe} {' '.join(ORT_FORMAT[recipe])}",
                  flush=True)
            sh([os.path.join(BIN, "quant-export"), onnx, ort_source, "-o", ort_model]
               + ORT_FORMAT[recipe])
    library = os.path.join(OUT, f"gpt2_124m_{recipe}.so")
    if stale(library, source, compiler):
        print(f"compiling: {recipe} ...", flush=True)
        t0 = time.time()
        sh([compiler, source, "-o", library])
        print(f"  compiled in {time.time() - t0:.0f} s", flush=True)
    return library, ort_model


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", default="fp32,w8a8-static,w4-g128,w4a8-g128")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--prefill", type=int, default=512)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--decode-tokens", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    recipes = args.recipes.split(",")
    for r in recipes:
        if r not in BYTES_PER_WEIGHT:
            sys.exit(f"unknown recipe {r} (expected one of {', '.join(BYTES_PER_WEIGHT)})")
    threads = [int(t) for t in args.threads.split(",")]
    onnx = gpt2_124m_onnx()

    rows, memory = [], {}
    for recipe in recipes:
        library, ort_model = prepare(recipe, onnx)
        archive = os.path.getsize(library[:-3] + ".weights")
        for t in threads:
            print(f"running: {recipe}, {t} thread(s) ...", flush=True)
            prefill, _, rss1 = quant_run_bench.run(library, args.prefill, 1, args.repeats, t)
            _, decode, rss2 = quant_run_bench.run(library, args.context, args.decode_tokens,
                                         args.repeats, t)
            ort_prefill, ort_decode = ort_bench(ort_model, t, args)
            last, _, rss3 = quant_run_bench.run(library, args.prefill, 1, args.repeats, t, "last")
            rows.append((recipe, t, prefill, decode, ort_prefill, ort_decode, last))
            old = memory.get(recipe, (0, 0, 0))
            memory[recipe] = (max(rss1, rss2, old[0]), max(rss2, rss3, old[1]), archive)
    bandwidth = read_bandwidth()

    print(f"\nGPT-2 124M geometry (random weights), prefill {args.prefill} tokens, decode at "
          f"context {args.context}; medians of {args.repeats} runs ({args.decode_tokens} "
          f"tokens each for decode)")
    head = (f"{'recipe':<12} {'thr':>3} | {'prefill tok/s':>13} {'ORT':>9} {'x ORT':>6} | "
            f"{'decode ms':>9} {'ORT':>8} {'x ORT':>6} | {'floor ms':>8} {'x floor':>7} | "
            f"{'gen prefill':>11}")
    print(head)
    print("-" * len(head))
    for recipe, t, pre, dec, opre, odec, last in rows:
        floor = (LINEAR_PARAMS + LM_HEAD_PARAMS) * BYTES_PER_WEIGHT[recipe] / bandwidth
        print(f"{recipe:<12} {t:>3} | {args.prefill / pre:>13.1f} {args.prefill / opre:>9.1f} "
              f"{opre / pre:>5.2f}x | {dec * 1e3:>9.2f} {odec * 1e3:>8.2f} {odec / dec:>5.2f}x | "
              f"{floor * 1e3:>8.2f} {dec / floor:>6.2f}x | {args.prefill / last:>11.1f}")
    print("x ORT: ONNX Runtime's time / ours (above 1: we are faster). ONNX Runtime runs: "
          + "; ".join(f"{r}: {'the same ONNX file' if r == 'fp32' else ' '.join(ORT_FORMAT[r])}"
                      f"{' of ' + ORT_SOURCE[r] if r in ORT_SOURCE else ''}" for r in recipes))
    print(f"read bandwidth (numpy sum, 1 GiB): {bandwidth / 1e9:.1f} GB/s. floor: matmul weight "
          f"bytes per token ({(LINEAR_PARAMS + LM_HEAD_PARAMS) / 1e6:.1f} M weights at the "
          f"recipe's bytes) / bandwidth")
    print("prefill and ORT: every position's logits, as the ONNX graph returns them; gen "
          "prefill: tok/s of the same prefill returning the last position's logits only "
          "(quant-run --positions=last: generation's path, the LM head on one row)")
    for recipe, (rss, gen_rss, archive) in memory.items():
        print(f"quant-run peak RSS, {recipe}: {rss / 1e6:.0f} MB = {rss / archive:.2f}x its "
              f"weight archive ({archive / 1e6:.0f} MB) with every position's logits; "
              f"generation (last-position logits): {gen_rss / 1e6:.0f} MB = "
              f"{gen_rss / archive:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
