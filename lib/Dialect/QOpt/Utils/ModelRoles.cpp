//===- ModelRoles.cpp - The embedding and LM head, found structurally -----===//

#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/Regex.h"

#include <cstring>

using namespace mlir;
using namespace mlir::qopt;

/// Whether `index` is computed from the block argument `id` by the integer
/// ops an ONNX Gather's index normalization uses (casts, compares, adds,
/// selects, min/max, constants) and nothing else.
static bool isIndexOf(Value index, BlockArgument id) {
  SmallVector<Value> work{index};
  DenseSet<Value> seen;
  bool reachesId = false;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    if (v == id) {
      reachesId = true;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != id.getOwner() ||
        !isa<arith::IndexCastOp, arith::CmpIOp, arith::AddIOp, arith::SelectOp,
             arith::MinSIOp, arith::MaxSIOp, arith::ConstantOp, arith::ExtSIOp,
             arith::TruncIOp>(def))
      return false;
    llvm::append_range(work, def->getOperands());
  }
  return reachesId;
}

std::optional<RowGather> mlir::qopt::matchRowGather(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  Value ids = op.getDpsInputs()[0];
  auto idsType = dyn_cast<RankedTensorType>(ids.getType());
  auto outType = dyn_cast<RankedTensorType>(op.getResultTypes()[0]);
  if (!idsType || !outType || !idsType.getElementType().isIntOrIndex() ||
      outType.getRank() != idsType.getRank() + 1 ||
      !outType.getElementType().isF32())
    return std::nullopt;
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto extract = yield.getValues()[0].getDefiningOp<tensor::ExtractOp>();
  if (!extract || extract->getBlock() != &body)
    return std::nullopt;
  auto tableType = dyn_cast<RankedTensorType>(extract.getTensor().getType());
  if (!tableType || tableType.getRank() != 2 || !tableType.hasStaticShape() ||
      !tableType.getElementType().isF32() ||
      tableType.getDimSize(1) != outType.getDimSize(outType.getRank() - 1) ||
      !lookThroughObserve(extract.getTensor()))
    return std::nullopt;
  auto column = extract.getIndices()[1].getDefiningOp<linalg::IndexOp>();
  if (!column || column.getDim() != (uint64_t)idsType.getRank() ||
      !isIndexOf(extract.getIndices()[0], body.getArgument(0)))
    return std::nullopt;
  return RowGather{op, extract, extract.getTensor(), ids};
}

StringRef mlir::qopt::roleOf(Operation *op) {
  auto role = op->getAttrOfType<StringAttr>(kRoleAttr);
  return role ? role.getValue() : StringRef();
}

/// `value` with shape-only ops (reshapes, casts) looked through forward:
/// whether it reaches a func.return operand.
static bool reachesReturn(Value value) {
  for (Operation *user : value.getUsers()) {
    if (isa<func::ReturnOp>(user))
      return true;
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::ReshapeOp,
            tensor::CastOp>(user) &&
        reachesReturn(user->getResult(0)))
      return true;
  }
  return false;
}

