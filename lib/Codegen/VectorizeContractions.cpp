//===- VectorizeContractions.cpp - Register-blocked fp32 matmul kernels ---===//
//
// Turns f32 linalg.matmul / linalg.batch_matmul on buffers into
// register-blocked vector code:
//
//   for n0 in [0, N) step nr            (column panel of B stays in cache)
//     for m0 in [0, M) step mr
//       acc[mr][nr] = C[m0:m0+mr, n0:n0+nr]          (hoisted transfers)
//       for k in [0, K)
//         acc[i] += broadcast(A[m0+i, k]) * B[k, n0:n0+nr]   (vector.fma)
//       C[m0:m0+mr, n0:n0+nr] = acc
//
// The iteration space is split (linalg::splitOp) so that all but the ragged
// edges run on static, unmasked tiles: rows [0, M - M%mr) use mr x nr tiles;
// the remaining rows (all of M for decode, M = 1) use 1 x gemv-nr tiles;
// the last N % nr columns use masked vectorization.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/AttentionProducts.h"
#include "quant-opt/Codegen/Passes.h"

#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTVECTORIZECONTRACTIONSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {

/// Whether all operands are f32 memrefs and the op uses the default indexing
/// maps (no transposes or broadcasts folded into it).
bool isCandidate(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics())
    return false;
  for (Value operand : op->getOperands()) {
    auto type = dyn_cast<MemRefType>(operand.getType());
    if (!type || !type.getElementType().isF32())
      return false;
  }
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation()))
    return linalg::MatmulOp::isDefaultIndexingMaps(matmul.getIndexingMaps());
  if (auto batch = dyn_cast<linalg::BatchMatmulOp>(op.getOperation()))
    return linalg::BatchMatmulOp::isDefaultIndexingMaps(
        batch.getIndexingMaps());
  return false;
}

/// Marks loops to run on threads (see runOnOperation).
constexpr StringLiteral kParallelLoop = "qopt.parallel_panels";

/// Rewrites `op`, a matmul with `batchDims` leading batch dims on every
/// operand, as loops over them around a `linalg.matmul` on rank-reduced
/// views. The loop over the last batch dim is marked parallel when
/// `parallelLast`: its iterations write disjoint outputs.
linalg::MatmulOp unbatch(RewriterBase &rewriter, linalg::LinalgOp op,
                         int64_t batchDims, bool parallelLast) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value init = op.getDpsInits()[0];
  SmallVector<OpFoldResult> offsets;
  for (int64_t d = 0; d < batchDims; ++d) {
    Value size = getValueOrCreateConstantIndexOp(
        rewriter, loc, memref::getMixedSize(rewriter, loc, init, d));
    auto loop = scf::ForOp::create(rewriter, loc, zero, size, one);
    if (d == batchDims - 1 && parallelLast)
      loop->setAttr(kParallelLoop, rewriter.getUnitAttr());
    rewriter.setInsertionPointToStart(loop.getBody());
    offsets.push_back(loop.getInductionVar());
  }
  offsets.append(2, rewriter.getIndexAttr(0));
  auto slice = [&](Value source) -> Value {
    auto type = cast<MemRefType>(source.getType());
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> sizes(batchDims, rewriter.getIndexAttr(1));
    for (int64_t d = batchDims; d < rank; ++d)
      sizes.push_back(memref::getMixedSize(rewriter, loc, source, d));
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    auto resultType = memref::SubViewOp::inferRankReducedResultType(
        type.getShape().take_back(2), type, offsets, sizes, strides);
    return memref::SubViewOp::create(rewriter, loc,
                                     cast<MemRefType>(resultType), source,
                                     offsets, sizes, strides);
  };
  Value lhs = slice(op.getDpsInputs()[0]);
  Value rhs = slice(op.getDpsInputs()[1]);
  Value acc = slice(init);
  auto matmul = linalg::MatmulOp::create(rewriter, loc, ValueRange{lhs, rhs},
                                         ValueRange{acc});
  rewriter.eraseOp(op);
  return matmul;
}

/// A part of the iteration space with the tile sizes (m, n) to use, and
/// whether the tiles are full (static) or need masks.
struct Part {
  linalg::LinalgOp op;
  int64_t tileM, tileN;
  bool full;
};

