//===- LowerToLLVM.cpp - The reference lowering to the LLVM dialect -------===//

#include "quant-opt/Pipelines/LowerToLLVM.h"
#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Conversion/KernelTarget.h"
#include "quant-opt/Conversion/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Quant/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

mlir::qopt::CodegenOptions mlir::qopt::LowerToLLVMOptions::codegen() const {
  CodegenOptions result;
#define QOPT_CODEGEN_OPTION(TYPE, FIELD, FLAG, DEFAULT, HELP)                  \
  result.FIELD = FIELD;
#include "quant-opt/Pipelines/CodegenOptions.def"
  return result;
}

void mlir::qopt::buildLowerToLLVMPipeline(OpPassManager &pm,
                                          const CodegenOptions &options,
                                          StringRef weights,
                                          StringRef kernelTarget) {
  bool forRuntime = !weights.empty();
  // Tensor level.
  if (forRuntime && options.kvCacheInPlace)
    pm.addPass(createQOptKVCacheInPlacePass());
  if (forRuntime && options.lastPositionEntry)
    pm.addPass(createQOptLastPositionLogitsPass());
  if (forRuntime) {
    pm.addPass(createQOptPrepareEntryPointsPass());
    // Before anything rewrites the imported ops: what the model assumes
    // about its inputs' shapes, checked when it is called.
    pm.addPass(createQOptInsertRuntimeChecksPass());
    pm.addPass(createQOptOutlineRuntimeChecksPass());
  }
  pm.addNestedPass<func::FuncOp>(createQOptSortGroupIndexPass());
  pm.addNestedPass<func::FuncOp>(createQOptDecomposeAggregatesPass());
  pm.addNestedPass<func::FuncOp>(createQOptFoldConstantTransposesPass());
  pm.addNestedPass<func::FuncOp>(quant::createLowerQuantOps());
  // lower-quant-ops emits arith on whole tensors.
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  // qopt ops after fusion: fusing the run-time weight unpacking into a
  // (generalized) matmul would unpack every weight once per output row.
  // The kernels take the qmatmuls they can; the reference the rest.
  if (kernelTarget != "reference") {
    ConvertQOptToKernelsPassOptions kernels;
    kernels.target = kernelTarget.str();
    kernels.fuseInputQuantization = options.fuseInputQuantization;
    pm.addPass(createConvertQOptToKernelsPass(kernels));
  }
  // f32 linear layers: weights packed into the kernels' panels.
  if (options.vectorizeContractions) {
    ConvertF32MatmulsToKernelsPassOptions f32;
    std::optional<KernelTarget> target = parseKernelTarget(kernelTarget);
    for (int64_t rows : f32KernelRowBlocks(target.value_or(hostKernelTarget())))
      f32.rowBlocks.push_back(rows);
    pm.addPass(createConvertF32MatmulsToKernelsPass(f32));
  }
  pm.addNestedPass<func::FuncOp>(createConvertQOptToLinalgPass());
  pm.addNestedPass<func::FuncOp>(quant::createLowerQuantOps());
  pm.addNestedPass<func::FuncOp>(createConvertElementwiseToLinalgPass());
  if (options.approximateMath)
    pm.addNestedPass<func::FuncOp>(createQOptApproximateMathPass());

  // Buffers.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // Ops that fill a tensor.empty later inserted into a buffer (the new
  // keys/values into the KV cache) write into that buffer directly.
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  // Elementwise ops overwrite an input that dies there (attention scores).
  pm.addNestedPass<func::FuncOp>(createQOptElementwiseInPlacePass());
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  if (forRuntime && options.kvCacheInPlace)
    pm.addNestedPass<func::FuncOp>(createQOptVerifyKVCacheInPlacePass());
  if (forRuntime) {
    QOptExternalizeWeightsPassOptions externalize;
    externalize.archivePath = weights.str();
    externalize.minBytes = options.minWeightBytes;
    pm.addPass(createQOptExternalizeWeightsPass(externalize));
  }
  // Vector kernels for f32 matmuls; the other contractions get loops with a
  // unit-stride inner loop.
  if (options.vectorizeContractions) {
    // Decode's attention scores without the K^T copy (before the matmuls
    // are vectorized: the many-row branch keeps the copy and the matmul).
    QOptTransposedKeyDotProductsPassOptions dots;
    dots.parallel = options.parallel;
    pm.addNestedPass<func::FuncOp>(
        createQOptTransposedKeyDotProductsPass(dots));
    std::optional<KernelTarget> target = parseKernelTarget(kernelTarget);
    MatmulTile tile = f32MatmulTileFor(target.value_or(hostKernelTarget()));
    QOptVectorizeContractionsPassOptions vectorize;
    vectorize.tileM = tile.rows;
    vectorize.tileN = tile.columns;
    vectorize.gemvTileN = tile.gemvColumns;
    pm.addNestedPass<func::FuncOp>(
        createQOptVectorizeContractionsPass(vectorize));
  }
  pm.addNestedPass<func::FuncOp>(createQOptInterchangeContractionsPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // Upstream's buffer-deallocation-pipeline, with each buffer freed after
  // its last use instead of at the end of its block.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createBufferDeallocationSimplificationPass());
  pm.addNestedPass<func::FuncOp>(createQOptFreeBuffersEarlyPass());
  pm.addPass(bufferization::createLowerDeallocationsPass());
  // The deallocation passes clone a buffer the function returns but does not
  // own (a constant output: a memref.get_global); the clone becomes an
  // alloc and a copy the caller frees.
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Copies of strided views as loops, not calls into MLIR's runner utils.
  pm.addNestedPass<func::FuncOp>(createQOptExpandStridedCopiesPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  // Each distinct loop nest compiled once (before scf-to-openmp, so that a
  // parallel loop's OpenMP body is outlined once too).
  if (options.outlineLoopNests)
    pm.addPass(createQOptOutlineLoopNestsPass());
  // scf.forall (kernels) -> scf.parallel; with `parallel`, every scf.parallel
  // becomes an OpenMP worksharing loop, otherwise scf-to-cf makes it serial.
  pm.addPass(createForallToParallelLoopPass());
  if (options.parallel) {
    pm.addPass(createConvertSCFToOpenMPPass());
    // scf-to-openmp wraps each body in a memref.alloca_scope, which must
    // stay one block; the canonicalizer inlines the scopes without allocas
    // (all of ours) before scf-to-cf splits the bodies into blocks.
    pm.addPass(createCanonicalizerPass());
  }
  // Before expand-strided-metadata: see the pass's description.
  pm.addNestedPass<func::FuncOp>(createQOptLowerContiguousReshapesPass());
  pm.addPass(memref::createExpandStridedMetadataPass());

  // LLVM.
  pm.addPass(createConvertQOptIntrinsicsToLLVMPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // For the runtime, allocations go through _mlir_memref_to_llvm_alloc,
  // which qopt-emit-runtime-interface defines to stop with a message when
  // malloc fails instead of letting the code write through null.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = forRuntime;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createArithToLLVMConversionPass());
  if (options.parallel)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  if (forRuntime)
    pm.addPass(createQOptEmitRuntimeInterfacePass());
}

void mlir::qopt::registerLowerToLLVMPipeline() {
  PassPipelineRegistration<LowerToLLVMOptions>(
      "qopt-lower-to-llvm",
      "Lower an imported model to the LLVM dialect (reference lowering: "
      "bufferize, loops, LLVM; weights=FILE compiles for the runtime)",
      [](OpPassManager &pm, const LowerToLLVMOptions &options) {
        buildLowerToLLVMPipeline(pm, options.codegen(), options.weights,
                                 options.kernels);
      });
}
