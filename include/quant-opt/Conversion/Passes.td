//===- Passes.td - quant-opt's conversion passes -----------*- tablegen -*-===//

#ifndef QUANT_OPT_CONVERSION_PASSES_TD
#define QUANT_OPT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQOptToLinalgPass : Pass<"convert-qopt-to-linalg", "func::FuncOp"> {
  let summary = "Lower qopt ops to linalg/arith on tensors (the scalar "
                "reference lowering)";
  let description = [{
    - `qopt.observe` forwards its input (statistics are compile-time only);
    - `qopt.fake_quant` with a per-tensor type becomes an elementwise
      `linalg.generic` (round half to even, saturate, dequantize); per-axis
      and sub-channel types go through upstream `quant.qcast`/`quant.dcast`;
    - `qopt.dynamic_fake_quant` becomes a per-row range reduction and an
      elementwise quantize-dequantize;
    - `qopt.qmatmul` with a float activation dequantizes its packed weight
      (unpacking nibbles, per-group scales and zero points) into a
      `[K, N]` f32 tensor at run time and multiplies with `linalg.matmul`;
      with a quantized activation, it quantizes the input (static or per
      row), centres both operands on their zero points, multiplies in
      int32 with `linalg.matmul` and scales the int32 result once.
    This is the reference every fast kernel is tested against: plain,
    exact integer arithmetic, no target-specific code.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "arith::ArithDialect",
                           "math::MathDialect", "tensor::TensorDialect",
                           "quant::QuantDialect"];
}

#endif // QUANT_OPT_CONVERSION_PASSES_TD
