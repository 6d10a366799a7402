"""Runs GPT-2 export variants through quant-opt's reference lowering on
mlir-runner's JIT and compares the logits with PyTorch's.

  run_variants.py --dir DIR --quant-opt Q --runner R --runner-libs A,B
      [--dynamic] NAME...

For each NAME (DIR/NAME.onnx with NAME.input.npy and NAME.logits.npy from
scripts/training/variants.py): imports the model (with static input shapes
unless --dynamic), wraps @main in an @entry that feeds the saved token ids
(and an empty KV cache for KV variants) and prints the logits, lowers with
--qopt-lower-to-llvm, runs it, and prints the max error relative to the
largest reference logit. Exits 1 if any variant exceeds its tolerance
(1e-4; 1e-3 for fp16 weights, whose reference used the fp32 weights).
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np


def wrap(module_text, ids, dynamic):
    sig = re.search(r"func.func @main\((.*)\) -> \((.*)\) \{", module_text)
    ins = re.findall(r"(tensor<[^>]*>) \{onnx.name", sig.group(1))
    outs = re.findall(r"(tensor<[^>]*>) \{onnx.name", sig.group(2))
    shape = "x".join(map(str, ids.shape))
    values = ", ".join(str(int(v)) for v in ids.reshape(-1))
    body = [f"  %ids0 = arith.constant dense<[[{values}]]> : tensor<{shape}xi64>",
            f"  %ids = tensor.cast %ids0 : tensor<{shape}xi64> to {ins[0]}"]
    args = ["%ids"]
    for i, t in enumerate(ins[1:]):  # past_key_values: empty cache
        heads, dim = re.match(r"tensor<\?x(\d+)x\?x(\d+)xf32>", t).groups()
        body += [f"  %p{i}0 = tensor.empty() : tensor<1x{heads}x0x{dim}xf32>",
                 f"  %p{i} = tensor.cast %p{i}0 : tensor<1x{heads}x0x{dim}xf32> to {t}"]
        args.append(f"%p{i}")
    logits = outs[0]
    memref = "memref<" + logits[len("tensor<"):]
    body += [f"  %r:{len(outs)} = call @main({', '.join(args)}) : ({', '.join(ins)}) -> ({', '.join(outs)})",
             f"  %m = bufferization.to_buffer %r#0 : {logits} to {memref}",
             f"  %u = memref.cast %m : {memref} to memref<*xf32>",
             "  call @printMemrefF32(%u) : (memref<*xf32>) -> ()",
             "  return"]
    entry = ("func.func @entry() {\n" + "\n".join(body) + "\n}\n"
             "func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}\n")
    end = module_text.find("{-#")
    close = module_text.rfind("\n}", 0, end if end >= 0 else len(module_text))
    return module_text[:close] + "\n" + entry + module_text[close:]


def run_variant(args, name, tmp):
    base = os.path.join(args.dir, name)
    ids, ref = np.load(base + ".input.npy"), np.load(base + ".logits.npy")
    cmd = [args.quant_opt, base + ".onnx", "-o", f"{tmp}.import.mlir"]
    if not args.dynamic:
        cmd.append("--input-shape=input_ids=" + "x".join(map(str, ids.shape)))
    subprocess.run(cmd, check=True)
    with open(f"{tmp}.import.mlir") as f:
        wrapped = wrap(f.read(), ids, args.dynamic)
    with open(f"{tmp}.wrapped.mlir", "w") as f:
        f.write(wrapped)
    subprocess.run([args.quant_opt, f"{tmp}.wrapped.mlir", "--qopt-lower-to-llvm=parallel=false",
                    "-o", f"{tmp}.llvm.mlir"], check=True)
    run = subprocess.run([args.runner, f"{tmp}.llvm.mlir", "-e", "entry",
                          "-entry-point-result=void", "-O2", "-shared-libs=" + args.runner_libs],
                         capture_output=True, text=True, check=True)
    data = run.stdout.split("data =", 1)[1]
    got = np.array(re.findall(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf)", data), dtype=np.float64)
    got = got.reshape(ref.shape)
    return float(np.abs(got - ref).max() / np.abs(ref).max())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True)
    p.add_argument("--quant-opt", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--runner-libs", required=True)
    p.add_argument("--dynamic", action="store_true")
    p.add_argument("names", nargs="+")
    args = p.parse_args()
    failed = False
    for name in args.names:
        err = run_variant(args, name, os.path.join(args.dir, name + (".dyn" if args.dynamic else ".static")))
        tolerance = 1e-3 if "fp16" in name else 1e-4
        ok = err <= tolerance
        failed |= not ok
        print(f"{name} {'dynamic' if args.dynamic else 'static'}: max rel err {err:.2e} "
              f"(tolerance {tolerance:.0e}) {'ok' if ok else 'FAIL'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
