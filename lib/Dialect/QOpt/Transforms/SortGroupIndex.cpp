//===- SortGroupIndex.cpp - Rows sorted by group, input gathered to match -===//
//
// qmatmul(x, W, g_idx) = qmatmul(x[:, perm], W[perm, :]) where perm lists the
// input channels group by group (stable), so that the weight's groups are
// contiguous again and every lowering handles the op as it is.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/QuantParams.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSORTGROUPINDEXPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

/// x[:, perm] for x : [M, K] as a linalg.generic gathering along K.
Value gatherColumns(OpBuilder &b, Location loc, Value x, Value perm) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, x);
  Value init = tensor::EmptyOp::create(b, loc, sizes, type.getElementType());
  AffineMap identity = b.getMultiDimIdentityMap(2);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{identity},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                    utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value row = linalg::IndexOp::create(nb, nloc, 0);
        Value col = linalg::IndexOp::create(nb, nloc, 1);
        Value source = tensor::ExtractOp::create(nb, nloc, perm, col);
        Value sourceIndex =
            arith::IndexCastOp::create(nb, nloc, nb.getIndexType(), source);
        Value v = tensor::ExtractOp::create(nb, nloc, x,
                                            ValueRange{row, sourceIndex});
        linalg::YieldOp::create(nb, nloc, v);
      });
  return generic.getResult(0);
}

LogicalResult sortGroupIndex(QMatmulOp op) {
  auto fail = [&](const Twine &message) {
    return op.emitError() << "qopt-sort-group-index: " << message;
  };
  DenseElementsAttr indexValues;
  Attribute indexAttr, weightAttr;
  if (!matchPattern(op.getGroupIndex(), m_Constant(&indexAttr)) ||
      !matchPattern(op.getWeight(), m_Constant(&weightAttr)))
    return fail("group_index and the weight must be constants");
  auto indexType = cast<RankedTensorType>(op.getGroupIndex().getType());
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  ArrayRef<char> indexBytes = denseConstantBytes(indexAttr, indexType);
  ArrayRef<char> weightBytes = denseConstantBytes(weightAttr, weightType);
  int64_t k = weightType.getDimSize(0), rowBytes = weightType.getDimSize(1);
  int64_t groupSize = op.getGroupSize(), groups = groupCount(k, groupSize);
  std::vector<int32_t> groupOf(k);
  if (auto dense = dyn_cast<DenseElementsAttr>(indexAttr);
      dense && dense.isSplat())
    std::fill(groupOf.begin(), groupOf.end(),
              dense.getSplatValue<APInt>().getSExtValue());
  else if ((int64_t)indexBytes.size() == k * 4)
    std::memcpy(groupOf.data(), indexBytes.data(), k * 4);
  else
    return fail("cannot read group_index");
  std::vector<char> splatBytes;
  if (auto dense = dyn_cast<DenseElementsAttr>(weightAttr);
      dense && dense.isSplat()) {
    // Every row is the same: nothing to reorder but the input.
    splatBytes.assign(
        k * rowBytes,
        static_cast<char>(dense.getSplatValue<APInt>().getZExtValue()));
    weightBytes = splatBytes;
  }
  if ((int64_t)weightBytes.size() != k * rowBytes)
    return fail("cannot read the weight");
  std::vector<int64_t> members(groups, 0);
  for (int64_t r = 0; r < k; ++r) {
    if (groupOf[r] < 0 || groupOf[r] >= groups)
      return fail("group_index[" + Twine(r) + "] = " + Twine(groupOf[r]) +
                  " is not a group (0 to " + Twine(groups - 1) + ")");
    ++members[groupOf[r]];
  }
  for (int64_t g = 0; g < groups; ++g)
    if (members[g] != groupRows(k, groupSize, g))
      return fail("group " + Twine(g) + " has " + Twine(members[g]) +
                  " input channels, the weight type's group has " +
                  Twine(groupRows(k, groupSize, g)));
  std::vector<int32_t> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), [&](int32_t a, int32_t b) {
    return groupOf[a] < groupOf[b];
  });
  std::vector<char> sorted(k * rowBytes);
  for (int64_t r = 0; r < k; ++r)
    std::memcpy(sorted.data() + r * rowBytes,
                weightBytes.data() + perm[r] * rowBytes, rowBytes);

  OpBuilder b(op);
  Location loc = op.getLoc();
  Value weight = createResourceConstant(b, loc, weightType,
                                        ArrayRef<char>(sorted), "qweight");
  Value permutation = createResourceConstant(
      b, loc, indexType, ArrayRef<int32_t>(perm), "input_permutation");
  Value input = gatherColumns(b, loc, op.getInput(), permutation);
  op.getInputMutable().assign(input);
  op.getWeightMutable().assign(weight);
  op.getGroupIndexMutable().clear();
  return success();
}

struct QOptSortGroupIndexPass
    : qopt::impl::QOptSortGroupIndexPassBase<QOptSortGroupIndexPass> {
  void runOnOperation() override {
    SmallVector<QMatmulOp> ops;
    getOperation().walk([&](QMatmulOp op) {
      if (op.getGroupIndex())
        ops.push_back(op);
    });
    bool failedAny = false;
    for (QMatmulOp op : ops)
      failedAny |= failed(sortGroupIndex(op));
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