/// `value` with shape-only ops looked through backward.
static Value throughReshapes(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
            def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// Whether the LM head's weight [D, V] is the table [V, D] transposed: the
/// graph transposes it, or (after qopt-fold-constant-transposes) the data
/// says so.
static bool isTransposedTable(Value weight, Value table) {
  if (auto transpose = weight.getDefiningOp<linalg::TransposeOp>())
    return lookThroughObserve(transpose.getInput()) ==
           lookThroughObserve(table);
  arith::ConstantOp w = lookThroughObserve(weight),
                    t = lookThroughObserve(table);
  if (!w || !t)
    return false;
  auto wt = cast<RankedTensorType>(w.getType()),
       tt = cast<RankedTensorType>(t.getType());
  if (wt.getDimSize(0) != tt.getDimSize(1) ||
      wt.getDimSize(1) != tt.getDimSize(0))
    return false;
  ArrayRef<char> wb = denseConstantBytes(w.getValue(), wt),
                 tb = denseConstantBytes(t.getValue(), tt);
  int64_t v = tt.getDimSize(0), d = tt.getDimSize(1);
  if ((int64_t)wb.size() != v * d * 4 || (int64_t)tb.size() != v * d * 4)
    return false;
  const float *wf = reinterpret_cast<const float *>(wb.data());
  const float *tf = reinterpret_cast<const float *>(tb.data());
  for (int64_t r = 0; r < v; ++r)
    for (int64_t c = 0; c < d; ++c)
      if (std::memcmp(&wf[c * v + r], &tf[r * d + c], 4))
        return false;
  return true;
}

void mlir::qopt::markModelRoles(Operation *root) {
  root->walk([&](func::FuncOp func) {
    if (func.isExternal())
      return;
    Builder b(func.getContext());
    std::optional<RowGather> embedding;
    func.walk([&](linalg::GenericOp op) {
      std::optional<RowGather> gather = matchRowGather(op);
      if (!gather)
        return;
      bool tokenIds =
          isa<BlockArgument>(throughReshapes(gather->ids)) &&
          cast<BlockArgument>(throughReshapes(gather->ids)).getOwner() ==
              &func.getBody().front();
      if (tokenIds && !embedding)
        embedding = gather;
      if (roleOf(op).empty())
        op->setAttr(kRoleAttr,
                    b.getStringAttr(tokenIds ? kEmbeddingRole
                                             : kPositionEmbeddingRole));
    });
    // The LM head produces the vocabulary logits: a result of the function
    // with one column per row of the token embedding.
    if (!embedding)
      return;
    int64_t vocabulary =
        cast<RankedTensorType>(embedding->table.getType()).getDimSize(0);
    func.walk([&](linalg::MatmulOp op) {
      if (!isLinearLayer(op) &&
          !op.getInputs()[1].getDefiningOp<linalg::TransposeOp>())
        return;
      auto out = cast<RankedTensorType>(op.getResultTypes()[0]);
      if (!roleOf(op).empty() || out.getDimSize(1) != vocabulary ||
          !reachesReturn(op.getResult(0)))
        return;
      op->setAttr(kRoleAttr, b.getStringAttr(kLMHeadRole));
      if (embedding && isTransposedTable(op.getInputs()[1], embedding->table))
        op->setAttr(kTiedAttr, b.getUnitAttr());
    });
  });
}

std::string LayerNamer::nameOf(Operation *op) {
  std::string base = locationName(op->getLoc());
  if (base.empty())
    base = op->getName().getStringRef().str();
  unsigned &count = seen[base];
  return count++ ? base + "#" + std::to_string(count - 1) : base;
}

static LayerInfo infoOf(std::string name, Operation *op, StringRef kind,
                        ArrayRef<int64_t> shape) {
  LayerInfo info{std::move(name),
                 roleOf(op).str(),
                 kind.str(),
                 SmallVector<int64_t>(shape),
                 1,
                 op->hasAttr(kTiedAttr)};
  for (int64_t d : shape)
    info.parameters *= d;
  return info;
}

std::vector<LayerInfo> mlir::qopt::listLayers(Operation *root) {
  std::vector<LayerInfo> layers;
  LayerNamer namer;
  root->walk([&](Operation *op) {
    if (auto matmul = dyn_cast<linalg::MatmulOp>(op)) {
      // A tied LM head reads the table through a transpose until
      // qopt-fold-constant-transposes folds it.
      auto transpose =
          matmul.getInputs()[1].getDefiningOp<linalg::TransposeOp>();
      if (!isLinearLayer(matmul) &&
          !(transpose && lookThroughObserve(transpose.getInput())))
        return;
      std::string name = namer.nameOf(op);
      if (auto point = matmul.getInputs()[1].getDefiningOp<ObserveOp>()) {
        StringRef p = point.getPoint();
        name = p.take_front(p.rfind(':')).str();
      }
      layers.push_back(
          infoOf(name, op, "linear",
                 cast<ShapedType>(matmul.getInputs()[1].getType()).getShape()));
    } else if (auto generic = dyn_cast<linalg::GenericOp>(op)) {
      std::optional<RowGather> gather = matchRowGather(generic);
      if (!gather)
        return;
      std::string name = namer.nameOf(op);
      if (auto point = gather->table.getDefiningOp<ObserveOp>()) {
        StringRef p = point.getPoint();
        name = p.take_front(p.rfind(':')).str();
      }
      layers.push_back(
          infoOf(name, op, "table",
                 cast<ShapedType>(gather->table.getType()).getShape()));
    } else if (auto q = dyn_cast<QMatmulOp>(op)) {
      layers.push_back(infoOf(
          namer.nameOf(op), op, "qmatmul",
          {q.getInput().getType().getDimSize(1), q.getOutputChannels()}));
    } else if (auto g = dyn_cast<QGatherOp>(op)) {
      layers.push_back(infoOf(namer.nameOf(op), op, "qgather",
                              {g.getNumRows(), g.getRowWidth()}));
    }
  });
  return layers;
}

bool mlir::qopt::layerPatternMatches(StringRef pattern, StringRef name,
                                     StringRef role) {
  if (pattern.empty())
    return false;
  llvm::Regex regex(pattern);
  return regex.match(name) || (!role.empty() && regex.match(role));
}
