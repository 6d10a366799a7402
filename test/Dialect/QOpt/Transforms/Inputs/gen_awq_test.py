"""Writes test/Dialect/QOpt/Transforms/awq.mlir: small qopt-awq modules and
their CHECK lines, every number derived from awq_reference.py (NumPy), not
from the tool.

Regenerate (after changing the reference or the cases below) with

    /usr/bin/python3 test/Dialect/QOpt/Transforms/Inputs/gen_awq_test.py \
        > test/Dialect/QOpt/Transforms/awq.mlir

and check the result with lit. The random numerics (many shapes and
options) are in check_awq.py / awq-numpy.test; this file checks the IR
structure on cases small enough to read.
"""
import sys

import numpy as np

import awq_reference as ref

F32 = np.float32
K, N, T = 8, 4, 4   # input channels, output channels, activation rows

# x^T x from 8 integer rows (so H is exact), channel 1 x4 and 5 x3.
_rng = np.random.default_rng(3)
X = _rng.integers(-3, 4, (8, K)).astype(float)
X[:, 1] *= 4
X[:, 5] *= 3
H = X.T @ X
SAMPLES = 8
W = np.round(_rng.uniform(-1, 1, (K, N)), 2).astype(F32)
W[6, 2] = 1.9       # one large weight: clipping its group helps

# A weight on the 4-bit symmetric grid of its groups of 4 (every group and
# column holds +-7 steps): RTN is exact, so no alpha can do better than
# s = 1 and no clipping ratio below 1 either.
STEP = F32(0.0625)
W_GRID = (np.array([[7, -3, 2, 1], [1, 7, -7, 0], [-2, 0, 5, 7], [3, 1, 0, -4],
                    [-7, 2, 1, 3], [0, -7, 7, 2], [4, 3, -2, -7], [1, 0, 3, 5]],
                   F32) * STEP).astype(F32)
# Two layers on one activation (q and k projections).
WQ = W
WK = np.round(_rng.uniform(-1, 1, (K, N)), 2).astype(F32)
WK[1, 0] = -1.5
# The LM head: one layer, quantized INT8 per channel through int8-weights.
W_HEAD = np.round(_rng.uniform(-1, 1, (K, N)), 2).astype(F32)
W_HEAD[3, 1] = 2.2

RUNS = [
    # prefix, options, Scheme of the layers, duo, clip, grid
    ("G4", "weight-bits=4 weight-granularity=group group-size=4",
     ref.Scheme(4, True, 4), True, True, 20),
    ("C3", "weight-bits=3", ref.Scheme(3, True, 0), True, True, 20),
    ("NODUO", "weight-bits=4 weight-granularity=group group-size=4 "
     "duo-scaling=false", ref.Scheme(4, True, 4), False, True, 20),
    ("NOCLIP", "weight-bits=4 weight-granularity=group group-size=4 "
     "clip=false", ref.Scheme(4, True, 4), True, False, 20),
    ("ONE", "weight-bits=4 weight-granularity=group group-size=4 "
     "duo-scaling=false grid=1", ref.Scheme(4, True, 4), False, True, 1),
]


# --- Formatting ----------------------------------------------------------------

def f32s(v):
    t = "%.9g" % float(v)
    return t if any(ch in t for ch in ".eEn") else t + ".0"


def dense(a):
    if a.ndim == 1:
        return "[" + ", ".join(f32s(v) for v in a) + "]"
    return "[" + ", ".join(dense(r) for r in a) + "]"


