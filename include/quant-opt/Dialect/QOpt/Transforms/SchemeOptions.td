//===- SchemeOptions.td - weight-scheme options shared by passes --------*- tablegen -*-===//

#ifndef QUANT_OPT_DIALECT_QOPT_TRANSFORMS_SCHEMEOPTIONS_TD
#define QUANT_OPT_DIALECT_QOPT_TRANSFORMS_SCHEMEOPTIONS_TD

include "mlir/Pass/PassBase.td"

// The weight and activation scheme that qopt-fake-quant, qopt-quantize,
// qopt-awq and qopt-gptq share (QuantScheme.h reads it).

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

#endif // QUANT_OPT_DIALECT_QOPT_TRANSFORMS_SCHEMEOPTIONS_TD
