//===- QOptOps.td - qopt operations ------------------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD

include "quant-opt/Dialect/QOpt/IR/QOptDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonTypeConstraints.td"

def QOpt_DynamicQuantizeOp : QOpt_Op<"dynamic_quantize", [Pure,
    AllShapesMatch<["input", "output"]>]> {
  let summary = "Quantize a float tensor with a scale computed from its range";
  let description = [{
    ONNX DynamicQuantizeLinear: computes an asymmetric uint8 scale and zero
    point from the tensor's min/max (range always including 0), then
    quantizes with round-half-to-even and saturation. Produces the quantized
    tensor, the scale and the zero point.

    ```mlir
    %q, %s, %zp = qopt.dynamic_quantize %x : tensor<?x768xf32> -> tensor<?x768xui8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[F32]>:$input);
  let results = (outs RankedTensorOf<[UI8]>:$output, F32:$scale, UI8:$zero_point);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($output)
  }];
}

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
