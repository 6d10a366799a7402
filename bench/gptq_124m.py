"""GPTQ on the GPT-2 124M geometry (12 layers, d=768, random weights): time and
peak memory of quant-opt, against importing the same model without quantizing
it (the model's own footprint), with the pass's split of the time (compiling
the calibration model, the calibration runs, the GPTQ math).

  /usr/bin/python3 bench/gptq_124m.py [--samples 128] [--seq-len 128]
      [--recipe w4-g128] [--algorithm gptq] [--extra 'act-order=true']
      [--one-shot]

--one-shot (with --extra 'sequential=false'): also runs the same pipeline with
one qopt-calibrate{collect-xtx=true} before qopt-gptq (every x^T x at once, as
qopt-ptq did before qopt-gptq calibrated in layer batches), side by side, and
says whether the two outputs are the same bytes.

Calibration text: the Brown training split (build/main/data/train.txt, made by
scripts/main.sh or python -m training.brown). Prints a table and the CPU."""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_paths  # noqa: E402


def run(cmd):
    """Wall seconds and stderr of `cmd`; its progress lines are echoed."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                         cwd=bench_paths.REPO)
    lines = []
    for line in p.stderr:
        lines.append(line)
        if line.startswith("qopt-"):
            print("  " + line.rstrip(), flush=True)
    p.wait()
    seconds = time.monotonic() - start
    err = "".join(lines)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err[-4000:]}")
    return seconds, err


def timed(cmd):
    seconds, err = run(["/usr/bin/time", "-f", "QOPT_MAXRSS_KB %M"] + cmd)
    rss = int(re.search(r"QOPT_MAXRSS_KB (\d+)", err).group(1)) / 1024
    return seconds, rss, err


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=128)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--recipe", default="w4-g128")
    p.add_argument("--algorithm", default="gptq")
    p.add_argument("--extra", default="", help="more qopt-ptq options")
    p.add_argument("--one-shot", action="store_true",
                   help="also run one qopt-calibrate{collect-xtx=true} first")
    args = p.parse_args()
    onnx = bench_paths.gpt2_124m_onnx()
    train = os.path.join(bench_paths.REPO, "build/main/data/train.txt")
    if not os.path.exists(train):
        bench_paths.sh([bench_paths.PYTHON, "-m", "training.brown", "--out",
                        "build/main/data"],
                       env=dict(os.environ, PYTHONPATH=os.path.join(
                           bench_paths.REPO, "scripts")))
    quant_opt = os.path.join(bench_paths.BIN, "quant-opt")
    out = os.path.join(bench_paths.OUT, "gptq_124m.mlirbc")
    report = os.path.join(bench_paths.OUT, "gptq_124m_report.json")
    base_s, base_rss, _ = timed([quant_opt, onnx, "--emit-bytecode", "-o",
                                 os.path.join(bench_paths.OUT, "import.mlirbc")])
    options = (f"recipe={args.recipe} algorithm={args.algorithm} "
               f"calibration-data={train} samples={args.samples} "
               f"seq-len={args.seq_len} report={report} {args.extra}")
    print(f"quant-opt {os.path.basename(onnx)} qopt-ptq{{{options}}} ...", flush=True)
    pipeline = f"builtin.module(qopt-ptq{{{options}}})"
    runs = [(f"import + {args.algorithm} {args.recipe}", pipeline, out)]
    if args.one_shot:
        # The recipe's own pipeline with every x^T x taken in one run first.
        empty = os.path.join(bench_paths.OUT, "empty.mlir")
        with open(empty, "w") as f:
            f.write("module {}\n")
        lines = subprocess.run([quant_opt, empty, f"--pass-pipeline={pipeline}",
                                "--dump-pass-pipeline", "-o", os.devnull],
                               capture_output=True, text=True).stderr.splitlines()
        start = next(i for i, l in enumerate(lines) if l.startswith("builtin.module("))
        end = lines.index(")", start)
        expanded = "".join(l.strip() for l in lines[start:end + 1])
        calibrate = (f"qopt-calibrate{{data={train} samples={args.samples} "
                     f"seq-len={args.seq_len} collect-xtx=true}},")
        runs.append(("  the same, one-shot qopt-calibrate{collect-xtx=true} first",
                     expanded.replace("qopt-gptq{", calibrate + "qopt-gptq{", 1),
                     out.replace(".mlirbc", "_one_shot.mlirbc")))
    rows = []
    for name, passes, output in runs:
        print(f"{name} ...", flush=True)
        rows.append((name, output) + timed([quant_opt, onnx, f"--pass-pipeline={passes}",
                                            "--emit-bytecode", "-o", output]))
    print(f"\nCPU: {cpu_name()}, {os.cpu_count()} cores; GPT-2 124M geometry, "
          f"{args.samples} windows of {args.seq_len} tokens")
    print("| step | wall s | peak RSS MB | beyond the model MB |")
    print("|---|---:|---:|---:|")
    print(f"| import only (the model) | {base_s:.1f} | {base_rss:.0f} | |")
    for name, _, q_s, q_rss, _ in rows:
        print(f"| {name} | {q_s:.1f} | {q_rss:.0f} | {q_rss - base_rss:.0f} |")
    _, _, q_s, q_rss, err = rows[0]
    print(f"\nbeyond the model: {q_rss - base_rss:.0f} MB (goal < 2048 MB); "
          f"total {q_s:.1f} s (goal < 180 s)")
    for name, _, q_s, _, err in rows:
        split = re.search(r"qopt-gptq: (\d+) layers in ([\d.]+) s: compiling the "
                          r"calibration model ([\d.]+) s, calibration runs ([\d.]+) s, "
                          r"GPTQ ([\d.]+) s", err)
        if split:
            layers, total, compile_s, calib_s, gptq_s = split.groups()
            print(f"{name.strip()}: qopt-gptq: {layers} layers, {total} s in the pass: "
                  f"compiling the calibration model {compile_s} s, calibration runs "
                  f"{calib_s} s, GPTQ math {gptq_s} s; the rest of quant-opt "
                  f"{q_s - float(total):.1f} s (import, observers, writing)")
    if args.one_shot:
        same = open(rows[0][1], "rb").read() == open(rows[1][1], "rb").read()
        print(f"outputs: {'the same bytes' if same else 'DIFFERENT'} "
              f"({rows[0][1]}, {rows[1][1]})")


if __name__ == "__main__":
    main()
