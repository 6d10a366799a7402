//===- QOptOps.td - qopt operations ------------------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD

include "quant-opt/Dialect/QOpt/IR/QOptDialect.td"
include "quant-opt/Dialect/QOpt/IR/QOptAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def QOpt_DynamicQuantizeOp : QOpt_Op<"dynamic_quantize", [Pure,
    AllShapesMatch<["input", "output"]>]> {
  let summary = "Quantize a float tensor with a scale computed from its range";
  let description = [{
    ONNX DynamicQuantizeLinear: computes an asymmetric uint8 scale and zero
    point from the tensor's min/max (range always including 0), then
    quantizes with round-half-to-even and saturation. Produces the quantized
    tensor, the scale and the zero point. The uint8 values are held in
    signless `i8` like every integer in imported IR (arith works on signless
    integers); the op fixes their interpretation as unsigned.

    ```mlir
    %q, %s, %zp = qopt.dynamic_quantize %x : tensor<?x768xf32> -> tensor<?x768xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[I8]>:$output, F32:$scale, I8:$zero_point);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($output)
  }];
}

def QOpt_ObserveOp : QOpt_Op<"observe", [Pure, AllTypesMatch<["input",
    "output"]>]> {
  let summary = "An observation point: identity that calibration watches";
  let description = [{
    Forwards its input unchanged. `qopt-insert-observers` puts one on each
    input (`activation`) and constant weight (`weight`) of a quantizable op;
    `qopt-calibrate` runs the model and attaches what it saw as `stats`;
    `qopt-fake-quant` and `qopt-quantize` consume the points. `point` names
    the point stably (the op's location and the operand's role) so that
    statistics, reports and exports can refer to it.

    ```mlir
    %0 = qopt.observe %x activation "h.0/attn/c_attn:input" : tensor<?x256xf32>
    %1 = qopt.observe %x activation "lm_head:input" {stats =
           #qopt.stats<method = "minmax", samples = 64, min = -3.0,
                       max = 4.0>} : tensor<?x256xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, QOpt_ObserveRole:$role,
                   StrAttr:$point, OptionalAttr<QOpt_StatsAttr>:$stats);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = [{
    $input $role $point attr-dict `:` type($input)
  }];
}

def QOpt_FakeQuantOp : QOpt_Op<"fake_quant", [Pure,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "Quantize and dequantize with fixed parameters";
  let description = [{
    `dequantize(quantize(x))` with the parameters of `qtype`, an upstream
    `!quant.uniform` type (per-tensor, per-axis, or sub-channel for groups)
    whose expressed type is the input's element type. Rounding is half to
    even and values saturate to the storage range, as in ONNX
    QuantizeLinear, so a fake-quantized model computes exactly what the
    quantized model does up to float summation order.

    ```mlir
    %y = qopt.fake_quant %x : tensor<?x256xf32> as !quant.uniform<u8:f32, 0.02:128>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, TypeAttr:$qtype);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `as` $qtype
  }];
  let hasVerifier = 1;
}

def QOpt_DynamicFakeQuantOp : QOpt_Op<"dynamic_fake_quant", [Pure,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "Quantize and dequantize each row with its own range";
  let description = [{
    Dynamic per-token quantization simulated in float: every row (all
    leading indices, reduced over the last axis) gets the scale and zero
    point of its own range, computed at run time as `qopt.qmatmul` with
    `dynamic_input` does: asymmetric `u8` (range widened to include 0) or,
    with `symmetric`, `i8` with scale = max|x| / 127.

    ```mlir
    %y = qopt.dynamic_fake_quant %x : tensor<?x256xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input, UnitAttr:$symmetric);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input (`symmetric` $symmetric^)? attr-dict `:` type($input)
  }];
}

