"""A tiny causal "language model" for calibration tests, and its data.

logits = embedding(ids) @ W, so the activation qopt-calibrate observes (the
linear layer's input) is exactly the embedding rows of each window's
tokens, and the expected statistics can be computed independently.

  tiny_lm.py model OUT.mlir [--nan]   the model (--nan: a NaN in row 3)
  tiny_lm.py layers OUT.mlir          four layers on three inputs:
                                      fc1, relu, fc_a and fc_b (one input),
                                      their sum, head
  tiny_lm.py tokens OUT.txt           the pre-tokenized calibration file
  tiny_lm.py check OUTDIR             compare OUTDIR/<method>.mlir's stats
"""
import re
import sys

import numpy as np

V, D = 16, 8
TOKENS = [int(t) for t in np.random.default_rng(5).integers(0, V, 200)]
SAMPLES, SEQ = 5, 16


def weights(nan=False):
    rng = np.random.default_rng(3)
    e = rng.normal(0, 1, (V, D)).astype(np.float32)
    e[5, 2] = 9.5  # An outlier.
    if nan:
        e[3, 1] = np.nan
    w = rng.normal(0, 0.3, (D, V)).astype(np.float32)
    return e, w


def dense(a):
    return "dense<[" + ", ".join(
        "[" + ", ".join("0x7FC00000" if np.isnan(v) else repr(float(v)) for v in r) + "]"
        for r in a) + "]>"


def model(nan):
    e, w = weights(nan)
    return f'''func.func @main(%ids: tensor<?x?xi64> {{onnx.name = "input_ids"}}) -> (tensor<?x?x{V}xf32> {{onnx.name = "logits"}}) {{
  %table = arith.constant {dense(e)} : tensor<{V}x{D}xf32>
  %w = arith.constant {dense(w)} : tensor<{D}x{V}xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %ids, %c0 : tensor<?x?xi64>
  %s = tensor.dim %ids, %c1 : tensor<?x?xi64>
  %e = tensor.empty(%b, %s) : tensor<?x?x{D}xf32>
  %x = linalg.generic {{indexing_maps = [affine_map<(b, s, d) -> (b, s)>, affine_map<(b, s, d) -> (b, s, d)>], iterator_types = ["parallel", "parallel", "parallel"]}} ins(%ids : tensor<?x?xi64>) outs(%e : tensor<?x?x{D}xf32>) {{
  ^bb0(%id: i64, %out: f32):
    %row = arith.index_cast %id : i64 to index
    %col = linalg.index 2 : index
    %v = tensor.extract %table[%row, %col] : tensor<{V}x{D}xf32>
    linalg.yield %v : f32
  }} -> tensor<?x?x{D}xf32>
  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : tensor<?x?x{D}xf32> into tensor<?x{D}xf32>
  %m = tensor.dim %x2, %c0 : tensor<?x{D}xf32>
  %zero = arith.constant 0.0 : f32
  %acc0 = tensor.empty(%m) : tensor<?x{V}xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<?x{V}xf32>) -> tensor<?x{V}xf32>
  %y = linalg.matmul ins(%x2, %w : tensor<?x{D}xf32>, tensor<{D}x{V}xf32>) outs(%acc : tensor<?x{V}xf32>) -> tensor<?x{V}xf32> loc("head")
  %y3 = tensor.expand_shape %y [[0, 1], [2]] output_shape [%b, %s, {V}] : tensor<?x{V}xf32> into tensor<?x?x{V}xf32>
  return %y3 : tensor<?x?x{V}xf32>
}}
'''


