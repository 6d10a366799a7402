//===- InsertRuntimeChecks.cpp - Shape and index assumptions as checks ----===//
//
// Every place where the entry points' code is only memory-safe if a dynamic
// size or index satisfies something (dims that meet in one loop, a slice at
// a run-time offset, the ids of a row gather, the size of a buffer) gets a
// `qopt.runtime_check` stating it. qopt-outline-runtime-checks turns them
// into a function the packed entry point calls before running the model.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Codegen/Passes.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "llvm/ADT/DenseSet.h"

#include <map>
#include <set>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTINSERTRUNTIMECHECKSPASS
#include "quant-opt/Codegen/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {
using Cmp = ValueBoundsConstraintSet::ComparisonOperator;

/// "node 'NAME'" for an op the importer named after its ONNX node, else the
/// op's name: the start of every message.
std::string describe(Operation *op) {
  std::string name = locationName(op->getLoc());
  std::string out =
      name.empty() ? op->getName().getStringRef().str() : "node '" + name + "'";
  if (StringRef role = roleOf(op); !role.empty())
    out += " (" + role.str() + ")";
  return out;
}

std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream(s) << type;
  return s;
}

/// "input 'NAME'" for an entry point's argument (its ONNX name), else the
/// value's type.
std::string describeValue(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value))
    if (auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
      if (auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                        "onnx.name"))
        return "input '" + name.str() + "' " + typeString(value.getType());
  return typeString(value.getType());
}

class CheckBuilder {
public:
  CheckBuilder(int64_t maxBytes) : maxBytes(maxBytes) {}

  void visit(Operation *op) {
    if (auto gather = dyn_cast<QGatherOp>(op))
      return checkIds(op, gather.getIds(),
                      OpBuilder(op).getIndexAttr(gather.getNumRows()));
    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      checkGather(generic);
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      return checkLoopDims(linalgOp);
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
      return checkSlice(op, slice.getSource(), slice.getMixedOffsets(),
                        slice.getMixedSizes(), slice.getMixedStrides());
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
      checkInsertedSizes(insert);
      return checkSlice(op, insert.getDest(), insert.getMixedOffsets(),
                        insert.getMixedSizes(), insert.getMixedStrides());
    }
    if (auto cast = dyn_cast<tensor::CastOp>(op))
      return checkCast(cast);
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
      return checkExpand(expand);
    if (auto concat = dyn_cast<tensor::ConcatOp>(op))
      return checkConcat(concat);
    if (auto extract = dyn_cast<tensor::ExtractOp>(op))
      return checkIndices(op, extract.getTensor(), extract.getIndices());
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return checkAllocation(empty);
    if (auto reshape = dyn_cast<tensor::ReshapeOp>(op))
      return checkReshape(reshape);
  }

