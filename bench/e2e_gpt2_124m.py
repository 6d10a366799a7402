"""End-to-end fp32 speed on the GPT-2 124M geometry (12 layers, d=768, vocab 50257,
random weights), quant-opt's compiled model side by side with ONNX Runtime.

  /usr/bin/python3 bench/e2e_gpt2_124m.py [--prefill 512] [--context 128]
      [--decode-tokens 16] [--repeats 3] [--threads 1,2]

Exports the KV-cache model once (build-bench/gpt2_124m_op17_kv.onnx), compiles it with
quant-compile, and runs in one script: `quant-run bench` (prefill of --prefill tokens;
decode of --decode-tokens tokens after a --context-token prompt) and ONNX Runtime 1.30
CPU (npm onnxruntime-node, bench/ort_gpt2.js) on the same ONNX file with 1 and 2 intra-op
threads. Also measures the read bandwidth (numpy sum over 1 GiB) and prints the fp32
decode floor = weight bytes / bandwidth, and quant-run's peak RSS against the weights.
Medians; the machine is shared, so compare rows of one run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from child_usage import run_measured  # noqa: E402  (bench/ is the script dir)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO, **kw)


def read_bandwidth():
    import numpy as np
    a = np.ones(1 << 28, dtype=np.float32)  # 1 GiB
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        a.sum()
        times.append(time.perf_counter() - t0)
    return a.nbytes / statistics.median(times)


def quant_run_bench(library, prompt, decode, repeats):
    """(prefill seconds, decode seconds per token, peak RSS bytes) from quant-run bench."""
    cmd = [os.path.join(REPO, "build/bin/quant-run"), library, "bench", "--prompt-tokens", str(prompt),
           "--decode-tokens", str(decode), "--repeats", str(repeats), "--context", "1024"]
    _, rss, out = run_measured(cmd, cwd=REPO)
    lines = out.splitlines()
    prefill_ms = float(lines[0].split("median ")[1].split(" ms")[0])
    decode_ms = float(lines[1].split(": ")[1].split(" ms")[0])
    return prefill_ms / 1e3, decode_ms / 1e3, rss


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prefill", type=int, default=512)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--decode-tokens", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    args = p.parse_args()
    os.makedirs(os.path.join(REPO, "build-bench"), exist_ok=True)
    model = os.path.join(REPO, "build-bench", "gpt2_124m_op17_kv.onnx")
    if not os.path.exists(model):
        print(f"exporting {model} (random weights) ...", flush=True)
        sh([PYTHON, "-m", "quantopt.export", "--random-124m", "--kv-cache", "-o", model],
           env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "python")))
    library = os.path.join(REPO, "build-bench", "gpt2_124m_kv.so")
    compiler = os.path.join(REPO, "build/bin/quant-compile")
    compile_s = float("nan")
    if not os.path.exists(library) or os.path.getmtime(library) < max(
            os.path.getmtime(compiler), os.path.getmtime(model)):
        t0 = time.time()
        sh([compiler, model, "-o", library])
        compile_s = time.time() - t0
    weight_bytes = os.path.getsize(library[:-3] + ".weights")
    print(f"compiled in {compile_s:.1f} s (nan: up to date); weight archive {weight_bytes / 1e6:.0f} MB", flush=True)

    rows = []
    prefill_s, _, rss1 = quant_run_bench(library, args.prefill, 1, args.repeats)
    _, decode_s, rss2 = quant_run_bench(library, args.context, args.decode_tokens, args.repeats)
    rows.append(("quant-opt fp32 (1 thread)", prefill_s, decode_s))
    for threads in [int(t) for t in args.threads.split(",")]:
        out = sh(["node", os.path.join(REPO, "bench/ort_gpt2.js"), model, str(threads), str(args.prefill),
                  str(args.context), str(args.decode_tokens), str(args.repeats)]).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append((f"ONNX Runtime 1.30 fp32 ({threads} thread{'s' if threads > 1 else ''})",
                     statistics.median(r["prefill_s"]), statistics.median(r["decode_s"])))
    bandwidth = read_bandwidth()
    floor = weight_bytes / bandwidth

    ort1 = rows[1]
    print(f"\nGPT-2 124M geometry, fp32, prefill {args.prefill} tokens, decode at context {args.context}"
          f" (medians of {args.repeats} runs)")
    print(f"{'':44} {'prefill tok/s':>14} {'decode ms/tok':>14} {'prefill vs ORT-1':>17} {'decode vs ORT-1':>16}")
    for name, pre, dec in rows:
        print(f"{name:44} {args.prefill / pre:14.1f} {dec * 1e3:14.2f} {ort1[1] / pre:16.2f}x {ort1[2] / dec:15.2f}x")
    print(f"\nread bandwidth (numpy sum, 1 GiB): {bandwidth / 1e9:.1f} GB/s; fp32 weights {weight_bytes / 1e6:.0f} MB;"
          f" decode floor {floor * 1e3:.1f} ms/token; quant-opt at {rows[0][2] / floor:.1f}x the floor")
    print(f"quant-run peak RSS {max(rss1, rss2) / 1e6:.0f} MB = {max(rss1, rss2) / weight_bytes:.2f}x the weights"
          f" (goal <= 1.2x)")


if __name__ == "__main__":
    sys.exit(main())