def layers():
    e, w = weights()
    rng = np.random.default_rng(11)
    w1, wa, wb = (rng.normal(0, 0.5, (D, D)).astype(np.float32) for _ in range(3))
    rows = "affine_map<(i, j) -> (i, j)>"

    def linear(name, x, n):
        return f'''  %{name}_acc0 = tensor.empty(%m) : tensor<?x{n}xf32>
  %{name}_acc = linalg.fill ins(%zero : f32) outs(%{name}_acc0 : tensor<?x{n}xf32>) -> tensor<?x{n}xf32>
  %{name} = linalg.matmul ins(%{x}, %{name}_w : tensor<?x{D}xf32>, tensor<{D}x{n}xf32>) outs(%{name}_acc : tensor<?x{n}xf32>) -> tensor<?x{n}xf32> loc("{name}")
'''

    def elementwise(name, inputs, body):
        ins = ", ".join(f"%{i}" for i in inputs)
        types = ", ".join(f"tensor<?x{D}xf32>" for _ in inputs)
        args = ", ".join(f"%{i}_v: f32" for i in inputs)
        maps = ", ".join([rows] * (len(inputs) + 1))
        par = '"parallel", "parallel"'
        return f'''  %{name}_e = tensor.empty(%m) : tensor<?x{D}xf32>
  %{name} = linalg.generic {{indexing_maps = [{maps}], iterator_types = [{par}]}} ins({ins} : {types}) outs(%{name}_e : tensor<?x{D}xf32>) {{
  ^bb0({args}, %out: f32):
    {body}
  }} -> tensor<?x{D}xf32>
'''

    text = model(False)
    head = text.index("  %m = tensor.dim %x2")
    tail = text.index("  %y3 = ")
    body = f'''  %m = tensor.dim %x2, %c0 : tensor<?x{D}xf32>
  %zero = arith.constant 0.0 : f32
  %fc1_w = arith.constant {dense(w1)} : tensor<{D}x{D}xf32>
  %fc_a_w = arith.constant {dense(wa)} : tensor<{D}x{D}xf32>
  %fc_b_w = arith.constant {dense(wb)} : tensor<{D}x{D}xf32>
  %head_w = arith.constant {dense(w)} : tensor<{D}x{V}xf32>
''' + linear("fc1", "x2", D) + elementwise(
        "h", ["fc1"], "%r = arith.maximumf %fc1_v, %zero : f32\n    linalg.yield %r : f32") + linear(
        "fc_a", "h", D) + linear("fc_b", "h", D) + elementwise(
        "z", ["fc_a", "fc_b"], "%r = arith.addf %fc_a_v, %fc_b_v : f32\n    linalg.yield %r : f32") + linear(
        "head", "z", V).replace("%head =", "%y =")
    return text[:head] + body + text[tail:]


