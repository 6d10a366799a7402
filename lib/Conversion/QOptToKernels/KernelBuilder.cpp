//===- KernelBuilder.cpp - Building the quantized matmul kernels ----------===//

#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::qopt;

Value KernelBuilder::concat(ArrayRef<Value> parts) {
  while (parts.size() > 1) {
    SmallVector<Value> next;
    for (size_t i = 0; i + 1 < parts.size(); i += 2) {
      int64_t n = cast<VectorType>(parts[i].getType()).getNumElements();
      SmallVector<int64_t> mask;
      for (int64_t j = 0; j < 2 * n; ++j)
        mask.push_back(j);
      next.push_back(
          vector::ShuffleOp::create(b, loc, parts[i], parts[i + 1], mask));
    }
    if (parts.size() % 2)
      next.push_back(parts.back());
    return concat(next);
  }
  return parts.front();
}

SmallVector<Value> KernelBuilder::split(Value v, int64_t count) {
  int64_t n = cast<VectorType>(v.getType()).getNumElements() / count;
  SmallVector<Value> parts;
  for (int64_t i = 0; i < count; ++i)
    parts.push_back(vector::ExtractStridedSliceOp::create(
        b, loc, v, ArrayRef<int64_t>{i * n}, ArrayRef<int64_t>{n},
        ArrayRef<int64_t>{1}));
  return parts;
}

Value qopt::forEachRowBlock(KernelBuilder &kb, Value m, Value init,
                            ArrayRef<int64_t> blocks,
                            function_ref<Value(Value, int64_t, Value)> body) {
  OpBuilder &b = kb.b;
  Location loc = kb.loc;
  // Each size takes the whole blocks of what the larger ones left.
  Value start = kb.index(0), out = init;
  SmallVector<int64_t> sizes(blocks);
  sizes.push_back(1);
  for (int64_t block : sizes) {
    Value left = arith::SubIOp::create(b, loc, m, start);
    Value end = block == 1
                    ? m
                    : arith::SubIOp::create(
                          b, loc, m,
                          arith::RemUIOp::create(b, loc, left, kb.index(block)))
                          .getResult();
    auto loop = scf::ForOp::create(
        b, loc, start, end, kb.index(block), ValueRange{out},
        [&](OpBuilder &nb, Location nl, Value m0, ValueRange args) {
          scf::YieldOp::create(nb, nl, body(m0, block, args[0]));
        });
    start = end;
    out = loop.getResult(0);
  }
  return out;
}

SmallVector<Value> qopt::foldGroups(
    KernelBuilder &kb, int64_t groups, int64_t length, int64_t lastLength,
    ValueRange init,
    function_ref<SmallVector<Value>(Value, int64_t, ValueRange)> term) {
  bool raggedLast = lastLength != length;
  SmallVector<Value> acc(init);
  if (int64_t looped = raggedLast ? groups - 1 : groups) {
    auto loop = scf::ForOp::create(
        kb.b, kb.loc, kb.index(0), kb.index(looped), kb.index(1), acc,
        [&](OpBuilder &, Location, Value g, ValueRange ys) {
          scf::YieldOp::create(kb.b, kb.loc, term(g, length, ys));
        });
    acc.assign(loop.getResults().begin(), loop.getResults().end());
  }
  if (raggedLast)
    acc = term(kb.index(groups - 1), lastLength, acc);
  return acc;
}

func::FuncOp qopt::getOrCreateKernel(
    ModuleOp module, SymbolTable &symbols, StringRef name, FunctionType type,
    function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  if (auto existing = symbols.lookup<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  auto func = func::FuncOp::create(b, loc, name, type);
  func.setPrivate();
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  body(b, loc, entry->getArguments());
  symbols.insert(func);
  return func;
}

func::FuncOp
qopt::getOrCreatePanelKernel(ModuleOp module, SymbolTable &symbols,
                             StringRef name, ArrayRef<Type> argTypes,
                             RankedTensorType output,
                             ArrayRef<int64_t> rowBlocks,
                             function_ref<Value(KernelBuilder &, ValueRange,
                                                Value, Value, int64_t, Value)>
                                 panelRows) {
  auto type = FunctionType::get(module.getContext(), argTypes, {output});
  return getOrCreateKernel(
      module, symbols, name, type,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        KernelBuilder kb{b, loc};
        int64_t n = output.getDimSize(1);
        int64_t panels = llvm::divideCeil(n, kPanel);
        Value m = tensor::DimOp::create(b, loc, args[0], 0);
        Value init = tensor::EmptyOp::create(
            b, loc, output.getShape(), output.getElementType(), ValueRange{m});
        // Panels are independent: each writes its own columns. The last one
        // is narrower when N is not a multiple of the panel.
        auto forall = scf::ForallOp::create(
            b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(panels)},
            ValueRange{init}, std::nullopt,
            [&](OpBuilder &, Location, ValueRange regionArgs) {
              Value p = regionArgs[0], shared = regionArgs[1];
              Value n0 = kb.mul(p, kPanel);
              OpFoldResult width = b.getIndexAttr(kPanel);
              if (n % kPanel)
                width = arith::MinSIOp::create(
                            b, loc, kb.index(kPanel),
                            arith::SubIOp::create(b, loc, kb.index(n), n0))
                            .getResult();
              SmallVector<OpFoldResult> offsets{b.getIndexAttr(0), n0},
                  sizes{m, width}, strides(2, b.getIndexAttr(1));
              Value tile = tensor::ExtractSliceOp::create(
                  b, loc, shared, offsets, sizes, strides);
              Value result = forEachRowBlock(
                  kb, m, tile, rowBlocks,
                  [&](Value m0, int64_t rows, Value tile) {
                    return panelRows(kb, args, p, m0, rows, tile);
                  });
              auto inParallel = scf::InParallelOp::create(b, loc);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPointToStart(inParallel.getBody());
              tensor::ParallelInsertSliceOp::create(b, loc, result, shared,
                                                    offsets, sizes, strides);
            });
        func::ReturnOp::create(b, loc, forall.getResult(0));
      });
}
