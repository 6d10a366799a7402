//===- AttentionProducts.cpp - Recognizing attention's matmuls ------------===//

#include "quant-opt/Codegen/AttentionProducts.h"

using namespace mlir;

bool qopt::isTwoBatchMatmul(linalg::GenericOp generic) {
  if (!generic.hasPureBufferSemantics() || generic.getNumLoops() != 5 ||
      generic.getNumDpsInputs() != 2 || generic.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(generic))
    return false;
  for (Value operand : generic->getOperands())
    if (!cast<MemRefType>(operand.getType()).getElementType().isF32())
      return false;
  MLIRContext *ctx = generic.getContext();
  AffineExpr b, h, m, n, k;
  bindDims(ctx, b, h, m, n, k);
  auto map = [&](ArrayRef<AffineExpr> results) {
    return AffineMap::get(5, 0, results, ctx);
  };
  SmallVector<AffineMap> expected = {map({b, h, m, k}), map({b, h, k, n}),
                                     map({b, h, m, n})};
  return generic.getIndexingMapsArray() == expected;
}
