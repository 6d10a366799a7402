"""Runs `quant-run MODEL bench` and reads what it prints, for the benchmark scripts."""
import os
import re

from bench_paths import BIN, REPO
from child_usage import run_measured


def parse(text):
    """(prefill seconds, decode seconds per token): the medians quant-run printed."""
    prefill_ms = float(re.search(r"median ([0-9.]+) ms", text).group(1))
    decode_ms = float(re.search(r"([0-9.]+) ms/token", text).group(1))
    return prefill_ms / 1e3, decode_ms / 1e3


def run(library, prompt, decode, repeats, threads, positions="all"):
    """(prefill seconds, decode seconds per token, peak RSS bytes) of quant-run bench;
    positions="last": the logits of the last position only, as generation asks."""
    cmd = [os.path.join(BIN, "quant-run"), library, "bench", "--prompt-tokens", str(prompt),
           "--decode-tokens", str(decode), "--repeats", str(repeats), "--context", "1024",
           "--threads", str(threads), f"--positions={positions}"]
    _, rss, out = run_measured(cmd, cwd=REPO)
    return (*parse(out), rss)
