//===- FloatKernel.cpp - INT4/INT8/f32 weights with f32 activations -------===//
//
// y[m, n] = sum_g s[g, n] * sum_{k in g} x[m, k] * u[k, n] + b[g, n] * X[m, g]
// with u the stored (unsigned for 4 bits) weight, b = -zp * s and X the
// group sums of x. Weights are unpacked in registers (mask/shift, convert)
// one panel row of 16 columns at a time and never materialized as floats;
// each unpacked row serves a block of rows of x (f32KernelRowBlocks: 8 on
// AVX-512, else 4), one accumulator register per row. For one
// row (decode) the kernel streams each weight panel once, with four
// independent accumulator chains. f32 weights (callF32Kernel) take the same
// path with nothing to unpack: one group, no scale.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct FloatKernelShape {
  int64_t k, n, group, groups, panels, bytesPerRow;
  unsigned bits;
  bool signedBytes, hasBias;
};

/// One panel row (16 weights) as vector<16xf32>, unpacked from its bytes.
/// Nibbles are split in 32-bit lanes (x86: one vpmovzxbd, then and/shift,
/// and a signed convert, exact for 0..15).
Value unpackRow(KernelBuilder &kb, const FloatKernelShape &s, Value bytes) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  auto f32x16 = VectorType::get({kPanel}, b.getF32Type());
  if (s.bits == 32)
    return bytes; // f32 weights, read as they are.
  if (s.bits == 8)
    return s.signedBytes
               ? arith::SIToFPOp::create(b, loc, f32x16, bytes).getResult()
               : arith::UIToFPOp::create(b, loc, f32x16, bytes).getResult();
  auto i32x8 = VectorType::get({kPanel / 2}, b.getI32Type());
  auto f32x8 = VectorType::get({kPanel / 2}, b.getF32Type());
  Value wide = arith::ExtUIOp::create(b, loc, i32x8, bytes);
  Value low = arith::AndIOp::create(b, loc, wide,
                                    kb.splat(i32x8, b.getI32IntegerAttr(15)));
  Value high = arith::ShRUIOp::create(b, loc, wide,
                                      kb.splat(i32x8, b.getI32IntegerAttr(4)));
  // Signed nibbles are stored offset by 8: taking the 8 off in registers
  // spares a bias per group (symmetric weights then need none).
  if (s.signedBytes) {
    Value eight = kb.splat(i32x8, b.getI32IntegerAttr(8));
    low = arith::SubIOp::create(b, loc, low, eight);
    high = arith::SubIOp::create(b, loc, high, eight);
  }
  return kb.concat({arith::SIToFPOp::create(b, loc, f32x8, low),
                    arith::SIToFPOp::create(b, loc, f32x8, high)});
}

