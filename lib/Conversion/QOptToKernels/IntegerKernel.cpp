//===- IntegerKernel.cpp - W8A8 / W4A8: int8 x int8 -> int32 kernels -----===//
//
// x is quantized per tensor (static) or per row (dynamic) exactly as the
// reference lowering does, and stored as x' = q - off in bytes the target's
// dot product reads (unsigned for vpmaddwd/vpdpbusd/usmmla, signed for
// sdot and vpmaddubsw). Weights w' are bytes (see packForIntegerKernel;
// 4-bit ones are unpacked from nibbles in registers). With zx' = zx - off,
// and per group g of K: C = column sums of w', R' = row sums of x':
//
//   I_g = sum_k (q - zx)(w - zw) = sum_k x' w' - zx' C - zw' R' + G zx' zw'
//
// in int32, which equals the reference's int32 sum. The scale is applied
// as the reference does, y = sum_g float(I_g) * (sx * sw_g) with g upwards
// (float(I) * (sx * sw) for one group), so the results are bit-identical.
//
// Per target, one step of the reduction over a block of ku values of k,
// for a panel of 16 columns and a block of rows:
//   generic          ku = 1  sign-extend, multiply, add (any CPU)
//   x86-64-avx2      ku = 2  vpmaddwd on 16-bit pairs (exact, no VNNI);
//                    4-bit weights: ku = 4, vpmaddubsw (u4 x s8, exact:
//                    |pair| <= 2 * 15 * 128) then vpmaddwd by ones
//   x86-64-avx512-vnni ku = 4  vpdpbusd (u8 x s8, sums of four)
//   aarch64-dotprod  ku = 4  sdot (s8 x s8, sums of four)
//   aarch64-i8mm     ku = 8  usmmla (2x8 u8 by 8x2 s8 per instruction)
//
//===----------------------------------------------------------------------===//

#include "InputQuantization.h"
#include "KernelBuilder.h"
#include "quant-opt/Conversion/ActivationQuantization.h"

#include "mlir/Dialect/ArmNeon/ArmNeonDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct IntegerShape {
  KernelTarget target;
  int64_t k, paddedK, n, panels, ku;
  bool xSigned, hasZeroPoint;
  unsigned bits;
  int64_t groups; // Groups of K (1: per tensor or per channel).
  int64_t group;  // k per group, a multiple of ku (paddedK for one group).
  /// k-blocks per group, and in the last one: what is left of Kp, shorter
  /// when the group size does not divide K (its padding included).
  int64_t blocksPerGroup() const { return group / ku; }
  int64_t blocksInLastGroup() const {
    return paddedK / ku - (groups - 1) * blocksPerGroup();
  }
};

int64_t kBlockOf(KernelTarget target, unsigned bits) {
  switch (target) {
  case KernelTarget::Generic:
    return 1;
  case KernelTarget::X86AVX2:
    return bits == 4 ? 4 : 2;
  case KernelTarget::X86AVX512VNNI:
  case KernelTarget::AArch64DotProd:
    return 4;
  case KernelTarget::AArch64I8MM:
    return 8;
  }
  llvm_unreachable("unknown kernel target");
}

/// The row pairs of usmmla (a single row pairs with itself).
int64_t pairsOf(int64_t rows) { return (rows + 1) / 2; }

/// Accumulators for `rows` rows, all zero.
SmallVector<Value> zeroAccumulators(KernelBuilder &kb, const IntegerShape &s,
                                    int64_t rows) {
  Type i32 = kb.b.getI32Type();
  auto zeros = [&](int64_t lanes, int64_t count) {
    Value z =
        kb.splat(VectorType::get({lanes}, i32), kb.b.getI32IntegerAttr(0));
    return SmallVector<Value>(count, z);
  };
  switch (s.target) {
  case KernelTarget::Generic:
  case KernelTarget::X86AVX512VNNI:
    return zeros(16, rows);
  case KernelTarget::X86AVX2:
    return zeros(8, 2 * rows);
  case KernelTarget::AArch64DotProd:
    return zeros(4, 4 * rows);
  case KernelTarget::AArch64I8MM:
    return zeros(4, 8 * pairsOf(rows));
  }
  llvm_unreachable("unknown kernel target");
}

