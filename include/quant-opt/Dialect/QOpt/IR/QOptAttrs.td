//===- QOptAttrs.td - qopt attributes and enums ------------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTATTRS_TD
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTATTRS_TD

include "quant-opt/Dialect/QOpt/IR/QOptDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def QOpt_ObserveRole : I32EnumAttr<"ObserveRole",
    "what an observation point sees", [
      I32EnumAttrCase<"activation", 0>,
      I32EnumAttrCase<"weight", 1>
    ]> {
  let cppNamespace = "::mlir::qopt";
}

class QOpt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QOpt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def QOpt_StatsAttr : QOpt_Attr<"Stats", "stats"> {
  let summary = "Calibrated statistics of an observation point";
  let description = [{
    What `qopt-calibrate` learned about one observed tensor:

    - `method`: how `min`/`max` were chosen (`minmax`, `moving-average`,
      `percentile`, `entropy`, `mse`; `constant` for weights, read from the
      constant itself);
    - `samples`: how many rows (tokens) were observed;
    - `min`, `max`: the calibrated range of the whole tensor (what a
      per-tensor scale is computed from; may be narrower than the observed
      range for clipping methods);
    - `channel_min`, `channel_max` (optional): per-channel ranges along the
      last axis, for per-channel activation quantization;
    - `channel_absmax`: per-channel max |x| along the last axis (the input
      channels of a linear layer), for SmoothQuant/AWQ scaling and for
      LLM.int8()-style outlier decomposition;
    - `xtx` (optional): the K x K sum of x^T x over all observed rows, the
      (unnormalised) Hessian GPTQ needs;
    - `sensitivity` (optional): a per-point sensitivity score for
      mixed-precision assignment.

    ```mlir
    #qopt.stats<method = "minmax", samples = 512, min = -4.5, max = 7.25,
                channel_absmax = dense<[1.0, 7.25]> : tensor<2xf32>>
    ```
  }];
  let parameters = (ins
    StringRefParameter<"calibration method">:$method,
    "int64_t":$samples,
    "::mlir::FloatAttr":$min,
    "::mlir::FloatAttr":$max,
    OptionalParameter<"::mlir::DenseElementsAttr">:$channel_min,
    OptionalParameter<"::mlir::DenseElementsAttr">:$channel_max,
    OptionalParameter<"::mlir::DenseElementsAttr">:$channel_absmax,
    OptionalParameter<"::mlir::ElementsAttr">:$xtx,
    OptionalParameter<"::mlir::FloatAttr">:$sensitivity
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTATTRS_TD