/// Rows [m0, m0 + rows) of panel p, written into the panel's `tile`.
Value panelRows(KernelBuilder &kb, const FloatKernelShape &s, ValueRange args,
                Value p, Value m0, int64_t rows, Value tile) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  Value x = args[0], w = args[1], scales = s.bits == 32 ? Value() : args[2];
  Value biases = s.hasBias ? args[3] : Value(),
        xsums = s.hasBias ? args[4] : Value();
  auto f32x16 = VectorType::get({kPanel}, b.getF32Type());
  auto bytesType =
      s.bits == 32 ? f32x16 : VectorType::get({s.bytesPerRow}, b.getI8Type());
  SmallVector<Value> rowIndex;
  for (int64_t r = 0; r < rows; ++r)
    rowIndex.push_back(kb.add(m0, r));
  Value zero = kb.splat(f32x16, b.getF32FloatAttr(0));
  // The terms of group g (`length` rows of K from g * group on) added to
  // the rows' accumulators `accs`.
  auto groupTerm = [&](Value g, int64_t length, ValueRange accs) {
    // A single row (decode) would chain every FMA of a group on one
    // accumulator (4-cycle latency each): give it `chains` independent ones
    // over interleaved k, summed at the end of the group.
    int64_t chains = rows == 1 && length % 4 == 0 ? 4 : 1;
    SmallVector<Value> chainZeros(rows * chains, zero);
    Value k0 = kb.mul(g, s.group);
    auto ks = scf::ForOp::create(
        b, loc, kb.index(0), kb.index(length), kb.index(chains), chainZeros,
        [&](OpBuilder &, Location, Value kk, ValueRange gaccs) {
          SmallVector<Value> next;
          for (int64_t c = 0; c < chains; ++c) {
            Value k = kb.add(arith::AddIOp::create(b, loc, k0, kk), c);
            Value bytes = kb.read(bytesType, w, ValueRange{p, k, kb.index(0)});
            Value row = unpackRow(kb, s, bytes);
            for (int64_t r = 0; r < rows; ++r) {
              Value xv = tensor::ExtractOp::create(b, loc, x,
                                                   ValueRange{rowIndex[r], k});
              Value xb = vector::BroadcastOp::create(b, loc, f32x16, xv);
              next.push_back(
                  vector::FMAOp::create(b, loc, xb, row, gaccs[c * rows + r]));
            }
          }
          scf::YieldOp::create(b, loc, next);
        });
    // Pairwise: chain c += chain c + half, until one is left.
    SmallVector<Value> sums(ks.getResults());
    for (int64_t half = chains / 2; half >= 1; half /= 2)
      for (int64_t i = 0; i < half * rows; ++i)
        sums[i] = arith::AddFOp::create(b, loc, sums[i], sums[i + half * rows]);
    sums.resize(rows);
    if (s.bits == 32) // One group, no scale.
      return sums;
    Value scale = kb.read(f32x16, scales, ValueRange{p, g, kb.index(0)});
    Value bias = s.hasBias
                     ? kb.read(f32x16, biases, ValueRange{p, g, kb.index(0)})
                     : Value();
    SmallVector<Value> next;
    for (int64_t r = 0; r < rows; ++r) {
      Value acc = vector::FMAOp::create(b, loc, sums[r], scale, accs[r]);
      if (bias) {
        Value xs = tensor::ExtractOp::create(b, loc, xsums,
                                             ValueRange{rowIndex[r], g});
        acc = vector::FMAOp::create(
            b, loc, vector::BroadcastOp::create(b, loc, f32x16, xs), bias, acc);
      }
      next.push_back(acc);
    }
    return next;
  };
  SmallVector<Value> accs =
      foldGroups(kb, s.groups, s.group, s.k - (s.groups - 1) * s.group,
                 SmallVector<Value>(rows, zero), groupTerm);
  bool inBounds = s.n % kPanel == 0;
  for (int64_t r = 0; r < rows; ++r)
    tile = vector::TransferWriteOp::create(b, loc, accs[r], tile,
                                           ValueRange{rowIndex[r], kb.index(0)},
                                           ArrayRef<bool>{inBounds})
               .getResult();
  return tile;
}

/// Group sums X[m, g] of the rows of x (f32 [?, K]), f32 [?, groups]: row
/// k of x goes to group k / group (the last group may be shorter).
Value groupSums(OpBuilder &b, Location loc, Value x, int64_t group,
                int64_t groups) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type();
  Value m = tensor::DimOp::create(b, loc, x, 0);
  Value empty = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{ShapedType::kDynamic, groups}, f32,
      ValueRange{m});
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  AffineExpr md = getAffineDimExpr(0, ctx), kd = getAffineDimExpr(1, ctx);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{x}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(2, ctx),
                          AffineMap::get(2, 0, {md, kd.floorDiv(group)}, ctx)},
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                       utils::IteratorType::reduction},
      [](OpBuilder &nb, Location nl, ValueRange a) {
        linalg::YieldOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, a[1], a[0]).getResult());
      });
  return generic.getResult(0);
}

} // namespace

