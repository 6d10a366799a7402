"""Reads what `quant-run MODEL bench` prints, for the benchmark scripts."""
import re


def parse(text):
    """(prefill seconds, decode seconds per token): the medians quant-run printed."""
    prefill_ms = float(re.search(r"median ([0-9.]+) ms", text).group(1))
    decode_ms = float(re.search(r"([0-9.]+) ms/token", text).group(1))
    return prefill_ms / 1e3, decode_ms / 1e3
