//===- Builders.h - IR construction helpers for import rules ----*- C++ -*-===//

#ifndef QUANT_OPT_LIB_TARGET_ONNX_BUILDERS_H
#define QUANT_OPT_LIB_TARGET_ONNX_BUILDERS_H

#include "ImportContext.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::qopt::onnx_import {

/// Size of `dim` of a ranked tensor as an index OpFoldResult.
OpFoldResult getDim(OpBuilder &b, Location loc, Value tensor, int64_t dim);
SmallVector<OpFoldResult> getDims(OpBuilder &b, Location loc, Value tensor);

/// tensor.empty of the given sizes.
Value createEmpty(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> sizes,
                  Type elementType);

/// Computes the scalar result of an elementwise op from scalar operands.
using ScalarBody =
    function_ref<Value(OpBuilder &b, Location loc, ValueRange args)>;

/// Emits a linalg.generic applying `body` elementwise with ONNX
/// (numpy-style) broadcasting. Dynamic dims are assumed not to broadcast
/// against each other (the torch.onnx convention); a static 1 broadcasts.
/// Fails with a diagnostic on incompatible static shapes.
FailureOr<Value> buildElementwise(NodeContext &ctx, ValueRange inputs,
                                  Type resultElementType, ScalarBody body);

/// Converts a scalar between ONNX element types with ONNX Cast semantics
/// (float->int truncates toward zero, signedness from the ONNX types).
Value convertScalar(OpBuilder &b, Location loc, Value v, int32_t fromType,
                    int32_t toType);

/// Normalizes a possibly negative axis against `rank`; fails with a
/// diagnostic naming `what` when out of range.
FailureOr<int64_t> normalizeAxis(NodeContext &ctx, int64_t axis, int64_t rank,
                                 StringRef what = "axis");

/// Reads an optional axes list: from input `inputIndex` at opset >=
/// `inputSince`, else from the attribute "axes". Normalized against `rank`
/// and sorted; repeated entries are an error. nullopt when absent.
FailureOr<std::optional<SmallVector<int64_t>>> readAxes(NodeContext &ctx,
                                                        unsigned inputIndex,
                                                        int64_t inputSince,
                                                        int64_t rank);

/// a[..., M, K] x b[..., K, N] in float with numpy batching: linalg.matmul
/// when b is 2-D (leading dims of a collapsed), else linalg.batch_matmul.
/// Fails with a diagnostic on non-float or mismatched static dims.
FailureOr<Value> buildMatMul(NodeContext &ctx, Value lhs, Value rhs);

/// Index arithmetic on OpFoldResults: folds constants, else emits arith.
OpFoldResult indexAdd(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult indexSub(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult indexMul(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult indexMin(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
OpFoldResult indexMax(OpBuilder &b, Location loc, OpFoldResult x,
                      OpFoldResult y);
/// ceil(x / y) for y > 0.
OpFoldResult indexCeilDiv(OpBuilder &b, Location loc, OpFoldResult x,
                          OpFoldResult y);
/// x < 0 ? x + size : x (Python-style negative indices).
OpFoldResult indexWrapNegative(OpBuilder &b, Location loc, OpFoldResult x,
                               OpFoldResult size);

/// Reshapes `v` to `sizes` (same element count). Uses collapse_shape and
/// expand_shape when the dims regroup (compared symbolically, so dynamic
/// dims computed from Shape ops match), else tensor.reshape.
Value reshapeTensor(OpBuilder &b, Location loc, Value v,
                    ArrayRef<OpFoldResult> sizes);

/// Static shape of a list of sizes (dynamic where not constant).
SmallVector<int64_t> staticShape(ArrayRef<OpFoldResult> sizes);

} // namespace mlir::qopt::onnx_import

#endif // QUANT_OPT_LIB_TARGET_ONNX_BUILDERS_H