def windows():
    """The rows qopt-calibrate sees: SAMPLES windows of SEQ tokens at evenly
    spaced offsets (span * i / (samples - 1), integer division)."""
    e, _ = weights()
    span = len(TOKENS) - SEQ
    return [e[TOKENS[span * i // (SAMPLES - 1):][:SEQ]] for i in range(SAMPLES)]


def stats_of(path):
    text = open(path).read()
    m = re.search(r'"head:input" \{(?:qopt.role = "[a-z_]+", )?stats = #qopt.stats<method = "([a-z-]+)", samples = (\d+), '
                  r'min = ([-0-9.e+]+) : f64, max = ([-0-9.e+]+) : f64(.*?)>\}', text)
    if not m:
        sys.exit(f"{path}: no statistics on head:input")
    rest = m.group(5)
    absmax = re.search(r'channel_absmax = dense<\[([^\]]*)\]>', rest)
    chmin = re.search(r'channel_min = dense<\[([^\]]*)\]>', rest)
    parse = lambda g: np.array([float(v) for v in g.group(1).split(",")]) if g else None
    return (m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4)),
            parse(absmax), parse(chmin))


def check(outdir):
    rows = windows()
    x = np.concatenate(rows)
    failures = 0

    def report(name, ok, detail):
        nonlocal failures
        failures += not ok
        print(f"{name}: {detail} {'ok' if ok else 'FAIL'}")

    method, samples, lo, hi, absmax, _ = stats_of(f"{outdir}/minmax.mlir")
    report("minmax", (method, samples, lo, hi) == ("minmax", SAMPLES * SEQ, float(x.min()),
                                                   float(x.max())),
           f"samples {samples} range [{lo:.6g}, {hi:.6g}] vs numpy [{x.min():.6g}, {x.max():.6g}]")
    report("channel_absmax", np.allclose(absmax, np.abs(x).max(0), rtol=0, atol=1e-6),
           f"{np.round(absmax, 4).tolist()}")
    # EMA of each window's range, constant 0.25 (the RUN line's).
    ema = [float(rows[0].min()), float(rows[0].max())]
    for r in rows[1:]:
        ema[0] += 0.25 * (float(r.min()) - ema[0])
        ema[1] += 0.25 * (float(r.max()) - ema[1])
    _, _, lo, hi, _, _ = stats_of(f"{outdir}/moving-average.mlir")
    report("moving-average", abs(lo - ema[0]) < 1e-9 and abs(hi - ema[1]) < 1e-9,
           f"[{lo:.6g}, {hi:.6g}] vs numpy [{ema[0]:.6g}, {ema[1]:.6g}]")
    # Percentile 90: the central 90% of the values, to a histogram bin
    # (2048 bins over a range at most 4x the observed |x| max).
    bin_width = 4 * 2 * np.abs(x).max() / 2048
    _, _, lo, hi, _, _ = stats_of(f"{outdir}/percentile.mlir")
    plo, phi = np.percentile(x, 5), np.percentile(x, 95)
    report("percentile", abs(lo - plo) <= bin_width and abs(hi - phi) <= bin_width,
           f"[{lo:.4g}, {hi:.4g}] vs numpy [{plo:.4g}, {phi:.4g}]")
    # Entropy clips the outlier (9.5) but keeps the bulk of the values.
    eps = 1e-5
    _, _, lo, hi, _, _ = stats_of(f"{outdir}/entropy.mlir")
    report("entropy", x.min() - eps <= lo < 0 < hi < x.max() and
           hi >= np.percentile(x, 95),
           f"[{lo:.4g}, {hi:.4g}] inside [{x.min():.4g}, {x.max():.4g}]")
    # MSE: the chosen range quantizes (8-bit asymmetric) the actual values
    # with no more squared error than the full range does.
    def mse(lo, hi):
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        s = np.float32((hi - lo) / 255)
        zp = np.clip(np.round(-lo / s), 0, 255)
        q = np.clip(np.round(x / s) + zp, 0, 255)
        return float(np.mean((x - (q - zp) * s) ** 2))
    _, _, lo, hi, _, _ = stats_of(f"{outdir}/mse.mlir")
    full = mse(float(x.min()), float(x.max()))
    report("mse", x.min() - eps <= lo and hi <= x.max() + eps and mse(lo, hi) <= full * 1.001,
           f"[{lo:.4g}, {hi:.4g}] error {mse(lo, hi):.3g} vs full range {full:.3g}")
    _, _, _, _, _, chmin = stats_of(f"{outdir}/per-channel.mlir")
    report("per-channel", chmin is not None and np.allclose(chmin, x.min(0), atol=1e-6),
           "channel_min")
    # x^T x, from the dense_resource blob (after its 4-byte alignment word).
    blob = re.search(r'\bxtx: "0x([0-9A-F]+)"', open(f"{outdir}/per-channel.mlir").read())
    xtx = np.frombuffer(bytes.fromhex(blob.group(1))[4:], np.float32).reshape(D, D)
    ref = x.astype(np.float64).T @ x.astype(np.float64)
    err = np.max(np.abs(xtx - ref)) / np.max(np.abs(ref))
    report("xtx", err < 1e-6, f"max rel err {err:.1e}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if sys.argv[1] == "model":
        open(sys.argv[2], "w").write(model("--nan" in sys.argv))
    elif sys.argv[1] == "layers":
        open(sys.argv[2], "w").write(layers())
    elif sys.argv[1] == "tokens":
        open(sys.argv[2], "w").write(" ".join(map(str, TOKENS)) + "\n")
    else:
        check(sys.argv[2])
