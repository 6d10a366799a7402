//===- Passes.td - qopt transformation passes --------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QOptDecomposeAggregatesPass
    : Pass<"qopt-decompose-aggregates", "func::FuncOp"> {
  let summary = "Decompose aggregate linalg ops (softmax) into generic ops";
  let description = [{
    Rewrites every op implementing `linalg::AggregatedOpInterface` (such as
    `linalg.softmax`) into the structured ops it stands for (max reduction,
    subtract-and-exp, sum reduction, divide), so that tiling, fusion and the
    loop lowerings, which only handle `linalg::LinalgOp`, apply to them.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "arith::ArithDialect",
                           "math::MathDialect", "tensor::TensorDialect"];
}

def QOptLowerContiguousReshapesPass
    : Pass<"qopt-lower-contiguous-reshapes", "func::FuncOp"> {
  let summary = "Lower expand/collapse_shape of contiguous memrefs to "
                "reinterpret_cast";
  let description = [{
    A reshape of a buffer with the identity layout is a reinterpretation of
    the same bytes: `memref.reinterpret_cast` with the result sizes and
    contiguous strides. Doing this before `expand-strided-metadata` sidesteps
    an MLIR 22 crash there on `expand_shape(collapse_shape(x))` with dynamic
    dims (the pattern GPT-2's linear layers produce after bufferization), and
    gives the LLVM lowering plain descriptors.
  }];
  let dependentDialects = ["memref::MemRefDialect", "arith::ArithDialect"];
}

def QOptApproximateMathPass
    : Pass<"qopt-approximate-math", "func::FuncOp"> {
  let summary = "Replace libm calls of the float remainder by inline "
                "arithmetic the loop vectorizer can vectorize";
  let description = [{
    GPT-2's GELU and softmax call `tanhf`, `expf` and `powf` once per
    element; as library calls they keep those loops scalar. This pass
    applies upstream MLIR's algebraic simplifications (`powf(x, 3)` becomes
    `x * x * x`, `powf(x, 0.5)` a square root, ...) and its default set of
    polynomial approximations (`tanh`, `exp`, `expm1`, `log`, `log1p`,
    `log2`, `erf`, `erfc`, `atan`, `atan2`, `sin`, `cos`, `cbrt`: those of
    Eigen and Cephes, accurate to a few ulp in f32), which are plain
    arithmetic on scalars or vectors.
  }];
  let dependentDialects = ["arith::ArithDialect", "math::MathDialect",
                           "vector::VectorDialect"];
}

def QOptInterchangeContractionsPass
    : Pass<"qopt-interchange-contractions", "func::FuncOp"> {
  let summary = "Put the reduction loop of matmul-like ops outside the "
                "innermost output dimension";
  let description = [{
    Generalizes every contraction (`linalg.matmul`, `linalg.batch_matmul`,
    and generic ops of that shape) and interchanges its loops so that the
    innermost loop runs along the output's last dimension instead of along
    the reduction: `C[m, n] += A[m, k] * B[k, n]` as loops `m, k, n`. The
    loop lowering then produces a unit-stride inner loop that LLVM
    vectorizes without reassociating the float sum, so results stay
    bit-identical to the naive order in each output element. This is the
    scalar reference lowering's matmul; the tiled kernels replace it.
  }];
  let dependentDialects = ["linalg::LinalgDialect"];
}

def QOptTransposedKeyDotProductsPass
    : Pass<"qopt-transposed-key-dot-products", "func::FuncOp"> {
  let summary = "Few-row attention scores as dot products over the "
                "untransposed keys (no K^T copy when decoding)";
  let description = [{
    Runs on buffers, before `qopt-vectorize-contractions`. Attention's
    scores are `C[b, h, m, n] += A[b, h, m, k] * B[b, h, k, n]` where B is a
    fresh copy `linalg.transpose` (permutation `[0, 1, 3, 2]`) of the keys
    S `[b, h, n, k]`. Decoding one token copies the whole cached K^T of
    every head and layer for one row of scores, a copy that grows with the
    context. Such a pair becomes

        scf.if M <= max-rows:  C[b, h, m, n] += dot(A[b, h, m, :], S[b, h, n, :])
        else:                  the transpose and the matmul, as before

    The dot products read k contiguously, 16 lanes at a time (`vector.fma`,
    then one `vector.reduction`), so they need a static K that is a multiple
    of 16; the loop over batch and heads is an `scf.parallel` when
    `parallel`. Only pairs with nothing between them that could write the
    keys, and no other reader of the copy, are rewritten. The sums are
    reassociated (16 partial sums), like any
    vectorized dot product; the result agrees with the matmul within f32
    rounding. Other transposes and contractions are left alone.
  }];
  let options = [
    Option<"maxRows", "max-rows", "int64_t", /*default=*/"8",
           "Largest M that takes the dot products">,
    Option<"parallel", "parallel", "bool", /*default=*/"true",
           "Run the batch and heads of the dot products as an scf.parallel">,
  ];
  let dependentDialects = ["vector::VectorDialect", "scf::SCFDialect",
                           "memref::MemRefDialect", "arith::ArithDialect"];
}

def QOptVectorizeContractionsPass
    : Pass<"qopt-vectorize-contractions", "func::FuncOp"> {
  let summary = "Register-blocked vector kernels for f32 matmul and "
                "batch_matmul on buffers";
  let description = [{
    Runs after bufferization. Every `linalg.matmul` and `linalg.batch_matmul`
    on f32 memrefs with the default indexing maps (dynamic or static sizes),
    and every contraction generic `C[m0, m1, n] += A[m0, m1, k] * B[k, n]`
    (a matmul whose result elementwise fusion reshaped, as in GPT-2's linear
    layers; collapsed back into a matmul), and every two-batch-dim contraction
    generic `C[b, h, m, n] += A[b, h, m, k] * B[b, h, k, n]` (attention's
    Q K^T and P V; loops over batch and heads around a matmul on 2-D views,
    the heads loop parallel unless `parallel-min-weights` is 0), becomes
    register-blocked vector
    code: the batch becomes a loop of matmuls; the iteration space is
    split (`linalg::splitOp`) into rows `[0, M - M % tile-m)`, tiled
    `tile-m x tile-n`, and the remaining rows (all of them for M = 1,
    decode), tiled `1 x gemv-tile-n`; in each, the
    columns `[0, N - N % tile-n)` use static unmasked tiles and the rest a
    masked tile. Tiles are `scf.for` loops (column panels outermost, then
    row blocks, then the reduction) around a `linalg::vectorize`d
    `vector.contract`, which is lowered to broadcast-and-FMA on rows; the
    accumulator rows are hoisted out of the reduction loop as loop-carried
    1-D vectors, so they stay in registers (like
    `linalg::hoistRedundantVectorTransfers`, which however refuses outputs
    that are reshape views).
    The vector ops that remain (`vector.transfer_*` of rank 1, `vector.fma`,
    broadcasts, masks) are for `convert-vector-to-llvm`. Each output element
    is still summed over k in order, as in the reference lowering. Other
    contractions are left alone (see `qopt-interchange-contractions`).
    The column-panel loop of a matmul whose B operand has a static size
    `K x N >= parallel-min-weights` (GPT-2's linear layers and LM head)
    becomes an `scf.parallel`: its panels write disjoint columns. Smaller or
    dynamic ones (attention's) keep an `scf.for`, since starting threads
    would cost about as much as they do.
  }];
  let options = [
    Option<"parallelMinWeights", "parallel-min-weights", "int64_t",
           /*default=*/"65536",
           "Smallest static K x N whose column panels become scf.parallel "
           "(0: never)">,
    Option<"tileM", "tile-m", "int64_t", /*default=*/"6",
           "Rows of the register block for M >= tile-m">,
    Option<"tileN", "tile-n", "int64_t", /*default=*/"64",
           "Columns of the register block (a multiple of the vector width)">,
    Option<"gemvTileN", "gemv-tile-n", "int64_t", /*default=*/"128",
           "Columns of the one-row block used for the remaining rows "
           "(decode)">,
    Option<"lowerVectors", "lower-vectors", "bool", /*default=*/"true",
           "Lower the vector.contract tiles to FMAs on rows and hoist the "
           "accumulators (false: stop after vectorization)">,
  ];
  let dependentDialects = ["linalg::LinalgDialect", "vector::VectorDialect",
                           "scf::SCFDialect", "memref::MemRefDialect",
                           "arith::ArithDialect", "affine::AffineDialect"];
}

def QOptFoldConstantTransposesPass
    : Pass<"qopt-fold-constant-transposes", "func::FuncOp"> {
  let summary = "Transpose constant tensors at compile time";
  let description = [{
    Replaces `linalg.transpose` of an `arith.constant` (dense or
    `dense_resource`, any rank, elements of whole bytes) by a new
    `dense_resource` constant holding the permuted data. Exports with a tied
    LM head store the embedding table once and transpose it in the graph;
    without this fold every forward pass would copy the table.
  }];
  let dependentDialects = ["arith::ArithDialect"];
}

def QOptKVCacheInPlacePass
    : Pass<"qopt-kv-cache-in-place", "ModuleOp"> {
  let summary = "Update the KV cache in the caller's buffers instead of "
                "returning concatenated copies";
  let description = [{
    A KV-cache export returns `present = Concat(past, new, axis=2)` for every
    layer, so each decode step would copy the whole cache. For a public
    function whose inputs after the first are all such `past` tensors
    (rank 4, `[batch, heads, ?, head_dim]`) and whose results after the first
    are exactly their concatenations along dim 2, this pass:

    - appends an input `past_sequence_length` (`tensor<i64>`, rank 0);
    - reads each cache input as a buffer of some capacity whose first
      `past_sequence_length` positions are the past: every former use of the
      input sees `extract_slice [0, past_sequence_length)`;
    - writes the new keys/values into it at `past_sequence_length`
      (`tensor.insert_slice`, in place after bufferization) and lets
      attention read `[0, past_sequence_length + new)` of the updated buffer;
    - drops the `present` results, marks the inputs `qopt.kv_cache` and the
      function `qopt.kv_cache_in_place`.

    The caller (the runtime) owns buffers with room for the whole context;
    `qopt-prepare-entry-points` records the new signature. Functions that do
    not have this exact form are left unchanged.
  }];
  let dependentDialects = ["tensor::TensorDialect", "arith::ArithDialect"];
}

def QOptLastPositionLogitsPass
    : Pass<"qopt-last-position-logits", "ModuleOp"> {
  let summary = "Add an entry point that computes the logits of the last "
                "position only";
  let description = [{
    Generation needs only the last position's logits, but an ONNX export
    computes them for every position: for a 512-token prompt of GPT-2 124M
    they are 103 MB, and the LM head is a third of the prefill's work.

    For every public function whose first result is named `logits` and is
    `expand_shape(matmul(collapse_shape(hidden), W))` on
    `hidden : [batch, sequence, d]` (a `linalg.matmul` on a zero fill, a
    `qopt.qmatmul` or a `qopt.fmatmul`), this pass adds a copy named
    `<name>_last_position` (marked `qopt.last_position_of`) in which the LM
    head runs on `hidden[:, sequence - 1, :]` only and `logits` is
    `[batch, 1, vocab]`. The other inputs and results are the same, so the
    copy is called like the original (the runtime uses it for prefill when a
    caller asks for the next-token logits). Functions of another form get no
    copy. Runs on tensors, before `qopt-prepare-entry-points`.
  }];
  let dependentDialects = ["tensor::TensorDialect", "arith::ArithDialect",
                           "linalg::LinalgDialect"];
}

def QOptVerifyKVCacheInPlacePass
    : Pass<"qopt-verify-kv-cache-in-place", "func::FuncOp"> {
  let summary = "Check that the KV cache inputs bufferized in place";
  let description = [{
    Runs after bufferization. A `qopt.kv_cache` input that one-shot
    bufferization copied (because some op still read the old contents after
    the update) would leave the caller's cache stale: the compiled model
    would silently compute with a cache that never grows. This pass turns
    that into a compile-time error naming the input, and drops the
    `qopt.kv_cache` markers once checked.
  }];
}

def QOptElementwiseInPlacePass
    : Pass<"qopt-elementwise-in-place", "func::FuncOp"> {
  let summary = "Let elementwise ops write over an input that dies there";
  let description = [{
    Runs between `eliminate-empty-tensors` and `one-shot-bufferize`. A
    `linalg.generic` with only parallel loops, one init that is a
    `tensor.empty` its body does not read, and an identity output map gets,
    as its init, an input of the same type that it reads through an
    identity map and that nothing else uses (not a function argument: the
    caller's buffer; not a constant). One-shot bufferization then writes the
    result into that input's buffer instead of allocating another: in a
    transformer the scaled and masked attention scores overwrite the raw
    ones (heads x positions x positions floats per layer), a residual sum one
    of its addends. If bufferization still finds a conflict it allocates, as
    it did for the `tensor.empty`, without a copy (the body does not read the
    init).
  }];
}

def QOptFreeBuffersEarlyPass
    : Pass<"qopt-free-buffers-early", "func::FuncOp"> {
  let summary = "Free each buffer right after its last use";
  let description = [{
    Runs between `ownership-based-buffer-deallocation` (with
    `buffer-deallocation-simplification`) and
    `bufferization-lower-deallocations`. Ownership-based deallocation frees a
    block's allocations at its end, in one `bufferization.dealloc` that
    retains the returned buffers; its alias analysis cannot see through
    calls (the model's kernels), so each buffer would get a run-time alias
    check and all of them would stay allocated until the function returns.
    A model's entry point is one block: every intermediate buffer of every
    layer would be live at once.

    1. A listed buffer whose root allocation (through views and
       `extract_strided_metadata`) is a `memref.alloc` or a call result,
       different from every retained buffer's root (also fresh allocations)
       and from every other listed buffer's, gets its own
       `bufferization.dealloc` without retained values. Call results are
       fresh: deallocation makes every function return buffers it owns.
    2. Each single-buffer dealloc of such a fresh allocation made in the
       same block (the kernels' outputs included) moves to right after the
       last op of the block that uses the buffer or
       a view of it (uses nested in regions count as their ancestor). A
       buffer with an alias the pass cannot follow (any other op producing a
       buffer from it) stays where it was.
  }];
  let dependentDialects = ["bufferization::BufferizationDialect",
                           "memref::MemRefDialect"];
}

def QOptPrepareEntryPointsPass
    : Pass<"qopt-prepare-entry-points", "ModuleOp"> {
  let summary = "Mark public functions as compiled-model entry points and "
                "record their signatures";
  let description = [{
    Every public `func.func` with a body becomes an entry point of the
    compiled model: it gets `llvm.emit_c_interface`, and its signature (ONNX
    input/output names from `onnx.name`, element types, shapes with `?` for
    dynamic dims) is recorded in the module attribute `qopt.entry_points`.
    Runs on tensors, before bufferization, so that names and shapes are still
    those of the model; `qopt-emit-runtime-interface` turns the record into
    the metadata the runtime reads. When the function gathers from a
    position embedding table (found structurally, see ModelRoles.h), its
    rows are recorded as `context`: the most positions the model can run,
    which the runtime enforces before calling.
  }];
}

def QOptInsertRuntimeChecksPass
    : Pass<"qopt-insert-runtime-checks", "ModuleOp"> {
  let summary = "State every dynamic shape and index assumption of the entry "
                "points as a qopt.runtime_check";
  let description = [{
    The imported model assumes things about its inputs that only the run
    can confirm: two `?` dims that meet in a broadcast or a contraction are
    equal, a slice at a run-time offset lies inside its tensor (the KV cache
    written at `past_sequence_length`), a Gather's ids lie inside its table
    (positions past the model's context), a buffer sized from the inputs is
    not absurdly large. Broken, each would read or write outside a buffer.
    For every public function this pass adds a `qopt.runtime_check` before

    - a `linalg` op, for each loop dim that two operand dims map to, unless
      they are provably equal (static, or `ValueBoundsConstraintSet`);
    - `tensor.extract_slice`/`insert_slice` with a dynamic offset, size or
      tensor dim: `0 <= offset`, `0 <= size`, last index `< dim`;
    - `tensor.cast`/`expand_shape` that make a `?` dim static or split it:
      the sizes agree;
    - `tensor.concat`: the dims other than the axis agree;
    - a row gather (the importer's Gather, `qopt.qgather`): every id in
      `[-rows, rows)`;
    - `tensor.empty` with dynamic sizes: sizes `>= 0` and at most
      `max-bytes` bytes in all (no overflowed or absurd allocation).

    The message names the ONNX node (the op's location) and the assumption.

    Before (the importer unified `?` dims of `x` and `y`):
    ```mlir
    %0 = linalg.generic ... ins(%x, %y : tensor<?x4xf32>, tensor<?x4xf32>) ...
    ```
    After:
    ```mlir
    %d0 = tensor.dim %x, %c0 : tensor<?x4xf32>
    %d1 = tensor.dim %y, %c0 : tensor<?x4xf32>
    %ok = arith.cmpi eq, %d0, %d1 : index
    qopt.runtime_check %ok, "node 'Add_0': dim 0 of operand 1 (...) must equal dim 0 of operand 0"
    %0 = linalg.generic ...
    ```
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", "int64_t(1) << 40",
           "Largest buffer (bytes) a size computed at run time may request">,
  ];
  let dependentDialects = ["arith::ArithDialect", "tensor::TensorDialect",
                           "linalg::LinalgDialect", "qopt::QOptDialect"];
}

def QOptOutlineRuntimeChecksPass
    : Pass<"qopt-outline-runtime-checks", "ModuleOp"> {
  let summary = "Move each entry point's runtime checks into a function its "
                "packed entry calls first";
  let description = [{
    Runs after `qopt-insert-runtime-checks` and `qopt-prepare-entry-points`.
    For each entry point `F` with `qopt.runtime_check` ops, builds
    `F_runtime_checks(same arguments) -> i32`: the checks in program order,
    each computed from the arguments only (dims of results are first
    resolved to dims of the inputs), returning 0 when all hold and the
    1-based number of the first that fails. The messages are recorded as
    `checks` in the entry's `qopt.entry_points` record;
    `qopt-emit-runtime-interface` makes the packed entry call the function
    and return its status before running anything, and the runtime turns a
    status into an error with the message.

    A check that depends on values computed by the model itself (not
    cheaply from the inputs: a contraction, a quantized op, a call in its
    slice) stays in `F` as a `cf.assert` (an abort with the message) rather
    than running the model twice; GPT-2 exports have none.

    ```mlir
    func.func private @main_runtime_checks(%arg0: tensor<?x?xi64>) -> i32 {
      ...
      %r = scf.if %ok -> (i32) { ... } else { scf.yield %c1_i32 : i32 }
      return %r : i32
    }
    ```
  }];
  let dependentDialects = ["arith::ArithDialect", "scf::SCFDialect",
                           "cf::ControlFlowDialect", "tensor::TensorDialect"];
}

def QOptExternalizeWeightsPass
    : Pass<"qopt-externalize-weights", "ModuleOp"> {
  let summary = "Move large constant buffers into a weight archive that the "
                "compiled model maps at run time";
  let description = [{
    Runs after bufferization. Every `memref.global` constant of at least
    `min-bytes` bytes (dense or `dense_resource`) is written to the weight
    archive file `archive`, 64-byte aligned; its `memref.get_global` uses
    become `memref.view`s into a new trailing `memref<?xi8>` argument
    that every public function receives, and the global is
    erased. Compile time and code size then no longer grow with the weights.
    The archive's size and fingerprint are recorded in the module attribute
    `qopt.weights`, so that the runtime refuses a mismatched archive.

    The format (header, 64-byte aligned data, JSON index) is described in
    `runtime/include/quant-opt-runtime/WeightArchive.h`.
  }];
  let options = [
    Option<"archivePath", "archive", "std::string", /*default=*/"\"\"",
           "Path of the weight archive to write (required)">,
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"1024",
           "Constants smaller than this stay in the code">,
  ];
  let dependentDialects = ["memref::MemRefDialect", "arith::ArithDialect"];
}

def QOptEmitRuntimeInterfacePass
    : Pass<"qopt-emit-runtime-interface", "ModuleOp"> {
  let summary = "Emit the compiled model's packed entry points and metadata";
  let description = [{
    Runs on the LLVM dialect, after `convert-func-to-llvm`. For every entry
    point recorded by `qopt-prepare-entry-points`, emits
    `int32_t qopt_entry_<name>(void **args)`, which calls
    `_mlir_ciface_<name>` with `args[0]` the result struct (when there are
    results) and `args[1..]` the argument descriptors, so that a runtime can
    call any entry without knowing its arity at compile time. When
    `qopt-outline-runtime-checks` made `<name>_runtime_checks`, the entry
    calls it on the input descriptors first and returns its status without
    running the model if it is not 0 (the 1-based number of the failed
    check, whose message is the entry's `checks[status - 1]`). Also emits the
    NUL-terminated JSON string `qopt_model_meta` describing the ABI version,
    the entries' inputs, outputs, checks and context, and the weight archive.
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
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

//===----------------------------------------------------------------------===//
// Post-training quantization
//===----------------------------------------------------------------------===//

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

defvar QOptQuantSchemeOptions = [
  Option<"weightBits", "weight-bits", "unsigned", /*default=*/"8",
         "Bits per weight value: 8, 4 or 3 (3-bit codes in the 4-bit "
         "container)">,
  Option<"weightFormat", "weight-format", "std::string", /*default=*/"\"int\"",
         "int (uniform integers, see weight-bits), fp16, bf16, fp8-e4m3 or "
         "fp8-e5m2 (the 8-bit float formats with a scale per output channel)">,
  Option<"weightSymmetric", "weight-symmetric", "bool", /*default=*/"true",
         "Symmetric weights (absmax, zero point 0); false: asymmetric with "
         "an unsigned zero point">,
  Option<"weightGranularity", "weight-granularity", "std::string",
         /*default=*/"\"channel\"",
         "tensor, channel (per output channel) or group (of group-size "
         "input channels)">,
  Option<"groupSize", "group-size", "int64_t", /*default=*/"128",
         "Input channels per group for weight-granularity=group">,
  Option<"weightMseClip", "weight-mse-clip", "bool", /*default=*/"false",
         "Search each group's clipping ratio for the least squared error">,
  Option<"activations", "activations", "std::string", /*default=*/"\"none\"",
         "none (weight-only), static (calibrated per-tensor int8) or "
         "dynamic (int8 per token at run time)">,
  Option<"activationSymmetric", "activation-symmetric", "bool",
         /*default=*/"false",
         "Symmetric int8 activations (default: asymmetric uint8)">,
  Option<"outlierThreshold", "outlier-threshold", "double",
         /*default=*/"0.0",
         "LLM.int8()-style decomposition (0: off): input channels whose "
         "calibrated max |x| exceeds this stay float (their weight rows too), "
         "the rest are quantized; needs qopt-calibrate statistics">,
  Option<"floatActivations", "float-activations", "std::string",
         /*default=*/"\"\"",
         "Regular expression: linear layers whose name matches keep float "
         "activations (weight-only), e.g. the LM head">,
  Option<"int8Weights", "int8-weights", "std::string", /*default=*/"\"\"",
         "Regular expression: linear layers whose name matches get INT8 "
         "per-channel weights whatever the weight scheme, e.g. the LM head "
         "of an INT4 model">,
];

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
  let dependentDialects = ["qopt::QOptDialect"];
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

    ```
    %w = qopt.observe %cst weight "fc:weight" {qopt.sensitivity = {...},
           qopt.format_bytes = {...}, qopt.format = "int4-g64"}
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
    Without it, the Hessians are the `x^T x` that
    `qopt-calibrate{collect-xtx=true}` attached to the inputs.

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
           "(needs data or tokens); false: use the x^T x statistics "
           "already attached">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a per-layer report: JSON at this path, markdown next to "
           "it (.md)">,
    Option<"progress", "progress", "bool", /*default=*/"true",
           "Show progress on stderr">,
  ]);
  let dependentDialects = ["qopt::QOptDialect", "arith::ArithDialect",
                           "quant::QuantDialect"];
}

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
