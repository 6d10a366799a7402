"""Picks OpenBLAS's AVX-512 kernels where the CPU has them.

Debian's OpenBLAS does not recognise newer Xeons and falls back to Haswell
kernels (~47 vs ~70 GFLOP/s on this machine's 2 cores). Import this before torch.
"""
import os


def _has_avx512():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f " in f.read()
    except OSError:
        return False


if "OPENBLAS_CORETYPE" not in os.environ and _has_avx512():
    os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