/// Splits `op` along `dim` at the largest multiple of `tile` not above the
/// dimension's size. Parts that are statically empty are null.
std::pair<linalg::LinalgOp, linalg::LinalgOp>
splitAtMultiple(RewriterBase &rewriter, linalg::LinalgOp op, unsigned dim,
                int64_t tile) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t size = ranges[dim];
  if (!ShapedType::isDynamic(size)) {
    if (size % tile == 0)
      return {op, nullptr};
    if (size < tile)
      return {nullptr, op};
  }
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  SmallVector<Range> domain =
      cast<TilingInterface>(op.getOperation()).getIterationDomain(rewriter);
  AffineExpr s0 = rewriter.getAffineSymbolExpr(0);
  OpFoldResult point = affine::makeComposedFoldedAffineApply(
      rewriter, loc, s0.floorDiv(tile) * tile, {domain[dim].size});
  auto [first, second] = linalg::splitOp(
      rewriter, cast<TilingInterface>(op.getOperation()), dim, point);
  return {cast_or_null<linalg::LinalgOp>(first.getOperation()),
          cast_or_null<linalg::LinalgOp>(second.getOperation())};
}

/// Replaces `op` by the same op on operands cast to the static tile shape
/// (the caller guarantees the sizes at run time).
linalg::LinalgOp makeStatic(RewriterBase &rewriter, linalg::LinalgOp op,
                            ArrayRef<int64_t> sizes) {
  int64_t m = sizes[0], n = sizes[1], k = sizes[2];
  SmallVector<SmallVector<int64_t>> shapes = {{m, k}, {k, n}, {m, n}};
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands;
  for (auto [operand, shape] : llvm::zip(op->getOperands(), shapes)) {
    auto type = cast<MemRefType>(operand.getType());
    if (type.getShape() == ArrayRef<int64_t>(shape)) {
      operands.push_back(operand);
      continue;
    }
    auto staticType = MemRefType::get(shape, type.getElementType(),
                                      type.getLayout(), type.getMemorySpace());
    operands.push_back(
        memref::CastOp::create(rewriter, op.getLoc(), staticType, operand));
  }
  auto matmul = linalg::MatmulOp::create(rewriter, op.getLoc(),
                                         ValueRange{operands[0], operands[1]},
                                         ValueRange{operands[2]});
  rewriter.eraseOp(op);
  return matmul;
}

/// Marks the reduction loops of the tiles until their accumulators are
/// hoisted.
constexpr StringLiteral kReductionLoop = "qopt.reduction_loop";

/// Hoists the accumulator of a tile's reduction loop: a transfer_read /
/// transfer_write pair on the same (loop-invariant) C view, indices and
/// mask becomes a loop-carried vector. The loop's other memory accesses are
/// reads of A and B, which a matmul's output does not alias; the pair is
/// only hoisted when no other op in the loop uses the C view. (Unlike
/// linalg::hoistRedundantVectorTransfers, this accepts C views made by
/// reshapes, which is what the model's matmul outputs are.)
void hoistAccumulators(RewriterBase &rewriter, scf::ForOp loop) {
  moveLoopInvariantCode(cast<LoopLikeOpInterface>(loop.getOperation()));
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto write : loop.getBody()->getOps<vector::TransferWriteOp>()) {
      Value base = write.getBase();
      if (!isa<MemRefType>(base.getType()) ||
          !llvm::all_of(write->getOperands().drop_front(), [&](Value v) {
            return loop.isDefinedOutsideOfLoop(v);
          }))
        continue;
      vector::TransferReadOp read;
      bool others = false;
      for (Operation *user : base.getUsers()) {
        if (user == write || !loop->isAncestor(user))
          continue;
        auto candidate = dyn_cast<vector::TransferReadOp>(user);
        if (read || !candidate || candidate->getBlock() != loop.getBody() ||
            !candidate->isBeforeInBlock(write) ||
            candidate.getIndices() != write.getIndices() ||
            candidate.getMask() != write.getMask() ||
            candidate.getVectorType() != write.getVectorType() ||
            candidate.getPermutationMap() != write.getPermutationMap() ||
            !loop.isDefinedOutsideOfLoop(candidate.getPadding())) {
          others = true;
          break;
        }
        read = candidate;
      }
      if (others || !read)
        continue;
      rewriter.moveOpBefore(read, loop);
      Value updated = write.getVector();
      FailureOr<LoopLikeOpInterface> newLoop =
          cast<LoopLikeOpInterface>(loop.getOperation())
              .replaceWithAdditionalYields(
                  rewriter, read.getResult(),
                  /*replaceInitOperandUsesInLoop=*/true,
                  [&](OpBuilder &, Location, ArrayRef<BlockArgument>) {
                    return SmallVector<Value>{updated};
                  });
      if (failed(newLoop))
        return;
      loop = cast<scf::ForOp>(newLoop->getOperation());
      rewriter.moveOpAfter(write, loop);
      rewriter.modifyOpInPlace(write, [&] {
        write.getValueToStoreMutable().assign(loop.getResults().back());
      });
      changed = true;
      break;
    }
  }
  loop->removeAttr(kReductionLoop);
}

