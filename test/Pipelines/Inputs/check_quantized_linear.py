"""Quantized linear layers, compiled, against an independent numpy model.

Writes a linear layer (K = 96, N = 41: odd, so 4-bit rows end in half a
byte) with random weights as MLIR, quantizes it with qopt-quantize and
simulates it with qopt-fake-quant under each scheme, compiles both with
quant-compile, runs them through the runtime on random inputs (M = 1 and
7), and compares with numpy's version of the scheme: ONNX QuantizeLinear
rounding (float32 division, half to even, saturation), symmetric =
absmax / (2^(b-1) - 1), asymmetric = (max - min) / (2^b - 1) with the range
widened to include 0. Integer paths are summed exactly, so the tolerance is
float rounding only.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

from checks.linear_mlir import linear_module
from quantopt.runtime import Model

K, N = 96, 41


def params(lo, hi, bits, symmetric):
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        s = np.float32(max(abs(lo), abs(hi)) / qmax)
        return (s if s > 0 else np.float32(1)), 0, -qmax, qmax
    qmax = 2 ** bits - 1
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = np.float32((hi - lo) / qmax)
    if not s > 0:
        return np.float32(1), 0, 0, qmax
    zp = int(np.clip(np.round(-lo / np.float64(s)), 0, qmax))
    return s, zp, 0, qmax


def fq(x, s, zp, qmin, qmax):
    q = np.clip(np.round(x.astype(np.float32) / np.float32(s)) + zp, qmin, qmax)
    return q, ((q - zp) * np.float32(s)).astype(np.float32)


def weight_reference(w, bits, symmetric, group):
    """dequantize(quantize(w)) and the centred integers, [K, N]."""
    deq = np.zeros_like(w)
    cent = np.zeros(w.shape, np.int64)
    scales = np.zeros(w.shape, np.float32)
    if group == 0:  # per tensor
        p = params(float(w.min()), float(w.max()), bits, symmetric)
        q, deq = fq(w, *p)
        return deq, (q - p[1]).astype(np.int64), np.full(w.shape, p[0], np.float32)
    for g in range(K // group):
        rows = slice(g * group, (g + 1) * group)
        for c in range(N):
            col = w[rows, c]
            p = params(float(col.min()), float(col.max()), bits, symmetric)
            q, deq[rows, c] = fq(col, *p)
            cent[rows, c] = q - p[1]
            scales[rows, c] = p[0]
    return deq, cent, scales


def float_grid(exp_bits, man_bits, bias, finite_top):
    """Non-negative values of a small float format with their codes,
    sorted; `finite_top` drops the top codes that are NaN/Inf."""
    vals = []
    for code in range(2 ** (exp_bits + man_bits)):
        e, m = code >> man_bits, code & (2 ** man_bits - 1)
        if e == 0:
            v = m / 2 ** man_bits * 2.0 ** (1 - bias)
        else:
            v = (1 + m / 2 ** man_bits) * 2.0 ** (e - bias)
        vals.append((v, code))
    return vals[:len(vals) - finite_top]


GRIDS = {"fp8-e4m3": (float_grid(4, 3, 7, 1), True),     # E4M3FN: 1 NaN code
         "fp8-e5m2": (float_grid(5, 2, 15, 4), True)}    # E5M2: Inf, 3 NaNs


def round_to_grid(x, grid):
    vals = np.array([v for v, _ in grid])
    codes = np.array([c for _, c in grid])
    a = np.minimum(np.abs(x.astype(np.float64)), vals[-1])  # saturate
    hi = np.clip(np.searchsorted(vals, a), 0, len(vals) - 1)
    lo = np.clip(hi - 1, 0, len(vals) - 1)
    dlo, dhi = a - vals[lo], vals[hi] - a
    pick = np.where(dlo < dhi, lo, np.where(dhi < dlo, hi, np.where(codes[lo] % 2 == 0, lo, hi)))
    return np.sign(x) * vals[pick]


def float_reference(w, fmt):
    if fmt == "fp16":
        return w.astype(np.float16).astype(np.float32)
    if fmt == "bf16":  # round to nearest even on the upper 16 bits
        b = w.astype(np.float32).view(np.uint32).astype(np.uint64)
        b = (b + 0x7FFF + ((b >> 16) & 1)) & 0xFFFF0000
        return b.astype(np.uint32).view(np.float32)
    grid, _ = GRIDS[fmt]
    s = (np.abs(w).max(0) / grid[-1][0]).astype(np.float32)
    s[s == 0] = 1
    return (round_to_grid(w / s, grid).astype(np.float32) * s).astype(np.float32)


def compile_model(tmp, name, text, options, quant_opt, quant_compile, fake):
    src = os.path.join(tmp, name + ".mlir")
    with open(src, "w") as f:
        f.write(text)
    out = os.path.join(tmp, name + ".q.mlir")
    pass_name = "qopt-fake-quant" if fake else "qopt-quantize"
    subprocess.check_call([quant_opt, src, f"--{pass_name}={options}", "-o", out])
    lib = os.path.join(tmp, name + ".so")
    subprocess.check_call([quant_compile, out, "-o", lib])
    return Model(lib)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--quant-opt", required=True)
    ap.add_argument("--quant-compile", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    w = rng.normal(0, 0.5, (K, N)).astype(np.float32)
    w[:, 3] = 0.0  # A dead output channel.
    w[5, 7] = 4.0  # An outlier.
    xs = [rng.normal(0, 1, (m, K)).astype(np.float32) for m in (1, 7)]
    stats = (-3.0, 4.5)
    schemes = [
        ("w8_channel_sym", "weight-bits=8 weight-granularity=channel", 8, True, K, None),
        ("w8_tensor_asym", "weight-bits=8 weight-granularity=tensor weight-symmetric=false", 8, False, 0, None),
        ("w4_channel_sym", "weight-bits=4 weight-granularity=channel", 4, True, K, None),
        ("w4_g32_sym", "weight-bits=4 weight-granularity=group group-size=32", 4, True, 32, None),
        ("w4_g32_asym", "weight-bits=4 weight-granularity=group group-size=32 weight-symmetric=false", 4, False, 32, None),
        ("w8a8_static", "activations=static", 8, True, K, "static"),
        ("w8a8_dynamic", "activations=dynamic", 8, True, K, "dynamic"),
        ("w8a8_dynamic_outliers", "activations=dynamic outlier-threshold=6", 8, True, K,
         "outliers"),
        ("fp16", "weight-format=fp16", 0, None, None, None),
        ("bf16", "weight-format=bf16", 0, None, None, None),
        ("fp8_e4m3", "weight-format=fp8-e4m3", 0, None, None, None),
        ("fp8_e5m2", "weight-format=fp8-e5m2", 0, None, None, None),
    ]
    failures = 0
    for name, options, bits, symmetric, group, act in schemes:
        if bits == 0:
            deq = float_reference(w, options.split("=")[1])
        else:
            deq, cent, wscale = weight_reference(w, bits, symmetric, group)
        # Outlier input channels 5 and 17: calibrated max |x| 20 > 6.
        outliers = [5, 17]
        absmax = np.full(K, 3.0)
        absmax[outliers] = 20.0
        text = linear_module(w, stats if act in ("static", "outliers") else None,
                             absmax if act == "outliers" else None)
        for fake in (False, True):
            model = compile_model(args.tmp, name + ("_fake" if fake else ""), text, options,
                                  args.quant_opt, args.quant_compile, fake)
            worst = 0.0
            for x in xs:
                if act == "outliers":
                    x = x.copy()
                    x[:, outliers] *= 15
                    keep = np.ones(K, bool)
                    keep[outliers] = False
                    xm = np.where(keep, x, 0).astype(np.float32)
                    wm = np.where(keep[:, None], w, 0).astype(np.float32)
                    _, cent_m, wscale_m = weight_reference(wm, 8, True, K)
                    p = [params(float(r.min()), float(r.max()), 8, False) for r in xm]
                    xq = np.stack([fq(r, *pr)[0] - pr[1] for r, pr in zip(xm, p)])
                    sx = np.array([pr[0] for pr in p], np.float64)[:, None]
                    ref = (xq.astype(np.int64) @ cent_m) * sx * wscale_m[0][None, :].astype(
                        np.float64) + x[:, outliers].astype(np.float64) @ w[outliers].astype(
                        np.float64)
                elif act is None:
                    ref = x.astype(np.float64) @ deq.astype(np.float64)
                else:
                    if act == "static":
                        p = [params(*stats, 8, False)] * x.shape[0]
                    else:
                        p = [params(float(r.min()), float(r.max()), 8, False) for r in x]
                    xq = np.stack([fq(r, *pr)[0] - pr[1] for r, pr in zip(x, p)])
                    acc = xq.astype(np.int64) @ cent  # exact
                    sx = np.array([pr[0] for pr in p], np.float64)[:, None]
                    ref = acc * sx * wscale[0][None, :].astype(np.float64)
                (y,) = model.run("main", [x])
                err = np.max(np.abs(y - ref)) / max(1e-6, np.max(np.abs(ref)))
                worst = max(worst, err)
            ok = worst <= 2e-6
            failures += not ok
            print(f"{name}{' fake-quant' if fake else ''}: max rel err {worst:.1e} "
                  f"{'ok' if ok else 'FAIL'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
