//===- SymbolicDims.cpp - Compare dynamic dims as symbolic products -------===//

#include "SymbolicDims.h"
#include "TensorConversion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {
/// Recursion bound. A dim of layer n's hidden state traces back through
/// every layer before it (about 16 steps a layer), so the bound must allow
/// the deepest models (GPT-2 XL: 48 layers) with room to spare; beyond it a
/// dim stays an opaque atom (a run-time reshape, still correct).
constexpr int kMaxDepth = 2048;

SymbolicDim atom(Value v, int64_t dim) {
  SymbolicDim s;
  s.atoms.push_back({v, dim});
  return s;
}

SymbolicDim constant(int64_t c) {
  SymbolicDim s;
  s.constant = c;
  return s;
}

/// One query's walk back through the IR, each (value, dim) traced once: a
/// collapse_shape multiplies two traces, which would otherwise make the walk
/// exponential in the depth.
class Tracer {
public:
  SymbolicDim ofTensorDim(Value tensor, int64_t dim, int depth) {
    auto key = std::make_pair(tensor.getAsOpaquePointer(), dim);
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    SymbolicDim result = traceTensorDim(tensor, dim, depth);
    memo[key] = result;
    return result;
  }

  SymbolicDim ofIndex(OpFoldResult size, int depth) {
    if (auto attr = dyn_cast<Attribute>(size))
      return constant(cast<IntegerAttr>(attr).getInt());
    Value v = cast<Value>(size);
    auto key = std::make_pair(v.getAsOpaquePointer(), int64_t(-1));
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    SymbolicDim result = traceIndex(v, depth);
    memo[key] = result;
    return result;
  }

private:
  SymbolicDim traceTensorDim(Value tensor, int64_t dim, int depth) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (!type.isDynamicDim(dim))
      return constant(type.getDimSize(dim));
    Operation *op = tensor.getDefiningOp();
    if (!op || depth > kMaxDepth)
      return atom(tensor, dim);
    auto result = cast<OpResult>(tensor);
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
      return ofTensorDim(dps.getDpsInitOperand(result.getResultNumber())->get(),
                         dim, depth + 1);
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return ofIndex(empty.getMixedSizes()[dim], depth + 1);
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      return ofIndex(expand.getMixedOutputShape()[dim], depth + 1);
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
      SymbolicDim product;
      // (Keep the reassociation alive: it is returned by value.)
      SmallVector<ReassociationIndices> groups =
          collapse.getReassociationIndices();
      for (int64_t src : groups[dim])
        product = product * ofTensorDim(collapse.getSrc(), src, depth + 1);
      return product;
    }
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
      if (slice.getSourceType().getRank() == type.getRank())
        return ofIndex(slice.getMixedSizes()[dim], depth + 1);
    if (auto cast = dyn_cast<tensor::CastOp>(op))
      return ofTensorDim(cast.getSource(), dim, depth + 1);
    return atom(tensor, dim);
  }

  SymbolicDim traceIndex(Value v, int depth) {
    Operation *op = v.getDefiningOp();
    if (!op || depth > kMaxDepth)
      return atom(v, -1);
    if (auto dimOp = dyn_cast<tensor::DimOp>(op))
      if (std::optional<int64_t> d = dimOp.getConstantIndex())
        return ofTensorDim(dimOp.getSource(), *d, depth + 1);
    if (auto cst = dyn_cast<arith::ConstantIndexOp>(op))
      return constant(cst.value());
    if (auto mul = dyn_cast<arith::MulIOp>(op))
      return ofIndex(mul.getLhs(), depth + 1) *
             ofIndex(mul.getRhs(), depth + 1);
    if (auto cast = dyn_cast<arith::IndexCastOp>(op))
      if (cast.getIn().getType().isIndex())
        return ofIndex(cast.getIn(), depth + 1);
    return atom(v, -1);
  }

  llvm::DenseMap<std::pair<void *, int64_t>, SymbolicDim> memo;
};
} // namespace

SymbolicDim SymbolicDim::ofTensorDim(Value tensor, int64_t dim) {
  return Tracer().ofTensorDim(tensor, dim, 0);
}

SymbolicDim SymbolicDim::ofIndex(OpFoldResult size) {
  return Tracer().ofIndex(size, 0);
}

SymbolicDim SymbolicDim::operator*(const SymbolicDim &other) const {
  SymbolicDim r;
  r.constant = saturatingMul(constant, other.constant);
  r.atoms = atoms;
  r.atoms.append(other.atoms.begin(), other.atoms.end());
  llvm::sort(r.atoms, [](const Atom &a, const Atom &b) {
    return std::make_pair(a.first.getAsOpaquePointer(), a.second) <
           std::make_pair(b.first.getAsOpaquePointer(), b.second);
  });
  return r;
}

std::optional<SymbolicDim> SymbolicDim::divide(const SymbolicDim &other) const {
  if (other.constant == 0 || constant % other.constant != 0)
    return std::nullopt;
  SymbolicDim r;
  r.constant = constant / other.constant;
  r.atoms = atoms;
  for (const Atom &a : other.atoms) {
    auto *it = llvm::find(r.atoms, a);
    if (it == r.atoms.end())
      return std::nullopt;
    r.atoms.erase(it);
  }
  return r;
}

OpFoldResult SymbolicDim::materialize(OpBuilder &b, Location loc) const {
  if (atoms.empty())
    return b.getIndexAttr(constant);
  Value product;
  for (const Atom &a : atoms) {
    Value v =
        a.second < 0
            ? a.first
            : tensor::DimOp::create(b, loc, a.first, a.second).getResult();
    product =
        product ? arith::MulIOp::create(b, loc, product, v).getResult() : v;
  }
  if (constant != 1)
    product = arith::MulIOp::create(
        b, loc, product, arith::ConstantIndexOp::create(b, loc, constant));
  return product;
}
