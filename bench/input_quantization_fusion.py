"""The W8A8/W4A8 input quantization fused into its producer against the separate
passes, end to end on the GPT-2 124M geometry (random weights), side by side.

  /usr/bin/python3 bench/input_quantization_fusion.py [--recipes w4a8-g128,w8a8-dynamic]
      [--threads 1,2] [--prefill 512] [--context 128] [--decode-tokens 16] [--rounds 5]

Each recipe is compiled twice from the same module: `quant-compile` (the default,
--fuse-input-quantization=true: each LayerNorm/GELU row is computed, ranged and
quantized in one parallel loop over the rows) and `--fuse-input-quantization=false`
(the producer writes f32 x, then passes over x find each row's range and write its
bytes, serially). Both give the same bytes (test/Runtime/shipped-model-kernels.test).
The two libraries run alternately, --rounds times each (`quant-run bench --repeats 3`,
whose median leaves out the first, cold run: prefill of --prefill tokens returning every
position's logits, decode of --decode-tokens tokens after a --context-token prompt); the
table shows medians over the rounds and the ratio separate / fused (above 1: fusion is
faster). The machine is shared: only the
ratios of one run mean much.
"""
import argparse
import os
import statistics
import sys

import quant_run_bench  # noqa: E402  (bench/ is the script dir)
from bench_paths import BIN, OUT, gpt2_124m_onnx, gpt2_124m_quantized, sh, stale  # noqa: E402

def libraries(recipe, onnx):
    """{fused: library, separate: library} for `recipe`, built if stale."""
    module = gpt2_124m_quantized(recipe, onnx)
    out = {}
    for variant, fuse in (("fused", "true"), ("separate", "false")):
        library = os.path.join(OUT, f"gpt2_124m_{recipe}.{variant}.so")
        if stale(library, module, os.path.join(BIN, "quant-compile")):
            print(f"compiling: {recipe} ({variant}) ...", flush=True)
            sh([os.path.join(BIN, "quant-compile"), module, "-o", library,
                f"--fuse-input-quantization={fuse}"])
        out[variant] = library
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipes", default="w4a8-g128,w8a8-dynamic")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--prefill", type=int, default=512)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--decode-tokens", type=int, default=16)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    onnx = gpt2_124m_onnx()
    rows = []
    for recipe in args.recipes.split(","):
        libs = libraries(recipe, onnx)
        for t in (int(v) for v in args.threads.split(",")):
            print(f"running: {recipe}, {t} thread(s), {args.rounds} rounds ...", flush=True)
            times = {v: ([], []) for v in libs}
            for _ in range(args.rounds):
                for variant, library in libs.items():
                    prefill, _, _ = quant_run_bench.run(library, args.prefill, 1, 3, t)
                    _, decode, _ = quant_run_bench.run(library, args.context,
                                                       args.decode_tokens, 3, t)
                    times[variant][0].append(prefill)
                    times[variant][1].append(decode)
            med = {v: (statistics.median(a), statistics.median(b))
                   for v, (a, b) in times.items()}
            rows.append((recipe, t, med["fused"], med["separate"]))
    print(f"\nGPT-2 124M geometry (random weights); prefill {args.prefill} tokens (tok/s), "
          f"decode at context {args.context} (ms/token); medians of {args.rounds} "
          "alternating rounds")
    head = (f"{'recipe':<13} {'thr':>3} | {'prefill fused':>13} {'separate':>9} {'x':>6} | "
            f"{'decode fused':>12} {'separate':>9} {'x':>6}")
    print(head)
    print("-" * len(head))
    for recipe, t, (fp, fd), (sp, sd) in rows:
        print(f"{recipe:<13} {t:>3} | {args.prefill / fp:>13.1f} {args.prefill / sp:>9.1f} "
              f"{sp / fp:>5.2f}x | {fd * 1e3:>12.2f} {sd * 1e3:>9.2f} {sd / fd:>5.2f}x")
    print("x: separate time / fused time (above 1: the fused quantization is faster)")


if __name__ == "__main__":
    sys.exit(main())
