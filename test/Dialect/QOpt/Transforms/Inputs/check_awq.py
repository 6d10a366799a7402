"""qopt-awq (the C++ pass) against awq_reference.py (NumPy) on random modules.

Each case is one function: a LayerNorm-like all-parallel linalg.generic
(times gamma, then a channel-preserving collapse_shape) feeding 1-3 observed
layers (a scaled group sharing one scale), a layer reading a function
argument (no producer: only clipped), and optionally a producer whose result
is also returned (not foldable: its layer is only clipped). Inputs carry
#qopt.stats with samples and xtx = x^T x from random activations with uneven
channel magnitudes, a few outlier channels and optionally dead channels.

The options vary over bits 3/4/8, symmetric or not, per output channel or
groups, duo-scaling on/off, clip on/off, grid and max-shrink, and
int8-weights naming one layer of the scaled group. Per case:
  - the scaled group: qopt.smoothing on every matmul and the producer's new
    per-channel constant both equal the reference's 1/s (float32, exactly),
    the new weights equal s W clipped (exactly), the inputs' statistics are
    gone, and the progress line's alpha / errors / clipped groups agree;
  - the other layers: no qopt.smoothing, statistics kept, weights clipped
    exactly as the reference clips them (with clip=false: the original
    constant, untouched), progress line's clipped groups agree.
One line per case, then a summary; exit status 1 on any failure. A
disagreement in the scale is explained when the reference reproduces the
tool with s normalized over all channels (dead ones at 1) instead of the
live ones. --set deviations runs the cases where the tool is known to
depart from the reference (dead channels outside the live range of s,
weight-granularity=tensor); see deviation_cases.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import awq_reference as ref  # noqa: E402

F32 = np.float32
T = 4  # rows of the activation tensors (irrelevant to the pass)


# --- Inputs ------------------------------------------------------------------

def make_xtx(rng, k, dead=0, xscale=1.0, straddle=False):
    n = int(rng.integers(2 * k, 4 * k))
    latent = rng.standard_normal((n, 4))
    x = rng.standard_normal((n, k)) + latent @ (0.5 *
                                                rng.standard_normal((4, k)))
    x *= rng.uniform(0.2, 2.0, k)
    x[:, rng.choice(k, max(1, k // 8), replace=False)] *= rng.uniform(
        8, 30, max(1, k // 8))
    x *= xscale
    if dead:
        x[:, rng.choice(k, dead, replace=False)] = 0
    if straddle:   # live RMS on both sides of 1: m^alpha too (alpha > 0)
        live = np.nonzero(np.any(x != 0, axis=0))[0]
        a, b = rng.choice(live, 2, replace=False)
        x[:, a] *= 0.3 / np.sqrt(np.mean(x[:, a] ** 2))
        x[:, b] *= 3.0 / np.sqrt(np.mean(x[:, b] ** 2))
    return (x.T @ x).astype(F32), n


def make_weight(rng, k, n):
    w = 0.05 * rng.standard_normal((k, n)) * rng.uniform(0.5, 2.0, n)
    w[rng.integers(0, k, 3), rng.integers(0, n, 3)] *= 8
    return w.astype(F32)


def f32s(a):
    t = "%.9g" % float(a)
    return t if re.search(r"[.eEn]", t) else t + ".0"


def dense(a):
    if a.ndim == 1:
        return "[" + ", ".join(f32s(v) for v in a) + "]"
    return "[" + ", ".join(dense(r) for r in a) + "]"


def stats(h, samples):
    k = h.shape[0]
    return ('{stats = #qopt.stats<method = "minmax", samples = %d, min = -1.0, '
            'max = 1.0, xtx = dense<%s> : tensor<%dx%dxf32>>}' %
            (samples, dense(h), k, k))


def layer_ir(name, x, h, samples, w, acc):
    k, n = w.shape
    return [
        '  %%w_%s = arith.constant dense<%s> : tensor<%dx%dxf32>' %
        (v(name), dense(w), k, n),
        '  %%x_%s = qopt.observe %s activation "%s:input" %s : tensor<%dx%dxf32>'
        % (v(name), x, name, stats(h, samples), T, k),
        '  %%wo_%s = qopt.observe %%w_%s weight "%s:weight" : tensor<%dx%dxf32>'
        % (v(name), v(name), name, k, n),
        '  %%y_%s = linalg.matmul ins(%%x_%s, %%wo_%s : tensor<%dx%dxf32>, '
        'tensor<%dx%dxf32>) outs(%s : tensor<%dx%dxf32>) -> tensor<%dx%dxf32>'
        % (v(name), v(name), v(name), T, k, k, n, acc[n], T, n, T, n)]


def v(name):
    return re.sub(r"\W", "_", name)


def producer_ir(name, arg, k, gamma):
    return [
        '  %%g_%s = arith.constant dense<%s> : tensor<%dxf32>' %
        (name, dense(gamma), k),
        '  %%e_%s = tensor.empty() : tensor<1x%dx%dxf32>' % (name, T, k),
        '  %%n_%s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) '
        '-> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, '
        'd1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", '
        '"parallel"]} ins(%s, %%g_%s : tensor<1x%dx%dxf32>, tensor<%dxf32>) '
        'outs(%%e_%s : tensor<1x%dx%dxf32>) {' %
        (name, arg, name, T, k, k, name, T, k),
        '  ^bb0(%in: f32, %g: f32, %out: f32):',
        '    %m = arith.mulf %in, %g : f32',
        '    linalg.yield %m : f32',
        '  } -> tensor<1x%dx%dxf32>' % (T, k),
        '  %%p_%s = tensor.collapse_shape %%n_%s [[0, 1], [2]] : '
        'tensor<1x%dx%dxf32> into tensor<%dx%dxf32>' % (name, name, T, k, T,
                                                         k)]


def build_module(c):
    """IR text of case c (its "group", "alone" and "shared" parts)."""
    k = c["K"]
    args = ["%%a: tensor<1x%dx%dxf32>" % (T, k), "%%b: tensor<%dx%dxf32>" %
            (T, k), "%%c: tensor<1x%dx%dxf32>" % (T, k)]
    lines = []
    acc = {}
    results, types = [], []
    widths = sorted({w.shape[1] for _, w in c["group"] + c["alone"] +
                     c["shared"]})
    lines.append("  %zero = arith.constant 0.0 : f32")
    for n in widths:
        lines.append("  %%acc0_%d = tensor.empty() : tensor<%dx%dxf32>" %
                     (n, T, n))
        lines.append("  %%acc_%d = linalg.fill ins(%%zero : f32) outs("
                     "%%acc0_%d : tensor<%dx%dxf32>) -> tensor<%dx%dxf32>" %
                     (n, n, T, n, T, n))
        acc[n] = "%%acc_%d" % n
    lines += producer_ir("grp", "%a", k, c["gamma"])
    for name, w in c["group"]:
        lines += layer_ir(name, "%p_grp", c["H"], c["samples"], w, acc)
        results.append("%%y_%s" % v(name))
        types.append("tensor<%dx%dxf32>" % (T, w.shape[1]))
    for name, w in c["alone"]:
        lines += layer_ir(name, "%b", c["H2"], c["samples2"], w, acc)
        results.append("%%y_%s" % v(name))
        types.append("tensor<%dx%dxf32>" % (T, w.shape[1]))
    if c["shared"]:
        lines += producer_ir("shr", "%c", k, c["gamma"])
        for name, w in c["shared"]:
            lines += layer_ir(name, "%p_shr", c["H3"], c["samples3"], w, acc)
            results.append("%%y_%s" % v(name))
            types.append("tensor<%dx%dxf32>" % (T, w.shape[1]))
        results.append("%p_shr")     # also an output: not foldable
        types.append("tensor<%dx%dxf32>" % (T, k))
    head = "func.func @awq(%s) -> (%s) {" % (", ".join(args), ", ".join(types))
    return "\n".join([head] + lines + ["  return %s : %s" % (
        ", ".join(results), ", ".join(types)), "}"]) + "\n"


# --- Running the tool and reading its output ----------------------------------

def pass_options(c):
    s = c["scheme"]
    o = ["weight-bits=%d" % s.bits,
         "weight-symmetric=%s" % ("true" if s.sym else "false"),
         "grid=%d" % c["grid"], "max-shrink=%r" % c["max_shrink"],
         "duo-scaling=%s" % ("true" if c["duo"] else "false"),
         "clip=%s" % ("true" if c["clip"] else "false")]
    if s.tensor:
        o += ["weight-granularity=tensor"]
    elif s.group:
        o += ["weight-granularity=group", "group-size=%d" % s.group]
    if c["int8"]:
        o.append("int8-weights=%s" % c["int8"])
    return " ".join(o)


RES = re.compile(r'^\s*([\w.$-]+): "0x([0-9A-Fa-f]+)"')
CONST = re.compile(r'^\s*(%[\w.$-]+) = arith\.constant (dense_resource<([\w.$-]+)>|'
                   r'dense<(.*)>) : tensor<([0-9x]+)xf32>\s*$')
OBSERVE = re.compile(r'^\s*(%[\w.$-]+) = qopt\.observe (%[\w.$-]+) '
                     r'(weight|activation) "([^"]+):(weight|input)"( \{stats)?')
MATMUL = re.compile(r'linalg\.matmul (\{qopt\.smoothing = dense<(.*?)> : '
                    r'tensor<(\d+)xf32>\} )?ins\((%[\w.$-]+), (%[\w.$-]+) :')
GENERIC = re.compile(r'linalg\.generic .*ins\(([^:]*) :')
PROGRESS = re.compile(r"^qopt-awq: layer '([^']+)': alpha (\S+), output error "
                      r"(\S+) \(RTN (\S+), x\S+\)(?:, (\d+) groups clipped)?$")
ALONE = re.compile(r"^qopt-awq: layer '([^']+)': no producer to fold a scale "
                   r"into; (\d+) groups clipped$")


def parse_values(text, shape):
    text = text.strip()
    if text.startswith('"0x'):
        return np.frombuffer(bytes.fromhex(text[3:-1]), "<f4").reshape(shape)
    nums = re.findall(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)", text)
    vals = np.array([float(x) for x in nums], np.float64).astype(F32)
    if vals.size == 1:
        return np.full(shape, vals[0], F32)
    return vals.reshape(shape)


def parse_output(ir, err):
    out = dict(resources={}, consts={}, weights={}, inputs={}, smoothing={},
               generic_consts=[], progress={}, alone={})
    for line in ir.splitlines():
        m = RES.match(line)
        if m:
            raw = bytes.fromhex(m.group(2))
            out["resources"][m.group(1)] = np.frombuffer(raw[4:], "<f4")
            continue
        m = CONST.match(line)
        if m:
            shape = tuple(int(x) for x in m.group(5).split("x"))
            out["consts"][m.group(1)] = (m.group(3), m.group(4), shape)
            continue
        m = OBSERVE.match(line)
        if m:
            var, src, role, name, _, st = m.groups()
            if role == "weight":
                out["weights"][var] = (name, src, bool(st))
            else:
                out["inputs"][name] = bool(st)
            continue
        m = MATMUL.search(line)
        if m:
            sm, wvar = m.group(2), m.group(5)
            out["smoothing"][wvar] = None if sm is None else \
                parse_values(sm, (int(m.group(3)),))
            continue
        m = GENERIC.search(line)
        if m:
            out["generic_consts"].append(
                [x.strip() for x in m.group(1).split(",")])
    for line in err.splitlines():
        m = PROGRESS.match(line)
        if m:
            out["progress"][m.group(1)] = dict(
                alpha=float(m.group(2)), error=float(m.group(3)),
                rtn=float(m.group(4)),
                clipped=None if m.group(5) is None else int(m.group(5)))
        m = ALONE.match(line)
        if m:
            out["alone"][m.group(1)] = int(m.group(2))
    return out


def const_value(out, var):
    res, text, shape = out["consts"][var]
    if res is not None:
        return out["resources"][res].reshape(shape), res
    return parse_values(text, shape), None


def layer_result(out, name):
    """-> (weight values, resource name or None, smoothing or None,
    weight stats kept, input stats kept)."""
    for var, (lname, src, st) in out["weights"].items():
        if lname == name:
            w, res = const_value(out, src)
            return w, res, out["smoothing"].get(var), st, out["inputs"][name]
    raise KeyError(name)


def run_tool(tool, tmp, name, c):
    path = os.path.join(tmp, name + ".mlir")
    with open(path, "w") as f:
        f.write(build_module(c))
    cmd = [tool, path, "-qopt-awq=" + pass_options(c)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or
                      ["exit status %d" % r.returncode])[0][:300]
    return parse_output(r.stdout, r.stderr), None


# --- Comparison ---------------------------------------------------------------

def first_diff(a, b):
    i = np.argwhere(a != b)[0]
    return "[%s]: tool %r, reference %r (%d of %d differ)" % (
        ", ".join(str(x) for x in i), float(a[tuple(i)]), float(b[tuple(i)]),
        int((a != b).sum()), a.size)


def close(a, b, rel=1e-3):
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-12


def layer_schemes(c):
    s = c["scheme"]
    int8 = ref.Scheme(8, s.sym, 0)
    pat = re.compile(c["int8"]) if c["int8"] else None
    return lambda name: int8 if pat and pat.search(name) else s


def compare(c, out):
    notes = []
    scheme_of = layer_schemes(c)
    k = c["K"]
    group = [(w, scheme_of(name)) for name, w in c["group"]]
    r = ref.awq(group, c["H"].astype(np.float64), c["samples"], c["grid"],
                c["duo"], c["clip"], c["max_shrink"])
    # The scaled group.
    gen_inv = None
    for operands in out["generic_consts"]:
        for o in operands:
            if o in out["consts"] and out["consts"][o][2] == (k,) and \
                    out["consts"][o][0] is not None:
                val, _ = const_value(out, o)
                if out["consts"][o][0].startswith("smoothing"):
                    if gen_inv is not None:
                        return "two producers were scaled", ""
                    gen_inv = val
    if gen_inv is None:
        return "the producer was not scaled", ""
    if not np.array_equal(gen_inv, r["inv_scale"]):
        why = "producer's 1/s " + first_diff(gen_inv, r["inv_scale"])
        alt = ref.awq(group, c["H"].astype(np.float64), c["samples"], c["grid"],
                      c["duo"], c["clip"], c["max_shrink"], norm_over="all")
        if np.array_equal(gen_inv, alt["inv_scale"]):
            why += ("; the tool matches s normalized over ALL channels (dead "
                    "ones at 1), not the live ones")
        why += "; alpha: tool %s, reference %.2f" % (
            out["progress"].get(c["group"][0][0], {}).get("alpha"), r["alpha"])
        return why, ""
    for (name, w0), wr in zip(c["group"], r["weights"]):
        w, res, sm, wst, ist = layer_result(out, name)
        if res is None or not res.startswith("smoothed_weight"):
            return "%s: weight not replaced by a smoothed_weight" % name, ""
        if sm is None or not np.array_equal(sm, r["inv_scale"]):
            return "%s: qopt.smoothing %r, reference 1/s %r" % (
                name, sm, r["inv_scale"]), ""
        if ist or wst:
            return "%s: statistics kept (input %s, weight %s)" % (
                name, ist, wst), ""
        if not np.array_equal(w, wr):
            return "%s: weight %s" % (name, first_diff(w, wr)), ""
        p = out["progress"].get(name)
        if p is None:
            return "%s: no progress line" % name, ""
        if abs(p["alpha"] - r["alpha"]) > 0.005 or \
                not close(p["error"], r["error"]) or \
                not close(p["rtn"], r["rtn_error"]):
            return "%s: progress %r, reference alpha %.2f error %.4g rtn " \
                "%.4g" % (name, p, r["alpha"], r["error"], r["rtn_error"]), ""
        if c["clip"] and p["clipped"] != r["clamped"]:
            return "%s: %s groups clipped, reference %d" % (
                name, p["clipped"], r["clamped"]), ""
        if not c["clip"] and p["clipped"] is not None:
            return "%s: clipping reported with clip=false" % name, ""
    notes.append("alpha %.2f, error x%.3f of RTN" % (
        r["alpha"], r["error"] / r["rtn_error"] if r["rtn_error"] else 1))
    # Layers only clipped.
    clipped = 0
    for part, hk, sk in [("alone", "H2", "samples2"),
                         ("shared", "H3", "samples3")]:
        for name, w0 in c[part]:
            rr = ref.awq([(w0, scheme_of(name))], c[hk].astype(np.float64),
                         c[sk], c["grid"], c["duo"], c["clip"],
                         c["max_shrink"], scaled=False)
            w, res, sm, wst, ist = layer_result(out, name)
            if sm is not None:
                return "%s: qopt.smoothing on a layer without producer" % \
                    name, ""
            if not ist:
                return "%s: input statistics dropped" % name, ""
            if not c["clip"]:
                if res is not None or not np.array_equal(w, w0):
                    return "%s: weight changed with clip=false" % name, ""
                if name in out["alone"]:
                    return "%s: progress line with clip=false" % name, ""
                continue
            if res is None or not res.startswith("clipped_weight"):
                return "%s: weight not replaced by a clipped_weight" % name, ""
            if not np.array_equal(w, rr["weights"][0]):
                return "%s: weight %s" % (name, first_diff(
                    w, rr["weights"][0])), ""
            if out["alone"].get(name) != rr["clamped"]:
                return "%s: %s groups clipped, reference %d" % (
                    name, out["alone"].get(name), rr["clamped"]), ""
            clipped += rr["clamped"]
    if c["clip"]:
        notes.append("%d+%d groups clipped" % (r["clamped"], clipped))
    return "", ", ".join(notes)


# --- Cases ---------------------------------------------------------------------

def describe(c):
    return "%sk%d_%r_%s_%s_grid%d_shrink%g%s" % (
        c.get("tag", ""), c["K"], c["scheme"],
        "duo" if c["duo"] else "noduo", "clip" if c["clip"] else "noclip",
        c["grid"], c["max_shrink"], "_int8" if c["int8"] else "")


def make_case(rng, K, scheme, duo, clip, grid=20, max_shrink=0.5, int8=False,
              dead=0, layers=None, shared=True, tag="", xscale=1.0,
              straddle=False):
    nl = layers or int(rng.integers(1, 4))
    names = ["blk%d.%s" % (int(rng.integers(0, 10)), x)
             for x in ("q", "k", "v")][:nl]
    widths = [int(rng.choice([4, 8, 12])) for _ in names]
    group = [(n, make_weight(rng, K, w)) for n, w in zip(names, widths)]
    H, samples = make_xtx(rng, K, dead, xscale, straddle)
    H2, samples2 = make_xtx(rng, K, dead)
    H3, samples3 = make_xtx(rng, K)
    return dict(
        K=K, scheme=scheme, duo=duo, clip=clip, grid=grid,
        max_shrink=max_shrink, tag=tag,
        int8=("^" + re.escape(names[-1]) + "$") if int8 else "",
        gamma=rng.uniform(0.5, 2.0, K).astype(F32), group=group,
        H=H, samples=samples,
        alone=[("proj", make_weight(rng, K, int(rng.choice([4, 8]))))],
        H2=H2, samples2=samples2,
        shared=[("fc2", make_weight(rng, K, 4))] if shared else [],
        H3=H3, samples3=samples3)


def matrix_cases(rng, count):
    combos = [(bits, sym, gran, duo, clip)
              for bits in (3, 4, 8) for sym in (True, False)
              for gran in ("channel", "group") for duo in (True, False)
              for clip in (True, False)]
    order = list(range(len(combos)))
    while len(order) < count:
        order += list(rng.permutation(len(combos)))
    cases = []
    for i in order[:count]:
        bits, sym, gran, duo, clip = combos[i]
        K = int(rng.choice([8, 16, 32, 64]))
        G = 0
        if gran == "group":
            G = int(rng.choice([g for g in (4, 8, 16, 32) if g < K and
                                K % g == 0]))
        cases.append(make_case(
            rng, K, ref.Scheme(bits, sym, G), duo, clip,
            grid=int(rng.choice([20, 20, 10, 7])),
            max_shrink=float(rng.choice([0.5, 0.5, 0.3])),
            int8=bool(rng.random() < 0.25)))
    return cases


def special_cases(rng):
    S = ref.Scheme
    return [
        make_case(rng, 8, S(4, True, 4), True, True, tag="small-"),
        make_case(rng, 8, S(3, True, 0), True, True, tag="small-"),
        make_case(rng, 16, S(4, True, 8), True, True, int8=True, layers=2,
                  tag="int8-"),
        make_case(rng, 32, S(4, True, 8), True, True, grid=1, tag="grid1-"),
        make_case(rng, 32, S(3, False, 8), False, True, max_shrink=0.0,
                  tag="noshrink-"),
        make_case(rng, 32, S(4, True, 0), True, True, max_shrink=0.9,
                  tag="shrink0.9-"),
        make_case(rng, 128, S(4, True, 32), True, True, layers=3,
                  tag="wide-"),
        # Dead channels (H_jj = 0) in the scaled input and the alone one:
        # s = 1 for them, nothing of their rows counts in the errors. Without
        # duo scaling and with live RMS values on both sides of 1, the dead
        # channels' 1 lies inside the live range of s (see deviation_cases).
        make_case(rng, 32, S(4, True, 8), False, True, dead=3, straddle=True,
                  tag="dead-"),
        make_case(rng, 32, S(4, False, 0), False, True, dead=2, straddle=True,
                  tag="dead-"),
        make_case(rng, 16, S(3, True, 4), False, False, dead=1, straddle=True,
                  tag="dead-"),
        make_case(rng, 64, S(8, True, 16), False, True, dead=5, straddle=True,
                  tag="dead-"),
        # Layers reading one activation with different INT4 widths.
        make_case(rng, 64, S(4, False, 16), True, True, layers=3,
                  tag="three-"),
    ]


def deviation_cases(rng):
    """Cases where the tool deviates from the described semantics (see the
    module docstring); awq-numpy-deviations.test runs them."""
    S = ref.Scheme
    return [
        # Every live channel's RMS far above 1, so m^alpha > 1 for all of
        # them: the dead channels' s = 1 lies outside the live channels'
        # range and changes sqrt(max s min s) if it is counted.
        make_case(rng, 32, S(4, True, 8), False, True, dead=2, xscale=10.0,
                  tag="dead-large-"),
        make_case(rng, 16, S(4, True, 0), True, True, dead=1, xscale=10.0,
                  tag="dead-large-"),
        make_case(rng, 16, S(3, False, 4), False, False, dead=3, xscale=10.0,
                  tag="dead-large-"),
        # With duo scaling, s at small alpha is m^alpha / wmean^(1-alpha) > 1
        # for every live channel (wmean <= 1), whatever the activations.
        make_case(rng, 32, S(4, True, 8), True, True, dead=3, tag="dead-duo-"),
        make_case(rng, 16, S(3, True, 4), True, False, dead=1,
                  tag="dead-duo-"),
        # (weight-granularity=tensor is refused: awq-errors.mlir.)
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--cases", type=int, default=48,
                    help="random cases over the option matrix (48 = each "
                    "combination once)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", choices=["main", "deviations"], default="main",
                    help="main: the option matrix and special cases; "
                    "deviations: the cases the tool gets wrong (see "
                    "deviation_cases)")
    ap.add_argument("--only", help="run only cases whose name contains this")
    ap.add_argument("--keep", help="keep the files in this directory")
    args = ap.parse_args()
    tool = shutil.which(args.tool) or args.tool
    rng = np.random.default_rng(args.seed)
    start = time.time()
    tmp = args.keep or tempfile.mkdtemp(prefix="check_awq.")
    os.makedirs(tmp, exist_ok=True)
    if args.set == "main":
        cases = matrix_cases(rng, args.cases) + special_cases(rng)
    else:
        cases = deviation_cases(rng)
    failures = total = 0
    for i, c in enumerate(cases):
        name = describe(c)
        if args.only and args.only not in name:
            continue
        total += 1
        out, err = run_tool(tool, tmp, "case%d" % i, c)
        if out is None:
            why, note = "tool failed: " + err, ""
        else:
            try:
                why, note = compare(c, out)
            except KeyError as e:
                why, note = "layer %s missing from the output" % e, ""
        if why:
            failures += 1
            print("FAIL %s (case%d): %s" % (name, i, why))
        else:
            print("ok   %s: %s" % (name, note))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("FAILED: %d of %d cases disagree (%.1f s)" % (
            failures, total, time.time() - start))
        return 1
    print("all %d cases agree (%.1f s)" % (total, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
