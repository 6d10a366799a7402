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

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTOPS_TD