/// `count` bytes of row `m` of xq at k = kBlock * ku, as one scalar of
/// count * 8 bits.
Value xBits(KernelBuilder &kb, Value xq, Value m, Value kBlock, int64_t count,
            int64_t ku) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value k = kb.mul(kBlock, ku);
  Value bytes =
      kb.read(VectorType::get({count}, b.getI8Type()), xq, ValueRange{m, k});
  Type wide = b.getIntegerType(8 * count);
  Value v =
      vector::BitCastOp::create(b, loc, VectorType::get({1}, wide), bytes);
  return vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0});
}

/// A scalar broadcast to `lanes` lanes and reinterpreted as `as`.
Value broadcastAs(KernelBuilder &kb, Value scalar, int64_t lanes,
                  VectorType as) {
  Value v = vector::BroadcastOp::create(
      kb.b, kb.loc, VectorType::get({lanes}, scalar.getType()), scalar);
  return vector::BitCastOp::create(kb.b, kb.loc, as, v);
}

/// One reduction step over k-block `kBlock` of panel `p`.
SmallVector<Value> step(KernelBuilder &kb, const IntegerShape &s, Value xq,
                        Value w, Value p, Value kBlock, ArrayRef<Value> rowsIdx,
                        ValueRange accs) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Type i8 = b.getI8Type(), i16 = b.getI16Type(), i32 = b.getI32Type();
  int64_t rows = rowsIdx.size();
  Value weights;
  if (s.bits == 8) {
    weights = kb.read(VectorType::get({kPanel * s.ku}, i8), w,
                      ValueRange{p, kBlock, kb.index(0)});
  } else {
    // Low nibbles are the block's first half, high nibbles its second.
    auto half = VectorType::get({kPanel * s.ku / 2}, i8);
    Value bytes = kb.read(half, w, ValueRange{p, kBlock, kb.index(0)});
    weights =
        kb.concat({arith::AndIOp::create(
                       b, loc, bytes, kb.splat(half, b.getI8IntegerAttr(15))),
                   arith::ShRUIOp::create(
                       b, loc, bytes, kb.splat(half, b.getI8IntegerAttr(4)))});
  }
  SmallVector<Value> next;
  if (s.target == KernelTarget::X86AVX2 && s.bits == 4) {
    // 32 bytes = 8 columns x 4 k: vpmaddubsw sums pairs into i16, vpmaddwd
    // by ones sums those into the column's i32.
    auto i8x32 = VectorType::get({32}, i8), i16x16 = VectorType::get({16}, i16);
    auto i32x8 = VectorType::get({8}, i32);
    SmallVector<Value> halves = kb.split(weights, 2);
    Value ones = kb.splat(i16x16, b.getI16IntegerAttr(1));
    auto maddubs = b.getStringAttr("llvm.x86.avx2.pmadd.ub.sw");
    auto madd = b.getStringAttr("llvm.x86.avx2.pmadd.wd");
    for (int64_t r = 0; r < rows; ++r) {
      Value xb =
          broadcastAs(kb, xBits(kb, xq, rowsIdx[r], kBlock, 4, 4), 8, i8x32);
      for (int64_t h = 0; h < 2; ++h) {
        Value pairs = PureIntrinsicOp::create(b, loc, i16x16, maddubs,
                                              ValueRange{halves[h], xb});
        Value quads = PureIntrinsicOp::create(b, loc, i32x8, madd,
                                              ValueRange{pairs, ones});
        next.push_back(arith::AddIOp::create(b, loc, accs[2 * r + h], quads));
      }
    }
    return next;
  }
  switch (s.target) {
  case KernelTarget::Generic: {
    auto i32x16 = VectorType::get({kPanel}, i32);
    Value wide = arith::ExtSIOp::create(b, loc, i32x16, weights);
    for (int64_t r = 0; r < rows; ++r) {
      Value xv =
          tensor::ExtractOp::create(b, loc, xq, ValueRange{rowsIdx[r], kBlock});
      xv = arith::ExtUIOp::create(b, loc, i32, xv);
      Value prod = arith::MulIOp::create(
          b, loc, wide, vector::BroadcastOp::create(b, loc, i32x16, xv));
      next.push_back(arith::AddIOp::create(b, loc, accs[r], prod));
    }
    return next;
  }
  case KernelTarget::X86AVX2: {
    auto i16x16 = VectorType::get({16}, i16), i32x8 = VectorType::get({8}, i32);
    Value wide =
        arith::ExtSIOp::create(b, loc, VectorType::get({32}, i16), weights);
    SmallVector<Value> halves = kb.split(wide, 2);
    auto intrinsic = b.getStringAttr("llvm.x86.avx2.pmadd.wd");
    for (int64_t r = 0; r < rows; ++r) {
      // The pair (x[k], x[k+1]) zero-extended to two i16, in every lane.
      Value pair = kb.read(VectorType::get({2}, i8), xq,
                           ValueRange{rowsIdx[r], kb.mul(kBlock, 2)});
      pair = arith::ExtUIOp::create(b, loc, VectorType::get({2}, i16), pair);
      pair = vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), pair);
      Value xb = broadcastAs(
          kb, vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{0}), 8,
          i16x16);
      for (int64_t h = 0; h < 2; ++h) {
        Value prod = PureIntrinsicOp::create(b, loc, i32x8, intrinsic,
                                             ValueRange{halves[h], xb});
        next.push_back(arith::AddIOp::create(b, loc, accs[2 * r + h], prod));
      }
    }
    return next;
  }
  case KernelTarget::X86AVX512VNNI: {
    auto intrinsic = b.getStringAttr("llvm.x86.avx512.vpdpbusd.512");
    auto i8x64 = VectorType::get({64}, i8);
    for (int64_t r = 0; r < rows; ++r) {
      Value xb =
          broadcastAs(kb, xBits(kb, xq, rowsIdx[r], kBlock, 4, 4), 16, i8x64);
      next.push_back(PureIntrinsicOp::create(b, loc, accs[r].getType(),
                                             intrinsic,
                                             ValueRange{accs[r], xb, weights}));
    }
    return next;
  }
  case KernelTarget::AArch64DotProd: {
    SmallVector<Value> columns = kb.split(weights, 4);
    auto i8x16 = VectorType::get({16}, i8);
    for (int64_t r = 0; r < rows; ++r) {
      Value xb =
          broadcastAs(kb, xBits(kb, xq, rowsIdx[r], kBlock, 4, 4), 4, i8x16);
      for (int64_t c = 0; c < 4; ++c)
        next.push_back(
            arm_neon::SdotOp::create(b, loc, accs[4 * r + c].getType(),
                                     accs[4 * r + c], columns[c], xb));
    }
    return next;
  }
  case KernelTarget::AArch64I8MM: {
    SmallVector<Value> columnPairs = kb.split(weights, 8);
    auto i8x8 = VectorType::get({8}, i8);
    Value k = kb.mul(kBlock, 8);
    for (int64_t pr = 0; pr < pairsOf(rows); ++pr) {
      Value first = rowsIdx[2 * pr];
      Value second = 2 * pr + 1 < rows ? rowsIdx[2 * pr + 1] : first;
      Value a = kb.concat({kb.read(i8x8, xq, ValueRange{first, k}),
                           kb.read(i8x8, xq, ValueRange{second, k})});
      for (int64_t c = 0; c < 8; ++c)
        next.push_back(
            arm_neon::UsmmlaOp::create(b, loc, accs[8 * pr + c].getType(),
                                       accs[8 * pr + c], a, columnPairs[c]));
    }
    return next;
  }
  }
  llvm_unreachable("unknown kernel target");
}

