"""qopt-gptq-layer (the C++ GPTQ) against gptq_reference.py (NumPy, float64).

Random layers with realistic Hessians (H = 2/n X^T X, n > K, correlated
input channels and a few large-magnitude outlier channels) go through the
tool for a matrix of options (bits 3/4/8 x symmetric/asymmetric x per
channel/G=32/G=64 x act-order off/on/on+static groups, block sizes that do
and do not divide K), plus special cases: K not a multiple of the block or of the group size,
dead channels (H_jj = 0), an indefinite H (the damping must double from
0.01 to 0.08), rank-deficient H (duplicated/dependent channels, fewer samples
than channels), tiny damping on a singular H (must be raised; checked
loosely, see special_cases), N above the tool's 256-column chunk, tied
diagonal entries (act-order's sort must be stable), H = I (GPTQ must equal
RTN), and inputs the tool must reject (NaN/Inf, bad group size or bits, an H
that would need damping >= 1).

Per case:
  - damp used, dead channel count and the group index must be equal;
  - codes must be equal, except where a rounding tie went the other way: the
    two sides' float rounding differs, so a value at (or within 1e-4 of) a
    .5 boundary may round either way. Output columns are independent
    problems, so such a flip changes the rest of its column (error
    feedback); the check replays the reference with the tool's code forced
    at the tie and compares again. Each replayed point must be a near tie
    where the codes differ by 1, and at most 0.1% of the codes may be
    replayed; any other difference fails, naming where it first diverges;
  - scales (float32) and zero points equal to the replayed reference;
  - error_h / error_f / rtn_* in the JSON within 1e-5 (relative) of the
    values computed here from the tool's own codes/scales/zeros and from the
    reference's results, and error_h <= rtn_error_h.
One line per case, then a summary; exit status 1 on any failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gptq_reference as ref  # noqa: E402

F32 = np.float32
TIE_TOL = 1e-4       # |frac(x/scale) - 0.5| <= TIE_TOL * max(1, |x/scale|)
MAX_REPLAY = 1e-3    # fraction of the codes that may be replayed ties
REL = 1e-5


# --- Inputs ------------------------------------------------------------------

def make_layer(rng, K, N, dead=0, n_rows=None, duplicate=False):
    """W [K, N] float32, H [K, K] float64 = 2/n X^T X."""
    n_rows = n_rows or int(rng.integers(2 * K, 4 * K))
    # Correlated channels: mix of a few shared latent factors plus noise.
    latent = rng.standard_normal((n_rows, 8))
    X = (rng.standard_normal((n_rows, K)) +
         latent @ (0.7 * rng.standard_normal((8, K))))
    X *= rng.uniform(0.3, 2.0, K)                      # uneven channel scales
    X[:, rng.choice(K, 4, replace=False)] *= rng.uniform(10, 40, 4)  # outliers
    if duplicate:   # linearly dependent channels: H singular, no zero H_jj
        X[:, 1] = X[:, 0]
        X[:, 5] = X[:, 2] - 0.5 * X[:, 3]
        X[:, K - 1] = X[:, 0]
    if dead:        # input channels never exercised: H_jj = 0
        X[:, rng.choice(K, dead, replace=False)] = 0
    H = 2.0 / n_rows * (X.T @ X)
    W = 0.04 * rng.standard_normal((K, N))
    W *= rng.uniform(0.5, 2.0, N)                      # uneven column scales
    W[rng.integers(0, K, 6), rng.integers(0, N, 6)] *= 6  # a few big weights
    return W.astype(F32), H


# --- Running the tool ----------------------------------------------------------

def tool_args(c):
    args = ["--k", str(c["K"]), "--n", str(c["N"]), "--bits", str(c["bits"]),
            "--group-size", str(c["G"]), "--damp", repr(c["damp"]),
            "--block-size", str(c["block"])]
    if not c["sym"]:
        args.append("--asymmetric")
    if c["act"]:
        args.append("--act-order")
    if c["static"]:
        args.append("--static-groups")
    return args


def run_tool(tool, tmp, name, W, H, c):
    wp, hp = os.path.join(tmp, name + ".W.f32"), os.path.join(tmp,
                                                              name + ".H.f64")
    np.asarray(W, "<f4").tofile(wp)
    np.asarray(H, "<f8").tofile(hp)
    prefix = os.path.join(tmp, name)
    cmd = [tool, "--weights", wp, "--hessian", hp, "--out", prefix] + \
        tool_args(c)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip() or "exit status %d" % r.returncode
    K, N = c["K"], c["N"]
    ng = -(-K // c["G"]) if c["G"] else 1  # The last group may be shorter.
    out = dict(
        codes=np.fromfile(prefix + ".codes.i16", "<i2").astype(np.int64),
        scales=np.fromfile(prefix + ".scales.f32", "<f4"),
        zeros=np.fromfile(prefix + ".zeros.i32", "<i4").astype(np.int64),
        gidx=np.fromfile(prefix + ".gidx.i32", "<i4").astype(np.int64))
    for key, size in [("codes", K * N), ("scales", ng * N),
                      ("zeros", ng * N), ("gidx", K)]:
        if out[key].size != size:
            return None, "%s has %d elements, expected %d" % (
                key, out[key].size, size)
    out["codes"] = out["codes"].reshape(K, N)
    out["scales"] = out["scales"].reshape(ng, N)
    out["zeros"] = out["zeros"].reshape(ng, N)
    with open(prefix + ".json") as f:
        out["json"] = json.load(f)
    return out, None


# --- Comparison ------------------------------------------------------------

def close(a, b, rel=REL):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-30)


def reference(W, H, c, force=None, damp=None):
    return ref.gptq(W, H, c["bits"], c["sym"], c["G"], c["act"], c["static"],
                    c["damp"] if damp is None else damp, c["block"],
                    force=force)


def compare(W, H, c, out):
    """'' if the tool's result matches the reference, else the reason.
    Also returns a note (replayed ties etc.)."""
    K, N = c["K"], c["N"]
    js = out["json"]
    notes = []
    if c.get("loose"):
        return compare_loose(W, H, c, out)
    try:
        r = reference(W, H, c)
    except ref.GPTQError as e:
        return "tool succeeded but the reference failed: %s" % e, ""
    if not close(js["damp"], r["damp"], 1e-9):
        return "damp %r, reference %r" % (js["damp"], r["damp"]), ""
    if js["dead_channels"] != r["dead_channels"]:
        return "dead_channels %r, reference %r" % (js["dead_channels"],
                                                   r["dead_channels"]), ""
    if not np.array_equal(out["gidx"], r["gidx"]):
        i = int(np.argmax(out["gidx"] != r["gidx"]))
        return "gidx[%d] = %d, reference %d" % (i, out["gidx"][i],
                                                r["gidx"][i]), ""
    qmin, qmax = ref.grid(c["bits"], c["sym"])
    if out["codes"].min() < qmin or out["codes"].max() > qmax:
        return "codes outside [%d, %d]" % (qmin, qmax), ""

    # Codes, replaying near-ties with the tool's choice.
    perm = r["perm"]
    tool_proc = out["codes"][perm]          # processing order
    force = {}
    limit = max(2, int(MAX_REPLAY * K * N))
    while True:
        diff = tool_proc != r["proc_codes"]
        if not diff.any():
            break
        for n in np.nonzero(diff.any(axis=0))[0]:
            p = int(np.argmax(diff[:, n]))
            x = float(r["quot"][p, n])
            a, b = int(tool_proc[p, n]), int(r["proc_codes"][p, n])
            tie = abs(abs(x - np.floor(x)) - 0.5) <= TIE_TOL * max(1, abs(x))
            if abs(a - b) != 1 or not tie:
                return ("codes diverge at input channel %d (processing "
                        "position %d), output column %d: tool %d, reference "
                        "%d (x/scale = %.7g, not a rounding tie); %d codes "
                        "differ in all, %d ties replayed before" %
                        (perm[p], p, n, a, b, x, int(diff.sum()),
                         len(force))), ""
            force[(p, int(n))] = a
        if len(force) > limit:
            return "more than %d codes differ at rounding ties" % limit, ""
        r = reference(W, H, c, force=force)
    if force:
        notes.append("%d tie(s) replayed" % len(force))

    if not np.array_equal(out["scales"], r["scales"]):
        g, n = np.argwhere(out["scales"] != r["scales"])[0]
        return "scales[%d, %d] = %r, reference %r" % (
            g, n, out["scales"][g, n], r["scales"][g, n]), ""
    if not np.array_equal(out["zeros"], r["zeros"]):
        g, n = np.argwhere(out["zeros"] != r["zeros"])[0]
        return "zeros[%d, %d] = %d, reference %d" % (
            g, n, out["zeros"][g, n], r["zeros"][g, n]), ""

    # Errors: the JSON against the tool's own outputs and the reference.
    eh_t, ef_t = ref.errors(W, H, ref.dequant_all(
        out["codes"], out["scales"], out["zeros"], out["gidx"]))
    eh_r, ef_r = ref.errors(W, H, ref.dequant_all(
        r["codes"], r["scales"], r["zeros"], r["gidx"]))
    rh, rf = ref.errors(W, H, ref.dequant_all(
        *ref.rtn(W, c["bits"], c["sym"], c["G"])))
    for name, got, mine in [("error_h", js["error_h"], eh_t),
                            ("error_h", js["error_h"], eh_r),
                            ("error_f", js["error_f"], ef_t),
                            ("error_f", js["error_f"], ef_r),
                            ("rtn_error_h", js["rtn_error_h"], rh),
                            ("rtn_error_f", js["rtn_error_f"], rf)]:
        if not close(got, mine):
            return "%s = %.9g, computed here %.9g" % (name, got, mine), ""
    if c.get("check_rtn", True) and not js["error_h"] <= js["rtn_error_h"]:
        return "error_h %.6g > rtn_error_h %.6g" % (
            js["error_h"], js["rtn_error_h"]), ""
    if c.get("equal_rtn") and js["error_h"] != js["rtn_error_h"]:
        return "H = I: error_h %.9g != rtn_error_h %.9g" % (
            js["error_h"], js["rtn_error_h"]), ""
    notes.insert(0, "error_h %.4g (RTN %.4g, %.0f%%)" % (
        js["error_h"], js["rtn_error_h"],
        100 * js["error_h"] / max(js["rtn_error_h"], 1e-300)))
    if js["damp"] != c["damp"]:
        notes.append("damp %g -> %g" % (c["damp"], js["damp"]))
    return "", ", ".join(notes)


def compare_loose(W, H, c, out):
    """The tool's result on its own: damping raised, codes in range, the
    JSON consistent with its outputs, and no worse than RTN."""
    js = out["json"]
    qmin, qmax = ref.grid(c["bits"], c["sym"])
    if not js["damp"] > c["damp"]:
        return "damp %r not raised above %r" % (js["damp"], c["damp"]), ""
    if out["codes"].min() < qmin or out["codes"].max() > qmax:
        return "codes outside [%d, %d]" % (qmin, qmax), ""
    eh, ef = ref.errors(W, H, ref.dequant_all(
        out["codes"], out["scales"], out["zeros"], out["gidx"]))
    rh, rf = ref.errors(W, H, ref.dequant_all(
        *ref.rtn(W, c["bits"], c["sym"], c["G"])))
    for name, got, mine in [("error_h", js["error_h"], eh),
                            ("error_f", js["error_f"], ef),
                            ("rtn_error_h", js["rtn_error_h"], rh),
                            ("rtn_error_f", js["rtn_error_f"], rf)]:
        if not close(got, mine):
            return "%s = %.9g, computed here %.9g" % (name, got, mine), ""
    if not js["error_h"] <= js["rtn_error_h"]:
        return "error_h %.6g > rtn_error_h %.6g" % (
            js["error_h"], js["rtn_error_h"]), ""
    try:
        mine = "%g" % reference(W, H, c)["damp"]
    except ref.GPTQError as e:
        mine = "error (%s)" % e
    return "", ("error_h %.4g (RTN %.4g), damp %g -> %g (reference: %s; "
                "not compared)" % (js["error_h"], js["rtn_error_h"],
                                   c["damp"], js["damp"], mine))


# --- Cases -------------------------------------------------------------------

def describe(c):
    s = "k%d_n%d_b%d_%s_%s_%s_blk%d" % (
        c["K"], c["N"], c["bits"], "sym" if c["sym"] else "asym",
        "g%d" % c["G"] if c["G"] else "channel",
        "static" if c["static"] else ("act" if c["act"] else "seq"),
        c["block"])
    return c.get("tag", "") + s


def matrix_cases(rng, count):
    combos = [(bits, sym, G, order)
              for bits in (3, 4, 8) for sym in (True, False)
              for G in (0, 32, 64) for order in ("seq", "act", "static")]
    order_idx = list(range(len(combos)))
    while len(order_idx) < count:
        order_idx += list(rng.permutation(len(combos)))
    cases = []
    for i in order_idx[:count]:
        bits, sym, G, order = combos[i]
        K = int(rng.choice([64, 128, 192, 256]))
        block = int(rng.choice([128, 128, 64, 48]))
        cases.append(dict(K=K, N=int(rng.integers(24, 97)), bits=bits,
                          sym=sym, G=G, act=order != "seq",
                          static=order == "static", damp=0.01, block=block))
    return cases


def special_cases(rng):
    """(case, W, H) for the cases with particular inputs."""
    out = []

    def base(**kw):
        c = dict(K=128, N=40, bits=4, sym=True, G=0, act=False, static=False,
                 damp=0.01, block=128)
        c.update(kw)
        return c

    # K not a multiple of the block size (192 rows, 128-row blocks).
    for kw in [dict(G=0), dict(G=64, sym=False, act=True),
               dict(G=32, bits=3, act=True, static=True)]:
        c = base(K=192, N=56, tag="ragged-", **kw)
        out.append((c,) + make_layer(rng, c["K"], c["N"]))
    # A group size that does not divide K: the last group is shorter (GPT-2
    # XL: K = 1600 in groups of 128 ends with 64 rows); a group wider than K
    # is one group.
    for kw in [dict(G=64), dict(G=64, sym=False, act=True),
               dict(G=64, bits=3, act=True, static=True), dict(G=256)]:
        c = base(K=160, N=40, tag="ragged-group-", **kw)
        out.append((c,) + make_layer(rng, c["K"], c["N"]))
    # Dead channels: H_jj = 0, row/column of H zero.
    for kw in [dict(G=0), dict(G=32, sym=False, act=True),
               dict(G=32, act=True, static=True), dict(G=64, bits=8)]:
        c = base(N=48, tag="dead-", **kw)
        out.append((c,) + make_layer(rng, c["K"], c["N"], dead=5))
    # Indefinite H: 0.01, 0.02, 0.04 fail, 0.08 succeeds (clear margins).
    c = base(K=64, N=32, G=32, act=True, tag="indefinite-", check_rtn=False,
             expect_damp=0.08)
    W, H = make_layer(rng, c["K"], c["N"])
    lam = np.linalg.eigvalsh(H)
    # Shift so that lambda_min = -0.06 * mean(diag) of the shifted H.
    m = np.mean(np.diag(H))
    s = (lam[0] + 0.06 * m) / (1 + 0.06)
    out.append((c, W, H - s * np.eye(c["K"])))
    # Rank-deficient H without dead channels (duplicated and dependent
    # channels; fewer samples than channels). Damping 1e-6 keeps the result
    # reproducible: below ~1e-8 the codes (and whether Cholesky succeeds)
    # depend on how the inverse is computed (explicit inverse vs triangular
    # inverse vs another Cholesky code all differ), so only looser checks.
    c = base(N=32, G=32, sym=False, act=True, damp=1e-6, tag="rankdef-dup-")
    out.append((c,) + make_layer(rng, c["K"], c["N"], duplicate=True))
    c = base(N=32, damp=1e-6, tag="rankdef-fewrows-")
    out.append((c,) + make_layer(rng, c["K"], c["N"], n_rows=40))
    # Tiny damping on a singular H must be raised (factorization fails at
    # 1e-20 in any float64 code); the damp reached is rounding-dependent, so
    # this case checks only the tool's own consistency and quality.
    c = base(N=32, damp=1e-20, tag="rankdef-tinydamp-", loose=True)
    out.append((c,) + make_layer(rng, c["K"], c["N"], n_rows=40))
    # More output columns than the tool's column chunk (256): several
    # chunks rounded in parallel, the last one ragged.
    for kw in [dict(G=0, block=48), dict(G=32, sym=False, act=True)]:
        c = base(K=64, N=520, tag="wide-", **kw)
        out.append((c,) + make_layer(rng, c["K"], c["N"]))
    # Equal diagonal entries: act-order must keep their order (stable sort).
    for kw in [dict(G=32, act=True), dict(G=32, act=True, static=True,
                                           sym=False)]:
        c = base(N=32, tag="tieddiag-", **kw)
        W, H = make_layer(rng, c["K"], c["N"])
        d = np.sqrt(np.diag(H))
        s = rng.choice([0.5, 1.0, 3.0], c["K"])     # three distinct H_jj
        H = H / np.outer(d, d) * np.outer(s, s)
        H[np.diag_indices(c["K"])] = s * s
        out.append((c, W, H))
    # H = I: no error feedback, GPTQ must equal RTN exactly.
    for kw in [dict(G=0, bits=4), dict(G=32, sym=False, bits=3)]:
        c = base(N=32, tag="identity-", equal_rtn=True, **kw)
        W, _ = make_layer(rng, c["K"], c["N"])
        out.append((c, W, np.eye(c["K"])))
    return out


def negative_cases(rng):
    """(name, case, W, H, expected stderr fragment)."""
    c = dict(K=64, N=16, bits=4, sym=True, G=0, act=False, static=False,
             damp=0.01, block=128)
    W, H = make_layer(rng, 64, 16)
    Wn = W.copy()
    Wn[3, 7] = np.nan
    Hn = H.copy()
    Hn[2, 9] = Hn[9, 2] = np.inf
    # Indefinite beyond repair: lambda_min = -2 * mean(diag), so damping
    # would have to reach 2; doubling to >= 1 is an error.
    lam0, m = np.linalg.eigvalsh(H)[0], np.mean(np.diag(H))
    Hbad = H - (lam0 + 2 * m) / 3 * np.eye(64)
    bad_group = dict(c, G=3)
    bad_bits = dict(c, bits=5)
    return [("nan-weight", c, Wn, H, "NaN"),
            ("inf-hessian", c, W, Hn, ""),
            ("odd-group-size", bad_group, W, H, "group size"),
            ("bits-5", bad_bits, W, H, "bits"),
            ("hopeless-hessian", c, W, Hbad, "not positive definite")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--cases", type=int, default=54,
                    help="random cases over the option matrix (54 = each "
                    "combination once)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="keep the files in this directory")
    args = ap.parse_args()
    tool = shutil.which(args.tool) or args.tool
    rng = np.random.default_rng(args.seed)
    start = time.time()
    tmp = args.keep or tempfile.mkdtemp(prefix="check_gptq.")
    os.makedirs(tmp, exist_ok=True)

    cases = [(c,) + make_layer(rng, c["K"], c["N"])
             for c in matrix_cases(rng, args.cases)]
    cases += special_cases(rng)
    failures = 0
    for i, (c, W, H) in enumerate(cases):
        name = describe(c)
        out, err = run_tool(tool, tmp, "case%d" % i, W, H, c)
        if out is None:
            why = "tool failed: " + err
            note = ""
        else:
            why, note = compare(W, H, c, out)
            if not why and "expect_damp" in c and \
                    out["json"]["damp"] != c["expect_damp"]:
                why = "damp %r, expected %r" % (out["json"]["damp"],
                                                c["expect_damp"])
        if why:
            failures += 1
            print("FAIL %s: %s" % (name, why))
        else:
            print("ok   %s: %s" % (name, note))
    negatives = negative_cases(rng)
    for name, c, W, H, frag in negatives:
        out, err = run_tool(tool, tmp, name, W, H, c)
        if out is not None or frag not in err:
            failures += 1
            print("FAIL %s: expected an error%s, got %s" % (
                name, " naming %r" % frag if frag else "",
                "success" if out is not None else repr(err)))
        else:
            print("ok   %s rejected: %s" % (name, err.splitlines()[0]))
    total = len(cases) + len(negatives)
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