def apfloat_digits(v, precision):
    """(significant digits, decimal exponent) of the float32 |v| as LLVM's
    IEEEFloat::toString produces them for FormatPrecision `precision`: the
    exact value first truncated by a power of ten (AdjustToPrecision on the
    integer), then rounded half up to `precision` digits."""
    bits = int(np.frombuffer(F32(abs(v)).tobytes(), "<u4")[0])
    e, m = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    sig, exp = (m, -149) if e == 0 else (m | 1 << 23, e - 150)
    tz = (sig & -sig).bit_length() - 1
    sig, exp = sig >> tz, exp + tz
    if exp > 0:
        sig, exp = sig << exp, 0
    elif exp < 0:
        sig *= 5 ** -exp
    required = (precision * 196 + 58) // 59
    if sig.bit_length() > required:
        removable = (sig.bit_length() - required) * 59 // 196
        sig //= 10 ** removable
        exp += removable
    digits = str(sig)
    kept = digits.rstrip("0")
    exp += len(digits) - len(kept)
    if len(kept) > precision:
        exp += len(kept) - precision
        up = kept[precision] >= "5"
        kept = kept[:precision]
        if up:
            kept = str(int(kept) + 1)
            if len(kept) > precision:
                kept, exp = kept[:precision], exp + 1
        stripped = kept.rstrip("0")
        exp += len(kept) - len(stripped)
        kept = stripped
    return kept, exp


def mlir_float(v):
    """A float32 as MLIR prints it (printFloatValue): 6 significant digits
    in exponent form, zero-padded (1.500000e+00), when they read back
    exactly, else APFloat's natural 9 digits (fixed notation here)."""
    v = F32(v)
    sign = "-" if v < 0 else ""
    digits, exp = apfloat_digits(v, 6)
    e10 = exp + len(digits) - 1
    t = "%s%s.%se%s%02d" % (sign, digits[0], digits[1:].ljust(6, "0"),
                            "-" if e10 < 0 else "+", abs(e10))
    if F32(float(t)) == v:
        return t
    digits, exp = apfloat_digits(v, 9)
    assert 1e-2 <= abs(v) < 1e6, v      # fixed notation only
    if exp >= 0:
        t = digits + "0" * exp + ".0"
    elif -exp >= len(digits):
        t = "0." + "0" * (-exp - len(digits)) + digits
    else:
        t = digits[:exp] + "." + digits[exp:]
    assert F32(float(t)) == v, t
    return sign + t


def mlir_dense(a):
    if np.all(a == a[0]):
        return mlir_float(a[0])
    return "[" + ", ".join(mlir_float(v) for v in a) + "]"


def blob(a):
    return "0x08000000" + np.asarray(a, "<f4").tobytes().hex().upper()


def stats(h, samples):
    return ('{stats = #qopt.stats<method = "minmax", samples = %d, min = -9.0, '
            'max = 9.0, xtx = dense<%s> : tensor<%dx%dxf32>>}' %
            (samples, dense(h.astype(F32)), K, K))


WSTATS = '{stats = #qopt.stats<method = "constant", samples = 8, min = -1.0, ' \
    'max = 1.0>}'


# --- IR ----------------------------------------------------------------------------

def producer(arg="%arg0"):
    return """  %gamma = arith.constant dense<[1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.75, 1.25]> : tensor<8xf32>
  %e = tensor.empty() : tensor<1x4x8xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %%gamma : tensor<1x4x8xf32>, tensor<8xf32>) outs(%%e : tensor<1x4x8xf32>) {
  ^bb0(%%in: f32, %%g: f32, %%out: f32):
    %%m = arith.mulf %%in, %%g : f32
    linalg.yield %%m : f32
  } -> tensor<1x4x8xf32>
  %%x = tensor.collapse_shape %%n [[0, 1], [2]] : tensor<1x4x8xf32> into tensor<4x8xf32>
""".replace("%s", arg, 1).replace("%%", "%")


ACC = """  %zero = arith.constant 0.0 : f32
  %acc0 = tensor.empty() : tensor<4x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%acc0 : tensor<4x4xf32>) -> tensor<4x4xf32>
"""


def layer(name, x, w, h=H, samples=SAMPLES, wstats=True):
    v = name.replace(".", "_")
    return (
        "  %%w_%s = arith.constant dense<%s> : tensor<8x4xf32>\n"
        "  %%xo_%s = qopt.observe %s activation \"%s:input\" %s : "
        "tensor<4x8xf32>\n"
        "  %%wo_%s = qopt.observe %%w_%s weight \"%s:weight\" %s"
        "tensor<8x4xf32>\n"
        "  %%y_%s = linalg.matmul ins(%%xo_%s, %%wo_%s : tensor<4x8xf32>, "
        "tensor<8x4xf32>) outs(%%acc : tensor<4x4xf32>) -> tensor<4x4xf32>\n"
        % (v, dense(w), v, x, name, stats(h, samples), v, v, name,
           (WSTATS + " : ") if wstats else ": ", v, v, v))