PackedWeightView qopt::lowerToFloatKernel(QMatmulOp op, const QMatmulWeights &w,
                                          KernelTarget target,
                                          RewriterBase &rewriter,
                                          SymbolTable &symbols) {
  Location loc = op.getLoc();
  FloatKernelWeights packed = packForFloatKernel(w);
  FloatKernelShape s{w.k,      w.n,        w.group,
                     w.groups, w.panels(), packed.bytesPerRow,
                     w.bits,   w.isSigned, packed.hasBias};
  Type f32 = rewriter.getF32Type();
  auto xType = op.getInput().getType();
  auto outType = op.getOutput().getType();
  auto wType = RankedTensorType::get({s.panels, s.k, s.bytesPerRow},
                                     rewriter.getI8Type());
  auto paramType = RankedTensorType::get({s.panels, s.groups, kPanel}, f32);
  auto dynRows = RankedTensorType::get({ShapedType::kDynamic, s.k}, f32);
  auto outDyn = RankedTensorType::get({ShapedType::kDynamic, s.n}, f32);
  SmallVector<Type> argTypes{dynRows, wType, paramType};
  if (s.hasBias)
    argTypes.append({paramType, RankedTensorType::get(
                                    {ShapedType::kDynamic, s.groups}, f32)});
  std::string name = llvm::formatv("qopt_kernel_w{0}{1}_f32_k{2}_n{3}_g{4}{5}",
                                   s.bits, s.signedBytes ? "s" : "u", s.k, s.n,
                                   s.group, s.hasBias ? "_zp" : "")
                         .str();
  func::FuncOp kernel = getOrCreatePanelKernel(
      op->getParentOfType<ModuleOp>(), symbols, name, argTypes, outDyn,
      f32KernelRowBlocks(target),
      [&](KernelBuilder &kb, ValueRange args, Value p, Value m0, int64_t rows,
          Value tile) { return panelRows(kb, s, args, p, m0, rows, tile); });

  rewriter.setInsertionPoint(op);
  Value x = op.getInput();
  if (xType != dynRows)
    x = tensor::CastOp::create(rewriter, loc, dynRows, x);
  SmallVector<Value> operands{
      x,
      createResourceConstant(rewriter, loc, wType, packed.bytes,
                             "kernel_weight"),
      createResourceConstant(rewriter, loc, paramType,
                             ArrayRef<float>(packed.scales), "kernel_scales")};
  if (s.hasBias) {
    operands.push_back(createResourceConstant(rewriter, loc, paramType,
                                              ArrayRef<float>(packed.biases),
                                              "kernel_biases"));
    operands.push_back(groupSums(rewriter, loc, x, s.group, s.groups));
  }
  Value y = func::CallOp::create(rewriter, loc, kernel, operands).getResult(0);
  if (outType != outDyn)
    y = tensor::CastOp::create(rewriter, loc, outType, y);
  rewriter.replaceOp(op, y);
  return {PackedWeightView::Layout::FloatPanels,
          s.bits,
          s.signedBytes,
          s.group,
          1,
          operands[1],
          operands[2],
          s.hasBias ? operands[3] : Value()};
}

Value qopt::callF32Kernel(OpBuilder &b, Location loc, ModuleOp module,
                          SymbolTable &symbols, Value x, int64_t k, int64_t n,
                          ArrayRef<float> weights,
                          ArrayRef<int64_t> rowBlocks) {
  int64_t panels = llvm::divideCeil(n, kPanel);
  FloatKernelShape s{k, n, k, 1, panels, 4 * kPanel, 32, false, false};
  Type f32 = b.getF32Type();
  auto wType = RankedTensorType::get({panels, k, kPanel}, f32);
  auto dynRows = RankedTensorType::get({ShapedType::kDynamic, k}, f32);
  auto outDyn = RankedTensorType::get({ShapedType::kDynamic, n}, f32);
  std::string name = llvm::formatv("qopt_kernel_f32_k{0}_n{1}", k, n).str();
  // Built at the end of the module with its own builder.
  func::FuncOp kernel = getOrCreatePanelKernel(
      module, symbols, name, {dynRows, wType}, outDyn, rowBlocks,
      [&](KernelBuilder &kb, ValueRange args, Value p, Value m0, int64_t rows,
          Value tile) { return panelRows(kb, s, args, p, m0, rows, tile); });
  // [K, N] -> [P, K, 16], zeros past N.
  std::vector<float> packed(panels * k * kPanel, 0.0f);
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t c = 0; c < n; ++c)
      packed[((c / kPanel) * k + kk) * kPanel + c % kPanel] =
          weights[kk * n + c];
  Value w = createResourceConstant(b, loc, wType, ArrayRef<float>(packed),
                                   "kernel_weight");
  if (x.getType() != dynRows)
    x = tensor::CastOp::create(b, loc, dynRows, x);
  return func::CallOp::create(b, loc, kernel, ValueRange{x, w}).getResult(0);
}
