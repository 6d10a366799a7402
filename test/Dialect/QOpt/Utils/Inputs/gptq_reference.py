"""An independent NumPy reference of GPTQ (Frantar et al. 2022, "GPTQ:
Accurate Post-Training Quantization for Generative Pre-trained
Transformers", Algorithm 1 with lazy batch updates and the Cholesky form of
the inverse Hessian), for checking qopt-gptq-layer.

Layout: W is [K, N] (row = input channel, column = output channel, ONNX
MatMul's B; torch's weight is its transpose), so the paper's "columns" of the
weight (the input channels it quantizes one at a time) are our rows, and each
output column n is an independent least-squares problem sharing H = 2 X^T X.

Math is float64; only the quantization grid is float32, exactly as
lib/Dialect/QOpt/Utils/QuantParams.cpp (computeParams / quantizeValue /
dequantizeValue). Where the paper is silent, the semantics are the project's
(dead channels, damping retries, group/act-order bookkeeping): see gptq().
"""
import numpy as np

F32 = np.float32


class GPTQError(Exception):
    pass


# --- The quantization grid (QuantParams.cpp) --------------------------------

def grid(bits, symmetric):
    """(qmin, qmax) of the storage codes."""
    if symmetric:
        qmax = (1 << (bits - 1)) - 1
        return -qmax, qmax
    return 0, (1 << bits) - 1


def params_from_range(lo, hi, bits, symmetric):
    """computeParams, vectorized over columns. lo/hi: float64 arrays that
    already include 0 (min/max start at 0). Returns (scale f32, zp int64)."""
    lo = np.minimum(np.asarray(lo, np.float64), 0.0)
    hi = np.maximum(np.asarray(hi, np.float64), 0.0)
    qmin, qmax = grid(bits, symmetric)
    with np.errstate(all="ignore"):
        if symmetric:
            scale = (np.maximum(np.abs(lo), np.abs(hi)) / qmax).astype(F32)
            bad = ~(scale > 0) | ~np.isfinite(scale)
            scale[bad] = F32(1)
            return scale, np.zeros(scale.shape, np.int64)
        scale = ((hi - lo) / qmax).astype(F32)
        bad = ~(scale > 0) | ~np.isfinite(scale)
        scale[bad] = F32(1)
        zp = np.clip(np.rint(-lo / scale.astype(np.float64)), 0, qmax)
        zp[bad] = 0
        return scale, zp.astype(np.int64)


def params_of_rows(w, bits, symmetric):
    """Per-column params of a block of rows w [R, N] (min/max over rows)."""
    return params_from_range(w.min(axis=0), w.max(axis=0), bits, symmetric)


def quotient(x, scale):
    """float32(x) / float32(scale), in float32 (before rounding)."""
    return x.astype(F32) / scale.astype(F32)


def quantize(x, scale, zp, bits, symmetric):
    """quantizeValue: rint in float32 (half to even), + zp, clamp."""
    qmin, qmax = grid(bits, symmetric)
    r = np.rint(quotient(x, scale)).astype(np.float64)
    return np.clip(r + zp, qmin, qmax).astype(np.int64)


def dequantize(q, scale, zp):
    """dequantizeValue: float32(q - zp) * scale, in float32."""
    return (q - zp).astype(F32) * scale.astype(F32)


# --- Inverse Hessian in Cholesky form (paper, Section 3 "Step 3") ----------

