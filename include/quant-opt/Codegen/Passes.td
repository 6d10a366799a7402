//===- Passes.td - backend and runtime-interface passes ----------*- tablegen -*-===//

#ifndef QUANT_OPT_CODEGEN_PASSES_TD
#define QUANT_OPT_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

// Passes of the lowering to LLVM (qopt-lower-to-llvm): they work on
// upstream tensor/linalg/memref IR and the compiled model's interface, not
// on quantization.

def QOptDecomposeAggregatesPass
    : Pass<"qopt-decompose-aggregates", "func::FuncOp"> {
  let summary = "Decompose aggregate linalg ops (softmax) into generic ops";
  let description = [{
    Rewrites every op implementing `linalg::AggregatedOpInterface` (such as
    `linalg.softmax`) into the structured ops it stands for (max reduction,
    subtract-and-exp, sum reduction, divide), so that tiling, fusion and the
    loop lowerings, which only handle `linalg::LinalgOp`, apply to them.

    Before:
    ```mlir
    %r = linalg.softmax dimension(1) ins(%x : tensor<?x16xf32>)
        outs(%init : tensor<?x16xf32>) -> tensor<?x16xf32>
    ```
    After (bodies abbreviated; #map = (d0, d1) -> (d0, d1), #map1 = (d0, d1) -> (d0)):
    ```mlir
    %max = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]}
        ins(%x : tensor<?x16xf32>) outs(%minus_inf : tensor<?xf32>) {... arith.maxnumf ...} -> tensor<?xf32>
    %exp = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]}
        ins(%x, %max : tensor<?x16xf32>, tensor<?xf32>) outs(%init : tensor<?x16xf32>) {... arith.subf, math.exp ...} -> tensor<?x16xf32>
    %sum = linalg.generic {indexing_maps = [#map, #map1], iterator_types = ["parallel", "reduction"]}
        ins(%exp : tensor<?x16xf32>) outs(%zeros : tensor<?xf32>) {... arith.addf ...} -> tensor<?xf32>
    %r = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]}
        ins(%exp, %sum : tensor<?x16xf32>, tensor<?xf32>) outs(%init : tensor<?x16xf32>) {... arith.divf ...} -> tensor<?x16xf32>
    ```
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

    Before:
    ```mlir
    %c = memref.collapse_shape %a [[0, 1], [2]] : memref<?x4x64xf32> into memref<?x64xf32>
    ```
    After:
    ```mlir
    %dim = memref.dim %a, %c0 : memref<?x4x64xf32>
    %0 = arith.muli %dim, %c4 : index
    %c = memref.reinterpret_cast %a to offset: [0], sizes: [%0, 64], strides: [64, 1]
        : memref<?x4x64xf32> to memref<?x64xf32>
    ```
  }];
  let dependentDialects = ["memref::MemRefDialect", "arith::ArithDialect"];
}

def QOptExpandStridedCopiesPass
    : Pass<"qopt-expand-strided-copies", "func::FuncOp"> {
  let summary = "Expand memref.copy of non-contiguous buffers into loops";
  let description = [{
    MLIR's LLVM lowering turns a `memref.copy` between buffers with the
    identity layout into a `memcpy`, but any other copy (a strided view: the
    KV cache's halves, a transposed block) into a call of `memrefCopy` from
    MLIR's C runner utils. A compiled model that calls it must load
    `libmlir_c_runner_utils`, which loads `libMLIR` and `libLLVM`: about
    75 MB of resident memory for one element-by-element copy routine. This
    pass writes those copies as loop nests (one `scf.for` per dimension, the
    last one innermost, so a unit-stride last dimension vectorizes), which
    the outlining and LLVM lowering then treat like any other loop.

    Before:
    ```mlir
    memref.copy %a, %v : memref<?x64xf32> to memref<?x64xf32, strided<[?, 1]>>
    ```
    After:
    ```mlir
    scf.for %i = %c0 to %dim step %c1 {
      scf.for %j = %c0 to %c64 step %c1 {
        %x = memref.load %a[%i, %j] : memref<?x64xf32>
        memref.store %x, %v[%i, %j] : memref<?x64xf32, strided<[?, 1]>>
      }
    }
    ```
  }];
  let dependentDialects = ["memref::MemRefDialect", "scf::SCFDialect",
                           "arith::ArithDialect"];
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

    Before:
    ```mlir
    %c3 = arith.constant 3.0 : f32
    %cube = math.powf %x, %c3 : f32
    ```
    After:
    ```mlir
    %0 = arith.mulf %x, %x : f32
    %cube = arith.mulf %x, %0 : f32
    ```
    and `math.tanh %y` becomes about 30 ops of `arith.cmpf`/`arith.select`
    (clamping y to +-7.99881172), `math.fma` (the numerator's and denominator's
    polynomials in y^2) and one `arith.divf`.
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

    Before:
    ```mlir
    %0 = linalg.matmul ins(%a, %b : tensor<?x768xf32>, tensor<768x2304xf32>)
        outs(%c : tensor<?x2304xf32>) -> tensor<?x2304xf32>
    ```
    After (loops m, k, n):
    ```mlir
    #map = affine_map<(d0, d1, d2) -> (d0, d1)>
    #map1 = affine_map<(d0, d1, d2) -> (d1, d2)>
    #map2 = affine_map<(d0, d1, d2) -> (d0, d2)>
    %0 = linalg.generic {indexing_maps = [#map, #map1, #map2], iterator_types = ["parallel", "reduction", "parallel"]}
        ins(%a, %b : tensor<?x768xf32>, tensor<768x2304xf32>) outs(%c : tensor<?x2304xf32>) {
    ^bb0(%in: f32, %in_0: f32, %out: f32):
      %1 = arith.mulf %in, %in_0 : f32
      %2 = arith.addf %out, %1 : f32
      linalg.yield %2 : f32
    } -> tensor<?x2304xf32>
    ```
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

    Before (K = 32):
    ```mlir
    linalg.transpose ins(%k : memref<1x4x?x32xf32>) outs(%kt : memref<1x4x32x?xf32>) permutation = [0, 1, 3, 2]
    linalg.generic {indexing_maps = [#q, #kt, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
        ins(%q, %kt : memref<1x4x?x32xf32>, memref<1x4x32x?xf32>) outs(%sc : memref<1x4x?x?xf32>) {...}
    ```
    After:
    ```mlir
    %few = arith.cmpi ule, %m, %c8 : index
    scf.if %few {
      scf.parallel (%b, %h) = (%c0, %c0) to (%nb, %nh) step (%c1, %c1) {
        scf.for %i = %c0 to %m step %c1 {
          scf.for %j = %c0 to %n step %c1 {
            %q0 = vector.transfer_read %q[%b, %h, %i, %c0], %f0 {in_bounds = [true]} : memref<1x4x?x32xf32>, vector<16xf32>
            %k0 = vector.transfer_read %k[%b, %h, %j, %c0], %f0 {in_bounds = [true]} : memref<1x4x?x32xf32>, vector<16xf32>
            %a0 = vector.fma %q0, %k0, %zeros : vector<16xf32>
            ... the same for lanes 16..31 into %a1 ...
            %dot = vector.reduction <add>, %a1 : vector<16xf32> into f32
            %old = memref.load %sc[%b, %h, %i, %j] : memref<1x4x?x?xf32>
            %new = arith.addf %old, %dot : f32
            memref.store %new, %sc[%b, %h, %i, %j] : memref<1x4x?x?xf32>
          }
        }
        scf.reduce
      }
    } else {
      linalg.transpose ...   // and the linalg.generic, as before
    }
    ```
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

    Before:
    ```mlir
    linalg.matmul ins(%a, %b : memref<12x70xf32>, memref<70x128xf32>) outs(%c : memref<12x128xf32>)
    ```
    After (with `-canonicalize -cse`; rows 1 to 5 of each group abbreviated):
    ```mlir
    scf.for %n = %c0 to %c128 step %c64 {
      scf.for %m = %c0 to %c12 step %c6 {
        %tile = memref.subview %c[%m, %n] [6, 64] [1, 1] : memref<12x128xf32> to memref<6x64xf32, strided<[128, 1], offset: ?>>
        %r0 = vector.transfer_read %tile[%c0, %c0], %cst {in_bounds = [true]} : memref<6x64xf32, strided<[128, 1], offset: ?>>, vector<64xf32>
        ...
        %acc:6 = scf.for %k = %c0 to %c70 step %c1 iter_args(%a0 = %r0, ...) -> (vector<64xf32>, ...) {
          %arow = memref.subview %a[%m, %k] [6, 1] [1, 1] : memref<12x70xf32> to memref<6x1xf32, strided<[70, 1], offset: ?>>
          %brow = memref.subview %b[%k, %n] [1, 64] [1, 1] : memref<70x128xf32> to memref<1x64xf32, strided<[128, 1], offset: ?>>
          %x0 = vector.transfer_read %arow[%c0, %c0], %cst {in_bounds = [true]} : memref<6x1xf32, strided<[70, 1], offset: ?>>, vector<1xf32>
          %s0 = vector.to_elements %x0 : vector<1xf32>
          ...
          %w = vector.transfer_read %brow[%c0, %c0], %cst {in_bounds = [true]} : memref<1x64xf32, strided<[128, 1], offset: ?>>, vector<64xf32>
          %bc0 = vector.broadcast %s0 : f32 to vector<64xf32>
          %f0 = vector.fma %bc0, %w, %a0 : vector<64xf32>
          ...
          scf.yield %f0, ... : vector<64xf32>, ...
        }
        vector.transfer_write %acc#0, %tile[%c0, %c0] {in_bounds = [true]} : vector<64xf32>, memref<6x64xf32, strided<[128, 1], offset: ?>>
        ...
      }
    }
    ```
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

    Before (one layer's keys; the values are alike):
    ```mlir
    func.func @main(%ids: tensor<?x?xi64> {onnx.name = "input_ids"},
                    %pk: tensor<?x2x?x4xf32> {onnx.name = "past_key_values.0.key"})
        -> (tensor<?x2x?x4xf32> {onnx.name = "logits"},
            tensor<?x2x?x4xf32> {onnx.name = "present.0.key"}) {
      ...
      %nk = linalg.generic {...} outs(%e : tensor<?x2x?x4xf32>) {...} -> tensor<?x2x?x4xf32>
      %k = tensor.concat dim(2) %pk, %nk : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
      %logits = linalg.generic {...} ins(%k : tensor<?x2x?x4xf32>) ...
      return %logits, %k : tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
    }
    ```
    After (with `-canonicalize -cse`):
    ```mlir
    func.func @main(%arg0: tensor<?x?xi64> {onnx.name = "input_ids"},
        %arg1: tensor<?x2x?x4xf32> {bufferization.writable = true, onnx.name = "past_key_values.0.key", qopt.kv_cache},
        %arg2: tensor<i64> {onnx.name = "past_sequence_length"})
        -> (tensor<?x2x?x4xf32> {onnx.name = "logits"}) attributes {qopt.kv_cache_in_place} {
      %extracted = tensor.extract %arg2[] : tensor<i64>
      %0 = arith.index_cast %extracted : i64 to index
      ...
      %2 = linalg.generic {...} outs(%1 : tensor<?x2x?x4xf32>) {...} -> tensor<?x2x?x4xf32>
      %inserted_slice = tensor.insert_slice %2 into %arg1[0, 0, %0, 0] [%dim, 2, %dim_0, 4] [1, 1, 1, 1]
          : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
      %3 = arith.addi %0, %dim_0 : index
      %extracted_slice = tensor.extract_slice %inserted_slice[0, 0, 0, 0] [%dim_1, 2, %3, 4] [1, 1, 1, 1]
          : tensor<?x2x?x4xf32> to tensor<?x2x?x4xf32>
      %4 = linalg.generic {...} ins(%extracted_slice : tensor<?x2x?x4xf32>) ...
      return %4 : tensor<?x2x?x4xf32>
    }
    ```
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

    Before:
    ```mlir
    func.func @main(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}, %w: tensor<4x8xf32>)
        -> (tensor<?x?x8xf32> {onnx.name = "logits"}, tensor<?x?x4xf32> {onnx.name = "hidden"}) {
      ...
      %rows = tensor.collapse_shape %h [[0, 1], [2]] : tensor<?x?x4xf32> into tensor<?x4xf32>
      %mm = linalg.matmul ins(%rows, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%acc : tensor<?x8xf32>) -> tensor<?x8xf32>
      %logits = tensor.expand_shape %mm [[0, 1], [2]] output_shape [%b, %s, 8] : tensor<?x8xf32> into tensor<?x?x8xf32>
      return %logits, %h : tensor<?x?x8xf32>, tensor<?x?x4xf32>
    }
    ```
    After: `@main` unchanged, and
    ```mlir
    func.func @main_last_position(%arg0: tensor<?x?xi64> {onnx.name = "input_ids"}, %arg1: tensor<4x8xf32>)
        -> (tensor<?x1x8xf32> {onnx.name = "logits"}, tensor<?x?x4xf32> {onnx.name = "hidden"})
        attributes {qopt.last_position_of = "main"} {
      ...
      %4 = arith.subi %dim_5, %c1_6 : index
      %extracted_slice = tensor.extract_slice %1[0, %4, 0] [%dim_3, 1, 4] [1, 1, 1] : tensor<?x?x4xf32> to tensor<?x1x4xf32>
      %6 = linalg.copy ins(%extracted_slice : tensor<?x1x4xf32>) outs(%5 : tensor<?x1x4xf32>) -> tensor<?x1x4xf32>
      %collapsed_7 = tensor.collapse_shape %6 [[0, 1], [2]] : tensor<?x1x4xf32> into tensor<?x4xf32>
      %9 = linalg.matmul ins(%collapsed_7, %arg1 : tensor<?x4xf32>, tensor<4x8xf32>) outs(%8 : tensor<?x8xf32>) -> tensor<?x8xf32>
      %expanded = tensor.expand_shape %9 [[0, 1], [2]] output_shape [%dim_3, 1, 8] : tensor<?x8xf32> into tensor<?x1x8xf32>
      return %expanded, %1 : tensor<?x1x8xf32>, tensor<?x?x4xf32>
    }
    ```
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

    Before (bufferized; the old cache is read after the update, so
    bufferization wrote the update into a copy):
    ```mlir
    func.func @stale(%c: tensor<?x2x?x4xf32> {qopt.kv_cache}, %new: tensor<1x2x1x4xf32>, %p: index) -> (f32, f32) {
      %u = tensor.insert_slice %new into %c[0, 0, %p, 0] [1, 2, 1, 4] [1, 1, 1, 1] : tensor<1x2x1x4xf32> into tensor<?x2x?x4xf32>
      %a = tensor.extract %u[%c0, %c0, %p, %c0] : tensor<?x2x?x4xf32>
      %b = tensor.extract %c[%c0, %c0, %p, %c0] : tensor<?x2x?x4xf32>
      return %a, %b : f32, f32
    }
    ```
    After:
    ```
    error: KV cache input 0 of 'stale' was copied by bufferization instead of updated in place: the caller's cache would not grow
    ```
    An input updated in place only loses its `qopt.kv_cache` marker.
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

    Before (#map = (d0, d1) -> (d0, d1), #map1 = (d0, d1) -> (d1)):
    ```mlir
    %s = linalg.matmul ins(%q, %k : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
    %e1 = tensor.empty() : tensor<8x8xf32>
    %r = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]}
        ins(%s, %mask : tensor<8x8xf32>, tensor<8xi1>) outs(%e1 : tensor<8x8xf32>) {
    ^bb0(%x: f32, %m: i1, %o: f32):
      %y = arith.select %m, %x, %low : f32
      linalg.yield %y : f32
    } -> tensor<8x8xf32>
    ```
    After (the scores are the init: one buffer, not two):
    ```mlir
    %r = linalg.generic {indexing_maps = [#map, #map1, #map], iterator_types = ["parallel", "parallel"]}
        ins(%s, %mask : tensor<8x8xf32>, tensor<8xi1>) outs(%s : tensor<8x8xf32>) {...} -> tensor<8x8xf32>
    ```
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

    Before:
    ```mlir
    %a = memref.alloc(%n) : memref<?x8xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<?x8xf32>)
    %y = call @kernel(%a) : (memref<?x8xf32>) -> memref<?x8xf32>
    %b = memref.alloc(%n) : memref<?x8xf32>
    linalg.copy ins(%y : memref<?x8xf32>) outs(%b : memref<?x8xf32>)
    %r = call @kernel(%b) : (memref<?x8xf32>) -> memref<?x8xf32>
    %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %y : memref<?x8xf32> -> memref<f32>, index, index, index, index, index
    %own:1 = bufferization.dealloc (%a, %base, %b : memref<?x8xf32>, memref<f32>, memref<?x8xf32>)
        if (%true, %true, %true) retain (%r : memref<?x8xf32>)
    return %r : memref<?x8xf32>
    ```
    After:
    ```mlir
    %a = memref.alloc(%n) : memref<?x8xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<?x8xf32>)
    %y = call @kernel(%a) : (memref<?x8xf32>) -> memref<?x8xf32>
    bufferization.dealloc (%a : memref<?x8xf32>) if (%true)
    %b = memref.alloc(%n) : memref<?x8xf32>
    linalg.copy ins(%y : memref<?x8xf32>) outs(%b : memref<?x8xf32>)
    %base, %offset, %sizes:2, %strides:2 = memref.extract_strided_metadata %y : memref<?x8xf32> -> memref<f32>, index, index, index, index, index
    bufferization.dealloc (%base : memref<f32>) if (%true)
    %r = call @kernel(%b) : (memref<?x8xf32>) -> memref<?x8xf32>
    bufferization.dealloc (%b : memref<?x8xf32>) if (%true)
    %own = bufferization.dealloc retain (%r : memref<?x8xf32>)
    return %r : memref<?x8xf32>
    ```
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

    Before:
    ```mlir
    func.func @main(%ids: tensor<?x?xi64> {onnx.name = "input_ids"}, %w: tensor<2x4xf16>)
        -> (tensor<?x?x8xf32> {onnx.name = "logits"}) {...}
    ```
    After:
    ```mlir
    module attributes {qopt.entry_points = [{inputs = [{name = "input_ids", type = tensor<?x?xi64>},
        {name = "arg1", type = tensor<2x4xf16>} ], name = "main",
        outputs = [{name = "logits", type = tensor<?x?x8xf32>} ]} ]} {
      func.func @main(%arg0: tensor<?x?xi64> {onnx.name = "input_ids"}, %arg1: tensor<2x4xf16>)
          -> (tensor<?x?x8xf32> {onnx.name = "logits"}) attributes {llvm.emit_c_interface} {...}
    }
    ```
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

    Before:
    ```mlir
    module attributes {qopt.entry_points = [{name = "main"} ]} {
      func.func @main(%x: tensor<?x4xf32>, %z: tensor<?x4xf32>) -> tensor<?x4xf32> {
        %xd = tensor.dim %x, %c0 : tensor<?x4xf32>
        %zd = tensor.dim %z, %c0 : tensor<?x4xf32>
        %ok = arith.cmpi eq, %xd, %zd : index
        qopt.runtime_check %ok, "rows match"
        return %x : tensor<?x4xf32>
      }
    }
    ```
    After (`@main` without the check):
    ```mlir
    module attributes {qopt.entry_points = [{checks = ["rows match"], name = "main"} ]} {
      ...
      func.func private @main_runtime_checks(%arg0: tensor<?x4xf32>, %arg1: tensor<?x4xf32>) -> i32
          attributes {llvm.emit_c_interface} {
        %dim = tensor.dim %arg0, %c0 : tensor<?x4xf32>
        %dim_0 = tensor.dim %arg1, %c0 : tensor<?x4xf32>
        %0 = arith.cmpi eq, %dim, %dim_0 : index
        %1 = scf.if %0 -> (i32) {
          %c0_i32 = arith.constant 0 : i32
          scf.yield %c0_i32 : i32
        } else {
          %c1_i32 = arith.constant 1 : i32
          scf.yield %c1_i32 : i32
        }
        return %1 : i32
      }
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

    Before (`min-bytes=64`):
    ```mlir
    memref.global "private" constant @big : memref<4x4xf32> = dense<[[0.0, 1.0, 2.0, 3.0], ...]>
    memref.global "private" constant @small : memref<2xf32> = dense<[1.0, 2.0]>
    func.func @main(%x: memref<4x4xf32>) -> memref<4x4xf32> {
      %w = memref.get_global @big : memref<4x4xf32>
      %t = memref.get_global @small : memref<2xf32>
      ...
    }
    ```
    After (@big at offset 0 of the archive):
    ```mlir
    module attributes {qopt.weights = {bytes = 64 : i64, fingerprint = "...", tensors = 1 : i64}} {
      memref.global "private" constant @small : memref<2xf32> = dense<[1.000000e+00, 2.000000e+00]>
      func.func @main(%arg0: memref<4x4xf32>, %arg1: memref<?xi8>) -> memref<4x4xf32> {
        %c0 = arith.constant 0 : index
        %view = memref.view %arg1[%c0][] : memref<?xi8> to memref<4x4xf32>
        %0 = memref.get_global @small : memref<2xf32>
        ...
      }
    }
    ```
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

    Before:
    ```mlir
    module attributes {
      qopt.entry_points = [{inputs = [{name = "input_ids", type = tensor<?x?xi64>} ], name = "main",
                            outputs = [{name = "logits", type = tensor<?x?x8xf32>} ]} ],
      qopt.weights = {bytes = 128 : i64, fingerprint = "abc", tensors = 2 : i64}} {
      llvm.func @_mlir_ciface_main(%result: !llvm.ptr, %ids: !llvm.ptr, %weights: !llvm.ptr) {...}
    }
    ```
    After (constants and the metadata string abbreviated):
    ```mlir
    llvm.func @qopt_entry_main(%arg0: !llvm.ptr) -> i32 {
      %0 = llvm.getelementptr %arg0[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %1 = llvm.load %0 : !llvm.ptr -> !llvm.ptr
      ...                                   // args[1], args[2]
      llvm.call @_mlir_ciface_main(%1, %3, %5) : (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
      llvm.return %zero : i32
    }
    llvm.mlir.global external constant @qopt_model_meta("{\22abi\22:3,\22entries\22:[...],\22weights\22:{\22bytes\22:128,...}}\00")
    ```
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

def QOptOutlineLoopNestsPass
    : Pass<"qopt-outline-loop-nests", "ModuleOp"> {
  let summary = "Outline every loop nest into a function, one per distinct "
                "nest, so that LLVM compiles each once and never works on a "
                "whole entry point's loops at once";
  let description = [{
    Runs on buffers, after the loops are made and the buffers freed, before
    `convert-scf-to-openmp`. An entry point of a model is its layers one
    after the other, and every entry point (`main`, `main_last_position`)
    repeats them: the same LayerNorm, softmax and attention loop nests on
    other buffers, 12 times in GPT-2 124M, 48 in XL. LLVM's loop passes
    (loop strength reduction, unrolling, vectorization) take time that grows
    faster than the function they work on, and the optimizer and code
    generator take time in proportion to the copies.

    Every loop nest (`scf.for`, `scf.parallel`, `scf.forall`) of a public
    function (an entry point; private ones such as the kernels are shared
    already) that is not inside another loop and has at least `min-ops`
    operations becomes a call to a
    private function `qopt_loop_N` that takes the values the nest uses from
    outside it (in order of first use; constants are cloned in, so that
    bounds and steps stay constants) and returns the nest's results. Nests
    that are equivalent operation by operation share one function: compile
    time then grows with the number of distinct layer shapes, not with the
    number of layers. The functions are `noinline` (LLVM would otherwise
    inline a function called once back into the entry point); a call per
    loop nest costs nothing next to the nest. An entry point keeps only the
    glue between the nests: allocations, views, run-time checks, calls.

    Before:
    ```mlir
    func.func @main(%a: memref<8xf32>, %b: memref<8xf32>) {
      %c0 = arith.constant 0 : index
      %c8 = arith.constant 8 : index
      %c1 = arith.constant 1 : index
      scf.for %i = %c0 to %c8 step %c1 {
        %x = memref.load %a[%i] : memref<8xf32>
        %y = arith.mulf %x, %x : f32
        memref.store %y, %a[%i] : memref<8xf32>
      }
      scf.for %i = %c0 to %c8 step %c1 {
        %x = memref.load %b[%i] : memref<8xf32>
        %y = arith.mulf %x, %x : f32
        memref.store %y, %b[%i] : memref<8xf32>
      }
      return
    }
    ```
    After:
    ```mlir
    func.func @main(%a: memref<8xf32>, %b: memref<8xf32>) {
      call @qopt_loop_0(%a) : (memref<8xf32>) -> ()
      call @qopt_loop_0(%b) : (memref<8xf32>) -> ()
      return
    }
    func.func private @qopt_loop_0(%arg0: memref<8xf32>) attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]} {
      %c0 = arith.constant 0 : index
      %c8 = arith.constant 8 : index
      %c1 = arith.constant 1 : index
      scf.for %i = %c0 to %c8 step %c1 {
        %x = memref.load %arg0[%i] : memref<8xf32>
        %y = arith.mulf %x, %x : f32
        memref.store %y, %arg0[%i] : memref<8xf32>
      }
      return
    }
    ```
  }];
  let options = [
    Option<"minOps", "min-ops", "int64_t", /*default=*/"1",
           "Loop nests with fewer operations (the loop ops included) stay "
           "where they are">,
  ];
  let dependentDialects = ["func::FuncDialect", "LLVM::LLVMDialect"];
}

#endif // QUANT_OPT_CODEGEN_PASSES_TD
