"""A float linear layer `y = x @ w` as MLIR with observation points, for the
quantization tests: `qopt-quantize` / `qopt-fake-quant` turn it into what each
scheme computes."""


def elementwise_producer(k):
    """MLIR that computes `%xp` ([?, K] f32) from `%x` elementwise, as a
    LayerNorm or GELU does before a linear layer: a rank-3 linalg.generic
    ([M, 1, K], so that rows are delinearized) with a per-column input,
    collapsed back to [M, K]. `%m` must be x's rows."""
    g = ", ".join(repr(0.5 + 0.01 * i) for i in range(k))
    return f"""
  %x3 = tensor.expand_shape %x [[0, 1], [2]] output_shape [%m, 1, {k}] : tensor<?x{k}xf32> into tensor<?x1x{k}xf32>
  %g = arith.constant dense<[{g}]> : tensor<{k}xf32>
  %pe = tensor.empty(%m) : tensor<?x1x{k}xf32>
  %p = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}} ins(%x3, %g : tensor<?x1x{k}xf32>, tensor<{k}xf32>) outs(%pe : tensor<?x1x{k}xf32>) {{
  ^bb0(%a: f32, %gv: f32, %o: f32):
    %quarter = arith.constant 0.25 : f32
    %t = math.tanh %a : f32
    %s = arith.subf %a, %quarter : f32
    %u = arith.mulf %s, %gv : f32
    %v = arith.addf %u, %t : f32
    linalg.yield %v : f32
  }} -> tensor<?x1x{k}xf32>
  %xp = tensor.collapse_shape %p [[0, 1], [2]] : tensor<?x1x{k}xf32> into tensor<?x{k}xf32>"""


def linear_module(w, stats=None, absmax=None, name="main", c_interface=False,
                  producer=False):
    """`func.func @NAME(%x: tensor<?xKxf32>) -> tensor<?xNxf32>` with the
    constant weight `w` [K, N]. `stats` = (min, max) calibrates the input
    point (minmax), `absmax` adds its per-channel max |x|; `c_interface`
    marks the function llvm.emit_c_interface (for standalone compiles);
    `producer` puts an elementwise op (elementwise_producer) before the
    layer."""
    k, n = w.shape
    rows = ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in w)
    extra = ""
    if absmax is not None:
        extra = ", channel_absmax = dense<[" + ", ".join(map(repr, map(float, absmax))) + \
            f"]> : tensor<{k}xf32>"
    observe = f"qopt.observe %{'xp' if producer else 'x'} activation \"fc:input\"" + (
        f" {{stats = #qopt.stats<method = \"minmax\", samples = 1, min = {stats[0]!r}, "
        f"max = {stats[1]!r}{extra}>}}" if stats else "")
    attrs = " attributes {llvm.emit_c_interface}" if c_interface else ""
    return f"""
func.func @{name}(%x: tensor<?x{k}xf32>) -> tensor<?x{n}xf32>{attrs} {{
  %w = arith.constant dense<[{rows}]> : tensor<{k}x{n}xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x{k}xf32>
  %e = tensor.empty(%m) : tensor<?x{n}xf32>{elementwise_producer(k) if producer else ""}
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x{n}xf32>) -> tensor<?x{n}xf32>
  %xo = {observe} : tensor<?x{k}xf32>
  %wo = qopt.observe %w weight "fc:weight" : tensor<{k}x{n}xf32>
  %y = linalg.matmul ins(%xo, %wo : tensor<?x{k}xf32>, tensor<{k}x{n}xf32>) outs(%acc : tensor<?x{n}xf32>) -> tensor<?x{n}xf32>
  return %y : tensor<?x{n}xf32>
}}
"""
