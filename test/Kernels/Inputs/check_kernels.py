"""The quantized matmul kernels of every target against the reference.

For each scheme and shape (ragged on purpose: N not a multiple of the
16-column panel, K not a multiple of the 2/4/8 values a dot-product
instruction sums, M not a multiple of the 4- and 8-row blocks), a linear layer is
quantized with qopt-quantize and compiled standalone (quant-compile
--standalone --emit=obj) once with the scalar reference lowering and once
per kernel target, linked with a small C driver and run on the same inputs:
natively for the host's targets, under `qemu-aarch64 -cpu max` for the
AArch64 ones. Integer (W8A8) results must equal the reference bit for bit;
float-activation results (weights unpacked in registers, sums in another
order) must agree within 1e-5 of the largest output (scaled by sqrt(K / 130)
for K above 130: the sums round differently). Host builds run their
column panels on 2 OpenMP threads (--parallel, linked with LLVM's libomp);
the AArch64 ones are serial (no AArch64 libomp here).

With --producer, the integer schemes' input comes from an elementwise op, so
the kernels' lowering quantizes it inside that op row by row (the reference
lowering computes the op, then quantizes): still bit for bit.
"""
import argparse
import os
import platform
import shutil
import subprocess
import sys

import numpy as np

from checks.linear_mlir import linear_module

SCHEMES = [
    # name, qopt-quantize options, integer path?, needs static stats?
    ("w8a8_static", "activations=static", True, True),
    ("w8a8_dynamic", "activations=dynamic", True, False),
    ("w8a8_static_asym_weights", "activations=static weight-symmetric=false", True, True),
    ("w8_channel", "weight-bits=8 weight-granularity=channel", False, False),
    ("w8_tensor_asym", "weight-bits=8 weight-granularity=tensor weight-symmetric=false",
     False, False),
    ("w4_g32_sym", "weight-bits=4 weight-granularity=group group-size=32", False, False),
    ("w4_g32_asym", "weight-bits=4 weight-granularity=group group-size=32 "
     "weight-symmetric=false", False, False),
    ("w4_channel", "weight-bits=4 weight-granularity=channel", False, False),
    # W4A8: nibbles unpacked in registers, int8 activations, per-group int32 sums.
    ("w4a8_g32_dynamic", "activations=dynamic weight-bits=4 weight-granularity=group "
     "group-size=32", True, False),
    ("w4a8_g32_asym_static", "activations=static weight-bits=4 weight-granularity=group "
     "group-size=32 weight-symmetric=false", True, True),
    ("w4a8_channel_dynamic", "activations=dynamic weight-bits=4 weight-granularity=channel",
     True, False),
    # Groups of 64: K = 96 and K = 130 end in a shorter group (32 and 2 rows).
    ("w4_g64_asym", "weight-bits=4 weight-granularity=group group-size=64 "
     "weight-symmetric=false", False, False),
    ("w4a8_g64_asym_static", "activations=static weight-bits=4 weight-granularity=group "
     "group-size=64 weight-symmetric=false", True, True),
]
# (K, N): K = 130 is not a multiple of 4 or 8, nor of the group sizes (its
# last group of 32 or 64 has 2 rows, padded to the dot product's 4 or 8).
SHAPES = "96x41,64x70,130x33"
ROWS = "1,6,9"


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.stderr.write(" ".join(cmd) + "\n" + r.stdout + r.stderr)
        raise SystemExit(1)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--quant-opt", required=True)
    ap.add_argument("--quant-compile", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--targets", required=True, help="comma-separated kernel targets")
    ap.add_argument("--shapes", default=SHAPES, help="comma-separated KxN")
    ap.add_argument("--rows", default=ROWS, help="comma-separated row counts M")
    ap.add_argument("--producer", action="store_true",
                    help="the integer schemes only, each layer's input computed by an "
                    "elementwise op (quantized inside it by the kernels' lowering)")
    args = ap.parse_args()
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    rows = [int(m) for m in args.rows.split(",")]
    targets = args.targets.split(",")
    host_cc = shutil.which("clang-22") or "cc"
    qemu = shutil.which("qemu-aarch64")
    llvm_libdir = run([shutil.which("llvm-config-22") or "llvm-config", "--libdir"]).stdout.strip()
    omp = ["-L" + llvm_libdir, "-lomp", "-Wl,-rpath," + llvm_libdir]
    rng = np.random.default_rng(11)
    failures = 0
    for k, n in shapes:
        w = rng.normal(0, 0.5, (k, n)).astype(np.float32)
        w[:, 3] = 0.0  # A dead output channel.
        w[5, 7] = 4.0  # An outlier.
        for name, options, integer, static in SCHEMES:
            if args.producer and not integer:
                continue
            tag = f"{name}{'_in_producer' if args.producer else ''}_k{k}_n{n}"
            src = os.path.join(args.tmp, tag + ".mlir")
            with open(src, "w") as f:
                f.write(linear_module(w, (-3.0, 4.5) if static else None, name="linear",
                                      c_interface=True, producer=args.producer))
            qmlir = os.path.join(args.tmp, tag + ".q.mlir")
            run([args.quant_opt, src, f"--qopt-quantize={options}", "-o", qmlir])
            outputs = {}
            for target in ["reference"] + targets:
                aarch64 = target.startswith("aarch64")
                obj = os.path.join(args.tmp, f"{tag}.{target}.o")
                exe = os.path.join(args.tmp, f"{tag}.{target}.exe")
                run([args.quant_compile, qmlir, "--standalone", "--emit=obj",
                     f"--target={target}", f"--parallel={'false' if aarch64 else 'true'}",
                     "-o", obj])
                cc = ["aarch64-linux-gnu-gcc"] if aarch64 else [host_cc]
                run(cc + ["-O1", args.driver, obj, "-o", exe, "-lm"] + ([] if aarch64 else omp))
                prefix = [qemu, "-cpu", "max", "-L", "/usr/aarch64-linux-gnu"] if aarch64 else []
                results = []
                for m in rows:
                    x = rng.normal(0, 1.5, (m, k)).astype(np.float32) if target == "reference" \
                        else outputs["reference"][rows.index(m)][0]
                    xin = os.path.join(args.tmp, f"{tag}.m{m}.in")
                    yout = os.path.join(args.tmp, f"{tag}.{target}.m{m}.out")
                    x.tofile(xin)
                    run(prefix + [exe, str(m), str(k), str(n), xin, yout],
                        env=dict(os.environ, OMP_NUM_THREADS="2"))
                    results.append((x, np.fromfile(yout, np.float32).reshape(m, n)))
                outputs[target] = results
            for target in targets:
                if integer:
                    same = all(np.array_equal(a[1].view(np.uint32), b[1].view(np.uint32))
                               for a, b in zip(outputs[target], outputs["reference"]))
                    verdict = "bit-exact" if same else "DIFFERENT"
                    ok = same
                else:
                    err = max(float(np.max(np.abs(a[1] - b[1])) / max(1e-6, np.max(np.abs(b[1]))))
                              for a, b in zip(outputs[target], outputs["reference"]))
                    # Rounding differences of the f32 sums grow like sqrt(K).
                    ok = err <= 1e-5 * max(1.0, (k / 130) ** 0.5)
                    verdict = f"max rel err {err:.1e}"
                failures += not ok
                print(f"{target} {tag}: {verdict} {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