/// The accumulators of each row as vector<16xi32>.
SmallVector<Value> rowAccumulators(KernelBuilder &kb, const IntegerShape &s,
                                   ValueRange accs, int64_t rows) {
  SmallVector<Value> out;
  switch (s.target) {
  case KernelTarget::Generic:
  case KernelTarget::X86AVX512VNNI:
    return SmallVector<Value>(accs);
  case KernelTarget::X86AVX2:
  case KernelTarget::AArch64DotProd: {
    int64_t parts = accs.size() / rows;
    for (int64_t r = 0; r < rows; ++r)
      out.push_back(
          kb.concat(SmallVector<Value>(accs.slice(r * parts, parts))));
    return out;
  }
  case KernelTarget::AArch64I8MM: {
    // Each accumulator is the 2x2 tile [a0 a1; b0 b1] of a column pair.
    for (int64_t pr = 0; pr < pairsOf(rows); ++pr) {
      Value all = kb.concat(SmallVector<Value>(accs.slice(8 * pr, 8)));
      for (int64_t half = 0; half < 2 && 2 * pr + half < rows; ++half) {
        SmallVector<int64_t> mask;
        for (int64_t c = 0; c < 8; ++c)
          mask.append({4 * c + 2 * half, 4 * c + 2 * half + 1});
        out.push_back(vector::ShuffleOp::create(kb.b, kb.loc, all, all, mask));
      }
    }
    return out;
  }
  }
  llvm_unreachable("unknown kernel target");
}

