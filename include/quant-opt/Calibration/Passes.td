//===- Passes.td - calibration passes ----------------------------*- tablegen -*-===//

#ifndef QUANT_OPT_CALIBRATION_PASSES_TD
#define QUANT_OPT_CALIBRATION_PASSES_TD

include "mlir/Pass/PassBase.td"
include "quant-opt/Dialect/QOpt/Transforms/SchemeOptions.td"

// Passes that compile and run the model on calibration data (through the
// lowering pipeline and the JIT), so they sit above qopt-lower-to-llvm.

defvar QOptCalibrationDataOptions = [
  Option<"data", "data", "std::string", /*default=*/"\"\"",
         "Calibration text file (UTF-8), tokenized with GPT-2's BPE">,
  Option<"tokens", "tokens", "std::string", /*default=*/"\"\"",
         "Pre-tokenized calibration file: token ids separated by "
         "whitespace (instead of data)">,
  Option<"tokenizerDir", "tokenizer-dir", "std::string", /*default=*/"\"\"",
         "Directory with GPT-2's encoder.json and vocab.bpe (default: "
         "the one quant-opt was built with)">,
  Option<"samples", "samples", "int64_t", /*default=*/"32",
         "Number of calibration windows">,
  Option<"seqLen", "seq-len", "int64_t", /*default=*/"128",
         "Tokens per calibration window">,
];

// What the calibration session's instrumentation builds (collector calls,
// weight slots as memref globals read through bufferization.to_tensor): a
// module read from a file has not loaded these dialects.
defvar QOptCalibrationSessionDialects = [
  "qopt::QOptDialect", "arith::ArithDialect", "func::FuncDialect",
  "tensor::TensorDialect", "memref::MemRefDialect",
  "bufferization::BufferizationDialect",
];

def QOptCalibratePass : Pass<"qopt-calibrate", "ModuleOp"> {
  let summary = "Run the instrumented model on calibration data and attach "
                "statistics to its observation points";
  let description = [{
    Compiles a copy of the module with the deployment pipeline
    (`qopt-lower-to-llvm` with a weight archive), activation observation
    points turned into calls to a statistics collector, JIT-runs it with
    MLIR's ExecutionEngine on `samples` windows of `seq-len` tokens taken
    at evenly spaced offsets of the calibration text (GPT-2 BPE) or of a
    pre-tokenized file, and attaches `#qopt.stats` to every point. Memory
    is fixed: running min/max, per-channel |x| maxima, a histogram of
    `bins` bins per point whose range doubles as needed, and (with
    `collect-xtx`) the K x K sum of x^T x. Deterministic. Weight points get
    their statistics from the constant itself. The method decides the
    range: `minmax`; `moving-average` (exponential moving average of each
    window's min/max, constant `averaging-constant`); `percentile` (the
    central `percentile`% of the values); `entropy` (the TensorRT-style
    search for the clipping threshold that minimises the KL divergence
    between the histogram and its 8-bit quantized version); `mse` (the
    clipping that minimises the expected squared quantization error).

    Before (a tiny LM head, after `qopt-insert-observers`):
    ```mlir
    %4 = qopt.observe %collapsed activation "head:input" {qopt.role = "lm_head"} : tensor<?x8xf32>
    %5 = qopt.observe %cst_0 weight "head:weight" {qopt.role = "lm_head"} : tensor<8x16xf32>
    ```
    After, with `tokens=... samples=5 seq-len=16` (channel maxima abbreviated):
    ```mlir
    %4 = qopt.observe %collapsed activation "head:input" {qopt.role = "lm_head",
           stats = #qopt.stats<method = "minmax", samples = 80, min = -2.8281621932983398 : f64,
           max = 9.500000e+00 : f64, channel_absmax = dense<[2.04091907, ...]> : tensor<8xf32>>} : tensor<?x8xf32>
    %5 = qopt.observe %cst_0 weight "head:weight" {qopt.role = "lm_head",
           stats = #qopt.stats<method = "constant", samples = 8, min = -0.64150220155715942 : f64,
           max = 0.73893958330154419 : f64, channel_absmax = dense<[...]> : tensor<16xf32>>} : tensor<8x16xf32>
    ```
  }];
  let options = !listconcat(QOptCalibrationDataOptions, [
    Option<"method", "method", "std::string", /*default=*/"\"minmax\"",
           "Range method: minmax, moving-average, percentile, entropy, mse">,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "percentile: the share of values (in %) the range keeps">,
    Option<"averagingConstant", "averaging-constant", "double",
           /*default=*/"0.01",
           "moving-average: weight of each new window's min/max">,
    Option<"bins", "bins", "int64_t", /*default=*/"2048",
           "Histogram bins per observation point">,
    Option<"perChannel", "per-channel", "bool", /*default=*/"false",
           "Also record per-channel (last axis) ranges of activations">,
    Option<"collectXtx", "collect-xtx", "bool", /*default=*/"false",
           "Accumulate x^T x of every activation point (for GPTQ)">,
    Option<"progress", "progress", "bool", /*default=*/"true",
           "Show a progress bar on stderr">,
  ]);
  let dependentDialects = QOptCalibrationSessionDialects;
}