/// Replaces each loop-carried 2-D vector of `loop` by its rows, so that
/// the accumulator rows of a tile are separate 1-D loop-carried values (SSA
/// registers in LLVM) instead of one aggregate.
void splitVectorIterArgs(RewriterBase &rewriter, scf::ForOp loop) {
  auto isMatrix = [](Type type) {
    auto vector = dyn_cast<VectorType>(type);
    return vector && vector.getRank() == 2 && !vector.isScalable();
  };
  if (llvm::none_of(loop.getResultTypes(), isMatrix))
    return;
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> inits;
  for (Value init : loop.getInitArgs()) {
    if (!isMatrix(init.getType())) {
      inits.push_back(init);
      continue;
    }
    for (int64_t r = 0, e = cast<VectorType>(init.getType()).getDimSize(0);
         r < e; ++r)
      inits.push_back(vector::ExtractOp::create(rewriter, loc, init, r));
  }
  // Rebuilds a matrix from consecutive rows in `rows`.
  auto assemble = [&](VectorType type, ValueRange rows) -> Value {
    Value matrix = arith::ConstantOp::create(rewriter, loc, type,
                                             rewriter.getZeroAttr(type));
    for (auto [r, row] : llvm::enumerate(rows))
      matrix = vector::InsertOp::create(rewriter, loc, row, matrix,
                                        static_cast<int64_t>(r));
    return matrix;
  };
  auto newLoop =
      scf::ForOp::create(rewriter, loc, loop.getLowerBound(),
                         loop.getUpperBound(), loop.getStep(), inits);
  // Body: matrices from the row arguments, then the old body.
  rewriter.setInsertionPointToStart(newLoop.getBody());
  SmallVector<Value> blockArgs = {newLoop.getInductionVar()};
  unsigned next = 0;
  for (Type type : loop.getResultTypes()) {
    ValueRange args = newLoop.getRegionIterArgs();
    if (!isMatrix(type)) {
      blockArgs.push_back(args[next++]);
      continue;
    }
    int64_t rows = cast<VectorType>(type).getDimSize(0);
    blockArgs.push_back(
        assemble(cast<VectorType>(type), args.slice(next, rows)));
    next += rows;
  }
  rewriter.mergeBlocks(loop.getBody(), newLoop.getBody(), blockArgs);
  auto yield = cast<scf::YieldOp>(newLoop.getBody()->getTerminator());
  rewriter.setInsertionPoint(yield);
  SmallVector<Value> yielded;
  for (Value value : yield.getOperands()) {
    if (!isMatrix(value.getType())) {
      yielded.push_back(value);
      continue;
    }
    for (int64_t r = 0, e = cast<VectorType>(value.getType()).getDimSize(0);
         r < e; ++r)
      yielded.push_back(vector::ExtractOp::create(rewriter, loc, value, r));
  }
  rewriter.modifyOpInPlace(yield,
                           [&] { yield.getResultsMutable().assign(yielded); });
  // Results: matrices from the row results.
  rewriter.setInsertionPointAfter(newLoop);
  SmallVector<Value> results;
  next = 0;
  for (Type type : loop.getResultTypes()) {
    if (!isMatrix(type)) {
      results.push_back(newLoop.getResult(next++));
      continue;
    }
    int64_t rows = cast<VectorType>(type).getDimSize(0);
    results.push_back(assemble(cast<VectorType>(type),
                               newLoop.getResults().slice(next, rows)));
    next += rows;
  }
  rewriter.replaceOp(loop, results);
}

/// A contraction generic on f32 buffers of the form
/// `C[m0, m1, n] += A[m0, m1, k] * B[k, n]` (what elementwise fusion makes of
/// a matmul whose result is reshaped, e.g. GPT-2's linear layers and LM
/// head) as a `linalg.matmul` on collapsed views; null if not of that form.
linalg::MatmulOp matmulFromGeneric(RewriterBase &rewriter,
                                   linalg::GenericOp generic) {
  if (!generic.hasPureBufferSemantics() || generic.getNumLoops() != 4 ||
      generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(generic))
    return nullptr;
  for (Value operand : generic->getOperands())
    if (!cast<MemRefType>(operand.getType()).getElementType().isF32())
      return nullptr;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(generic);
  if (failed(dims) || !dims->batch.empty() || dims->m.size() != 2 ||
      dims->n.size() != 1 || dims->k.size() != 1 || dims->m[0] != 0 ||
      dims->m[1] != 1)
    return nullptr;
  rewriter.setInsertionPoint(generic);
  FailureOr<linalg::CollapseResult> collapsed =
      linalg::collapseOpIterationDims(generic, {{0, 1}}, rewriter);
  if (failed(collapsed))
    return nullptr;
  rewriter.eraseOp(generic);
  auto collapsedGeneric =
      dyn_cast<linalg::GenericOp>(collapsed->collapsedOp.getOperation());
  if (!collapsedGeneric)
    return nullptr;
  FailureOr<linalg::LinalgOp> named =
      linalg::specializeGenericOp(rewriter, collapsedGeneric);
  if (failed(named))
    return nullptr;
  return dyn_cast<linalg::MatmulOp>(named->getOperation());
}

