"""Writes the small float models export tests quantize (ONNX text syntax).

  python3 export_models.py OUT_DIR

mlp.onnxtext      MatMul (x [?, 32] x w1 [32, 32]) -> Relu -> Gemm (transB=1,
                  w2 [16, 32], bias [16]): a linear layer of each kind;
mlp_other.onnxtext the same graph with other weights;
renamed.onnxtext  one MatMul whose node is not named like any in mlp;
k24.onnxtext      MatMul x [?, 24] x w [24, 8] (K = 24 has no power-of-two
                  divisor >= 16, so no MatMulNBits block fits per channel);
k48.onnxtext      MatMul x [?, 48] x w [48, 8] (per channel: blocks of 16);
wide.onnxtext     MatMul x [?, 64] x w [64, 64] (4-bit weights too large to
                  stay inline in the imported module);
op13.onnxtext     opset 13: ReduceMean with an 'axes' attribute, then MatMul.
Unnamed nodes get the importer's names (MatMul_0, Relu_1, Gemm_2).
"""
import os
import random
import sys


def values(rng, count):
    return ", ".join(f"{rng.uniform(-1, 1):.6f}" for _ in range(count))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def mlp(seed):
    rng = random.Random(seed)
    return f"""<ir_version: 8, opset_import: ["" : 17]>
mlp (float[N, 32] x) => (float[N, 16] y)
    <float[32, 32] w1 = {{{values(rng, 32 * 32)}}},
     float[16, 32] w2 = {{{values(rng, 16 * 32)}}},
     float[16] b2 = {{{values(rng, 16)}}}> {{
  h = MatMul(x, w1)
  r = Relu(h)
  y = Gemm<transB = 1>(r, w2, b2)
}}
"""


def single(k, n, seed, prefix=""):
    rng = random.Random(seed)
    relu = "  x1 = Relu(x)\n" if prefix else ""
    source = "x1" if prefix else "x"
    return f"""<ir_version: 8, opset_import: ["" : 17]>
single (float[N, {k}] x) => (float[N, {n}] y)
    <float[{k}, {n}] w = {{{values(rng, k * n)}}}> {{
{relu}  y = MatMul({source}, w)
}}
"""


def op13(seed):
    rng = random.Random(seed)
    return f"""<ir_version: 7, opset_import: ["" : 13]>
op13 (float[N, 32] x) => (float[N, 16] y)
    <float[32, 16] w = {{{values(rng, 32 * 16)}}}> {{
  m = ReduceMean<axes = [-1]>(x)
  c = Sub(x, m)
  y = MatMul(c, w)
}}
"""


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "mlp.onnxtext"), mlp(1))
    write(os.path.join(out, "mlp_other.onnxtext"), mlp(2))
    write(os.path.join(out, "renamed.onnxtext"), single(32, 32, 3, prefix="relu"))
    write(os.path.join(out, "k24.onnxtext"), single(24, 8, 4))
    write(os.path.join(out, "k48.onnxtext"), single(48, 8, 5))
    write(os.path.join(out, "wide.onnxtext"), single(64, 64, 6))
    write(os.path.join(out, "op13.onnxtext"), op13(7))


if __name__ == "__main__":
    main()