private:
  OpFoldResult dimOf(OpBuilder &b, Location loc, Value tensor, int64_t d) {
    return tensor::getMixedSize(b, loc, tensor, d);
  }
  Value value(OpBuilder &b, Location loc, OpFoldResult v) {
    return getValueOrCreateConstantIndexOp(b, loc, v);
  }
  Value cmp(OpBuilder &b, Location loc, arith::CmpIPredicate p, OpFoldResult x,
            OpFoldResult y) {
    return arith::CmpIOp::create(b, loc, p, value(b, loc, x), value(b, loc, y));
  }
  Value all(OpBuilder &b, Location loc, ArrayRef<Value> conditions) {
    Value out = conditions.front();
    for (Value c : conditions.drop_front())
      out = arith::AndIOp::create(b, loc, out, c);
    return out;
  }
  void emit(OpBuilder &b, Location loc, Value ok, const Twine &message) {
    RuntimeCheckOp::create(b, loc, ok, b.getStringAttr(message));
  }
  /// ValueBounds walks back through every op a size depends on, so a long
  /// chain of ops costs quadratic time or worse: it is asked only a bounded
  /// number of times per function (an unproven assumption costs one
  /// comparison at run time, so giving up early is always safe).
  bool mayAskValueBounds() {
    if (boundsQueries >= kMaxBoundsQueries)
      return false;
    ++boundsQueries;
    return true;
  }
  /// A comparison in terms of where its sizes come from (`Source`): the
  /// same question about another layer's tensors has the same key, and the
  /// same answer, whether or not the budget is spent. Every layer then gets
  /// the same checks, and a model's layers lower to the same loop nests
  /// (which qopt-outline-loop-nests compiles once).
  SmallVector<const void *>
  questionKey(const ValueBoundsConstraintSet::Variable &lhs, Cmp cmp,
              const ValueBoundsConstraintSet::Variable &rhs) {
    SmallVector<const void *> key = {
        reinterpret_cast<const void *>(static_cast<intptr_t>(cmp))};
    for (const ValueBoundsConstraintSet::Variable *v : {&lhs, &rhs}) {
      key.push_back(v->getMap().getAsOpaquePointer());
      key.push_back(reinterpret_cast<const void *>(v->getOperands().size()));
      for (auto [value, dim] : v->getOperands()) {
        Source source = dim ? sourceOf(value, *dim) : sourceOfSize(value);
        key.push_back(source.value.getAsOpaquePointer());
        key.push_back(reinterpret_cast<const void *>(source.dim));
        key.push_back(reinterpret_cast<const void *>(source.constant));
      }
    }
    return key;
  }
  /// The kept answer to `lhs cmp rhs`, or `ask()`'s when ValueBounds may
  /// still be asked (false once the budget is spent), kept.
  bool answer(const ValueBoundsConstraintSet::Variable &lhs, Cmp cmp,
              const ValueBoundsConstraintSet::Variable &rhs,
              function_ref<bool()> ask) {
    SmallVector<const void *> key = questionKey(lhs, cmp, rhs);
    if (auto it = answers.find(key); it != answers.end())
      return it->second;
    bool result = mayAskValueBounds() && ask();
    answers[key] = result;
    return result;
  }
  bool proven(ValueBoundsConstraintSet::Variable lhs, Cmp cmp,
              ValueBoundsConstraintSet::Variable rhs) {
    return answer(lhs, cmp, rhs, [&] {
      return ValueBoundsConstraintSet::compare(lhs, cmp, rhs);
    });
  }

  /// Where a dim's size comes from, looking through the ops whose result
  /// dims are their init's (linalg), tensor.empty's sizes and tensor.dim:
  /// (a function argument's dim), (an index value, -1) or a constant. Equal
  /// sources are equal sizes; memoized, so a chain costs linear time.
  struct Source {
    Value value;
    int64_t dim = -1;
    int64_t constant = ShapedType::kDynamic;
    bool operator==(const Source &o) const {
      return value == o.value && dim == o.dim && constant == o.constant;
    }
  };
  Source sourceOfSize(OpFoldResult size) {
    if (std::optional<int64_t> c = getConstantIntValue(size))
      return {Value(), -1, *c};
    Value v = cast<Value>(size);
    if (auto dim = v.getDefiningOp<tensor::DimOp>())
      if (std::optional<int64_t> d = dim.getConstantIndex())
        return sourceOf(dim.getSource(), *d);
    return {v, -1};
  }
  Source sourceOf(Value tensor, int64_t d) {
    auto type = cast<ShapedType>(tensor.getType());
    if (!type.isDynamicDim(d))
      return {Value(), -1, type.getDimSize(d)};
    auto key = std::make_pair(tensor, d);
    if (auto it = sources.find(key); it != sources.end())
      return it->second;
    Source source = {tensor, d};
    if (auto result = dyn_cast<OpResult>(tensor)) {
      Operation *op = result.getOwner();
      if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
        source = sourceOf(dps.getTiedOpOperand(result)->get(), d);
      else if (auto empty = dyn_cast<tensor::EmptyOp>(op))
        source = sourceOfSize(empty.getMixedSizes()[d]);
      else if (auto cast = dyn_cast<tensor::CastOp>(op))
        source = sourceOf(cast.getSource(), d);
      else if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
        source = sourceOfSize(expand.getMixedOutputShape()[d]);
    }
    sources[key] = source;
    return source;
  }

  bool sameDim(Value a, int64_t da, Value b, int64_t db) {
    auto ta = cast<ShapedType>(a.getType()), tb = cast<ShapedType>(b.getType());
    if (!ta.isDynamicDim(da) && !tb.isDynamicDim(db))
      return ta.getDimSize(da) == tb.getDimSize(db);
    if (sourceOf(a, da) == sourceOf(b, db))
      return true;
    return answer({a, da}, Cmp::EQ, {b, db}, [&] {
      FailureOr<bool> equal =
          ValueBoundsConstraintSet::areEqual({a, da}, {b, db});
      return succeeded(equal) && *equal;
    });
  }

  /// Every operand dim that one loop dim indexes directly has the same size.
  void checkLoopDims(linalg::LinalgOp op) {
    if (!op.hasPureTensorSemantics())
      return;
    SmallVector<SmallVector<std::pair<OpOperand *, int64_t>>> uses(
        op.getNumLoops());
    bool anyDynamic = false;
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type)
        continue;
      anyDynamic |= !type.hasStaticShape();
      AffineMap map = op.getMatchingIndexingMap(&operand);
      for (auto [i, expr] : llvm::enumerate(map.getResults()))
        if (auto d = dyn_cast<AffineDimExpr>(expr))
          uses[d.getPosition()].push_back({&operand, int64_t(i)});
    }
    if (!anyDynamic)
      return;
    OpBuilder b(op);
    Location loc = op.getLoc();
    for (auto [loop, list] : llvm::enumerate(uses)) {
      if (list.size() < 2)
        continue;
      // Compare with a static dim when there is one.
      auto *ref = llvm::find_if(list, [](auto &use) {
        return !cast<ShapedType>(use.first->get().getType())
                    .isDynamicDim(use.second);
      });
      if (ref == list.end())
        ref = list.begin();
      for (auto &use : list) {
        if (&use == &*ref || sameDim(ref->first->get(), ref->second,
                                     use.first->get(), use.second))
          continue;
        Value ok = cmp(b, loc, arith::CmpIPredicate::eq,
                       dimOf(b, loc, ref->first->get(), ref->second),
                       dimOf(b, loc, use.first->get(), use.second));
        emit(b, loc, ok,
             describe(op) + ": dim " + Twine(use.second) + " of operand " +
                 Twine(use.first->getOperandNumber()) + " (" +
                 describeValue(use.first->get()) + ") must equal dim " +
                 Twine(ref->second) + " of operand " +
                 Twine(ref->first->getOperandNumber()) + " (" +
                 describeValue(ref->first->get()) + ")");
      }
    }
  }

  /// A slice [offset, offset + (size - 1) * stride] of `tensor` lies inside
  /// it, for every dim not known statically.
  void checkSlice(Operation *op, Value tensor, ArrayRef<OpFoldResult> offsets,
                  ArrayRef<OpFoldResult> sizes,
                  ArrayRef<OpFoldResult> strides) {
    auto type = cast<RankedTensorType>(tensor.getType());
    OpBuilder b(op);
    Location loc = op->getLoc();
    for (int64_t d = 0; d < type.getRank(); ++d) {
      OpFoldResult o = offsets[d], s = sizes[d], t = strides[d];
      if (!type.isDynamicDim(d) && isa<Attribute>(o) && isa<Attribute>(s) &&
          isa<Attribute>(t))
        continue; // The verifier checked it.
      std::optional<int64_t> stride = getConstantIntValue(t);
      ValueBoundsConstraintSet::Variable dim(tensor, d);
      if (stride == 1 && proven(o, Cmp::GE, OpFoldResult(b.getIndexAttr(0))) &&
          proven(s, Cmp::GE, OpFoldResult(b.getIndexAttr(0))) &&
          proven(ValueBoundsConstraintSet::Variable(
                     AffineMap::get(0, 2,
                                    b.getAffineSymbolExpr(0) +
                                        b.getAffineSymbolExpr(1)),
                     ArrayRef<ValueBoundsConstraintSet::Variable>{o, s}),
                 Cmp::LE, dim))
        continue;
      OpFoldResult size = dimOf(b, loc, tensor, d);
      Value zero = arith::ConstantIndexOp::create(b, loc, 0);
      Value one = arith::ConstantIndexOp::create(b, loc, 1);
      Value ov = value(b, loc, o), sv = value(b, loc, s), tv = value(b, loc, t),
            dv = value(b, loc, size);
      // Bounded first, so that the last index cannot overflow.
      Value last = arith::AddIOp::create(
          b, loc, ov,
          arith::MulIOp::create(b, loc, arith::SubIOp::create(b, loc, sv, one),
                                tv));
      Value inside = arith::OrIOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, sv, zero),
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, last, dv));
      Value ok = all(
          b, loc,
          {arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, ov, zero),
           arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, sv, zero),
           arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, ov, dv),
           arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, sv, dv),
           inside});
      emit(b, loc, ok,
           describe(op) + ": the slice of dim " + Twine(d) + " of " +
               describeValue(tensor) + " must lie inside it");
    }
  }

  /// insert_slice: the inserted tensor's dynamic dims are the slice's sizes.
  void checkInsertedSizes(tensor::InsertSliceOp insert) {
    RankedTensorType source = insert.getSourceType();
    if (source.getRank() != insert.getDestType().getRank())
      return; // Rank-reducing: only unit dims dropped, checked statically.
    OpBuilder b(insert);
    Location loc = insert.getLoc();
    for (auto [d, size] : llvm::enumerate(insert.getMixedSizes())) {
      if (!source.isDynamicDim(d) ||
          proven({insert.getSource(), int64_t(d)}, Cmp::EQ, size))
        continue;
      emit(b, loc,
           cmp(b, loc, arith::CmpIPredicate::eq,
               dimOf(b, loc, insert.getSource(), d), size),
           describe(insert) + ": dim " + Twine(d) +
               " of the inserted tensor must equal the slice's size");
    }
  }

  void checkCast(tensor::CastOp cast) {
    auto from = dyn_cast<RankedTensorType>(cast.getSource().getType());
    auto to = dyn_cast<RankedTensorType>(cast.getType());
    if (!from || !to)
      return;
    OpBuilder b(cast);
    Location loc = cast.getLoc();
    for (int64_t d = 0; d < to.getRank(); ++d) {
      if (!from.isDynamicDim(d) || to.isDynamicDim(d) ||
          proven({cast.getSource(), d}, Cmp::EQ,
                 OpFoldResult(b.getIndexAttr(to.getDimSize(d)))))
        continue;
      emit(b, loc,
           cmp(b, loc, arith::CmpIPredicate::eq,
               dimOf(b, loc, cast.getSource(), d),
               b.getIndexAttr(to.getDimSize(d))),
           describe(cast) + ": dim " + Twine(d) + " must be " +
               Twine(to.getDimSize(d)));
    }
  }

  void checkExpand(tensor::ExpandShapeOp expand) {
    RankedTensorType source = expand.getSrcType();
    if (source.hasStaticShape() && expand.getResultType().hasStaticShape())
      return;
    OpBuilder b(expand);
    Location loc = expand.getLoc();
    SmallVector<OpFoldResult> outSizes = expand.getMixedOutputShape();
    for (auto [d, group] : llvm::enumerate(expand.getReassociationIndices())) {
      Value product = arith::ConstantIndexOp::create(b, loc, 1);
      for (int64_t i : group)
        product =
            arith::MulIOp::create(b, loc, product, value(b, loc, outSizes[i]));
      OpFoldResult dim = dimOf(b, loc, expand.getSrc(), d);
      if (proven(dim, Cmp::EQ, OpFoldResult(product)))
        continue;
      SmallVector<Value> ok = {
          cmp(b, loc, arith::CmpIPredicate::eq, dim, product)};
      for (int64_t i : group)
        ok.push_back(cmp(b, loc, arith::CmpIPredicate::sge, outSizes[i],
                         b.getIndexAttr(0)));
      emit(b, loc, all(b, loc, ok),
           describe(expand) + ": dim " + Twine(d) +
               " must split into the result's sizes");
    }
  }

  void checkConcat(tensor::ConcatOp concat) {
    if (concat.getType().hasStaticShape() &&
        llvm::all_of(concat.getInputs(), [](Value v) {
          return cast<ShapedType>(v.getType()).hasStaticShape();
        }))
      return;
    OpBuilder b(concat);
    Location loc = concat.getLoc();
    Value first = concat.getInputs().front();
    for (auto [i, input] : llvm::enumerate(concat.getInputs()))
      for (int64_t d = 0; i > 0 && d < concat.getRank(); ++d)
        if (d != int64_t(concat.getDim()) && !sameDim(first, d, input, d))
          emit(b, loc,
               cmp(b, loc, arith::CmpIPredicate::eq, dimOf(b, loc, first, d),
                   dimOf(b, loc, input, d)),
               describe(concat) + ": dim " + Twine(d) + " of input " +
                   Twine(i) + " must equal that of input 0");
  }

  /// A scalar read outside any loop body at dynamic indices.
  void checkIndices(Operation *op, Value tensor, ValueRange indices) {
    if (!isa<func::FuncOp>(op->getParentOp()))
      return; // Inside a body: gathers clamp their own indices.
    OpBuilder b(op);
    Location loc = op->getLoc();
    for (auto [d, index] : llvm::enumerate(indices)) {
      if (proven(index, Cmp::GE, OpFoldResult(b.getIndexAttr(0))) &&
          proven(index, Cmp::LT,
                 ValueBoundsConstraintSet::Variable(tensor, int64_t(d))))
        continue;
      emit(
          b, loc,
          all(b, loc,
              {cmp(b, loc, arith::CmpIPredicate::sge, index, b.getIndexAttr(0)),
               cmp(b, loc, arith::CmpIPredicate::slt, index,
                   dimOf(b, loc, tensor, d))}),
          describe(op) + ": index " + Twine(d) + " must lie inside " +
              describeValue(tensor));
    }
  }

  /// Every id of a gather from a table of `rows` rows is in [-rows, rows):
  /// one reduction over the ids.
  void checkIds(Operation *op, Value ids, OpFoldResult rows,
                StringRef table = "the table") {
    std::optional<int64_t> staticRows = getConstantIntValue(rows);
    if (!checkedIds.insert({ids, rows.getOpaqueValue()}).second)
      return;
    // Constant ids are checked now: the checks function must not carry a
    // copy of a constant tensor (and nothing needs to run for them).
    DenseIntElementsAttr constantIds;
    bool constantOutside = false;
    if (staticRows && matchPattern(ids, m_Constant(&constantIds))) {
      for (const APInt &id : constantIds.getValues<APInt>())
        constantOutside |= id.getSExtValue() < -*staticRows ||
                           id.getSExtValue() >= *staticRows;
      if (!constantOutside)
        return;
    }
    std::string what =
        !staticRows ? "an id lies outside [-n, n) for " + table.str() +
                          " of n rows (or it is empty)"
        : roleOf(op) == kPositionEmbeddingRole
            ? "a position lies past the model's context of " +
                  std::to_string(*staticRows) + " positions"
            : "an id lies outside [" + std::to_string(-*staticRows) + ", " +
                  std::to_string(*staticRows) + ") (the table's rows)";
    if (constantOutside) { // Fails whatever the inputs.
      OpBuilder b(op);
      emit(b, op->getLoc(),
           arith::ConstantOp::create(b, op->getLoc(), b.getBoolAttr(false)),
           describe(op) + ": " + what);
      return;
    }
    auto type = cast<RankedTensorType>(ids.getType());
    OpBuilder b(op);
    Location loc = op->getLoc();
    Type i1 = b.getI1Type();
    Value init =
        linalg::FillOp::create(b, loc,
                               ValueRange{arith::ConstantOp::create(
                                   b, loc, i1, b.getIntegerAttr(i1, 1))},
                               ValueRange{tensor::EmptyOp::create(
                                   b, loc, ArrayRef<int64_t>{}, i1)})
            .getResult(0);
    // [-rows, rows) as i64, computed outside the reduction.
    Value count =
        arith::IndexCastOp::create(b, loc, b.getI64Type(), value(b, loc, rows));
    Value lowest = arith::SubIOp::create(
        b, loc, arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0)),
        count);
    MLIRContext *ctx = b.getContext();
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(type.getRank(), ctx),
        AffineMap::get(type.getRank(), 0, ctx)};
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::reduction);
    auto reduce = linalg::GenericOp::create(
        b, loc, init.getType(), ValueRange{ids}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value id = args[0];
          if (!id.getType().isInteger(64))
            id = id.getType().isIndex()
                     ? arith::IndexCastOp::create(nb, nloc, nb.getI64Type(), id)
                           .getResult()
                     : arith::ExtSIOp::create(nb, nloc, nb.getI64Type(), id)
                           .getResult();
          Value inside = arith::AndIOp::create(
              nb, nloc,
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::sge, id,
                                    lowest),
              arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::slt, id,
                                    count));
          linalg::YieldOp::create(
              nb, nloc,
              ValueRange{arith::AndIOp::create(nb, nloc, args[1], inside)});
        });
    Value ok =
        tensor::ExtractOp::create(b, loc, reduce.getResult(0), ValueRange{});
    emit(b, loc, ok, describe(op) + ": " + what);
  }

  /// A gather as the importer writes ONNX Gather: a generic whose one input
  /// is the ids and whose body reads a tensor from outside at an index
  /// computed from an id (wrapped, then clamped into the axis): the ids
  /// must lie in [-n, n) for the axis' size n (clamping keeps the read
  /// inside the tensor, but would silently read the wrong row).
  void checkGather(linalg::GenericOp op) {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 1)
      return;
    Value ids = op.getDpsInputs()[0];
    if (!getElementTypeOrSelf(ids.getType()).isIntOrIndex())
      return;
    Block &body = op.getRegion().front();
    BlockArgument id = body.getArgument(0);
    op.getRegion().walk([&](tensor::ExtractOp extract) {
      Value table = extract.getTensor();
      if (op->isAncestor(table.getParentRegion()->getParentOp()))
        return; // Not read from outside.
      for (auto [axis, index] : llvm::enumerate(extract.getIndices())) {
        SetVector<Operation *> slice;
        BackwardSliceOptions options;
        options.inclusive = true;
        options.filter = [&](Operation *o) { return op->isAncestor(o); };
        bool fromId = index == id;
        if (!fromId && succeeded(getBackwardSlice(index, &slice, options)))
          fromId = llvm::any_of(slice, [&](Operation *o) {
            return llvm::is_contained(o->getOperands(), id);
          });
        if (!fromId)
          continue;
        OpBuilder b(op);
        checkIds(op, ids, dimOf(b, op.getLoc(), table, axis),
                 describeValue(table));
        return;
      }
    });
  }

  /// A buffer sized at run time: sizes >= 0, at most maxBytes in all.
  void checkAllocation(tensor::EmptyOp empty) {
    RankedTensorType type = empty.getType();
    if (type.hasStaticShape())
      return;
    SmallVector<OpFoldResult> sizes = empty.getMixedSizes();
    SmallVector<const void *> key =
        llvm::map_to_vector(sizes, [](OpFoldResult s) -> const void * {
          return s.getOpaqueValue();
        });
    int64_t elementBytes =
        std::max<int64_t>(1, (type.getElementType().isIndex()
                                  ? 64
                                  : type.getElementTypeBitWidth() + 7) /
                                 8);
    key.push_back(reinterpret_cast<const void *>(elementBytes));
    if (!checkedSizes.insert(key).second)
      return;
    OpBuilder b(empty);
    Location loc = empty.getLoc();
    SmallVector<Value> ok;
    boundedProduct(b, loc, sizes, maxBytes / elementBytes, ok);
    emit(b, loc, all(b, loc, ok),
         describe(empty) + ": a buffer of " + typeString(type) +
             " sized at run time must hold at most " + Twine(maxBytes) +
             " bytes");
  }

  /// The product of `sizes`, with the conditions that each is >= 0 and the
  /// product at most `limit` (checked without overflowing) added to `ok`.
  Value boundedProduct(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                       int64_t limit, SmallVectorImpl<Value> &ok) {
    Value bound = arith::ConstantIndexOp::create(b, loc, limit);
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    Value product = one;
    for (OpFoldResult s : sizes) {
      Value size = value(b, loc, s);
      ok.push_back(
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, size, zero));
      // product * size <= bound, without overflow: product <= bound / size.
      ok.push_back(arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sle, product,
          arith::DivSIOp::create(b, loc, bound,
                                 arith::MaxSIOp::create(b, loc, size, one))));
      product = arith::MulIOp::create(
          b, loc, product,
          arith::MaxSIOp::create(b, loc, size, zero).getResult());
    }
    return product;
  }

  /// tensor.reshape to a shape computed at run time: the same number of
  /// elements, sizes >= 0, and the result type's static dims as given.
  void checkReshape(tensor::ReshapeOp reshape) {
    auto shapeType = reshape.getShape().getType();
    auto result = dyn_cast<RankedTensorType>(reshape.getResultType());
    auto source = dyn_cast<RankedTensorType>(reshape.getSource().getType());
    if (!source || !result || !shapeType.hasStaticShape())
      return;
    OpBuilder b(reshape);
    Location loc = reshape.getLoc();
    SmallVector<OpFoldResult> to, from;
    SmallVector<Value> ok;
    for (int64_t i = 0; i < result.getRank(); ++i) {
      Value element = tensor::ExtractOp::create(
          b, loc, reshape.getShape(),
          ValueRange{arith::ConstantIndexOp::create(b, loc, i)});
      Value size =
          element.getType().isIndex()
              ? element
              : arith::IndexCastOp::create(b, loc, b.getIndexType(), element)
                    .getResult();
      to.push_back(size);
      if (!result.isDynamicDim(i))
        ok.push_back(cmp(b, loc, arith::CmpIPredicate::eq, size,
                         b.getIndexAttr(result.getDimSize(i))));
    }
    for (int64_t d = 0; d < source.getRank(); ++d)
      from.push_back(dimOf(b, loc, reshape.getSource(), d));
    int64_t limit = int64_t(1) << 62;
    Value fromCount = boundedProduct(b, loc, from, limit, ok);
    Value toCount = boundedProduct(b, loc, to, limit, ok);
    ok.push_back(cmp(b, loc, arith::CmpIPredicate::eq, fromCount, toCount));
    emit(b, loc, all(b, loc, ok),
         describe(reshape) + ": the shape computed at run time must hold " +
             "the input's elements (" + typeString(source) + " to " +
             typeString(result) + ")");
  }

  static constexpr int64_t kMaxBoundsQueries = 512;
  int64_t maxBytes;
  int64_t boundsQueries = 0;
  DenseMap<std::pair<Value, int64_t>, Source> sources;
  llvm::DenseSet<std::pair<Value, const void *>> checkedIds;
  std::set<SmallVector<const void *>> checkedSizes;
  std::map<SmallVector<const void *>, bool> answers;
};

struct QOptInsertRuntimeChecksPass
    : qopt::impl::QOptInsertRuntimeChecksPassBase<QOptInsertRuntimeChecksPass> {
  using Base::Base;
  void runOnOperation() override {
    if (maxBytes <= 0) {
      // On the location only: the module itself is not worth printing.
      emitError(getOperation().getLoc(), "qopt-insert-runtime-checks: "
                                         "max-bytes must be positive, got ")
          << static_cast<int64_t>(maxBytes);
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isPrivate() || func.isExternal())
        continue;
      markModelRoles(func);
      SmallVector<Operation *> ops;
      func.walk([&](Operation *op) {
        if (!isa<RuntimeCheckOp>(op))
          ops.push_back(op);
      });
      CheckBuilder checks(maxBytes);
      for (Operation *op : ops)
        checks.visit(op);
    }
  }
};
} // namespace