def QOpt_QMatmulOp : QOpt_Op<"qmatmul", [Pure]> {
  let summary = "Linear layer on quantized, packed weights";
  let description = [{
    `output[m, n] = sum_k x[m, k] * dequantize(w)[k, n]`: a linear layer
    whose weight is stored quantized. `weight_type` is the upstream
    `!quant.uniform` type of the weight `[K, N]` (ONNX MatMul's B): per
    tensor, per-axis with axis 1 (per output channel), or sub-channel with
    blocks `{0:G, 1:1}` (groups of G input channels in each column, scales
    `[K/G, N]`). `weight` holds its storage values row by row, one byte per
    value for 8 bits, two per byte along N for 4 bits (low nibble first,
    rows padded to whole bytes): shape `[K, ceil(N * bits / 8)]`. This is
    the canonical layout the reference lowering reads; fast kernels repack
    it at compile time.

    The activation is used in float (weight-only, W8A16/W4A16) unless it
    is quantized too (W8A8, W4A8): statically with the per-tensor
    `input_type`, or per token at run time with `dynamic_input`
    (asymmetric u8, range including 0). The products are then summed in
    int32 over each group of K (all of K without groups), and
    `output[m, n] = sum_g float(I_g[m, n]) * (sx[m] * sw[g, n])`, the groups
    added in order from 0 in f32 (one term: `float(I) * (sx * sw)`).

    With groups, `group_index` (GPTQ's `g_idx`, act-order without static
    groups) may give the group of each input channel: row k of the weight
    then uses the scales and zero points of group `group_index[k]` instead
    of `k / G`; each group has exactly G rows. `qopt-sort-group-index`
    removes it before lowering (rows sorted by group, the input's columns
    gathered in the same order), so the kernels never see it.
    ```mlir
    %y = qopt.qmatmul %x, %w weight !quant.uniform<i8<-127:127>:f32:1, {0.1, 0.2}>
           : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
    %z = qopt.qmatmul %x, %w dynamic_input weight !quant.uniform<...>
           : tensor<?x4xf32>, tensor<4x2xi8> -> tensor<?x2xf32>
    %g = qopt.qmatmul %x, %w group_index %gidx weight !quant.uniform<...>
           : tensor<?x256xf32>, tensor<256x2xi8>, tensor<256xi32>
             -> tensor<?x2xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                   RankedTensorOf<[I8]>:$weight,
                   Optional<RankedTensorOf<[I32]>>:$group_index,
                   TypeAttr:$weight_type,
                   OptionalAttr<TypeAttr>:$input_type,
                   UnitAttr:$dynamic_input);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`group_index` $group_index^)? (`input` $input_type^)?
    (`dynamic_input` $dynamic_input^)? `weight` $weight_type attr-dict
    `:` type($input) `,` type($weight) (`,` type($group_index)^)?
    `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Bits per weight value (4 or 8).
    unsigned getWeightBits();
    /// The group size along K (K for per-channel and per-tensor weights).
    /// Output channels.
    int64_t getOutputChannels();
    int64_t getGroupSize();
  }];
}

def QOpt_QGatherOp : QOpt_Op<"qgather", [Pure]> {
  let summary = "Embedding lookup in a quantized, packed table";
  let description = [{
    `output[..., d] = dequantize(table)[d, clamp(ids[...])]`: the rows of an
    embedding table `[V, D]` that `ids` select, dequantized. The table is
    stored as `qopt.qmatmul` stores a weight `[K, N]`, with K = D and
    N = V (each token a column): `table_type` is per-axis along axis 1 (one
    scale per token) or sub-channel with blocks `{0:G, 1:1}` (groups of G
    embedding channels per token), and `table` holds the storage values
    `[D, ceil(V * bits / 8)]`, two 4-bit values per byte along V. A tied LM
    head (logits = h · tableᵀ) is exactly a `qopt.qmatmul` on that weight,
    so both ops can read one stored copy.

    An id below 0 counts from the end (ONNX Gather); ids are then clamped
    to [0, V - 1], so no id reads outside the table.

    ```mlir
    %e = qopt.qgather %table[%ids] table !quant.uniform<i8<-127:127>:f32:1, {...}>
           : tensor<256x50257xi8>, tensor<?x?xi64> -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8]>:$table,
                   RankedTensorOf<[I64, I32, Index]>:$ids,
                   TypeAttr:$table_type);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $table `[` $ids `]` `table` $table_type attr-dict `:` type($table) `,`
    type($ids) `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Rows of the table (tokens, V) and their width (D).
    int64_t getNumRows();
    int64_t getRowWidth();
    /// Bits per stored value (8 or 4).
    unsigned getTableBits();
    /// The group size along D (D for one scale per token).
    int64_t getGroupSize();
  }];
}

def QOpt_FMatmulOp : QOpt_Op<"fmatmul", [Pure]> {
  let summary = "Linear layer on low-precision float weights";
  let description = [{
    `output[m, n] = sum_k x[m, k] * (float(w[k, n]) * scales[n])`: a linear
    layer whose weight `[K, N]` is stored in a small float format (f16,
    bf16, f8E4M3FN, f8E5M2), with an optional f32 scale per output channel
    (the 8-bit formats use one so that each column spans the format's
    range). Upstream `!quant` types have integer storage only, hence this
    op next to `qopt.qmatmul`.

    ```mlir
    %y = qopt.fmatmul %x, %w scales %s
           : tensor<?x4xf32>, tensor<4x2xf8E4M3FN>, tensor<2xf32> -> tensor<?x2xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input,
                   RankedTensorOf<[F16, BF16, F8E4M3FN, F8E5M2]>:$weight,
                   Optional<RankedTensorOf<[F32]>>:$scales);
  let results = (outs RankedTensorOf<[F32]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`scales` $scales^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($scales)^)? `->` type($output)
  }];
  let hasVerifier = 1;
}

def QOpt_PureIntrinsicOp : QOpt_Op<"pure_intrinsic", [Pure]> {
  let summary = "A side-effect-free LLVM intrinsic on vectors";
  let description = [{
    Calls the LLVM intrinsic `intrinsic` (e.g. `llvm.x86.avx2.pmadd.wd`) on
    vectors. The kernels use it where neither the vector dialect nor a
    target dialect has an op; unlike `llvm.call_intrinsic`, which has
    unknown memory effects, it is known to be pure, so bufferization and
    buffer deallocation accept the kernels that contain it.
    `convert-qopt-intrinsics-to-llvm` turns it into `llvm.call_intrinsic`
    once buffers are final.

    ```mlir
    %p = qopt.pure_intrinsic "llvm.x86.avx2.pmadd.wd"(%a, %b)
        : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
    ```
  }];
  let arguments = (ins StrAttr:$intrinsic,
                       Variadic<AnyVectorOfNonZeroRank>:$operands);
  let results = (outs AnyVectorOfNonZeroRank:$result);
  let assemblyFormat = [{
    $intrinsic `(` $operands `)` attr-dict `:` functional-type($operands, $result)
  }];
  let hasVerifier = 1;
}

def QOpt_RuntimeCheckOp : QOpt_Op<"runtime_check",
    [MemoryEffects<[MemWrite]>]> {
  let summary = "A shape or index assumption checked when the model runs";
  let description = [{
    States that `condition` holds when the compiled model runs; `message`
    says what was assumed and where (the ONNX node). The importer and the
    lowering unify dynamic dims (a broadcast of two `?` dims, a slice of a
    cache buffer at a run-time offset, the ids of a Gather): if the caller
    breaks such an assumption, the code would read or write outside a buffer.
    `qopt-insert-runtime-checks` adds these ops and
    `qopt-outline-runtime-checks` moves them into a function the entry point
    calls first, so that a broken assumption returns an error to the caller
    instead of running. The memory effect keeps the op alive until then.

    ```mlir
    %ok = arith.cmpi eq, %a, %b : index
    qopt.runtime_check %ok, "node '/h.0/attn/Add': dim 3 of operand 1 equals dim 3 of operand 0"
    ```
  }];
  let arguments = (ins I1:$condition, StrAttr:$message);
  let assemblyFormat = "$condition `,` $message attr-dict";
}

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