def damped_upper_cholesky_inverse(H, damp):
    """H += damp * mean(diag H) * I; U = upper Cholesky factor of H^-1
    (H^-1 = U^T U), computed as the paper's code does (cholesky,
    cholesky_inverse, cholesky upper). If a factorization fails, the damping
    doubles and it retries; doubling to >= 1 is an error (the requested
    damp itself is always tried). Returns (U, damp used)."""
    K = H.shape[0]
    mean_diag = float(np.mean(np.diag(H)))
    d = float(damp)
    while True:
        Hd = H + d * mean_diag * np.eye(K)
        try:
            L = np.linalg.cholesky(Hd)                 # Hd = L L^T
            Linv = np.linalg.solve(L, np.eye(K))
            Hinv = Linv.T @ Linv                       # cholesky_inverse
            U = np.linalg.cholesky(Hinv).T             # Hinv = U^T U
            if np.all(np.isfinite(U)):
                return U, d
        except np.linalg.LinAlgError:
            pass
        d *= 2
        if d >= 1:
            raise GPTQError("Hessian is not positive definite even with "
                            "damping %g" % (d / 2))


# --- GPTQ -------------------------------------------------------------------

def gptq(W, H, bits=4, symmetric=True, group_size=0, act_order=False,
         static_groups=False, damp=0.01, block_size=128, force=None,
         block_override=None):
    """Quantize W [K, N] (float32) with Hessian H [K, K] (float64).

    Returns a dict: codes [K, N] (original row order), scales [groups, N]
    float32, zeros [groups, N], gidx [K], damp (used), dead_channels, plus
    for diagnostics perm, quot [K, N] (the float32 quotient x/scale before
    rounding, in processing order) and proc_codes [K, N] (processing order).

    force: optional {(p, n): code} overriding the code chosen at processing
    position p, column n (used to replay the other side's choice at a tie).
    block_override: use exactly this block size (self-tests only).
    """
    W = np.array(W, dtype=F32)
    H = np.array(H, dtype=np.float64)
    K, N = W.shape
    # A group size that does not divide K leaves a shorter last group; one
    # of K or more is a single group.
    G = min(group_size, K) if group_size else 0
    force = force or {}

    # Dead channels (H_jj == 0: the calibration never exercised input j):
    # H_jj = 1 and W_j = 0 before anything else.
    dead = np.diag(H) == 0
    H[dead, dead] = 1.0
    W[dead, :] = 0

    # Params computed once before the loop: per channel (all K rows) and
    # static groups (original row order), from the dead-zeroed W.
    if not G:
        fixed = params_of_rows(W, bits, symmetric)
    elif static_groups:
        static = [params_of_rows(W[g * G:(g + 1) * G], bits, symmetric)
                  for g in range(-(-K // G))]

    # Act-order: quantize input channels by decreasing H_jj (stable sort).
    perm = (np.argsort(-np.diag(H), kind="stable") if act_order
            else np.arange(K))
    W = W[perm].astype(np.float64)
    H = H[perm][:, perm]

    # Inverse Hessian in Cholesky form, with damping (paper: lambda = 1% of
    # the mean diagonal).
    U, damp_used = damped_upper_cholesky_inverse(H, damp)

    num_groups = -(-K // G) if G else 1
    scales = np.ones((num_groups, N), F32)
    zeros = np.zeros((num_groups, N), np.int64)
    gidx = np.zeros(K, np.int64)
    if not G:
        scales[0], zeros[0] = fixed
    elif static_groups:
        for g in range(num_groups):
            scales[g], zeros[g] = static[g]
        gidx = np.arange(K) // G
    else:
        gidx[perm] = np.arange(K) // G

    # Lazy batch updates (paper, Section 3 "Step 2"): blocks of B rows;
    # groups never straddle blocks.
    if block_override:
        B = block_override
    else:
        B = G * max(1, block_size // G) if G else block_size

    proc_codes = np.zeros((K, N), np.int64)
    quot = np.zeros((K, N), F32)
    for i1 in range(0, K, B):
        i2 = min(i1 + B, K)
        Err1 = np.zeros((i2 - i1, N))
        for r in range(i1, i2):
            if not G:
                s, z = fixed
            elif static_groups:
                s, z = static[perm[r] // G]
            else:
                if r % G == 0:
                    # Group params from the current (error-updated) rows.
                    scales[r // G], zeros[r // G] = params_of_rows(
                        W[r:r + G], bits, symmetric)
                s, z = scales[r // G], zeros[r // G]
            w = W[r]
            quot[r] = quotient(w, s)
            q = quantize(w, s, z, bits, symmetric)
            for (p, n), code in force.items():
                if p == r:
                    q[n] = code
            proc_codes[r] = q
            # Algorithm 1: err = (w - quant(w)) / [H^-1]_qq (Cholesky form:
            # U_qq), then W_{q+1:} -= err * [H^-1]_{q,q+1:} within the block.
            err = (w - dequantize(q, s, z).astype(np.float64)) / U[r, r]
            W[r + 1:i2] -= np.outer(U[r, r + 1:i2], err)
            Err1[r - i1] = err
        # Lazy batch: apply the whole block's errors to the later rows.
        W[i2:] -= U[i1:i2, i2:].T @ Err1

    codes = np.zeros((K, N), np.int64)
    codes[perm] = proc_codes
    return dict(codes=codes, scales=scales, zeros=zeros, gidx=gidx,
                damp=damp_used, dead_channels=int(dead.sum()), perm=perm,
                quot=quot, proc_codes=proc_codes)


def gptq_direct(W, H, bits=4, symmetric=True, group_size=0, damp=0.01):
    """Slow textbook form (no act-order / static groups): after quantizing
    row r, the remaining rows F get the OBS update
        W_F -= [H_F^-1]_{:,r} / [H_F^-1]_rr * (w_r - quant(w_r))
    with H_F^-1 recomputed by explicit inversion of H_F. Self-tests only:
    checks the Cholesky/lazy-batch form above against the paper's Eq. (3)."""
    W = np.array(W, dtype=F32)
    H = np.array(H, dtype=np.float64)
    K, N = W.shape
    G = group_size or K
    dead = np.diag(H) == 0
    H[dead, dead] = 1.0
    W[dead, :] = 0
    H = H + damp * np.mean(np.diag(H)) * np.eye(K)
    W = W.astype(np.float64)
    codes = np.zeros((K, N), np.int64)
    fixed = params_of_rows(W, bits, symmetric) if not group_size else None
    for r in range(K):
        if group_size and r % G == 0:
            fixed = params_of_rows(W[r:r + G], bits, symmetric)
        s, z = fixed
        q = quantize(W[r], s, z, bits, symmetric)
        codes[r] = q
        Hinv = np.linalg.inv(H[r:, r:])
        err = W[r] - dequantize(q, s, z).astype(np.float64)
        W[r:] -= np.outer(Hinv[:, 0] / Hinv[0, 0], err)
    return codes


def rtn(W, bits=4, symmetric=True, group_size=0):
    """Round-to-nearest on W as given: params from each group's min/max
    (original row order), no error feedback. Returns (codes, scales, zeros,
    gidx)."""
    W = np.asarray(W, F32)
    K, N = W.shape
    G = min(group_size, K) if group_size else K
    num_groups = -(-K // G)
    scales = np.zeros((num_groups, N), F32)
    zeros = np.zeros((num_groups, N), np.int64)
    for g in range(num_groups):
        scales[g], zeros[g] = params_of_rows(W[g * G:(g + 1) * G], bits,
                                             symmetric)
    gidx = np.arange(K) // G
    codes = quantize(W, scales[gidx], zeros[gidx], bits, symmetric)
    return codes, scales, zeros, gidx


def dequant_all(codes, scales, zeros, gidx):
    """float32 dequantized [K, N] from codes in original row order."""
    return dequantize(np.asarray(codes, np.int64), scales[gidx], zeros[gidx])


def errors(W, H, deq):
    """(error_h, error_f): sum_n d_n^T H d_n and sum d^2, d = W - deq, with
    the original H and W as given (dequant values widened to float64)."""
    D = np.asarray(W, F32).astype(np.float64) - deq.astype(np.float64)
    return float(np.sum(D * (np.asarray(H, np.float64) @ D))), float(
        np.sum(D * D))


# --- Self-checks (run this file directly) ----------------------------------

def _random_case(rng, K, N, n_rows=None, dead=0):
    n_rows = n_rows or 3 * K
    mix = np.eye(K) + 0.3 * rng.standard_normal((K, K)) / np.sqrt(K)
    X = rng.standard_normal((n_rows, K)) @ mix
    X[:, rng.choice(K, 3, replace=False)] *= 15.0
    if dead:
        X[:, rng.choice(K, dead, replace=False)] = 0
    H = 2.0 / n_rows * (X.T @ X)
    W = (0.05 * rng.standard_normal((K, N))).astype(F32)
    return W, H


def self_test():
    rng = np.random.default_rng(1)
    ok = True

    def report(name, cond):
        nonlocal ok
        ok &= bool(cond)
        print(("ok   " if cond else "FAIL ") + name)

    # 1. With H = I there is no error feedback: GPTQ == RTN exactly.
    for bits, sym, G in [(4, True, 0), (3, False, 32), (8, True, 64)]:
        W, _ = _random_case(rng, 128, 40)
        r = gptq(W, np.eye(128), bits, sym, G)
        c, s, z, _ = rtn(W, bits, sym, G)
        report(f"H=I equals RTN (bits={bits} sym={sym} G={G})",
               np.array_equal(r["codes"], c) and np.array_equal(r["scales"], s)
               and np.array_equal(r["zeros"], z))

    # 2. GPTQ beats RTN in the Hessian-weighted error, every option.
    for bits in (3, 4, 8):
        for sym in (True, False):
            for G in (0, 32):
                for ao, st in [(False, False), (True, False), (True, True)]:
                    if st and not G:
                        continue
                    W, H = _random_case(rng, 128, 32, dead=2)
                    r = gptq(W, H, bits, sym, G, ao, st)
                    eg, _ = errors(W, H, dequant_all(r["codes"], r["scales"],
                                                     r["zeros"], r["gidx"]))
                    er, _ = errors(W, H, dequant_all(*rtn(W, bits, sym, G)))
                    report(f"GPTQ < RTN bits={bits} sym={sym} G={G} act={ao} "
                           f"static={st}: {eg:.4g} < {er:.4g}", eg < er)

    # 3. Lazy batches change only the rounding: block 1 == block K.
    for G, ao in [(0, False), (32, True), (64, False)]:
        W, H = _random_case(rng, 192, 48)
        a = gptq(W, H, 4, False, G, ao, block_override=192)
        b = gptq(W, H, 4, False, G, ao, block_override=G or 1)
        c = gptq(W, H, 4, False, G, ao, block_size=128)
        report(f"block sizes agree (G={G} act={ao})",
               np.array_equal(a["codes"], b["codes"])
               and np.array_equal(a["codes"], c["codes"]))

    # 4. The Cholesky form equals the explicit OBS updates (paper Eq. 3).
    for bits, sym, G in [(4, True, 0), (4, False, 32), (3, True, 64)]:
        W, H = _random_case(rng, 128, 24, dead=1)
        a = gptq(W, H, bits, sym, G)["codes"]
        b = gptq_direct(W, H, bits, sym, G)
        report(f"Cholesky form == explicit inverse updates (bits={bits} "
               f"G={G}): {int(np.sum(a != b))} codes differ",
               np.array_equal(a, b))

    # 5. Damping doubles until both factorizations succeed.
    W, H = _random_case(rng, 64, 16)
    lam = np.linalg.eigvalsh(H)
    H2 = H - (lam[0] + 0.05 * np.mean(np.diag(H))) * np.eye(64)
    _, d = damped_upper_cholesky_inverse(H2, 0.01)
    report(f"indefinite H: damp raised 0.01 -> {d}", d > 0.01)
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if self_test() else 1)
