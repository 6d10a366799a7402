"""Runs compiled models (quant-compile .so, entry `main`, one float input)
through the runtime's Python bindings.

  run_models.py compare A.so B.so --shape 7x32 [--tol 1e-5]
      the same seeded input through both; prints the largest difference
      relative to max |A| and `ok` or `FAIL` (exit 1)
  run_models.py expect A.so --input "0.25, 0.75" --expect "0, 1"
      a 1-D input; prints the output and `ok` or `FAIL` (exit 1)
"""
import argparse
import sys

import numpy as np

from quantopt.runtime import Model


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["compare", "expect"])
    p.add_argument("models", nargs="+")
    p.add_argument("--shape", default="7x32")
    p.add_argument("--tol", type=float, default=1e-5)
    p.add_argument("--input")
    p.add_argument("--expect")
    args = p.parse_args()
    if args.mode == "compare":
        shape = tuple(int(d) for d in args.shape.split("x"))
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        a, b = (Model(m).run("main", [x])[0] for m in args.models)
        rel = float(np.abs(a - b).max() / np.abs(a).max())
        ok = rel <= args.tol
        print(f"max rel err {rel:.3e}: {'ok' if ok else 'FAIL'}")
        return 0 if ok else 1
    x = np.array([float(v) for v in args.input.split(",")], np.float32)
    want = np.array([float(v) for v in args.expect.split(",")], np.float32)
    got = Model(args.models[0]).run("main", [x])[0]
    ok = np.array_equal(got, want)
    print(f"output {got.tolist()} expected {want.tolist()}: {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