def func(name, args, body, results):
    return ("func.func @%s(%s) -> (%s) {\n%s  return %s : %s\n}\n" % (
        name, ", ".join("%s: %s" % a for a in args),
        ", ".join(t for _, t in results), body,
        ", ".join(r for r, _ in results), ", ".join(t for _, t in results)))


# --- Cases ---------------------------------------------------------------------

def run_ref(layers, run, scaled=True, h=H):
    _, _, scheme, duo, clip, grid = run
    return ref.awq([(w, s or scheme) for w, s in layers], h, SAMPLES, grid,
                   duo, clip, 0.5, scaled=scaled)


def main():
    out = []
    p = out.append
    p("// qopt-awq on modules small enough to read. Generated by")
    p("// Inputs/gen_awq_test.py from the NumPy reference Inputs/awq_reference.py")
    p("// (edit and rerun that script, do not edit this file by hand); the")
    p("// random numerics are in awq-numpy.test.")
    p("//")
    for prefix, opts, _, _, _, _ in RUNS:
        p("// RUN: quant-opt %%s -split-input-file -qopt-awq=\"%s\" 2>/dev/null "
          "| FileCheck %%s --check-prefix=%s" % (opts, prefix))
    p("// RUN: quant-opt %s -split-input-file -qopt-awq=\"weight-bits=4 "
      "weight-granularity=group group-size=4\" -o /dev/null 2>&1 | FileCheck "
      "%s --check-prefix=LOG")
    p("// int8-weights: the matching layer's search and clipping use INT8 per "
      "channel,")
    p("// exactly as weight-bits=8 for the whole model does (same prefix).")
    p("// RUN: quant-opt %s -split-input-file -qopt-awq=\"weight-bits=4 "
      "weight-granularity=group group-size=4 int8-weights=^lm_head$\" "
      "2>/dev/null | FileCheck %s --check-prefix=W8")
    p("// RUN: quant-opt %s -split-input-file -qopt-awq=\"weight-bits=8\" "
      "2>/dev/null | FileCheck %s --check-prefix=W8")
    p("//")
    p("// x^T x (samples = 8, so the RMS m_j = sqrt(H_jj / 8)):")
    for row in H.astype(int):
        p("//   %s" % " ".join("%4d" % x for x in row))
    p("")

    # 1. A LayerNorm-like producer.
    p("// A LayerNorm-like producer (times gamma, then a collapse_shape) feeding")
    p("// one layer: the producer multiplies by 1/s per channel (a new input")
    p("// indexed by the channel), the weight becomes s W clipped, the matmul")
    p("// records 1/s as qopt.smoothing, and both points lose their statistics.")
    results = {}
    for run in RUNS:
        prefix = run[0]
        r = run_ref([(W, None)], run)
        results[prefix] = r
        p("// [%s] alpha %.2f, output error %.4g (RTN %.4g), %d groups clipped;" %
          (prefix, r["alpha"], r["error"], r["rtn_error"], r["clamped"]))
        p("//   1/s = %s" % " ".join("%.4f" % x for x in r["inv_scale"]))
    assert results["G4"]["clamped"] > 0 and results["G4"]["alpha"] > 0
    assert results["NOCLIP"]["clamped"] == 0
    # clip=false: the weight is s W, nothing else.
    s = results["NOCLIP"]["scale"]
    assert np.array_equal(results["NOCLIP"]["weights"][0],
                          (W * s[:, None]).astype(F32))
    # grid=1 without duo: alpha = 0 is s = 1, not strictly better than RTN;
    # the only clipping ratio is 1: the weight stays W.
    assert np.all(results["ONE"]["scale"] == 1)
    assert np.array_equal(results["ONE"]["weights"][0], W)
    p("// [NOCLIP] the weight is exactly s W (G4's s, not clipped).")
    p("// [ONE] (grid=1, no duo scaling): the only grid point, alpha = 0, is s = 1,")
    p("// which does not beat RTN strictly, and the only clipping ratio is 1:")
    p("// 1/s = 1 is still folded, the weight keeps its values.")
    for prefix, _, _, _, _, _ in RUNS:
        r = results[prefix]
        p("// %s-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d2)>" % prefix)
        p("// %s-LABEL: func.func @layer_norm" % prefix)
        p("// %s: %%[[INV:.*]] = arith.constant dense_resource<smoothing> : "
          "tensor<8xf32>" % prefix)
        p("// %s: linalg.generic {indexing_maps = [#{{.*}}, #[[CH]], #[[CH]], "
          "#{{.*}}]{{.*}} ins(%%arg0, %%{{.*}}, %%[[INV]] : tensor<1x4x8xf32>, "
          "tensor<8xf32>, tensor<8xf32>)" % prefix)
        p("// %s-NEXT: ^bb0(%%[[IN:.*]]: f32, %%[[G:.*]]: f32, %%[[F:.*]]: f32, "
          "%%{{.*}}: f32):" % prefix)
        p("// %s-NEXT: %%[[Y:.*]] = arith.mulf %%[[IN]], %%[[G]]" % prefix)
        p("// %s-NEXT: %%[[S:.*]] = arith.mulf %%[[Y]], %%[[F]]" % prefix)
        p("// %s-NEXT: linalg.yield %%[[S]]" % prefix)
        p("// %s: %%[[X:.*]] = tensor.collapse_shape" % prefix)
        p("// %s: %%[[XO:.*]] = qopt.observe %%[[X]] activation \"fc:input\" : "
          "tensor<4x8xf32>" % prefix)
        p("// %s: %%[[W:.*]] = arith.constant dense_resource<smoothed_weight> : "
          "tensor<8x4xf32>" % prefix)
        p("// %s: %%[[WO:.*]] = qopt.observe %%[[W]] weight \"fc:weight\" : "
          "tensor<8x4xf32>" % prefix)
        p("// %s: linalg.matmul {qopt.smoothing = dense<%s> : tensor<8xf32>} "
          "ins(%%[[XO]], %%[[WO]]" % (prefix, mlir_dense(r["inv_scale"])))
        p("// %s-DAG: smoothing: \"%s\"" % (prefix, blob(r["inv_scale"])))
        p("// %s-DAG: smoothed_weight: \"%s\"" % (prefix, blob(r["weights"][0])))
    r = results["G4"]
    p("// LOG: qopt-awq: layer 'fc': alpha %.2f, output error %.4g (RTN %.4g, "
      "x%.2f), %d groups clipped" % (r["alpha"], r["error"], r["rtn_error"],
                                     r["error"] / r["rtn_error"], r["clamped"]))
    p(func("layer_norm", [("%arg0", "tensor<1x4x8xf32>")],
           producer() + ACC + layer("fc", "%x", W),
           [("%y_fc", "tensor<4x4xf32>")]))
    p("// -----")
    p("")

    # 2. No foldable producer: only clipped.
    p("// No producer to fold a scale into: \"proj\" reads a function argument,")
    p("// \"out\" a producer whose result is also returned. Both are only")
    p("// clipped (against the unscaled x^T x); their inputs keep their")
    p("// statistics, nothing is scaled. clip=false leaves the constants alone.")
    lines = []
    for run in RUNS:
        prefix = run[0]
        rp = run_ref([(W, None)], run, scaled=False)
        ro = run_ref([(WK, None)], run, scaled=False)
        lines.append("// %s-LABEL: func.func @no_producer" % prefix)
        lines.append("// %s-NOT: smoothing" % prefix)
        if run[4]:
            # grid=1: the only ratio is 1, the constant is rewritten as is.
            assert (rp["clamped"] > 0 and ro["clamped"] > 0) != (run[5] == 1)
            for name, x in (("proj", "%arg1"), ("out", "%{{.*}}")):
                lines.append("// %s: qopt.observe %s activation \"%s:input\" "
                             "{stats" % (prefix, x, name))
                lines.append("// %s: %%[[W_%s:.*]] = arith.constant dense_resource"
                             "<[[%s:clipped_weight.*]]> : tensor<8x4xf32>" %
                             (prefix, name.upper(), name.upper()))
                lines.append("// %s-NEXT: qopt.observe %%[[W_%s]] weight "
                             "\"%s:weight\" : tensor<8x4xf32>" %
                             (prefix, name.upper(), name))
            lines.append("// %s-NOT: smoothing" % prefix)
            lines.append("// %s-DAG: [[PROJ]]: \"%s\"" % (prefix,
                                                           blob(rp["weights"][0])))
            lines.append("// %s-DAG: [[OUT]]: \"%s\"" % (prefix,
                                                         blob(ro["weights"][0])))
        else:
            assert np.array_equal(rp["weights"][0], W)
            for name, x in (("proj", "%arg1"), ("out", "%{{.*}}")):
                lines.append("// %s: %%[[W_%s:.*]] = arith.constant dense<{{.*}}> "
                             ": tensor<8x4xf32>" % (prefix, name.upper()))
                lines.append("// %s: qopt.observe %s activation \"%s:input\" "
                             "{stats" % (prefix, x, name))
                lines.append("// %s-NEXT: qopt.observe %%[[W_%s]] weight "
                             "\"%s:weight\" {stats" % (prefix, name.upper(), name))
            lines.append("// %s-NOT: dense_resource" % prefix)
            lines.append("// %s: return" % prefix)
        if prefix == "G4":
            lines.append("// LOG: qopt-awq: layer 'proj': no producer to fold a "
                         "scale into; %d groups clipped" % rp["clamped"])
            lines.append("// LOG: qopt-awq: layer 'out': no producer to fold a "
                         "scale into; %d groups clipped" % ro["clamped"])
    out.extend(lines)
    p(func("no_producer", [("%arg0", "tensor<1x4x8xf32>"),
                           ("%arg1", "tensor<4x8xf32>")],
           producer() + ACC + layer("proj", "%arg1", W) +
           layer("out", "%x", WK),
           [("%y_proj", "tensor<4x4xf32>"), ("%y_out", "tensor<4x4xf32>"),
            ("%x", "tensor<4x8xf32>")]))
    p("// -----")
    p("")

    # 3. Weights on the grid.
    g4 = RUNS[0]
    r = run_ref([(W_GRID, None)], g4)
    assert r["rtn_error"] == 0 and np.all(r["scale"] == 1) and \
        np.array_equal(r["weights"][0], W_GRID) and r["clamped"] == 0
    p("// The weight is on its 4-bit grid (steps of 1/16, +-7 steps in every")
    p("// group of 4 and column): RTN is exact, so no alpha beats s = 1 and")
    p("// no clipping either. 1/s = 1 is folded; the weight keeps its values.")
    p("// G4-LABEL: func.func @on_grid")
    p("// G4: linalg.matmul {qopt.smoothing = dense<1.000000e+00> : "
      "tensor<8xf32>}")
    p("// G4-DAG: smoothing: \"%s\"" % blob(np.ones(K, F32)))
    p("// G4-DAG: smoothed_weight: \"%s\"" % blob(W_GRID))
    p("// LOG: qopt-awq: layer 'grid': alpha 0.00, output error 0 (RTN 0, "
      "x1.00), 0 groups clipped")
    p(func("on_grid", [("%arg0", "tensor<1x4x8xf32>")],
           producer() + ACC + layer("grid", "%x", W_GRID),
           [("%y_grid", "tensor<4x4xf32>")]))
    p("// -----")
    p("")

    # 4. Two layers on one activation.
    r = run_ref([(WQ, None), (WK, None)], g4)
    rq = run_ref([(WQ, None)], g4)
    assert not np.array_equal(r["scale"], rq["scale"])
    p("// Two layers reading one activation share one scale, searched on the")
    p("// sum of their errors (q alone would get other scales); the producer")
    p("// is scaled once. alpha %.2f, 1/s = %s" % (
        r["alpha"], " ".join("%.4f" % x for x in r["inv_scale"])))
    p("// G4-LABEL: func.func @two_layers")
    p("// G4: %[[INV:.*]] = arith.constant dense_resource<smoothing> : "
      "tensor<8xf32>")
    p("// G4: linalg.generic {{.*}} ins(%arg0, %{{.*}}, %[[INV]] :")
    p("// G4-NOT: dense_resource<smoothing")
    p("// G4: qopt.observe %{{.*}} activation \"q:input\" : tensor<4x8xf32>")
    p("// G4: %[[WQ:.*]] = arith.constant dense_resource<[[Q:smoothed_weight"
      ".*]]> : tensor<8x4xf32>")
    p("// G4: linalg.matmul {qopt.smoothing = dense<%s> : tensor<8xf32>}" %
      mlir_dense(r["inv_scale"]))
    p("// G4: qopt.observe %{{.*}} activation \"k:input\" : tensor<4x8xf32>")
    p("// G4: %[[WK:.*]] = arith.constant dense_resource<[[K:smoothed_weight"
      ".*]]> : tensor<8x4xf32>")
    p("// G4: linalg.matmul {qopt.smoothing = dense<%s> : tensor<8xf32>}" %
      mlir_dense(r["inv_scale"]))
    p("// G4-DAG: smoothing: \"%s\"" % blob(r["inv_scale"]))
    p("// G4-DAG: [[Q]]: \"%s\"" % blob(r["weights"][0]))
    p("// G4-DAG: [[K]]: \"%s\"" % blob(r["weights"][1]))
    for name in ("q", "k"):
        p("// LOG: qopt-awq: layer '%s': alpha %.2f, output error %.4g (RTN "
          "%.4g, x%.2f), %d groups clipped" % (
              name, r["alpha"], r["error"], r["rtn_error"],
              r["error"] / r["rtn_error"], r["clamped"]))
    p(func("two_layers", [("%arg0", "tensor<1x4x8xf32>")],
           producer() + ACC + layer("q", "%x", WQ) + layer("k", "%x", WK),
           [("%y_q", "tensor<4x4xf32>"), ("%y_k", "tensor<4x4xf32>")]))
    p("// -----")
    p("")

    # 5. int8-weights.
    w8 = ref.Scheme(8, True, 0)
    r8 = ref.awq([(W_HEAD, w8)], H, SAMPLES, 20, True, True, 0.5)
    r4 = run_ref([(W_HEAD, None)], g4)
    assert not np.array_equal(r8["scale"], r4["scale"])
    assert not np.array_equal(r8["weights"][0], r4["weights"][0])
    p("// The LM head with int8-weights=^lm_head$: searched and clipped as INT8")
    p("// per channel (alpha %.2f, %d groups clipped), not as the INT4 groups of" %
      (r8["alpha"], r8["clamped"]))
    p("// the scheme ([G4] alpha %.2f, %d groups clipped)." % (r4["alpha"],
                                                         r4["clamped"]))
    for prefix, r in (("W8", r8), ("G4", r4)):
        p("// %s-LABEL: func.func @lm_head" % prefix)
        p("// %s: linalg.matmul {qopt.smoothing = dense<%s> : tensor<8xf32>}" %
          (prefix, mlir_dense(r["inv_scale"])))
        p("// %s-DAG: smoothing: \"%s\"" % (prefix, blob(r["inv_scale"])))
        p("// %s-DAG: smoothed_weight: \"%s\"" % (prefix,
                                                 blob(r["weights"][0])))
    p(func("lm_head", [("%arg0", "tensor<1x4x8xf32>")],
           producer() + ACC + layer("lm_head", "%x", W_HEAD),
           [("%y_lm_head", "tensor<4x4xf32>")]))
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
