"""AWQ (Lin et al., 2023) in NumPy, as qopt-awq specifies it.

Written from the pass's description (Passes.td, QOptAWQPass) and AutoAWQ,
not from the C++; the float32 steps the C++ rounds in (the scaled weight,
the RTN grid of QuantParams.cpp, s itself) are float32 here too, so that
the results agree bit for bit away from exact ties.

    s = awq_scale(layers, H, samples, grid, duo)      # the scale search
    W' = clip_groups(W * s, H / (s s^T), ...)         # the clipping search

Layers are (W [K, N] float32, Scheme) pairs; H = x^T x [K, K] (the f32
attribute, as float64), `samples` the rows it sums.

Scale search: m_j = sqrt(H_jj / samples) (RMS of channel j; dead channels,
m_j = 0, keep s_j = 1). For alpha = k / grid, k = 0 .. grid-1:
    s_j = max(m_j^alpha / (wmean_j^(1-alpha) + 1e-4), 1e-4)    (duo)
    s_j = max(m_j^alpha, 1e-4)                                  (no duo)
with wmean_j the mean over the output columns of every layer of
|w_jc| / max_{r in j's group} |w_rc| (0 when that max is 0), then s divided
by sqrt(max s * min s) over the live channels. Error: sum over layers and
columns of d_c^T H d_c, d = W - dequant(RTN(W * s)) / s. The first alpha
with the strictly smallest error wins; s = 1 unless some alpha is strictly
below the error of s = 1.

Clipping: per group g and column c, for step = 0 .. grid-1 the ratio
r = 1 - max_shrink * step / grid, w clamped to +-r max|w_gc|, error
d^T H_gg d with d = w - dequant(RTN(clamped w)) and H the x^T x of the
layer's input as it now is (H_ij / (s_i s_j) after scaling); the first
least error wins. weight-granularity=tensor: one grid for the whole weight,
so the whole tensor is the one group (one ratio, the error summed over the
columns), and wmean is relative to the tensor's max.
"""
import numpy as np

F32 = np.float32


class Scheme:
    """bits 3/4/8, symmetric, group size (0: per output channel; "tensor":
    one grid for the whole weight, its "group" the whole tensor)."""

    def __init__(self, bits=4, sym=True, group=0):
        self.bits, self.sym, self.group = bits, sym, group
        self.tensor = group == "tensor"

    def rows(self, k):
        return k if self.tensor else (self.group or k)

    def __repr__(self):
        return "b%d_%s_%s" % (self.bits, "sym" if self.sym else "asym",
                              "tensor" if self.tensor else
                              "g%d" % self.group if self.group else "channel")


# --- RTN on the grid of QuantParams.cpp ----------------------------------------

def params(lo, hi, bits, sym):
    """Arrays lo, hi (float64, lo <= 0 <= hi) -> scale (f32), zp, qmin, qmax
    (computeParams)."""
    if sym:
        qmax = 2 ** (bits - 1) - 1
        qmin = -qmax
        scale = (np.maximum(np.abs(lo), np.abs(hi)) / qmax).astype(F32)
        scale = np.where((scale > 0) & np.isfinite(scale), scale, F32(1))
        return scale.astype(F32), np.zeros(scale.shape), qmin, qmax
    qmin, qmax = 0, 2 ** bits - 1
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    scale = ((hi - lo) / qmax).astype(F32)
    ok = (scale > 0) & np.isfinite(scale)
    safe = np.where(ok, scale, F32(1)).astype(F32)
    zp = np.clip(np.rint(-lo / safe.astype(np.float64)), 0, qmax)
    return safe, np.where(ok, zp, 0.0), qmin, qmax