def QOptSensitivityPass : Pass<"qopt-sensitivity", "ModuleOp"> {
  let summary = "Measure how much quantizing each weight alone costs the "
                "model's output";
  let description = [{
    For every observed weight (linear layers and gathered tables; a tied
    token table and LM head are one tensor) and every candidate format, the
    damage of quantizing that tensor alone: the mean KL divergence
    KL(P_float || P_quantized) of the next-token distributions over the
    calibration windows, measured by running the model compiled once (JIT)
    with that tensor's weight buffer holding its dequantized values and
    every other tensor float. Also a cheap proxy where the layer's input
    has `x^T x` statistics (`qopt-calibrate{collect-xtx=true}`): the
    Hessian-weighted error sum_n d_n^T (x^T x / rows) d_n, and the rank
    correlation (Spearman) between proxy and measurement.

    Results go on the tensor's weight points as a dictionary
    `qopt.sensitivity = {"int8" = <KL>, "int4-g128" = <KL>, ...}` (f64), with
    the bytes each format stores (`qopt.format_bytes`), for
    `qopt-assign-precision`; `report` writes them as JSON and markdown.

    Formats: `fp16`, `bf16`, `int8`, `int4`, `int3` (per output channel;
    per token for tables), `int8-gG`, `int4-gG`, `int3-gG` (groups of G
    input channels), symmetric. A format whose groups do not divide a
    tensor's input channels is skipped for that tensor.

    Before (`tied-lm.onnxtext` of test/Dialect/QOpt/Transforms, observed and
    calibrated):
    ```mlir
    %14 = qopt.observe %cst_14 weight "MatMul_10:weight" {stats = #qopt.stats<...>} : tensor<4x4xf32>
    ```
    After, with `formats=int8,int4-g2`:
    ```mlir
    %14 = qopt.observe %cst_14 weight "MatMul_10:weight" {
            qopt.format_bytes = {f32 = 64 : i64, "int4-g2" = 40 : i64, int8 = 32 : i64},
            qopt.sensitivity = {"int4-g2" = 0.0029706416180713124 : f64, int8 = 1.4960077029983291E-5 : f64},
            stats = #qopt.stats<...>} : tensor<4x4xf32>
    ```
  }];
  let options = !listconcat(QOptCalibrationDataOptions, [
    Option<"formats", "formats", "std::string",
           /*default=*/"\"int8,int4-g128,int4-g64,int4-g32,int3-g128\"",
           "Comma-separated candidate formats">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write the measurements as JSON at this path and markdown next "
           "to it (.md)">,
    Option<"progress", "progress", "bool", /*default=*/"true",
           "Print one line per tensor">,
  ]);
  let dependentDialects = QOptCalibrationSessionDialects;
}

