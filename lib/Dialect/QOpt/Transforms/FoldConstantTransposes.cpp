//===- FoldConstantTransposes.cpp - Transpose constants at compile time ---===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTFOLDCONSTANTTRANSPOSESPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;

namespace {
/// `source` (row-major `shape`, `width`-byte elements) permuted so that
/// result dim i is source dim perm[i].
void permute(ArrayRef<char> source, char *result, ArrayRef<int64_t> shape,
             ArrayRef<int64_t> perm, size_t width) {
  size_t rank = shape.size();
  SmallVector<int64_t> sourceStrides(rank, 1), resultShape(rank);
  for (size_t i = rank - 1; i > 0; --i)
    sourceStrides[i - 1] = sourceStrides[i] * shape[i];
  for (size_t i = 0; i < rank; ++i)
    resultShape[i] = shape[perm[i]];
  SmallVector<int64_t> index(rank, 0); // Index into the result.
  int64_t count = ShapedType::getNumElements(shape);
  for (int64_t n = 0; n < count; ++n) {
    int64_t offset = 0;
    for (size_t i = 0; i < rank; ++i)
      offset += index[i] * sourceStrides[perm[i]];
    std::memcpy(result + n * width, source.data() + offset * width, width);
    for (size_t i = rank; i-- > 0;) {
      if (++index[i] < resultShape[i])
        break;
      index[i] = 0;
    }
  }
}

struct QOptFoldConstantTransposesPass
    : qopt::impl::QOptFoldConstantTransposesPassBase<
          QOptFoldConstantTransposesPass> {
  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp op) {
      if (op.hasPureTensorSemantics())
        transposes.push_back(op);
    });
    for (linalg::TransposeOp op : transposes) {
      auto constant = op.getInput().getDefiningOp<arith::ConstantOp>();
      auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
      if (!constant || !type)
        continue;
      ArrayRef<char> source =
          qopt::denseConstantBytes(constant.getValue(), type);
      if (source.empty())
        continue;
      size_t width = qopt::wholeByteWidth(type.getElementType());
      AsmResourceBlob blob =
          HeapAsmResourceBlob::allocate(source.size(), alignof(uint64_t));
      permute(source, blob.getMutableData().data(), type.getShape(),
              op.getPermutation(), width);
      auto resultType = cast<RankedTensorType>(op.getResult()[0].getType());
      OpBuilder b(op);
      auto folded = arith::ConstantOp::create(
          b, op.getLoc(),
          DenseResourceElementsAttr::get(resultType, "transposed",
                                         std::move(blob)));
      op.getResult()[0].replaceAllUsesWith(folded);
      op.erase();
      if (constant->use_empty())
        constant.erase();
    }
  }
};
} // namespace
