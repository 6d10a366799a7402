//===- Passes.td - quantization passes on the qopt dialect -------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"
include "quant-opt/Dialect/QOpt/Transforms/SchemeOptions.td"

def QOptFoldConstantTransposesPass
    : Pass<"qopt-fold-constant-transposes", "func::FuncOp"> {
  let summary = "Transpose constant tensors at compile time";
  let description = [{
    Replaces `linalg.transpose` of an `arith.constant` (dense or
    `dense_resource`, any rank, elements of whole bytes) by a new
    `dense_resource` constant holding the permuted data. Exports with a tied
    LM head store the embedding table once and transpose it in the graph;
    without this fold every forward pass would copy the table.

    Before:
    ```mlir
    %c = arith.constant dense<[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]> : tensor<2x3xf32>
    %e = tensor.empty() : tensor<3x2xf32>
    %t = linalg.transpose ins(%c : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
    ```
    After (the blob holds 0 3 1 4 2 5):
    ```mlir
    %t = arith.constant dense_resource<transposed> : tensor<3x2xf32>
    ```
  }];
  let dependentDialects = ["arith::ArithDialect"];
}

def QOptSortGroupIndexPass
    : Pass<"qopt-sort-group-index", "func::FuncOp"> {
  let summary = "Sort a grouped weight's rows by group and gather the input "
                "to match, removing qopt.qmatmul's group_index";
  let description = [{
    A `qopt.qmatmul` with `group_index` (GPTQ's act-order `g_idx`) uses the
    scales of group `g_idx[k]` for input channel k. With `perm` the input
    channels listed group by group (stable), the same layer is

        qopt.qmatmul(x[:, perm], W[perm, :])

    whose groups are contiguous, as every lowering expects: the weight's
    rows are reordered at compile time and the input's columns are gathered
    by a `linalg.generic` (M x K loads, next to the M x K x N products).
    Before:

        %y = qopt.qmatmul %x, %w group_index %g weight !quant.uniform<...>

    After:

        %p = arith.constant dense_resource<input_permutation> : tensor<Kxi32>
        %xp = linalg.generic ... tensor.extract %x[%i, %p[%j]] ...
        %y = qopt.qmatmul %xp, %w_sorted weight !quant.uniform<...>

    The group index and the weight must be constants; an index that is not
    a group or a group without exactly G members is an error naming the op.
    Runs first in `qopt-lower-to-llvm`.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "tensor::TensorDialect",
                           "arith::ArithDialect"];
}

def QOptListLayersPass : Pass<"qopt-list-layers", "ModuleOp"> {
  let summary = "Name the embedding and LM head, and print the quantizable "
                "layers";
  let description = [{
    Finds the roles structurally (never by ONNX node name) and records them
    as `qopt.role` on the ops: `embedding` (the gather whose ids are a
    function argument), `position_embedding` (other gathered tables) and
    `lm_head` (the linear layer with one output per token of the embedding
    whose result is a function result through reshapes only; `qopt.tied_embedding` when its weight is the embedding
    table transposed). Then prints one line per linear layer and gathered
    table: the name that layer-selecting options (`skip`,
    `float-activations`, `int8-weights`) match, its role, kind, weight
    shape and parameter count, and the total. Those options match a
    layer's name or its role, so `int8-weights=lm_head` selects the LM head
    whatever the exporter called it.

    ```
    $ quant-opt model.onnx --qopt-list-layers -o /dev/null
    name                               role       kind    shape       parameters
    /model/transformer/wte/Gather      embedding  table   50257x256   12865792
    ...
    ```

    Before:
    ```mlir
    %t = linalg.generic {...} ins(%ids : tensor<?x?xi64>) outs(%e : tensor<?x?x4xf32>) {...}
    ...
    %y = linalg.matmul ins(%h, %wt : tensor<?x4xf32>, tensor<4x6xf32>) outs(%acc : tensor<?x6xf32>) -> tensor<?x6xf32>
    ```
    After (the LM head's weight is the embedding table transposed):
    ```mlir
    %t = linalg.generic {...} ins(%ids : tensor<?x?xi64>) outs(%e : tensor<?x?x4xf32>)
        attrs = {qopt.role = "embedding"} {...}
    ...
    %y = linalg.matmul {qopt.role = "lm_head", qopt.tied_embedding}
        ins(%h, %wt : tensor<?x4xf32>, tensor<4x6xf32>) outs(%acc : tensor<?x6xf32>) -> tensor<?x6xf32>
    ```
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Where to print the table (- for standard output)">,
  ];
}

def QOptInsertObserversPass : Pass<"qopt-insert-observers", "ModuleOp"> {
  let summary = "Put observation points on the inputs and weights of "
                "quantizable ops";
  let description = [{
    A linear layer is a `linalg.matmul` whose right operand is a float
    constant (the imported MatMul/Gemm layers; the tied LM head once
    `qopt-fold-constant-transposes` has run). Its left operand gets a
    `qopt.observe` with role `activation` and its weight one with role
    `weight`, named after the op's location (`<name>:input`,
    `<name>:weight`). Optionally, both operands of the activation x
    activation `linalg.batch_matmul`s of attention get activation points
    (`<name>:lhs`, `<name>:rhs`), and the float tables that gathers read
    (`tensor.extract` of a rank-2 constant inside a `linalg.generic`: the
    token and position embeddings) weight points (`<name>:table`, quantized
    per row). Running it twice adds nothing.

    Before:
    ```mlir
    %y = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x2xf32>)
        outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32> loc("fc1")
    ```
    After:
    ```mlir
    %xo = qopt.observe %x activation "fc1:input" : tensor<?x4xf32>
    %wo = qopt.observe %w weight "fc1:weight" : tensor<4x2xf32>
    %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>)
        outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
    ```
  }];
  let options = [
    Option<"attention", "attention", "bool", /*default=*/"false",
           "Also observe the activation x activation batch matmuls">,
    Option<"embedding", "embedding", "bool", /*default=*/"false",
           "Also observe the tables of embedding gathers">,
    Option<"skip", "skip", "std::string", /*default=*/"\"\"",
           "Regular expression: linear layers whose name matches stay float">,
  ];
  let dependentDialects = ["qopt::QOptDialect"];
}

def QOptSmoothActivationsPass
    : Pass<"qopt-smooth-activations", "ModuleOp"> {
  let summary = "SmoothQuant: move activation outliers into the weights";
  let description = [{
    For the observed linear layers that read one activation `x` (the
    q/k/v projection of an attention block, the first MLP layer, the LM
    head), picks per input channel j

      s_j = max|x_j|^alpha / max|W_j|^(1 - alpha)

    from the calibrated `channel_absmax` of `x` and the largest |w| of row j
    over the layers' weights, multiplies every weight's row j by s_j and
    divides x's channel j by s_j inside the op that produces x, so the float
    model computes the same function while x's channels become even and a
    per-tensor or per-token int8 grid fits them better (Xiao et al.,
    SmoothQuant, 2023). The producer must be an all-parallel
    `linalg.generic` with one result (LayerNorm's normalizing op, GELU, ...)
    reached through reshapes that keep the channel axis innermost, and `x`
    must feed only those layers; the division becomes one more multiply in
    that op, not a pass over memory. Other layers are left alone.

    The smoothed points lose their statistics: run `qopt-calibrate` again
    before static quantization (`qopt-ptq{smooth=...}` does). Each smoothed
    `linalg.matmul` carries the factors its input was multiplied by (the
    1/s_j) as `qopt.smoothing`, which `qopt-quantize` keeps on the
    `qopt.qmatmul` and the ONNX exporter writes as a `Mul` before the
    input's QuantizeLinear.

    Before (calibrated channel maxima |x| = [4, 1], weight row maxima
    |w| = [1, 4], so s = [2, 0.5]):
    ```mlir
    %n = linalg.generic {...} ins(%in, %gamma : tensor<1x3x2xf32>, tensor<2xf32>) outs(%e : tensor<1x3x2xf32>) {
    ^bb0(%a: f32, %g: f32, %o: f32):
      %m = arith.mulf %a, %g : f32
      linalg.yield %m : f32
    } -> tensor<1x3x2xf32>
    %x = tensor.collapse_shape %n [[0, 1], [2]] : tensor<1x3x2xf32> into tensor<3x2xf32>
    %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<...,
            channel_absmax = dense<[4.0, 1.0]> : tensor<2xf32>>} : tensor<3x2xf32>
    %wo = qopt.observe %w weight "fc:weight" {stats = ...} : tensor<2x2xf32>
    %y = linalg.matmul ins(%xo, %wo : tensor<3x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
    ```
    After (the producer multiplies by 1/s = [0.5, 2], the weight's rows by s):
    ```mlir
    %inv = arith.constant dense_resource<smoothing> : tensor<2xf32>
    %n = linalg.generic {...} ins(%in, %gamma, %inv : tensor<1x3x2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%e : tensor<1x3x2xf32>) {
    ^bb0(%a: f32, %g: f32, %f: f32, %o: f32):
      %m = arith.mulf %a, %g : f32
      %s = arith.mulf %m, %f : f32
      linalg.yield %s : f32
    } -> tensor<1x3x2xf32>
    %x = tensor.collapse_shape %n [[0, 1], [2]] : tensor<1x3x2xf32> into tensor<3x2xf32>
    %xo = qopt.observe %x activation "fc:input" : tensor<3x2xf32>
    %ws = arith.constant dense_resource<smoothed_weight> : tensor<2x2xf32>
    %wo = qopt.observe %ws weight "fc:weight" : tensor<2x2xf32>
    %y = linalg.matmul {qopt.smoothing = dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>}
        ins(%xo, %wo : tensor<3x2xf32>, tensor<2x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
    ```
  }];
  let options = [
    Option<"alpha", "alpha", "double", /*default=*/"0.5",
           "Migration strength in [0, 1]: 0 leaves activations alone, 1 "
           "moves all of their range into the weights">,
    Option<"skip", "skip", "std::string", /*default=*/"\"\"",
           "Regular expression: layers whose name matches are not smoothed "
           "(nor are the others that read the same activation)">,
  ];
  let dependentDialects = ["linalg::LinalgDialect", "arith::ArithDialect"];
}

def QOptFakeQuantPass : Pass<"qopt-fake-quant", "ModuleOp"> {
  let summary = "Simulate quantization in float at every observation point";
  let description = [{
    Replaces each `qopt.observe` with what quantizing that point would do,
    in float: weight points become constants holding
    `dequantize(quantize(w))` under the weight scheme (the same numbers
    `qopt-quantize` stores, computed by the same code); activation points
    become `qopt.fake_quant` with the per-tensor type of their calibrated
    range (`static`), `qopt.dynamic_fake_quant` (`dynamic`), or vanish
    (`none`). The result is a float model that computes what the quantized
    model computes, up to the order of float sums.

    Before:
    ```mlir
    %xo = qopt.observe %x activation "fc:input" {stats = #qopt.stats<method = "minmax",
            samples = 3, min = -1.0, max = 3.0>} : tensor<3x4xf32>
    %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
    %y = linalg.matmul ins(%xo, %wo : tensor<3x4xf32>, tensor<4x2xf32>)
        outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
    ```
    After, with `activations=static`:
    ```mlir
    %wq = arith.constant dense_resource<fake_quant_weight> : tensor<4x2xf32>
    %xq = qopt.fake_quant %x : tensor<3x4xf32> as !quant.uniform<u8:f32, 0.015686275437474251:64>
    %y = linalg.matmul ins(%xq, %wq : tensor<3x4xf32>, tensor<4x2xf32>)
        outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
    ```
  }];
  let options = QOptQuantSchemeOptions;
  let dependentDialects = ["qopt::QOptDialect", "arith::ArithDialect"];
}

def QOptQuantizePass : Pass<"qopt-quantize", "ModuleOp"> {
  let summary = "Quantize observed linear layers: real quantized weights "
                "and qopt.qmatmul";
  let description = [{
    Every `linalg.matmul` whose input and constant weight are observed
    becomes `qopt.qmatmul` (or, for float weight formats, `qopt.fmatmul`)
    on the weight quantized under the scheme
    (INT8 or INT4 packed two per byte; symmetric or asymmetric; per tensor,
    per output channel or per group), with the activation in float
    (weight-only), quantized to int8 with its calibrated range (`static`,
    which needs `qopt-calibrate`), or per token at run time (`dynamic`).
    Rounding and saturation follow ONNX QuantizeLinear. Observation points
    that are not part of a linear layer (attention, embedding tables) are
    simulated with fake quantization (embedding tables per row). Non-finite weights, uncalibrated
    static points and schemes that do not fit a layer are errors naming
    the layer.

    Before (W = [[1, 2], [3, 4], [5, 6], [7, 8]]):
    ```mlir
    %xo = qopt.observe %x activation "fc:input" : tensor<?x4xf32>
    %wo = qopt.observe %w weight "fc:weight" : tensor<4x2xf32>
    %y = linalg.matmul ins(%xo, %wo : tensor<?x4xf32>, tensor<4x2xf32>)
        outs(%acc : tensor<?x2xf32>) -> tensor<?x2xf32>
    ```
    After, with the defaults (INT8, symmetric, per output channel, weight-only):
    ```mlir
    %q = arith.constant dense_resource<qweight> : tensor<4x2xi8>
    %y = qopt.qmatmul %x, %q weight !quant.uniform<i8<-127:127>:f32:1,
        {0.055118110030889511,0.062992125749588013}> : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
    ```
  }];
  let options = QOptQuantSchemeOptions;
  let dependentDialects = ["qopt::QOptDialect", "arith::ArithDialect",
                           "quant::QuantDialect"];
}

def QOptAWQPass : Pass<"qopt-awq", "ModuleOp"> {
  let summary = "Activation-aware weight scaling and clipping (AWQ) for "
                "low-bit weights";
  let description = [{
    AWQ (Lin et al., 2023): for the linear layers reading one activation x,
    x W = (x / s) (s W) with s_j = m_j^alpha, m_j the calibrated RMS of input
    channel j, normalized by sqrt(max s min s); alpha is searched on `grid`
    points in [0, 1) for the least output error of the layers after
    round-to-nearest under the weight scheme (alpha = 0 is plain RTN, so the
    search never does worse). The output error over all calibration rows is
    sum_n d_n^T H d_n with H = x^T x, which `qopt-calibrate{collect-xtx}`
    attaches: no activation samples are kept, every row counts. The division
    by s is folded into the all-parallel op producing x (LayerNorm, GELU),
    exactly as `qopt-smooth-activations` does; layers whose input has no
    such producer are only clipped. Then, with `clip`, every group of every
    layer is clamped to the ratio r of its max |w|
    (r = 1 - max-shrink * k / grid, k = 0 .. grid-1) that minimizes
    d_g^T H_gg d_g. Per output channel or per group (not per tensor).

    The weights stay float (`s W`, clipped): `qopt-quantize` or `qopt-gptq`
    rounds them next; the inputs' statistics are dropped (x changed), so a
    later pass that needs them calibrates again. Before:

        %x = linalg.generic ... (LayerNorm)
        %y = linalg.matmul ins(observe(%x), observe(%w))

    After:

        %x = linalg.generic ... (LayerNorm, times 1/s per channel)
        %y = linalg.matmul ins(observe(%x), observe(%w_scaled_clipped))
            {qopt.smoothing = dense<1/s>}
  }];
  let options = !listconcat(QOptQuantSchemeOptions, [
    Option<"grid", "grid", "int64_t", /*default=*/"20",
           "Points of the alpha search in [0, 1)">,
    Option<"duoScaling", "duo-scaling", "bool", /*default=*/"true",
           "s = m^alpha / w^(1-alpha), w the channel's mean |weight| "
           "relative to its group's max (AutoAWQ's default); false: "
           "s = m^alpha">,
    Option<"clip", "clip", "bool", /*default=*/"true",
           "Search a clipping ratio per group">,
    Option<"maxShrink", "max-shrink", "double", /*default=*/"0.5",
           "Largest share of a group's range the clipping may cut">,
  ]);
  let dependentDialects = ["qopt::QOptDialect", "arith::ArithDialect"];
}

def QOptAssignPrecisionPass : Pass<"qopt-assign-precision", "ModuleOp"> {
  let summary = "Choose each tensor's weight format under a size budget or "
                "a damage bound";
  let description = [{
    Reads what `qopt-sensitivity` measured on the weight points (KL per
    format, `qopt.sensitivity`, and bytes, `qopt.format_bytes`) and picks
    one format per stored tensor (f32 included, at KL 0): the smallest
    summed KL whose bytes fit `size-mb` (MB of the quantizable tensors plus
    the model's other float constants) or `bits-per-weight` (over the
    quantizable tensors), or the fewest bytes whose summed KL stays within
    `max-kl`. A multiple-choice knapsack, solved exactly by dynamic
    programming over bytes in steps of 1/65536 of the largest total. The choice is
    written as `qopt.format = "<format>"` on every point of the tensor's
    layer, which `qopt-quantize` and `qopt-fake-quant` apply per layer
    (weight-only), so the rest of the pipeline is unchanged; a tied table
    and LM head get one format. `report` writes the choice per tensor with
    its bytes and predicted KL (the sum assumes the damages add up).

    Before (as `qopt-sensitivity` leaves it):
    ```mlir
    %14 = qopt.observe %cst_14 weight "MatMul_10:weight" {
            qopt.format_bytes = {f32 = 64 : i64, "int4-g2" = 40 : i64, int8 = 32 : i64},
            qopt.sensitivity = {"int4-g2" = 0.0029706416180713124 : f64, int8 = 1.4960077029983291E-5 : f64},
            stats = #qopt.stats<...>} : tensor<4x4xf32>
    ```
    After, with `bits-per-weight=16`:
    ```mlir
    %14 = qopt.observe %cst_14 weight "MatMul_10:weight" {qopt.format = "int8",
            qopt.format_bytes = {...}, qopt.sensitivity = {...}, stats = #qopt.stats<...>} : tensor<4x4xf32>
    ```
  }];
  let options = [
    Option<"sizeMb", "size-mb", "double", /*default=*/"0",
           "Size budget in MB (10^6 bytes) of the weights (0: unset)">,
    Option<"bitsPerWeight", "bits-per-weight", "double", /*default=*/"0",
           "Size budget in bits per quantizable weight (0: unset)">,
    Option<"maxKl", "max-kl", "double", /*default=*/"0",
           "Bound on the summed predicted KL: the smallest model within it "
           "(0: unset)">,
    Option<"allowFloat", "allow-float", "bool", /*default=*/"true",
           "Let tensors stay f32">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the choice per tensor as markdown at this path">,
  ];
  let dependentDialects = ["qopt::QOptDialect"];
}

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
