//===- ShapeRules.cpp - Shape, data movement and index ops ----------------===//
//
// Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
// Slice, Split, Gather, Expand, Range, ConstantOfShape, Trilu.
//
// Each op first tries to fold at import time (the Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape chains exporters emit; dynamic dims stay
// index values inside the folded tensor), and otherwise builds tensor/linalg
// IR. Reshapes become expand/collapse_shape when the dims regroup.
//
//===----------------------------------------------------------------------===//

#include "Builders.h"
#include "SymbolicDims.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <onnx/onnx_pb.h>

using namespace mlir;
using namespace mlir::qopt::onnx_import;

namespace {

//===----------------------------------------------------------------------===//
// Folding helpers
//===----------------------------------------------------------------------===//

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Element count, saturated (an overflowing shape is never folded and is
/// refused by the importer's shape limits).
int64_t product(ArrayRef<int64_t> shape) { return saturatingProduct(shape); }

/// A folded tensor of `shape` whose element e is src's element at
/// `sourceIndex(e)`.
FoldedTensor pickElements(const FoldedTensor &src, ArrayRef<int64_t> shape,
                          function_ref<int64_t(int64_t)> sourceIndex) {
  FoldedTensor r;
  r.shape = llvm::to_vector(shape);
  r.onnxType = src.onnxType;
  for (int64_t e = 0, n = product(shape); e < n; ++e) {
    int64_t s = sourceIndex(e);
    if (src.isFloat())
      r.floats.push_back(src.floats[s]);
    else
      r.ints.push_back(src.ints[s]);
  }
  return r;
}

/// Unflattens `flat` into a multi-index of `shape`.
SmallVector<int64_t> unflatten(int64_t flat, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> index(shape.size());
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}

FoldedTensor withShape(FoldedTensor t, ArrayRef<int64_t> shape) {
  t.shape = llvm::to_vector(shape);
  return t;
}

/// Sizes of the folded tensor's shape as OpFoldResults.
SmallVector<OpFoldResult> foldedSizes(OpBuilder &b, ArrayRef<int64_t> shape) {
  SmallVector<OpFoldResult> sizes;
  for (int64_t d : shape)
    sizes.push_back(b.getIndexAttr(d));
  return sizes;
}

/// Sizes of input i: static from a folded value, else its dims.
SmallVector<OpFoldResult> inputSizes(NodeContext &ctx, unsigned i) {
  if (const FoldedTensor *f = ctx.folded(i))
    return foldedSizes(ctx.builder(), f->shape);
  return getDims(ctx.builder(), ctx.getLoc(), ctx.input(i));
}

int64_t inputRank(NodeContext &ctx, unsigned i) {
  if (const FoldedTensor *f = ctx.folded(i))
    return f->shape.size();
  return ctx.inputType(i).getRank();
}

/// Defines output 0 as input 0 reshaped to `sizes` (folded when possible).
LogicalResult setReshaped(NodeContext &ctx, ArrayRef<OpFoldResult> sizes) {
  if (const FoldedTensor *f = ctx.folded(0)) {
    SmallVector<int64_t> shape = staticShape(sizes);
    if (!ShapedType::isDynamicShape(shape)) {
      if (product(shape) != f->numElements())
        return ctx.error("cannot reshape " + std::to_string(f->numElements()) +
                         " elements to " + std::to_string(product(shape)));
      ctx.setFolded(0, withShape(*f, shape));
      return success();
    }
  }
  auto type = ctx.inputType(0);
  SmallVector<int64_t> shape = staticShape(sizes);
  if (type.hasStaticShape() && !ShapedType::isDynamicShape(shape) &&
      type.getNumElements() != product(shape))
    return ctx.error("cannot reshape " + std::to_string(type.getNumElements()) +
                     " elements to " + std::to_string(product(shape)));
  ctx.setOutput(0,
                reshapeTensor(ctx.builder(), ctx.getLoc(), ctx.input(0), sizes),
                ctx.inputONNXType(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Shape and Size
//===----------------------------------------------------------------------===//

LogicalResult importShape(NodeContext &ctx) {
  SmallVector<OpFoldResult> dims = inputSizes(ctx, 0);
  int64_t rank = dims.size();
  int64_t start = ctx.attrInt("start", 0), end = ctx.attrInt("end", rank);
  auto clampAxis = [&](int64_t a) {
    if (a < 0)
      a += rank;
    return std::clamp<int64_t>(a, 0, rank);
  };
  start = clampAxis(start);
  end = std::max(start, clampAxis(end));
  FoldedTensor t;
  t.onnxType = kInt64;
  t.shape = {end - start};
  t.ints.assign(dims.begin() + start, dims.begin() + end);
  ctx.setFolded(0, std::move(t));
  return success();
}

LogicalResult importSize(NodeContext &ctx) {
  OpBuilder &b = ctx.builder();
  OpFoldResult n = b.getIndexAttr(1);
  for (OpFoldResult d : inputSizes(ctx, 0))
    n = indexMul(b, ctx.getLoc(), n, d);
  FoldedTensor t;
  t.onnxType = kInt64;
  t.ints.push_back(n);
  ctx.setFolded(0, std::move(t));
  return success();
}

//===----------------------------------------------------------------------===//
// Reshape family
//===----------------------------------------------------------------------===//

LogicalResult importReshape(NodeContext &ctx) {
  const FoldedTensor *shape = ctx.folded(1);
  if (!shape || shape->isFloat() || shape->shape.size() != 1)
    return ctx.error("the target shape must be a 1-D int64 tensor computable "
                     "at compile time (dynamic dims may come from Shape)");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  SmallVector<OpFoldResult> in = inputSizes(ctx, 0);
  bool allowZero = ctx.attrInt("allowzero", 0) != 0;
  SmallVector<OpFoldResult> out(shape->ints.begin(), shape->ints.end());
  int64_t inferred = -1;
  for (auto [i, d] : llvm::enumerate(out)) {
    std::optional<int64_t> c = getConstantIntValue(d);
    if (!c)
      continue;
    if (*c == 0 && !allowZero) {
      if (i >= in.size())
        return ctx.error("shape entry " + std::to_string(i) +
                         " is 0 (copy) but the input has rank " +
                         std::to_string(in.size()));
      d = in[i];
    } else if (*c == -1) {
      if (inferred >= 0)
        return ctx.error("shape has more than one -1 entry");
      inferred = i;
    } else if (*c < 0) {
      return ctx.error("shape entry " + std::to_string(i) + " is " +
                       std::to_string(*c));
    }
  }
  if (inferred >= 0) {
    SymbolicDim total, known;
    for (int64_t i = 0, e = in.size(); i < e; ++i)
      total =
          total * (ctx.folded(0) ? SymbolicDim::ofIndex(in[i])
                                 : SymbolicDim::ofTensorDim(ctx.input(0), i));
    for (auto [i, d] : llvm::enumerate(out))
      if (static_cast<int64_t>(i) != inferred)
        known = known * SymbolicDim::ofIndex(d);
    if (std::optional<SymbolicDim> q = total.divide(known)) {
      out[inferred] = q->materialize(b, loc);
    } else if (total.isConstant() && known.isConstant()) {
      return ctx.error("cannot reshape " + std::to_string(total.constant) +
                       " elements into a shape with " +
                       std::to_string(known.constant) +
                       " elements per -1 entry");
    } else {
      out[inferred] =
          arith::DivSIOp::create(b, loc,
                                 getValueOrCreateConstantIndexOp(
                                     b, loc, total.materialize(b, loc)),
                                 getValueOrCreateConstantIndexOp(
                                     b, loc, known.materialize(b, loc)))
              .getResult();
    }
  }
  return setReshaped(ctx, out);
}

LogicalResult importFlatten(NodeContext &ctx) {
  SmallVector<OpFoldResult> in = inputSizes(ctx, 0);
  int64_t rank = in.size();
  int64_t axis = ctx.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    return ctx.error("axis " + std::to_string(axis) +
                     " is out of range for rank " + std::to_string(rank));
  if (axis < 0)
    axis += rank;
  OpBuilder &b = ctx.builder();
  OpFoldResult outer = b.getIndexAttr(1), inner = b.getIndexAttr(1);
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) =
        indexMul(b, ctx.getLoc(), i < axis ? outer : inner, in[i]);
  return setReshaped(ctx, {outer, inner});
}

LogicalResult importSqueeze(NodeContext &ctx) {
  SmallVector<OpFoldResult> in = inputSizes(ctx, 0);
  auto axes = readAxes(ctx, 1, 13, in.size());
  if (failed(axes))
    return failure();
  SmallVector<OpFoldResult> out;
  for (auto [i, d] : llvm::enumerate(in)) {
    std::optional<int64_t> c = getConstantIntValue(d);
    bool listed = *axes && llvm::is_contained(**axes, (int64_t)i);
    if (listed && c && *c != 1)
      return ctx.error("cannot squeeze axis " + std::to_string(i) +
                       " of size " + std::to_string(*c));
    if (listed || (!*axes && c == 1))
      continue; // a listed dynamic dim is 1 by the model's contract
    out.push_back(d);
  }
  return setReshaped(ctx, out);
}

LogicalResult importUnsqueeze(NodeContext &ctx) {
  SmallVector<OpFoldResult> in = inputSizes(ctx, 0);
  std::optional<SmallVector<int64_t>> raw =
      ctx.opset() >= 13 ? std::nullopt : ctx.attrInts("axes");
  if (ctx.opset() >= 13) {
    FailureOr<SmallVector<int64_t>> v = ctx.constantInts(1, "axes");
    if (failed(v))
      return failure();
    raw = *v;
  }
  if (!raw)
    return ctx.error("missing axes");
  auto axes = readAxes(ctx, 1, 13, in.size() + raw->size());
  if (failed(axes))
    return failure();
  SmallVector<OpFoldResult> out;
  OpBuilder &b = ctx.builder();
  size_t next = 0;
  for (int64_t i = 0, e = in.size() + raw->size(); i < e; ++i)
    out.push_back(llvm::is_contained(**axes, i) ? b.getIndexAttr(1)
                                                : in[next++]);
  return setReshaped(ctx, out);
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

LogicalResult importTranspose(NodeContext &ctx) {
  int64_t rank = inputRank(ctx, 0);
  SmallVector<int64_t> perm;
  if (std::optional<SmallVector<int64_t>> p = ctx.attrInts("perm"))
    perm = *p;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  SmallVector<int64_t> sorted = perm;
  llvm::sort(sorted);
  if ((int64_t)perm.size() != rank ||
      llvm::any_of(llvm::enumerate(sorted),
                   [](auto p) { return p.value() != (int64_t)p.index(); }))
    return ctx.error("perm is not a permutation of " + std::to_string(rank) +
                     " axes");
  if (const FoldedTensor *f = ctx.folded(0)) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(f->shape[p]);
    SmallVector<int64_t> srcStrides = stridesOf(f->shape);
    ctx.setFolded(0, pickElements(*f, shape, [&](int64_t e) {
                    SmallVector<int64_t> idx = unflatten(e, shape);
                    int64_t s = 0;
                    for (int64_t i = 0; i < rank; ++i)
                      s += idx[i] * srcStrides[perm[i]];
                    return s;
                  }));
    return success();
  }
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  SmallVector<OpFoldResult> in = getDims(b, loc, x), out;
  for (int64_t p : perm)
    out.push_back(in[p]);
  Value init = createEmpty(b, loc, out, ctx.inputType(0).getElementType());
  ctx.setOutput(
      0, linalg::TransposeOp::create(b, loc, x, init, perm).getResult()[0],
      ctx.inputONNXType(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Concat and Split
//===----------------------------------------------------------------------===//

LogicalResult importConcat(NodeContext &ctx) {
  if (ctx.numInputs() == 0)
    return ctx.error("expects at least one input");
  int64_t rank = inputRank(ctx, 0);
  if (!ctx.attr("axis"))
    return ctx.error("missing attribute 'axis'");
  FailureOr<int64_t> axis = normalizeAxis(ctx, ctx.attrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  int32_t type = ctx.inputONNXType(0);
  bool allFolded = true;
  for (unsigned i = 0; i < ctx.numInputs(); ++i) {
    if (inputRank(ctx, i) != rank)
      return ctx.error("input " + std::to_string(i) + " has rank " +
                       std::to_string(inputRank(ctx, i)) + ", expected " +
                       std::to_string(rank));
    if (ctx.inputONNXType(i) != type)
      return ctx.error("inputs have different element types");
    allFolded &= ctx.folded(i) != nullptr;
  }
  SmallVector<int64_t> shape;
  if (allFolded) {
    const FoldedTensor &first = *ctx.folded(0);
    shape = first.shape;
    shape[*axis] = 0;
    for (unsigned i = 0; i < ctx.numInputs(); ++i) {
      const FoldedTensor &f = *ctx.folded(i);
      for (int64_t d = 0; d < rank; ++d)
        if (d != *axis && f.shape[d] != first.shape[d])
          return ctx.error("input " + std::to_string(i) +
                           " has a different size on axis " +
                           std::to_string(d));
      shape[*axis] = saturatingAdd(shape[*axis], f.shape[*axis]);
    }
  }
  if (allFolded && product(shape) <= kMaxFoldedElements) {
    // Concatenate row blocks: outer = dims before axis (none to copy when
    // the result is empty, however large the outer dims).
    FoldedTensor r;
    r.shape = shape;
    r.onnxType = type;
    int64_t outer =
        product(shape) == 0 ? 0 : product(ArrayRef(shape).take_front(*axis));
    for (int64_t o = 0; o < outer; ++o)
      for (unsigned i = 0; i < ctx.numInputs(); ++i) {
        const FoldedTensor &f = *ctx.folded(i);
        int64_t block = product(ArrayRef(f.shape).drop_front(*axis));
        for (int64_t e = o * block; e < (o + 1) * block; ++e) {
          if (f.isFloat())
            r.floats.push_back(f.floats[e]);
          else
            r.ints.push_back(f.ints[e]);
        }
      }
    ctx.setFolded(0, std::move(r));
    return success();
  }
  SmallVector<Value> inputs;
  for (unsigned i = 0; i < ctx.numInputs(); ++i)
    inputs.push_back(ctx.input(i));
  for (int64_t d = 0; d < rank; ++d) {
    if (d == *axis)
      continue;
    int64_t known = ShapedType::kDynamic;
    for (Value v : inputs) {
      int64_t s = cast<RankedTensorType>(v.getType()).getDimSize(d);
      if (ShapedType::isDynamic(s))
        continue;
      if (!ShapedType::isDynamic(known) && known != s)
        return ctx.error("inputs have different sizes on axis " +
                         std::to_string(d) + " (" + std::to_string(known) +
                         " and " + std::to_string(s) + ")");
      known = s;
    }
  }
  Value result =
      inputs.size() == 1
          ? inputs[0]
          : tensor::ConcatOp::create(ctx.builder(), ctx.getLoc(), *axis, inputs)
                .getResult();
  ctx.setOutput(0, result, type);
  return success();
}

/// Defines output `out` as input 0 restricted to [offset, offset+size) on
/// `axis`, with `step`.
void setSlice(NodeContext &ctx, unsigned out, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes, ArrayRef<OpFoldResult> strides) {
  OpBuilder &b = ctx.builder();
  Value x = ctx.input(0);
  auto type = cast<RankedTensorType>(x.getType());
  auto resultType =
      RankedTensorType::get(staticShape(sizes), type.getElementType());
  Value slice = tensor::ExtractSliceOp::create(b, ctx.getLoc(), resultType, x,
                                               offsets, sizes, strides);
  ctx.setOutput(out, slice, ctx.inputONNXType(0));
}

LogicalResult importSplit(NodeContext &ctx) {
  int64_t rank = inputRank(ctx, 0);
  FailureOr<int64_t> axis = normalizeAxis(ctx, ctx.attrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  SmallVector<OpFoldResult> dims = inputSizes(ctx, 0);
  unsigned n = ctx.numOutputs();
  SmallVector<OpFoldResult> parts;
  std::optional<SmallVector<int64_t>> split =
      ctx.opset() >= 13 ? std::nullopt : ctx.attrInts("split");
  if (ctx.opset() >= 13 && ctx.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> v = ctx.constantInts(1, "split");
    if (failed(v))
      return failure();
    split = *v;
  }
  if (split) {
    if (split->size() != n)
      return ctx.error("split has " + std::to_string(split->size()) +
                       " entries for " + std::to_string(n) + " outputs");
    int64_t total = 0;
    for (int64_t s : *split) {
      if (s < 0)
        return ctx.error("split has a negative entry");
      total = saturatingAdd(total, s);
      parts.push_back(b.getIndexAttr(s));
    }
    if (std::optional<int64_t> d = getConstantIntValue(dims[*axis]);
        d && *d != total)
      return ctx.error("split sizes sum to " + std::to_string(total) +
                       " but axis " + std::to_string(*axis) + " has size " +
                       std::to_string(*d));
  } else {
    if (ctx.opset() >= 18) {
      int64_t numOutputs = ctx.attrInt("num_outputs", 0);
      if (numOutputs <= 0 || numOutputs != (int64_t)n)
        return ctx.error("num_outputs must be given and equal the number of "
                         "outputs");
    }
    // Equal parts; at opset 18 the last part may be smaller.
    OpFoldResult chunk = indexCeilDiv(b, loc, dims[*axis], b.getIndexAttr(n));
    std::optional<int64_t> d = getConstantIntValue(dims[*axis]);
    if (d && ctx.opset() < 18 && *d % n != 0)
      return ctx.error("axis size " + std::to_string(*d) +
                       " does not split into " + std::to_string(n) +
                       " equal parts");
    OpFoldResult offset = b.getIndexAttr(0);
    for (unsigned i = 0; i < n; ++i) {
      OpFoldResult size = indexMax(
          b, loc, b.getIndexAttr(0),
          indexMin(b, loc, chunk, indexSub(b, loc, dims[*axis], offset)));
      parts.push_back(size);
      offset = indexAdd(b, loc, offset, chunk);
    }
  }
  OpFoldResult offset = b.getIndexAttr(0);
  const FoldedTensor *f = ctx.folded(0);
  for (unsigned i = 0; i < n; ++i) {
    std::optional<int64_t> o = getConstantIntValue(offset),
                           s = getConstantIntValue(parts[i]);
    if (f && o && s) {
      SmallVector<int64_t> shape = f->shape;
      shape[*axis] = *s;
      SmallVector<int64_t> srcStrides = stridesOf(f->shape);
      ctx.setFolded(i, pickElements(*f, shape, [&](int64_t e) {
                      SmallVector<int64_t> idx = unflatten(e, shape);
                      idx[*axis] += *o;
                      int64_t flat = 0;
                      for (int64_t k = 0; k < rank; ++k)
                        flat += idx[k] * srcStrides[k];
                      return flat;
                    }));
    } else {
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
          sizes = dims, strides(rank, b.getIndexAttr(1));
      offsets[*axis] = offset;
      sizes[*axis] = parts[i];
      setSlice(ctx, i, offsets, sizes, strides);
    }
    offset = indexAdd(b, loc, offset, parts[i]);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

LogicalResult importSlice(NodeContext &ctx) {
  int64_t rank = inputRank(ctx, 0);
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  auto readList = [&](unsigned i,
                      StringRef what) -> FailureOr<SmallVector<OpFoldResult>> {
    const FoldedTensor *f = ctx.folded(i);
    if (!f || f->isFloat() || f->shape.size() != 1)
      return ctx.error(what + " must be a 1-D integer tensor computable at "
                              "compile time");
    return SmallVector<OpFoldResult>(f->ints.begin(), f->ints.end());
  };
  FailureOr<SmallVector<OpFoldResult>> starts = readList(1, "starts");
  FailureOr<SmallVector<OpFoldResult>> ends = readList(2, "ends");
  if (failed(starts) || failed(ends))
    return failure();
  size_t n = starts->size();
  if (ends->size() != n)
    return ctx.error("starts and ends have different lengths");
  SmallVector<int64_t> axes, steps(n, 1);
  if (ctx.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> a = ctx.constantInts(3, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else {
    for (size_t i = 0; i < n; ++i)
      axes.push_back(i);
  }
  if (ctx.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> s = ctx.constantInts(4, "steps");
    if (failed(s))
      return failure();
    steps = *s;
  }
  if (axes.size() != n || steps.size() != n)
    return ctx.error("starts, ends, axes and steps have different lengths");

  SmallVector<OpFoldResult> dims = inputSizes(ctx, 0);
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
      sizes = dims, strides(rank, b.getIndexAttr(1));
  SmallVector<bool> reversed(rank, false), seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    FailureOr<int64_t> axis = normalizeAxis(ctx, axes[i], rank, "axes entry");
    if (failed(axis))
      return failure();
    if (seen[*axis])
      return ctx.error("axis " + std::to_string(*axis) + " is sliced twice");
    seen[*axis] = true;
    // Steps beyond any dim size take one element; bounding them keeps
    // |step| and the arithmetic below from overflowing.
    int64_t step =
        std::clamp<int64_t>(steps[i], -(int64_t(1) << 62), int64_t(1) << 62);
    if (step == 0)
      return ctx.error("steps must not be 0");
    OpFoldResult d = dims[*axis];
    // Clamp like ONNX: INT64_MAX ends and out-of-range starts are common.
    auto clampTo = [&](OpFoldResult v, int64_t lo, OpFoldResult hi) {
      if (std::optional<int64_t> c = getConstantIntValue(v)) {
        if (*c >= (int64_t(1) << 62))
          return hi;
        if (*c <= -(int64_t(1) << 62))
          return OpFoldResult(b.getIndexAttr(lo));
      }
      v = indexWrapNegative(b, loc, v, d);
      return indexMin(b, loc, indexMax(b, loc, v, b.getIndexAttr(lo)), hi);
    };
    OpFoldResult start, size;
    if (step > 0) {
      start = clampTo((*starts)[i], 0, d);
      OpFoldResult end = clampTo((*ends)[i], 0, d);
      size = indexMax(b, loc, b.getIndexAttr(0),
                      indexCeilDiv(b, loc, indexSub(b, loc, end, start),
                                   b.getIndexAttr(step)));
    } else {
      OpFoldResult last = indexSub(b, loc, d, b.getIndexAttr(1));
      OpFoldResult first = clampTo((*starts)[i], 0, last);
      OpFoldResult end = clampTo((*ends)[i], -1, last);
      size = indexMax(b, loc, b.getIndexAttr(0),
                      indexCeilDiv(b, loc, indexSub(b, loc, first, end),
                                   b.getIndexAttr(-step)));
      // Read forward from the last element taken, then reverse.
      start =
          indexSub(b, loc, first,
                   indexMul(b, loc, indexSub(b, loc, size, b.getIndexAttr(1)),
                            b.getIndexAttr(-step)));
      start = indexMax(b, loc, start, b.getIndexAttr(0));
      reversed[*axis] = true;
    }
    // An empty slice reads nothing: start it at 0, which is in bounds for
    // tensor.extract_slice wherever the clamped start was (e.g. the end).
    if (isConstantIntValue(size, 0))
      start = b.getIndexAttr(0);
    offsets[*axis] = start;
    sizes[*axis] = size;
    strides[*axis] = b.getIndexAttr(std::abs(step));
  }

  const FoldedTensor *f = ctx.folded(0);
  auto known = [](ArrayRef<OpFoldResult> v) {
    return llvm::all_of(v, [](OpFoldResult r) { return isa<Attribute>(r); });
  };
  if (f && known(offsets) && known(sizes)) {
    SmallVector<int64_t> shape = staticShape(sizes);
    SmallVector<int64_t> srcStrides = stridesOf(f->shape);
    ctx.setFolded(0, pickElements(*f, shape, [&](int64_t e) {
                    SmallVector<int64_t> idx = unflatten(e, shape);
                    int64_t flat = 0;
                    for (int64_t k = 0; k < rank; ++k) {
                      int64_t j = reversed[k] ? shape[k] - 1 - idx[k] : idx[k];
                      flat += (*getConstantIntValue(offsets[k]) +
                               j * *getConstantIntValue(strides[k])) *
                              srcStrides[k];
                    }
                    return flat;
                  }));
    return success();
  }
  if (llvm::none_of(reversed, [](bool r) { return r; })) {
    setSlice(ctx, 0, offsets, sizes, strides);
    return success();
  }
  // Reverse the axes taken with negative steps: out[i] = slice[n - 1 - i].
  Value slice = tensor::ExtractSliceOp::create(
      b, loc,
      RankedTensorType::get(staticShape(sizes),
                            ctx.inputType(0).getElementType()),
      ctx.input(0), offsets, sizes, strides);
  Value init = createEmpty(b, loc, sizes, ctx.inputType(0).getElementType());
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        SmallVector<Value> at;
        for (int64_t k = 0; k < rank; ++k) {
          Value i = linalg::IndexOp::create(nb, nloc, k);
          if (reversed[k]) {
            Value last = getValueOrCreateConstantIndexOp(
                nb, nloc, indexSub(nb, nloc, sizes[k], nb.getIndexAttr(1)));
            i = arith::SubIOp::create(nb, nloc, last, i);
          }
          at.push_back(i);
        }
        linalg::YieldOp::create(
            nb, nloc,
            tensor::ExtractOp::create(nb, nloc, slice, at).getResult());
      });
  ctx.setOutput(0, generic.getResult(0), ctx.inputONNXType(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

LogicalResult importGather(NodeContext &ctx) {
  int64_t rank = inputRank(ctx, 0);
  if (rank == 0)
    return ctx.error("data must have rank >= 1");
  FailureOr<int64_t> axis = normalizeAxis(ctx, ctx.attrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  int32_t indexType = ctx.inputONNXType(1);
  if (indexType != kInt64 && indexType != kInt32)
    return ctx.error("indices must be int32 or int64, got " +
                     dataTypeName(indexType));
  const FoldedTensor *data = ctx.folded(0), *indices = ctx.folded(1);
  if (data && indices &&
      saturatingMul(data->numElements() /
                        std::max<int64_t>(data->shape[*axis], 1),
                    indices->numElements()) <= kMaxFoldedElements) {
    if (std::optional<SmallVector<int64_t>> idx = indices->getInts()) {
      int64_t axisSize = data->shape[*axis];
      for (int64_t &i : *idx) {
        if (i < -axisSize || i >= axisSize)
          return ctx.error("index " + std::to_string(i) +
                           " is out of range for axis size " +
                           std::to_string(axisSize));
        if (i < 0)
          i += axisSize;
      }
      SmallVector<int64_t> shape(data->shape.begin(),
                                 data->shape.begin() + *axis);
      shape.append(indices->shape.begin(), indices->shape.end());
      shape.append(data->shape.begin() + *axis + 1, data->shape.end());
      int64_t r = indices->shape.size();
      SmallVector<int64_t> srcStrides = stridesOf(data->shape);
      SmallVector<int64_t> idxStrides = stridesOf(indices->shape);
      ctx.setFolded(0, pickElements(*data, shape, [&](int64_t e) {
                      SmallVector<int64_t> out = unflatten(e, shape);
                      int64_t flat = 0, which = 0;
                      for (int64_t k = 0; k < r; ++k)
                        which += out[*axis + k] * idxStrides[k];
                      for (int64_t k = 0; k < rank; ++k) {
                        int64_t v = k < *axis    ? out[k]
                                    : k == *axis ? (*idx)[which]
                                                 : out[k + r - 1];
                        flat += v * srcStrides[k];
                      }
                      return flat;
                    }));
      return success();
    }
  }
  // out[pre..., idx..., post...] = data[pre..., indices[idx...], post...]
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0), ind = ctx.input(1);
  auto indType = cast<RankedTensorType>(ind.getType());
  int64_t r = indType.getRank();
  SmallVector<OpFoldResult> dataDims = getDims(b, loc, x),
                            indDims = getDims(b, loc, ind);
  SmallVector<OpFoldResult> outDims(dataDims.begin(), dataDims.begin() + *axis);
  outDims.append(indDims.begin(), indDims.end());
  outDims.append(dataDims.begin() + *axis + 1, dataDims.end());
  int64_t outRank = outDims.size();
  Type et = ctx.inputType(0).getElementType();
  Value init = createEmpty(b, loc, outDims, et);
  SmallVector<AffineExpr> indExprs;
  for (int64_t k = 0; k < r; ++k)
    indExprs.push_back(b.getAffineDimExpr(*axis + k));
  SmallVector<AffineMap> maps{
      AffineMap::get(outRank, 0, indExprs, b.getContext()),
      b.getMultiDimIdentityMap(outRank)};
  SmallVector<utils::IteratorType> iterators(outRank,
                                             utils::IteratorType::parallel);
  OpFoldResult axisSize = dataDims[*axis];
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{ind}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value i =
            arith::IndexCastOp::create(nb, nloc, nb.getIndexType(), args[0]);
        i = getValueOrCreateConstantIndexOp(
            nb, nloc, indexWrapNegative(nb, nloc, i, axisSize));
        // Out-of-range indices are undefined in ONNX; clamp so a bad token
        // id cannot read outside the table.
        Value last = getValueOrCreateConstantIndexOp(
            nb, nloc, indexSub(nb, nloc, axisSize, nb.getIndexAttr(1)));
        Value zero = arith::ConstantIndexOp::create(nb, nloc, 0);
        i = arith::MaxSIOp::create(
            nb, nloc, arith::MinSIOp::create(nb, nloc, i, last), zero);
        SmallVector<Value> at;
        for (int64_t k = 0; k < rank; ++k) {
          if (k == *axis)
            at.push_back(i);
          else
            at.push_back(
                linalg::IndexOp::create(nb, nloc, k < *axis ? k : k + r - 1));
        }
        Value v = tensor::ExtractOp::create(nb, nloc, x, at);
        linalg::YieldOp::create(nb, nloc, v);
      });
  ctx.setOutput(0, generic.getResult(0), ctx.inputONNXType(0));
  return success();
}

//===----------------------------------------------------------------------===//
// Expand, ConstantOfShape, Range, Trilu
//===----------------------------------------------------------------------===//

LogicalResult importExpand(NodeContext &ctx) {
  const FoldedTensor *shape = ctx.folded(1);
  if (!shape || shape->isFloat() || shape->shape.size() != 1)
    return ctx.error("the shape must be a 1-D int64 tensor computable at "
                     "compile time");
  SmallVector<OpFoldResult> in = inputSizes(ctx, 0);
  SmallVector<OpFoldResult> target(shape->ints.begin(), shape->ints.end());
  for (OpFoldResult t : target)
    if (std::optional<int64_t> c = getConstantIntValue(t); c && *c < 0)
      return ctx.error("shape has a negative entry " + std::to_string(*c));
  int64_t rank = std::max(in.size(), target.size());
  OpBuilder &b = ctx.builder();
  // Right-aligned broadcast of the input dims against the target.
  SmallVector<OpFoldResult> out(rank);
  SmallVector<bool> broadcast(rank, false);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t ii = i - (rank - in.size()), ti = i - (rank - target.size());
    OpFoldResult d = ii >= 0 ? in[ii] : b.getIndexAttr(1);
    OpFoldResult t = ti >= 0 ? target[ti] : b.getIndexAttr(1);
    std::optional<int64_t> cd = getConstantIntValue(d),
                           ct = getConstantIntValue(t);
    if (ct == 1) {
      out[i] = d;
    } else if (cd == 1) {
      out[i] = t;
      broadcast[i] = true;
    } else if (cd && ct && *cd != *ct) {
      return ctx.error("cannot expand dimension " + std::to_string(i) +
                       " of size " + std::to_string(*cd) + " to " +
                       std::to_string(*ct));
    } else {
      out[i] = cd ? d : t; // a dynamic dim is taken to match
    }
  }
  if (const FoldedTensor *f = ctx.folded(0)) {
    SmallVector<int64_t> outShape = staticShape(out);
    if (!ShapedType::isDynamicShape(outShape) &&
        product(outShape) <= kMaxFoldedElements) {
      SmallVector<int64_t> srcStrides = stridesOf(f->shape);
      ctx.setFolded(0, pickElements(*f, outShape, [&](int64_t e) {
                      SmallVector<int64_t> idx = unflatten(e, outShape);
                      int64_t flat = 0, off = rank - f->shape.size();
                      for (size_t k = 0; k < f->shape.size(); ++k)
                        flat += (f->shape[k] == 1 ? 0 : idx[off + k]) *
                                srcStrides[k];
                      return flat;
                    }));
      return success();
    }
  }
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  Value init = createEmpty(b, loc, out, ctx.inputType(0).getElementType());
  SmallVector<AffineExpr> exprs;
  for (int64_t k = 0, off = rank - in.size(); k < (int64_t)in.size(); ++k)
    exprs.push_back(broadcast[off + k] ? b.getAffineConstantExpr(0)
                                       : b.getAffineDimExpr(off + k));
  SmallVector<AffineMap> maps{AffineMap::get(rank, 0, exprs, b.getContext()),
                              b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{x}, ValueRange{init}, maps, iterators,
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, args[0]);
      });
  ctx.setOutput(0, generic.getResult(0), ctx.inputONNXType(0));
  return success();
}

LogicalResult importConstantOfShape(NodeContext &ctx) {
  const FoldedTensor *shape = ctx.folded(0);
  if (!shape || shape->isFloat() || shape->shape.size() != 1)
    return ctx.error("the shape must be a 1-D int64 tensor computable at "
                     "compile time");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  // The fill value: a one-element tensor, float 0 by default.
  int32_t type = kFloat;
  double floatValue = 0;
  int64_t intValue = 0;
  if (const onnx::AttributeProto *a = ctx.attr("value")) {
    onnx::TensorProto tensor = a->t();
    std::string error;
    FailureOr<ElementsAttr> attr =
        convertTensor(tensor, nullptr, 1 << 20, ctx.getContext(), error);
    if (failed(attr))
      return ctx.error(error);
    auto dense = dyn_cast<DenseElementsAttr>(*attr);
    if (!dense || dense.getNumElements() != 1)
      return ctx.error("value must hold exactly one element");
    type = tensor.data_type();
    if (isFloatType(type))
      floatValue = (*dense.getValues<APFloat>().begin()).convertToDouble();
    else
      intValue = isUnsignedType(type)
                     ? (*dense.getValues<APInt>().begin()).getZExtValue()
                     : (*dense.getValues<APInt>().begin()).getSExtValue();
  }
  SmallVector<OpFoldResult> sizes(shape->ints.begin(), shape->ints.end());
  for (OpFoldResult s : sizes)
    if (std::optional<int64_t> c = getConstantIntValue(s); c && *c < 0)
      return ctx.error("shape has a negative entry");
  SmallVector<int64_t> staticSizes = staticShape(sizes);
  if (!ShapedType::isDynamicShape(staticSizes) &&
      product(staticSizes) <= kMaxFoldedElements) {
    FoldedTensor t;
    t.shape = staticSizes;
    t.onnxType = type;
    int64_t n = t.numElements();
    if (isFloatType(type))
      t.floats.assign(n, floatValue);
    else
      t.ints.assign(n, b.getIndexAttr(intValue));
    ctx.setFolded(0, std::move(t));
    return success();
  }
  Type et = convertElementType(type, ctx.getContext());
  TypedAttr value = isFloatType(type)
                        ? TypedAttr(b.getFloatAttr(et, floatValue))
                        : TypedAttr(b.getIntegerAttr(et, intValue));
  Value init = createEmpty(b, loc, sizes, et);
  Value fill = arith::ConstantOp::create(b, loc, value);
  ctx.setOutput(0, linalg::FillOp::create(b, loc, fill, init).getResult(0),
                type);
  return success();
}

LogicalResult importRange(NodeContext &ctx) {
  int32_t type = ctx.inputONNXType(0);
  for (unsigned i = 1; i < 3; ++i)
    if (ctx.inputONNXType(i) != type)
      return ctx.error("start, limit and delta have different types");
  const FoldedTensor *start = ctx.folded(0), *limit = ctx.folded(1),
                     *delta = ctx.folded(2);
  if (!start || !limit || !delta || start->numElements() != 1 ||
      limit->numElements() != 1 || delta->numElements() != 1)
    return ctx.error("start, limit and delta must be scalars computable at "
                     "compile time");
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  if (isFloatType(type)) {
    double s = start->floats[0], l = limit->floats[0], d = delta->floats[0];
    if (d == 0)
      return ctx.error("delta must not be 0");
    double count = std::ceil((l - s) / d);
    // (Also refuses NaN and infinite counts.)
    if (!(count <= kMaxFoldedElements))
      return ctx.error("float ranges longer than " +
                       std::to_string(kMaxFoldedElements) +
                       " are not supported");
    int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
    FoldedTensor t;
    t.shape = {n};
    t.onnxType = type;
    for (int64_t i = 0; i < n; ++i)
      t.floats.push_back(s + i * d);
    ctx.setFolded(0, std::move(t));
    return success();
  }
  std::optional<int64_t> d = delta->getInt(0);
  if (!d || *d == 0)
    return ctx.error("delta must be a nonzero constant");
  OpFoldResult s = start->ints[0], l = limit->ints[0];
  OpFoldResult n = indexMax(
      b, loc, b.getIndexAttr(0),
      *d > 0 ? indexCeilDiv(b, loc, indexSub(b, loc, l, s), b.getIndexAttr(*d))
             : indexCeilDiv(b, loc, indexSub(b, loc, s, l),
                            b.getIndexAttr(-std::max(*d, -INT64_MAX))));
  std::optional<int64_t> count = getConstantIntValue(n);
  if (count && *count <= kMaxFoldedElements) {
    FoldedTensor t;
    t.shape = {*count};
    t.onnxType = type;
    for (int64_t i = 0; i < *count; ++i)
      t.ints.push_back(
          indexAdd(b, loc, s, b.getIndexAttr(saturatingMul(i, *d))));
    ctx.setFolded(0, std::move(t));
    return success();
  }
  // Dynamic length (e.g. positions past_len .. past_len + seq).
  Type et = convertElementType(type, ctx.getContext());
  Value init = createEmpty(b, loc, {n}, et);
  Value startValue = getValueOrCreateConstantIndexOp(b, loc, s);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(1)},
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value i = linalg::IndexOp::create(nb, nloc, 0);
        Value v = arith::AddIOp::create(
            nb, nloc, startValue,
            arith::MulIOp::create(
                nb, nloc, i, arith::ConstantIndexOp::create(nb, nloc, *d)));
        linalg::YieldOp::create(
            nb, nloc, arith::IndexCastOp::create(nb, nloc, et, v).getResult());
      });
  ctx.setOutput(0, generic.getResult(0), type);
  return success();
}

LogicalResult importTrilu(NodeContext &ctx) {
  int64_t rank = inputRank(ctx, 0);
  if (rank < 2)
    return ctx.error("input must have rank >= 2");
  OpFoldResult k = ctx.builder().getIndexAttr(0);
  if (ctx.hasInput(1)) {
    const FoldedTensor *f = ctx.folded(1);
    if (!f || f->isFloat() || f->numElements() != 1)
      return ctx.error("k must be an integer scalar computable at compile "
                       "time");
    k = f->ints[0];
  }
  bool upper = ctx.attrInt("upper", 1) != 0;
  OpBuilder &b = ctx.builder();
  Location loc = ctx.getLoc();
  Value x = ctx.input(0);
  auto type = ctx.inputType(0);
  Type et = type.getElementType();
  Value kValue = getValueOrCreateConstantIndexOp(b, loc, k);
  Value init = createEmpty(b, loc, getDims(b, loc, x), et);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{x}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value row = linalg::IndexOp::create(nb, nloc, rank - 2);
        Value col = linalg::IndexOp::create(nb, nloc, rank - 1);
        // upper keeps col - row >= k; lower keeps col - row <= k.
        Value diff = arith::SubIOp::create(nb, nloc, col, row);
        Value keep = arith::CmpIOp::create(nb, nloc,
                                           upper ? arith::CmpIPredicate::sge
                                                 : arith::CmpIPredicate::sle,
                                           diff, kValue);
        Value zero = arith::ConstantOp::create(nb, nloc, nb.getZeroAttr(et));
        linalg::YieldOp::create(
            nb, nloc,
            arith::SelectOp::create(nb, nloc, keep, args[0], zero).getResult());
      });
  ctx.setOutput(0, generic.getResult(0), ctx.inputONNXType(0));
  return success();
}

} // namespace

void mlir::qopt::onnx_import::registerShapeRules(RuleRegistry &r) {
  r.add("", "Shape", importShape);
  r.add("", "Size", importSize);
  r.add("", "Reshape", importReshape);
  r.add("", "Flatten", importFlatten);
  r.add("", "Squeeze", importSqueeze);
  r.add("", "Unsqueeze", importUnsqueeze);
  r.add("", "Transpose", importTranspose);
  r.add("", "Concat", importConcat);
  r.add("", "Split", importSplit);
  r.add("", "Slice", importSlice);
  r.add("", "Gather", importGather);
  r.add("", "Expand", importExpand);
  r.add("", "ConstantOfShape", importConstantOfShape);
  r.add("", "Range", importRange);
  r.add("", "Trilu", importTrilu);
}
