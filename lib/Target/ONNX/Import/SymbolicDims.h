//===- SymbolicDims.h - Compare dynamic dims as symbolic products -*- C++ -*-=//
//
// Exporters compute reshape targets from Shape(x) at run time, e.g.
// Reshape(y, [dim(x,0), dim(x,1), 12, 64]). To turn such a reshape into
// tensor.expand_shape/collapse_shape rather than an opaque tensor.reshape we
// must know that dim(x,0) equals dim 0 of y. SymbolicDim traces each dim
// through the ops the importer builds (linalg, tensor.empty, expand/collapse,
// index arithmetic) down to products of "atoms": dims of function arguments
// or values the analysis cannot see through. Pure analysis: it creates no IR.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_TARGET_ONNX_SYMBOLICDIMS_H
#define QUANT_OPT_LIB_TARGET_ONNX_SYMBOLICDIMS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::qopt::onnx_import {

/// constant * product(atoms). An atom is (tensor, dim) for a dim of a tensor
/// the analysis stops at, or (index value, -1) for an opaque index value.
struct SymbolicDim {
  using Atom = std::pair<Value, int64_t>;
  int64_t constant = 1;
  SmallVector<Atom> atoms; // sorted, so equal products compare equal

  static SymbolicDim ofTensorDim(Value tensor, int64_t dim);
  static SymbolicDim ofIndex(OpFoldResult size);

  bool isConstant() const { return atoms.empty(); }
  bool operator==(const SymbolicDim &other) const {
    return constant == other.constant && atoms == other.atoms;
  }
  SymbolicDim operator*(const SymbolicDim &other) const;
  /// this / other when it divides exactly (constants and atom multisets).
  std::optional<SymbolicDim> divide(const SymbolicDim &other) const;
  /// Builds the index value (constant folded).
  OpFoldResult materialize(OpBuilder &b, Location loc) const;
};

} // namespace mlir::qopt::onnx_import

#endif // QUANT_OPT_LIB_TARGET_ONNX_SYMBOLICDIMS_H
