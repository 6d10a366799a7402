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

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_PASSES_TD
