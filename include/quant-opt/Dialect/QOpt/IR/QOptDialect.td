//===- QOptDialect.td - The qopt dialect -------------------*- tablegen -*-===//
//
// quant-opt's own dialect: the operations quantization passes need that
// upstream MLIR does not have. Quantization parameters themselves live in
// upstream `!quant.*` types.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_TD
#define QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_TD

include "mlir/IR/OpBase.td"

def QOpt_Dialect : Dialect {
  let name = "qopt";
  let cppNamespace = "::mlir::qopt";
  let summary = "Quantization operations of quant-opt";
  let description = [{
    Operations for post-training quantization of transformer models:
    observation points, fake quantization, dynamic quantization and quantized
    linear algebra on packed storage. Quantization parameters are carried by
    upstream `!quant.uniform` types (per-tensor, per-axis and sub-channel).
  }];
  let dependentDialects = [
    "::mlir::quant::QuantDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class QOpt_Op<string mnemonic, list<Trait> traits = []>
    : Op<QOpt_Dialect, mnemonic, traits>;

#endif // QUANT_OPT_DIALECT_QOPT_IR_QOPTDIALECT_TD