/// Rows [m0, m0 + rows) of panel p: the reduction, the zero-point terms and
/// the scale, written into the panel's `tile`.
Value panelRows(KernelBuilder &kb, const IntegerShape &s, ValueRange args,
                Value p, Value m0, int64_t rows, Value tile) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value xq = args[0], w = args[1], colSums = args[2], wScales = args[3],
        xZero = args[4], xScales = args[5];
  Value wZero = s.hasZeroPoint ? args[6] : Value(),
        xSums = s.hasZeroPoint ? args[7] : Value();
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto i32x16 = VectorType::get({kPanel}, i32);
  auto f32x16 = VectorType::get({kPanel}, f32);
  SmallVector<Value> rowIdx;
  for (int64_t r = 0; r < rows; ++r)
    rowIdx.push_back(kb.add(m0, r));
  auto splat = [&](Value v, VectorType t) {
    return vector::BroadcastOp::create(b, loc, t, v).getResult();
  };
  Value n0 = kb.mul(p, kPanel);
  Value zero = kb.splat(f32x16, b.getF32FloatAttr(0));
  // The terms of group g (its k-blocks from g * blocksPerGroup on) added to
  // the rows' sums `ys`.
  auto groupTerm = [&](Value g, int64_t blocks, ValueRange ys) {
    int64_t groupK = blocks * s.ku;
    Value first = kb.mul(g, s.blocksPerGroup());
    auto reduction = scf::ForOp::create(
        b, loc, first, arith::AddIOp::create(b, loc, first, kb.index(blocks)),
        kb.index(1), zeroAccumulators(kb, s, rows),
        [&](OpBuilder &, Location, Value kBlock, ValueRange accs) {
          scf::YieldOp::create(b, loc,
                               step(kb, s, xq, w, p, kBlock, rowIdx, accs));
        });
    SmallVector<Value> accs =
        rowAccumulators(kb, s, reduction.getResults(), rows);
    Value c = kb.read(i32x16, colSums, ValueRange{g, n0});
    Value sw = kb.read(f32x16, wScales, ValueRange{g, n0});
    Value zw = wZero ? kb.read(i32x16, wZero, ValueRange{g, n0}) : Value();
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      Value zx = tensor::ExtractOp::create(b, loc, xZero, rowIdx[r]);
      Value t = arith::SubIOp::create(
          b, loc, accs[r], arith::MulIOp::create(b, loc, splat(zx, i32x16), c));
      if (zw) {
        Value rs =
            tensor::ExtractOp::create(b, loc, xSums, ValueRange{rowIdx[r], g});
        Value kzx = arith::MulIOp::create(
            b, loc, zx,
            arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(groupK)));
        t = arith::SubIOp::create(
            b, loc, t, arith::MulIOp::create(b, loc, zw, splat(rs, i32x16)));
        t = arith::AddIOp::create(
            b, loc, t, arith::MulIOp::create(b, loc, zw, splat(kzx, i32x16)));
      }
      Value sx = tensor::ExtractOp::create(b, loc, xScales, rowIdx[r]);
      Value scale = arith::MulFOp::create(b, loc, splat(sx, f32x16), sw);
      Value y = arith::MulFOp::create(
          b, loc, arith::SIToFPOp::create(b, loc, f32x16, t), scale);
      // As the reference: the groups' terms added in order (one group:
      // the term itself).
      next.push_back(s.groups == 1
                         ? y
                         : arith::AddFOp::create(b, loc, ys[r], y).getResult());
    }
    return next;
  };
  SmallVector<Value> sums =
      foldGroups(kb, s.groups, s.blocksPerGroup(), s.blocksInLastGroup(),
                 SmallVector<Value>(rows, zero), groupTerm);
  for (int64_t r = 0; r < rows; ++r)
    tile = vector::TransferWriteOp::create(b, loc, sums[r], tile,
                                           ValueRange{rowIdx[r], kb.index(0)},
                                           ArrayRef<bool>{s.n % kPanel == 0})
               .getResult();
  return tile;
}

} // namespace

