"""A float linear layer `y = x @ w` as MLIR with observation points, for the
quantization tests: `qopt-quantize` / `qopt-fake-quant` turn it into what each
scheme computes."""


def linear_module(w, stats=None, absmax=None, name="main", c_interface=False):
    """`func.func @NAME(%x: tensor<?xKxf32>) -> tensor<?xNxf32>` with the
    constant weight `w` [K, N]. `stats` = (min, max) calibrates the input
    point (minmax), `absmax` adds its per-channel max |x|; `c_interface`
    marks the function llvm.emit_c_interface (for standalone compiles)."""
    k, n = w.shape
    rows = ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in w)
    extra = ""
    if absmax is not None:
        extra = ", channel_absmax = dense<[" + ", ".join(map(repr, map(float, absmax))) + \
            f"]> : tensor<{k}xf32>"
    observe = "qopt.observe %x activation \"fc:input\"" + (
        f" {{stats = #qopt.stats<method = \"minmax\", samples = 1, min = {stats[0]!r}, "
        f"max = {stats[1]!r}{extra}>}}" if stats else "")
    attrs = " attributes {llvm.emit_c_interface}" if c_interface else ""
    return f"""
func.func @{name}(%x: tensor<?x{k}xf32>) -> tensor<?x{n}xf32>{attrs} {{
  %w = arith.constant dense<[{rows}]> : tensor<{k}x{n}xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x{k}xf32>
  %e = tensor.empty(%m) : tensor<?x{n}xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x{n}xf32>) -> tensor<?x{n}xf32>
  %xo = {observe} : tensor<?x{k}xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<{k}x{n}xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x{k}xf32>, tensor<{k}x{n}xf32>) outs(%acc : tensor<?x{n}xf32>) -> tensor<?x{n}xf32>
  return %y : tensor<?x{n}xf32>
}}
"""
