//===- LastPositionLogits.cpp - An entry point for next-token logits ------===//
//
// Generation needs the logits of the last position only, but an ONNX export
// computes them for every position: for a 512-token prompt of GPT-2 124M
// that is a 103 MB result and a third of the prefill's work. This pass adds
// `<entry>_last_position`, a copy of each language-model entry point whose
// LM head runs on the last position's hidden state only.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTLASTPOSITIONLOGITSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// `logits = expand_shape(matmul(collapse_shape(hidden), W))`, the form the
/// importer gives a linear layer on `[batch, sequence, d]` (also after
/// quantization, where the matmul is a qopt.qmatmul or qopt.fmatmul).
struct LMHead {
  tensor::ExpandShapeOp expand;
  Operation *matmul;
  tensor::CollapseShapeOp collapse;
};

/// Whether `indices` groups the first two of three dims: [[0, 1], [2]].
bool mergesBatchAndSequence(ArrayRef<ReassociationIndices> indices) {
  return indices.size() == 2 && indices[0] == ReassociationIndices{0, 1} &&
         indices[1] == ReassociationIndices{2};
}

/// The row input of a linear layer `matmul` ([M, K] x [K, N] -> [M, N]).
Value linearInput(Operation *matmul) {
  if (auto mm = dyn_cast<linalg::MatmulOp>(matmul)) {
    if (mm.hasUserDefinedMaps() ||
        !mm.getDpsInits()[0].getDefiningOp<linalg::FillOp>())
      return {};
    return mm.getInputs()[0];
  }
  if (auto q = dyn_cast<qopt::QMatmulOp>(matmul))
    return q.getInput();
  if (auto f = dyn_cast<qopt::FMatmulOp>(matmul))
    return f.getInput();
  return {};
}

std::optional<LMHead> matchLMHead(Value logits) {
  auto expand = logits.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getResultType().getRank() != 3 ||
      !mergesBatchAndSequence(expand.getReassociationIndices()))
    return std::nullopt;
  Operation *matmul = expand.getSrc().getDefiningOp();
  if (!matmul || !matmul->hasOneUse() ||
      expand.getSrcType().isDynamicDim(1)) // The vocabulary.
    return std::nullopt;
  Value input = linearInput(matmul);
  auto collapse =
      input ? input.getDefiningOp<tensor::CollapseShapeOp>() : nullptr;
  if (!collapse || collapse.getSrcType().getRank() != 3 ||
      !mergesBatchAndSequence(collapse.getReassociationIndices()))
    return std::nullopt;
  return LMHead{expand, matmul, collapse};
}

/// Replaces `head` (in a copy of the entry) by the same layer on the last
/// position: [batch, 1, d] -> [batch, d] -> matmul -> [batch, 1, vocab].
Value buildLastPositionHead(OpBuilder &b, LMHead head) {
  Location loc = head.expand.getLoc();
  b.setInsertionPoint(head.expand);
  Value hidden = head.collapse.getSrc();
  OpFoldResult batch = tensor::getMixedSize(b, loc, hidden, 0);
  OpFoldResult width = tensor::getMixedSize(b, loc, hidden, 2);
  Value sequence = tensor::DimOp::create(b, loc, hidden, 1);
  Value lastIndex = arith::SubIOp::create(
      b, loc, sequence, arith::ConstantIndexOp::create(b, loc, 1));
  Value last = tensor::ExtractSliceOp::create(
      b, loc, hidden,
      ArrayRef<OpFoldResult>{b.getIndexAttr(0), lastIndex, b.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{batch, b.getIndexAttr(1), width},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1),
                             b.getIndexAttr(1)});
  // A dense copy: the strided slice cannot be collapsed in place, and
  // bufferization would otherwise copy it with memrefCopy, a call into
  // MLIR's runner utils (which load all of libMLIR) for a few KB.
  auto lastType = cast<RankedTensorType>(last.getType());
  Value dense = tensor::EmptyOp::create(
      b, loc, ArrayRef<OpFoldResult>{batch, b.getIndexAttr(1), width},
      lastType.getElementType());
  Value copied = linalg::CopyOp::create(b, loc, last, dense).getResult(0);
  Value rows = tensor::CollapseShapeOp::create(
      b, loc, copied, head.collapse.getReassociationIndices());

  auto fullType = cast<RankedTensorType>(head.matmul->getResult(0).getType());
  int64_t vocab = fullType.getDimSize(1);
  auto rowsType = cast<RankedTensorType>(rows.getType());
  auto outType = RankedTensorType::get({rowsType.getDimSize(0), vocab},
                                       fullType.getElementType());
  Operation *matmul = b.clone(*head.matmul);
  matmul->setOperand(0, rows);
  matmul->getResult(0).setType(outType);
  if (auto mm = dyn_cast<linalg::MatmulOp>(matmul)) {
    // A fresh zero-filled accumulator of the new shape.
    auto fill = mm.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
    b.setInsertionPoint(matmul);
    Value empty = tensor::EmptyOp::create(
        b, loc,
        ArrayRef<OpFoldResult>{tensor::getMixedSize(b, loc, rows, 0),
                               b.getIndexAttr(vocab)},
        fullType.getElementType());
    Value acc =
        linalg::FillOp::create(b, loc, fill.getInputs()[0], empty).getResult(0);
    mm.getDpsInitsMutable()[0].set(acc);
    b.setInsertionPointAfter(matmul);
  }
  auto expandedType = RankedTensorType::get({rowsType.getDimSize(0), 1, vocab},
                                            fullType.getElementType());
  return tensor::ExpandShapeOp::create(
      b, loc, expandedType, matmul->getResult(0),
      head.expand.getReassociationIndices(),
      ArrayRef<OpFoldResult>{batch, b.getIndexAttr(1), b.getIndexAttr(vocab)});
}

bool isLogits(func::FuncOp func, unsigned result) {
  auto name = func.getResultAttrOfType<StringAttr>(result, "onnx.name");
  return name && name.getValue() == "logits";
}

struct QOptLastPositionLogitsPass
    : qopt::impl::QOptLastPositionLogitsPassBase<QOptLastPositionLogitsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal() && !func->hasAttr(kMarker) &&
          func.getNumResults() > 0 && isLogits(func, 0))
        entries.push_back(func);
    for (func::FuncOp func : entries) {
      std::string name = (func.getSymName() + "_last_position").str();
      if (symbols.lookup(name))
        continue; // Already there (the pass ran before).
      auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
      if (!matchLMHead(ret.getOperand(0)))
        continue; // Another form: the runtime uses the full entry.
      func::FuncOp copy = func.clone();
      copy.setSymName(name);
      copy->setAttr(kMarker, func.getSymNameAttr());
      symbols.insert(copy, std::next(Block::iterator(func)));
      auto copyRet =
          cast<func::ReturnOp>(copy.getBody().front().getTerminator());
      std::optional<LMHead> head = matchLMHead(copyRet.getOperand(0));
      OpBuilder b(copy);
      Value logits = buildLastPositionHead(b, *head);
      copyRet.setOperand(0, logits);
      head->expand.erase();
      head->matmul->erase();
      if (head->collapse->use_empty())
        head->collapse.erase();
      SmallVector<Type> results(copy.getResultTypes());
      results[0] = logits.getType();
      copy.setType(
          FunctionType::get(&getContext(), copy.getArgumentTypes(), results));
    }
  }

  static constexpr StringLiteral kMarker = "qopt.last_position_of";
};
} // namespace