bool qopt::integerKernelTakes(const QMatmulWeights &w, KernelTarget target) {
  return w.groups == 1 || w.group % kBlockOf(target, w.bits) == 0;
}

PackedWeightView qopt::lowerToIntegerKernel(QMatmulOp op,
                                            const QMatmulWeights &w,
                                            KernelTarget target, bool fuseInput,
                                            RewriterBase &rewriter,
                                            SymbolTable &symbols) {
  Location loc = op.getLoc();
  int64_t ku = kBlockOf(target, w.bits);
  IntegerKernelWeights packed = packForIntegerKernel(w, ku);
  bool xSigned = target == KernelTarget::AArch64DotProd ||
                 (target == KernelTarget::X86AVX2 && w.bits == 4);
  IntegerShape s{target,
                 w.k,
                 packed.paddedK,
                 w.n,
                 w.panels(),
                 ku,
                 xSigned,
                 packed.hasZeroPoint,
                 w.bits,
                 w.groups,
                 w.groups == 1 ? packed.paddedK : w.group};
  Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type(),
       f32 = rewriter.getF32Type();
  int64_t dyn = ShapedType::kDynamic, columns = s.panels * kPanel;
  auto xqType = RankedTensorType::get({dyn, s.paddedK}, i8);
  auto wType = RankedTensorType::get(
      {s.panels, s.paddedK / ku, kPanel * ku * s.bits / 8}, i8);
  auto colI32 = RankedTensorType::get({s.groups, columns}, i32);
  auto colF32 = RankedTensorType::get({s.groups, columns}, f32);
  auto rowI32 = RankedTensorType::get({dyn}, i32);
  auto rowF32 = RankedTensorType::get({dyn}, f32);
  auto outDyn = RankedTensorType::get({dyn, s.n}, f32);
  SmallVector<Type> argTypes{xqType, wType, colI32, colF32, rowI32, rowF32};
  auto rowGroupsI32 = RankedTensorType::get({dyn, s.groups}, i32);
  if (s.hasZeroPoint)
    argTypes.append({colI32, rowGroupsI32});
  std::string groupTag =
      s.groups == 1 ? "" : llvm::formatv("_g{0}", w.group).str();
  std::string name = llvm::formatv("qopt_kernel_w{0}a8_{1}_k{2}_n{3}{4}{5}",
                                   s.bits, kernelTargetName(target), s.k, s.n,
                                   groupTag, s.hasZeroPoint ? "_zp" : "")
                         .str();
  std::replace(name.begin(), name.end(), '-', '_');
  func::FuncOp kernel = getOrCreatePanelKernel(
      op->getParentOfType<ModuleOp>(), symbols, name, argTypes, outDyn,
      integerRowBlocks(target, s.paddedK * kPanel * s.bits / 8),
      [&](KernelBuilder &kb, ValueRange args, Value p, Value m0, int64_t rows,
          Value tile) { return panelRows(kb, s, args, p, m0, rows, tile); });

  // The caller: quantize x as the reference does, store x' = q - off,
  // in x's producer where it can.
  OpBuilder &b = rewriter;
  rewriter.setInsertionPoint(op);
  KernelInputLayout layout{s.k,
                           s.paddedK,
                           xSigned ? 128 : 0,
                           xSigned,
                           s.hasZeroPoint ? s.groups : 0,
                           s.group};
  // Signed activations (static i8) are shifted to the target's bytes too.
  if (auto inputType = op.getInputTypeAttr())
    if (cast<quant::QuantizedType>(inputType.getValue()).getStorageTypeMin() <
        0)
      layout.offset -= 128;
  FailureOr<KernelInput> input = failure();
  if (fuseInput)
    input = quantizeKernelInputInProducer(rewriter, loc, op, layout);
  Operation *producer = op.getInput().getDefiningOp();
  if (failed(input)) {
    Value x = op.getInput();
    auto xDyn = RankedTensorType::get({dyn, s.k}, f32);
    if (x.getType() != xDyn)
      x = tensor::CastOp::create(b, loc, xDyn, x);
    input = quantizeKernelInput(b, loc, op, x, layout);
    producer = nullptr;
  }
  Value xq = input->bytes, xZero = input->zeroPoint, xScale = input->scale;
  auto i32Constant = [&](ArrayRef<int32_t> v, StringRef name) {
    return createResourceConstant(b, loc, colI32, v, name);
  };
  SmallVector<Value> operands{
      xq,
      createResourceConstant(b, loc, wType, packed.bytes, "kernel_weight"),
      i32Constant(packed.columnSums, "kernel_column_sums"),
      createResourceConstant(b, loc, colF32, ArrayRef<float>(packed.scales),
                             "kernel_scales"),
      xZero,
      xScale};
  if (s.hasZeroPoint) {
    operands.push_back(i32Constant(packed.zeroPoints, "kernel_zero_points"));
    operands.push_back(input->rowSums);
  }
  Value y = func::CallOp::create(rewriter, loc, kernel, operands).getResult(0);
  if (op.getOutput().getType() != outDyn)
    y = tensor::CastOp::create(rewriter, loc, op.getOutput().getType(), y);
  rewriter.replaceOp(op, y);
  // A fused producer (and the reshape between) computed nothing else.
  while (producer && producer->use_empty()) {
    Operation *next = producer->getNumOperands()
                          ? producer->getOperand(0).getDefiningOp()
                          : nullptr;
    bool reshape = isa<tensor::CollapseShapeOp>(producer);
    rewriter.eraseOp(producer);
    producer = reshape ? next : nullptr;
  }
  return {PackedWeightView::Layout::IntegerBlocks,
          s.bits,
          true,
          w.group,
          ku,
          operands[1],
          operands[3],
          s.hasZeroPoint ? operands[6] : Value()};
}