def QOptGPTQPass : Pass<"qopt-gptq", "ModuleOp"> {
  let summary = "Quantize observed linear layers with GPTQ's "
                "error-compensating rounding";
  let description = [{
    Every linear layer whose input and constant weight are observed becomes
    `qopt.qmatmul`, as with `qopt-quantize`, but its weight is rounded by
    GPTQ (Frantar et al., 2022): input channels one at a time, each rounding
    error spread over the channels not yet rounded through the upper
    Cholesky factor of the inverse of the layer's Hessian
    H = 2/N sum x x^T (+ `damp` x its mean diagonal, doubled until the
    factorization succeeds; input channels never active are dead: rounded
    to zero), in lazy batches of `block-size` channels whose updates of the
    rest are one matrix product (OpenBLAS). 3, 4 or 8 bits, symmetric or
    not, per output channel or per group; the layer-name overrides of the
    scheme (`int8-weights`, `float-activations`) apply per layer.

    `act-order` rounds channels by decreasing H_jj. With groups, each group
    is then a set of channels: the result carries a `group_index` (GPTQ's
    `g_idx`) unless `static-groups`, which fixes the groups' parameters on
    the original contiguous groups before rounding.

    Hessians: with `sequential` (the default) the pass calibrates itself on
    `data`/`tokens`: the model is compiled once with every layer's weight in
    a buffer, and run stage by stage, a stage being the layers with the same
    number of attention products before their input (a transformer block,
    cut at attention); each stage's Hessians are taken with every earlier
    stage already quantized, as GPTQ's reference does block by block.
    Without it, every Hessian is taken from the float model: from the
    `x^T x` that `qopt-calibrate{collect-xtx=true}` attached to the input
    when there is one, else, given `data`/`tokens`, by calibrating in
    layer batches: the model is compiled once (weights as they are, no
    weight buffers) and run once per batch, a batch being the next inputs
    in graph order whose f64 sums fit `hessian-memory-mb`; the batch's
    layers are rounded and its sums freed before the next run. The result
    is the same as with `qopt-calibrate{collect-xtx=true}` first (the sums
    are rounded to f32 as that pass stores them). Before compiling, the
    pass estimates its peak memory (the module's weights, the compiled
    copy's weight archive, one window's activations, GPTQ's working set
    for the largest layer, the sums of the smallest batch) and refuses,
    with the estimate, when it exceeds the available memory
    (MemAvailable of /proc/meminfo less the pages the process already
    maps from files; the environment variable QOPT_MEM_AVAILABLE_MB
    overrides it); `hessian-memory-mb=0` takes 3/4 of that less the
    other terms as the budget. An input whose sums alone exceed the
    budget is an error naming its layer and the bytes it needs.

    Before:

        %x1 = qopt.observe %x activation "fc:input" {stats = ...}
        %w1 = qopt.observe %w weight "fc:weight"
        %y = linalg.matmul ins(%x1, %w1 : ...) outs(%zero : ...)

    After:

        %y = qopt.qmatmul %x, %q weight !quant.uniform<i4<-7:7>:f32:{0:128,1:1}, ...>

    `report` writes, per layer, the Hessian-weighted error
    sum_n (w_n - q_n)^T H (w_n - q_n) of GPTQ and of round-to-nearest, the
    squared errors, the damping used, dead channels and time, as JSON at
    the path given and as a markdown table next to it (`.md`).
  }];
  let options = !listconcat(QOptQuantSchemeOptions, QOptCalibrationDataOptions,
                            [
    Option<"damp", "damp", "double", /*default=*/"0.01",
           "Damping: the fraction of the mean diagonal added to H's "
           "diagonal (doubled while the Cholesky factorization fails)">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Input channels per lazy batch (rounded to whole groups)">,
    Option<"actOrder", "act-order", "bool", /*default=*/"false",
           "Round input channels by decreasing H_jj">,
    Option<"staticGroups", "static-groups", "bool", /*default=*/"false",
           "With act-order and groups: group parameters from the original "
           "contiguous groups, computed before rounding (no group index)">,
    Option<"sequential", "sequential", "bool", /*default=*/"true",
           "Calibrate stage by stage with earlier stages quantized "
           "(needs data or tokens); false: Hessians of the float model "
           "(the x^T x attached, or calibrated in layer batches)">,
    Option<"hessianMemoryMb", "hessian-memory-mb", "double",
           /*default=*/"0",
           "sequential=false with data: MB of x^T x sums per calibration "
           "run (0: derived from the available memory)">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a per-layer report: JSON at this path, markdown next to "
           "it (.md)">,
    Option<"progress", "progress", "bool", /*default=*/"true",
           "Show progress on stderr">,
  ]);
  let dependentDialects = !listconcat(QOptCalibrationSessionDialects,
                                      ["quant::QuantDialect"]);
}

#endif // QUANT_OPT_CALIBRATION_PASSES_TD
