//===- PTQ.h - one-flag post-training quantization recipes ------*- C++ -*-===//
//
// qopt-ptq: a named recipe (w8, w4-g128, w8a8-static, auto, ...) expanded
// into the quantization and calibration passes it needs.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RECIPES_PTQ_H
#define QUANT_OPT_RECIPES_PTQ_H

#include "quant-opt/Recipes/RecipeTable.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "llvm/Support/Error.h"

namespace mlir::qopt {

struct PTQOptions : public PassPipelineOptions<PTQOptions> {
  Option<std::string> recipe{*this, "recipe",
                             llvm::cl::desc(recipeOptionHelp()),
                             llvm::cl::init("w8")};
  Option<double> sizeMb{*this, "size-mb",
                        llvm::cl::desc("recipe=auto: size budget in MB"),
                        llvm::cl::init(0)};
  Option<double> bitsPerWeight{
      *this, "bits-per-weight",
      llvm::cl::desc("recipe=auto: size budget in bits per weight"),
      llvm::cl::init(0)};
  Option<double> maxKl{
      *this, "max-kl",
      llvm::cl::desc("recipe=auto: the smallest model within this summed "
                     "predicted KL"),
      llvm::cl::init(0)};
  Option<std::string> formats{
      *this, "formats",
      llvm::cl::desc("recipe=auto: candidate formats (qopt-sensitivity)"),
      llvm::cl::init("int8,int4-g128,int4-g64,int4-g32,int3-g128")};
  Option<std::string> algorithm{
      *this, "algorithm",
      llvm::cl::desc("How integer weights are rounded: rtn (round to "
                     "nearest), gptq (qopt-gptq), awq (qopt-awq scaling and "
                     "clipping, then RTN), awq+gptq; all but rtn need "
                     "calibration data"),
      llvm::cl::init("rtn")};
  Option<bool> actOrder{*this, "act-order",
                        llvm::cl::desc("gptq: round input channels by "
                                       "decreasing H_jj"),
                        llvm::cl::init(false)};
  Option<bool> staticGroups{
      *this, "static-groups",
      llvm::cl::desc("gptq with act-order: group parameters fixed before "
                     "rounding (no group index)"),
      llvm::cl::init(false)};
  Option<double> damp{*this, "damp",
                      llvm::cl::desc("gptq: damping, a fraction of H's mean "
                                     "diagonal"),
                      llvm::cl::init(0.01)};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("gptq: input channels per lazy "
                                           "batch"),
                            llvm::cl::init(128)};
  Option<bool> sequential{
      *this, "sequential",
      llvm::cl::desc("gptq: Hessians taken stage by stage with earlier "
                     "stages quantized (false: from the float model, "
                     "calibrated in layer batches that fit in memory)"),
      llvm::cl::init(true)};
  Option<double> hessianMemoryMb{
      *this, "hessian-memory-mb",
      llvm::cl::desc("gptq with sequential=false: MB of x^T x sums per "
                     "calibration run (0: derived from the available "
                     "memory)"),
      llvm::cl::init(0)};
  Option<std::string> report{
      *this, "report",
      llvm::cl::desc("gptq: per-layer report, JSON at this path and "
                     "markdown next to it"),
      llvm::cl::init("")};
  Option<bool> fake{*this, "fake",
                    llvm::cl::desc("Simulate in float (qopt-fake-quant) "
                                   "instead of quantizing"),
                    llvm::cl::init(false)};
  Option<bool> symmetric{*this, "symmetric",
                         llvm::cl::desc("Symmetric weights (false: "
                                        "asymmetric with zero points)"),
                         llvm::cl::init(true)};
  Option<bool> mseClip{*this, "mse-clip",
                       llvm::cl::desc("Search weight clipping per group"),
                       llvm::cl::init(false)};
  Option<double> outlierThreshold{
      *this, "outlier-threshold",
      llvm::cl::desc("W8A8 recipes: keep input channels whose calibrated "
                     "max |x| exceeds this in float (LLM.int8()); 0: off"),
      llvm::cl::init(0.0)};
  Option<bool> smooth{
      *this, "smooth",
      llvm::cl::desc("W8A8/W4A8 recipes: SmoothQuant (qopt-smooth-activations) "
                     "before quantizing; calibrates first, and again after "
                     "for static activations"),
      llvm::cl::init(false)};
  Option<std::string> floatActivations{
      *this, "float-activations",
      llvm::cl::desc("Regular expression of linear layers that keep float "
                     "activations (weight-only), e.g. lm_head"),
      llvm::cl::init("")};
  Option<std::string> int8Weights{
      *this, "int8-weights",
      llvm::cl::desc("Regular expression of linear layers with INT8 "
                     "per-channel weights whatever the recipe, e.g. lm_head "
                     "in an INT4 model"),
      llvm::cl::init("")};
  Option<std::string> smoothSkip{
      *this, "smooth-skip",
      llvm::cl::desc("Regular expression (name or role): layers whose input "
                     "smoothing leaves alone, e.g. lm_head to keep a tied LM "
                     "head equal to the embedding table (one stored copy)"),
      llvm::cl::init("")};
  Option<double> smoothAlpha{
      *this, "smooth-alpha",
      llvm::cl::desc("SmoothQuant migration strength in [0, 1]"),
      llvm::cl::init(0.5)};
  Option<bool> embedding{
      *this, "embedding",
      llvm::cl::desc("Quantize the gathered tables (token and position "
                     "embeddings) per row with the recipe's integer format; "
                     "a tied embedding shares its LM head's stored weight "
                     "(false: keep them f32; float recipes always do)"),
      llvm::cl::init(true)};
  Option<bool> attention{
      *this, "attention",
      llvm::cl::desc("Also quantize attention's activation matmuls"),
      llvm::cl::init(false)};
  Option<std::string> skip{
      *this, "skip",
      llvm::cl::desc("Regular expression of linear layers to keep float"),
      llvm::cl::init("")};
  Option<std::string> data{
      *this, "calibration-data",
      llvm::cl::desc("Calibration text (static activation recipes)"),
      llvm::cl::init("")};
  Option<std::string> tokens{*this, "calibration-tokens",
                             llvm::cl::desc("Pre-tokenized calibration file"),
                             llvm::cl::init("")};
  Option<std::string> tokenizerDir{
      *this, "tokenizer-dir",
      llvm::cl::desc("Directory with GPT-2's encoder.json and vocab.bpe"),
      llvm::cl::init("")};
  Option<int64_t> samples{*this, "samples",
                          llvm::cl::desc("Calibration windows"),
                          llvm::cl::init(32)};
  Option<int64_t> seqLen{*this, "seq-len",
                         llvm::cl::desc("Tokens per calibration window"),
                         llvm::cl::init(128)};
  Option<std::string> method{
      *this, "method",
      llvm::cl::desc("Calibration method: minmax, moving-average, "
                     "percentile, entropy, mse"),
      llvm::cl::init("minmax")};
  Option<double> percentile{*this, "percentile",
                            llvm::cl::desc("percentile: share kept (%)"),
                            llvm::cl::init(99.99)};
  Option<bool> progress{*this, "progress",
                        llvm::cl::desc("Calibration progress bar"),
                        llvm::cl::init(true)};
};

/// Post-training quantization in one step: fold constant transposes,
/// insert observers, calibrate (static activation recipes), then quantize
/// (or fake-quantize) with the recipe's scheme. Every option is checked
/// first: an unknown recipe or an inconsistent combination is an error
/// that names it (the message qopt-ptq reports).
llvm::Error buildPTQPipeline(OpPassManager &pm, const PTQOptions &options);

/// Registers `qopt-ptq`.
void registerPTQPipelines();

} // namespace mlir::qopt

#endif // QUANT_OPT_RECIPES_PTQ_H