def fake_quant_groups(v, bits, sym, lo=None, hi=None):
    """v [G, R, N] float32 (G groups of R rows): each (group, column)
    quantized on its own grid (from [lo, hi], default v's own range widened
    to 0) and dequantized, in float32 as QuantParams.cpp does."""
    v = v.astype(F32)
    if lo is None:
        lo = np.minimum(v.min(axis=1), 0).astype(np.float64)
        hi = np.maximum(v.max(axis=1), 0).astype(np.float64)
    scale, zp, qmin, qmax = params(lo, hi, bits, sym)
    scale = scale[:, None, :]
    zp = zp[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.rint(v / scale)                      # float32 division
    q = np.clip(r.astype(np.float64) + zp, qmin, qmax)
    return ((q - zp).astype(F32) * scale).astype(F32)


def tensor_range(v):
    """[lo, hi] of the whole of v [1, R, N] (widened to 0), per column."""
    n = v.shape[2]
    lo = np.full((1, n), min(float(v.min()), 0.0))
    hi = np.full((1, n), max(float(v.max()), 0.0))
    return lo, hi


def rtn(w, scheme):
    """dequant(quant(w)) of a [K, N] float32 weight under `scheme`."""
    k, n = w.shape
    if scheme.tensor:
        v = w.reshape(1, k, n)
        return fake_quant_groups(v, scheme.bits, scheme.sym,
                                 *tensor_range(v)).reshape(k, n)
    g = scheme.rows(k)
    out = fake_quant_groups(w.reshape(k // g, g, n), scheme.bits, scheme.sym)
    return out.reshape(k, n)


def h_error(d, h):
    """sum_c d_c^T H d_c for d [K, N] (float64)."""
    return float(np.sum(d * (h @ d)))


# --- Scale search -------------------------------------------------------------

def weight_mean(layers, k):
    """Per input channel: mean over all layers' columns of |w_jc| relative
    to the max |w| of j's group in column c."""
    total = np.zeros(k)
    columns = 0
    for w, scheme in layers:
        n = w.shape[1]
        g = scheme.rows(k)
        a = np.abs(w.astype(np.float64)).reshape(k // g, g, n)
        gmax = a.max(axis=1, keepdims=True)
        if scheme.tensor:
            gmax = np.full_like(gmax, a.max())
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(gmax > 0, a / gmax, 0.0)
        total += rel.reshape(k, n).sum(axis=1)
        columns += n
    return total / max(1, columns)


def scaled_error(layers, h, s):
    s = s.astype(F32)
    e = 0.0
    for w, scheme in layers:
        scaled = (w * s[:, None]).astype(F32)
        approx = (rtn(scaled, scheme) / s[:, None]).astype(F32)
        e += h_error(w.astype(np.float64) - approx.astype(np.float64), h)
    return e


def candidate_scale(m, wmean, alpha, duo, norm_over="live"):
    """s (float32) for one grid point. norm_over="all" normalizes over every
    channel, dead ones at 1 (only to reproduce the C++ on a disagreement)."""
    live = m > 0
    with np.errstate(divide="ignore"):
        v = np.power(m, alpha)
        if duo:
            v = v / (np.power(wmean, 1 - alpha) + 1e-4)
    v = np.where(live, np.maximum(v, 1e-4), 1.0)
    pool = v[live] if norm_over == "live" else v
    if pool.size == 0:
        return np.ones(len(m), F32)
    norm = np.sqrt(pool.max() * pool.min())
    s32 = v.astype(F32).astype(np.float64)
    return np.where(live, (s32 / norm).astype(F32), F32(1)).astype(F32)


def awq_scale(layers, h, samples, grid, duo=True, norm_over="live"):
    """-> dict(scale (f32 [K]), alpha, error, rtn_error, errors per alpha)."""
    k = h.shape[0]
    m = np.sqrt(np.maximum(np.diag(h), 0.0) / max(1, samples))
    wmean = weight_mean(layers, k)
    ones = np.ones(k, F32)
    best = dict(scale=ones, alpha=0.0, rtn_error=scaled_error(layers, h, ones),
                errors=[])
    best["error"] = best["rtn_error"]
    for step in range(grid):
        alpha = step / grid
        s = candidate_scale(m, wmean, alpha, duo, norm_over)
        e = scaled_error(layers, h, s)
        best["errors"].append(e)
        if e < best["error"]:
            best.update(scale=s, alpha=alpha, error=e)
    return best


# --- Clipping search ------------------------------------------------------------

def clip_groups(w, h, scheme, grid, max_shrink):
    """-> (clipped w, number of clamped (group, column) pairs, chosen ratio
    per [group, column], the error per [step, group, column])."""
    w = w.astype(F32)
    k, n = w.shape
    g = scheme.rows(k)
    groups = w.reshape(k // g, g, n)
    absmax = np.abs(groups).max(axis=1)                     # [G, N] f32
    if scheme.tensor:
        absmax = np.full_like(absmax, np.abs(groups).max())
    errors = np.zeros((grid, k // g, n))
    for step in range(grid):
        ratio = F32(1.0 - max_shrink * step / grid)
        limit = (absmax * ratio).astype(F32)[:, None, :]
        v = np.clip(groups, -limit, limit).astype(F32)
        rng_ = tensor_range(v) if scheme.tensor else (None, None)
        d = groups.astype(np.float64) - fake_quant_groups(
            v, scheme.bits, scheme.sym, *rng_).astype(np.float64)
        for gi in range(k // g):
            hg = h[gi * g:(gi + 1) * g, gi * g:(gi + 1) * g]
            errors[step, gi] = np.sum(d[gi] * (hg @ d[gi]), axis=0)
    if scheme.tensor:  # one ratio for the whole tensor
        errors[:] = errors.sum(axis=2, keepdims=True)
    best_step = np.argmin(errors, axis=0)  # first of equal minima
    ratios = np.array([F32(1.0 - max_shrink * st / grid)
                       for st in range(grid)], F32)[best_step]
    limit = (absmax * ratios).astype(F32)[:, None, :]
    clamped = ratios < 1
    out = np.where(clamped[:, None, :], np.clip(groups, -limit, limit), groups)
    return out.reshape(k, n).astype(F32), int(clamped.sum()), ratios, errors


def awq(layers, h, samples, grid=20, duo=True, clip=True, max_shrink=0.5,
        scaled=True, norm_over="live"):
    """The whole pass on the layers reading one activation. scaled=False:
    a layer without a producer, only clipped against the unscaled H.
    -> dict(weights [list of f32 [K, N]], scale, inv_scale, alpha, error,
    rtn_error, clamped)."""
    k = h.shape[0]
    if scaled:
        best = awq_scale(layers, h, samples, grid, duo, norm_over)
    else:
        best = dict(scale=np.ones(k, F32), alpha=0.0, error=None,
                    rtn_error=None, errors=[])
    s = best["scale"]
    inv = (1.0 / s.astype(np.float64)).astype(F32)
    hs = h / np.outer(s.astype(np.float64), s.astype(np.float64))
    out, clamped = [], 0
    for w, scheme in layers:
        ws = (w * s[:, None]).astype(F32) if scaled else w.astype(F32)
        if clip:
            ws, c, _, _ = clip_groups(ws, hs, scheme, grid, max_shrink)
            clamped += c
        out.append(ws)
    return dict(best, weights=out, inv_scale=inv, clamped=clamped)
