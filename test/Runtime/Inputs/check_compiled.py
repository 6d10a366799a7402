"""Compiles GPT-2 export variants with quant-compile and checks quant-run's
logits against PyTorch's, through one prefill and through prefill + decode
steps on the KV cache, and the last-position logits generation asks for.

  check_compiled.py --dir DIR NAME...

DIR holds NAME.onnx, NAME.input.npy and NAME.logits.npy (training.variants).
Prints one line per variant and path; exits 1 if any error relative to the
largest reference logit exceeds 1e-4 (1e-3 for fp16 weights).
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("names", nargs="+")
    args = p.parse_args()
    failed = False
    for name in args.names:
        base = os.path.join(args.dir, name)
        ids, ref = np.load(base + ".input.npy"), np.load(base + ".logits.npy")
        subprocess.run(["quant-compile", base + ".onnx", "-o", base + ".so"], check=True)
        with open(base + ".ids", "w") as f:
            f.write(" ".join(str(int(t)) for t in ids.reshape(-1)))
        paths = [("prefill", base + ".so", [])]
        if "_kv" in name:
            # One token at a time through the runtime's in-place cache (its
            # growth without a context limit: lm-capi.test).
            paths.append(("decode", base + ".so", ["--decode-from", str(ids.shape[1] // 2)]))
            # The ONNX graph's own form: the model returns the grown cache.
            subprocess.run(["quant-compile", base + ".onnx", "-o", base + ".copy.so",
                            "--kv-cache-in-place=false"], check=True)
            paths.append(("decode (returned cache)", base + ".copy.so",
                          ["--decode-from", str(ids.shape[1] // 2)]))
        # Generation's path: the last position's logits after a prefill of
        # half the tokens, then after each decode step (or, without a KV
        # cache, each recomputation), from the last-position entry point.
        half = ids.shape[1] // 2
        with open(base + ".so", "rb") as f:
            if b"qopt_entry_main_last_position" not in f.read():
                print(f"{name}: no last-position entry point FAIL")
                failed = True
        paths.append(("last position", base + ".so",
                      ["--positions=last", "--decode-from", str(half)]))
        for path, library, extra in paths:
            out = f"{base}.{path.split()[0]}.f32"
            subprocess.run(["quant-run", library, "logits", base + ".ids", "--out", out] + extra,
                           check=True)
            expected = ref[:, half - 1:] if path == "last position" else ref
            got = np.fromfile(out, dtype=np.float32).reshape(expected.shape)
            err = float(np.abs(got - expected).max() / np.abs(ref).max())
            tolerance = 1e-3 if "fp16" in name else 1e-4
            ok = err <= tolerance
            failed |= not ok
            print(f"{name} {path}: max rel err {err:.2e} (tolerance {tolerance:.0e}) "
                  f"{'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