/// Whether `op`'s B operand (K x N) is static and at least `minWeights`.
bool worthThreads(linalg::LinalgOp op, int64_t minWeights) {
  auto b = cast<ShapedType>(op.getDpsInputs()[1].getType());
  return minWeights > 0 && b.hasStaticShape() &&
         b.getNumElements() >= minWeights;
}

/// Replaces `loop` (on buffers: no results) by an scf.parallel with the same
/// bounds and body.
void makeParallel(RewriterBase &rewriter, scf::ForOp loop) {
  rewriter.setInsertionPoint(loop);
  auto parallel = scf::ParallelOp::create(
      rewriter, loop.getLoc(), ValueRange{loop.getLowerBound()},
      ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()});
  rewriter.eraseOp(loop.getBody()->getTerminator());
  rewriter.inlineBlockBefore(loop.getBody(),
                             parallel.getBody()->getTerminator(),
                             parallel.getInductionVars());
  rewriter.eraseOp(loop);
}

struct QOptVectorizeContractionsPass
    : qopt::impl::QOptVectorizeContractionsPassBase<
          QOptVectorizeContractionsPass> {
  using Base::Base;

  LogicalResult tileAndVectorize(RewriterBase &rewriter, Part part,
                                 bool threads) {
    SmallVector<OpFoldResult> tileSizes = {rewriter.getIndexAttr(part.tileM),
                                           rewriter.getIndexAttr(part.tileN),
                                           rewriter.getIndexAttr(1)};
    scf::SCFTilingOptions options;
    options.setTileSizes(tileSizes);
    // Column panels outermost: a panel of B is reused by all row blocks.
    options.setInterchange({1, 0, 2});
    rewriter.setInsertionPoint(part.op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(part.op.getOperation()), options);
    if (failed(tiled))
      return part.op->emitError("cannot tile this contraction");
    rewriter.eraseOp(part.op);
    tiled->loops.back()->setAttr(kReductionLoop, rewriter.getUnitAttr());
    if (threads)
      tiled->loops.front()->setAttr(kParallelLoop, rewriter.getUnitAttr());
    auto tile = cast<linalg::LinalgOp>(tiled->tiledOps.back());
    SmallVector<int64_t> vectorSizes = {part.tileM, part.tileN, 1};
    if (part.full) {
      tile = makeStatic(rewriter, tile, vectorSizes);
      vectorSizes.clear();
    }
    rewriter.setInsertionPoint(tile);
    // Explicit: the vectorizer builds mask types from these flags.
    SmallVector<bool> scalable(vectorSizes.size(), false);
    FailureOr<linalg::VectorizationResult> vectorized = linalg::vectorize(
        rewriter, tile, vectorSizes, scalable,
        /*vectorizeNDExtract=*/false, /*flatten1DDepthwiseConv=*/false,
        /*assumeDynamicDimsMatchVecSizes=*/false,
        /*createNamedContraction=*/true);
    if (failed(vectorized))
      return tile->emitError("cannot vectorize this contraction tile");
    rewriter.eraseOp(tile);
    return success();
  }

  LogicalResult vectorizeMatmul(RewriterBase &rewriter, linalg::LinalgOp op) {
    // Not nested inside a parallel heads loop.
    bool threads = worthThreads(op, parallelMinWeights) &&
                   !op->getParentOp()->hasAttr(kParallelLoop);
    SmallVector<Part> parts;
    auto [rowsFull, rowsRest] = splitAtMultiple(rewriter, op, 0, tileM);
    for (auto [rows, tm, tn] :
         {std::make_tuple(rowsFull, (int64_t)tileM, (int64_t)tileN),
          std::make_tuple(rowsRest, (int64_t)1, (int64_t)gemvTileN)}) {
      if (!rows)
        continue;
      auto [colsFull, colsRest] = splitAtMultiple(rewriter, rows, 1, tn);
      if (colsFull)
        parts.push_back({colsFull, tm, tn, /*full=*/true});
      if (colsRest)
        parts.push_back({colsRest, tm, tn, /*full=*/false});
    }
    for (Part part : parts)
      if (failed(tileAndVectorize(rewriter, part, threads)))
        return failure();
    return success();
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *context = &getContext();
    IRRewriter rewriter(context);
    SmallVector<linalg::GenericOp> generics;
    func.walk([&](linalg::GenericOp op) { generics.push_back(op); });
    for (linalg::GenericOp generic : generics) {
      if (qopt::isTwoBatchMatmul(generic))
        unbatch(rewriter, generic, /*batchDims=*/2, parallelMinWeights > 0);
      else
        (void)matmulFromGeneric(rewriter, generic);
    }
    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op.getOperation()) &&
          isCandidate(op))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    for (linalg::LinalgOp op : ops) {
      if (auto batch = dyn_cast<linalg::BatchMatmulOp>(op.getOperation()))
        op = unbatch(rewriter, batch, /*batchDims=*/1, /*parallelLast=*/false);
      if (failed(vectorizeMatmul(rewriter, op)))
        return signalPassFailure();
    }

    // The masked (ragged-edge) tiles: masks on the transfers suffice. The
    // reduction dimension of a tile is a single, always valid k, so every
    // valid output lane depends only on valid input lanes; the lanes outside
    // the masks are never stored. Dropping the mask on vector.contract lets
    // it lower to the same FMAs as the full tiles.
    func.walk([&](vector::MaskOp mask) {
      auto contract =
          dyn_cast_or_null<vector::ContractionOp>(mask.getMaskableOp());
      if (!contract)
        return;
      rewriter.setInsertionPoint(mask);
      Operation *unmasked = rewriter.clone(*contract);
      rewriter.replaceOp(mask, unmasked->getResults());
    });
    // Last, so that the loop rewrites below only see scf.for.
    auto parallelize = [&] {
      SmallVector<scf::ForOp> panelLoops;
      func.walk([&](scf::ForOp loop) {
        if (loop->hasAttr(kParallelLoop))
          panelLoops.push_back(loop);
      });
      for (scf::ForOp loop : panelLoops)
        makeParallel(rewriter, loop);
    };
    if (!lowerVectors) {
      func.walk([](scf::ForOp loop) { loop->removeAttr(kReductionLoop); });
      parallelize();
      return;
    }
    auto apply = [&](function_ref<void(RewritePatternSet &)> populate) {
      RewritePatternSet patterns(context);
      populate(patterns);
      vector::ExtractOp::getCanonicalizationPatterns(patterns, context);
      vector::InsertOp::getCanonicalizationPatterns(patterns, context);
      vector::BroadcastOp::getCanonicalizationPatterns(patterns, context);
      return applyPatternsGreedily(func, std::move(patterns));
    };
    // Masks as transfer operands; then the accumulators out of the
    // reduction loops (CSE first: pairs are matched by SSA indices).
    if (failed(apply([](RewritePatternSet &patterns) {
          vector::populateVectorMaskLoweringPatternsForSideEffectingOps(
              patterns);
        })))
      return signalPassFailure();
    DominanceInfo dominance(func);
    eliminateCommonSubExpressions(rewriter, dominance, func);
    SmallVector<scf::ForOp> reductionLoops;
    func.walk([&](scf::ForOp loop) {
      if (loop->hasAttr(kReductionLoop))
        reductionLoops.push_back(loop);
    });
    for (scf::ForOp loop : reductionLoops)
      hoistAccumulators(rewriter, loop);
    SmallVector<scf::ForOp> loops;
    func.walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      splitVectorIterArgs(rewriter, loop);
    // 2-D transfers -> row transfers; vector.contract -> outer products ->
    // FMAs on rows.
    if (failed(apply([](RewritePatternSet &patterns) {
          populateVectorToSCFConversionPatterns(
              patterns, VectorTransferToSCFOptions().enableFullUnroll());
        })))
      return signalPassFailure();
    if (failed(apply([](RewritePatternSet &patterns) {
          vector::populateVectorContractLoweringPatterns(
              patterns, vector::VectorContractLowering::OuterProduct);
          vector::populateVectorOuterProductLoweringPatterns(patterns);
          vector::populateVectorTransferPermutationMapLoweringPatterns(
              patterns);
          vector::populateVectorTransposeLoweringPatterns(
              patterns, vector::VectorTransposeLowering::EltWise);
          vector::populateVectorShapeCastLoweringPatterns(patterns);
        })))
      return signalPassFailure();
    parallelize();
  }
};

} // namespace
