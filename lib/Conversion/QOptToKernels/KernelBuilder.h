//===- KernelBuilder.h - Building the quantized matmul kernels --*- C++ -*-===//
//
// The fast kernels are private functions on tensors (scf loops around
// vector.transfer_read/write, vector arithmetic and, per target, x86/Arm
// intrinsics), one per weight shape and scheme, so that the 49 linear
// layers of GPT-2 124M share five kernels. Bufferization turns them into
// in-place loops over buffers.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CONVERSION_QOPTTOKERNELS_KERNELBUILDER_H
#define QUANT_OPT_CONVERSION_QOPTTOKERNELS_KERNELBUILDER_H

#include "WeightPacking.h"
#include "quant-opt/Conversion/KernelTarget.h"
#include "quant-opt/Dialect/QOpt/Utils/ConstantData.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::qopt {

/// Rows of the default register block (the remaining rows go one at a time).
constexpr int64_t kRowBlock = 4;

/// The row blocks of the integer kernels on `target` for panels of
/// `panelBytes` weight bytes. On AVX-512 VNNI a panel's row is one
/// accumulator register: when the panel does not fit in half of L1, 8 rows
/// per pass halve its reloads from L2 (measured: K = 3072 W8A8 from 53% to
/// 71% of the vpdpbusd peak; at K = 768, 4 rows were faster).
inline SmallVector<int64_t, 2> integerRowBlocks(KernelTarget target,
                                                int64_t panelBytes) {
  if (target == KernelTarget::X86AVX512VNNI && panelBytes > 16 * 1024)
    return {8, kRowBlock};
  return {kRowBlock};
}

/// Small builders shared by the kernels.
struct KernelBuilder {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, int64_t v) {
    return v ? arith::AddIOp::create(b, loc, x, index(v)).getResult() : x;
  }
  Value mul(Value x, int64_t v) {
    return arith::MulIOp::create(b, loc, x, index(v));
  }
  Value splat(VectorType type, Attribute element) {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(type, element));
  }
  /// A vector read that is in bounds by construction.
  Value read(VectorType type, Value source, ValueRange indices) {
    Value pad =
        arith::ConstantOp::create(b, loc, b.getZeroAttr(type.getElementType()));
    return vector::TransferReadOp::create(b, loc, type, source, indices, pad,
                                          ArrayRef<bool>{true});
  }
  /// The concatenation of equal-length 1-D vectors.
  Value concat(ArrayRef<Value> parts);
  /// `count` equal slices of a 1-D vector.
  SmallVector<Value> split(Value v, int64_t count);
};

/// Rows [0, M) in blocks of `blocks[0]` rows, the rest in blocks of
/// `blocks[1]` rows and so on (decreasing sizes), then the remaining rows one
/// at a time: `body(m0, rows, out)` returns `out` with rows
/// [m0, m0 + rows) written.
Value forEachRowBlock(KernelBuilder &kb, Value m, Value init,
                      ArrayRef<int64_t> blocks,
                      function_ref<Value(Value, int64_t, Value)> body);

/// Folds `term(g, length, acc)` over `groups` groups, all of `length` except
/// the last one's `lastLength` (a ragged last group): the equal ones in an
/// scf.for, a shorter last one after the loop with its own constant length.
SmallVector<Value>
foldGroups(KernelBuilder &kb, int64_t groups, int64_t length,
           int64_t lastLength, ValueRange init,
           function_ref<SmallVector<Value>(Value, int64_t, ValueRange)> term);

/// A private function `name` of `type` in `module`, built by `body` the
/// first time (its block arguments are the function's).
func::FuncOp
getOrCreateKernel(ModuleOp module, SymbolTable &symbols, StringRef name,
                  FunctionType type,
                  function_ref<void(OpBuilder &, Location, ValueRange)> body);

/// A kernel `name` from [M, *] operands (the first one's rows are M) to
/// `output` ([?, N] f32), computed by panels of kPanel columns in parallel
/// (scf.forall). In a panel the rows go in blocks of `rowBlocks` rows (see
/// forEachRowBlock), each written by `panelRows(kb, args, p, m0, rows,
/// tile)` into `tile`, panel p's [M, <= kPanel] slice of the output.
func::FuncOp
getOrCreatePanelKernel(ModuleOp module, SymbolTable &symbols, StringRef name,
                       ArrayRef<Type> argTypes, RankedTensorType output,
                       ArrayRef<int64_t> rowBlocks,
                       function_ref<Value(KernelBuilder &, ValueRange, Value,
                                          Value, int64_t, Value)>
                           panelRows);

/// Where a kernel keeps a weight's values: a `qopt.qgather` on the same
/// stored weight (a tied embedding) reads this copy instead of a second
/// one (lowerQGatherToPackedWeight).
struct PackedWeightView {
  /// Float kernel: bytes [P, K, B], params [P, groups, 16], value
  /// u * scale + bias. Integer kernels: bytes [P, Kp / ku, 16 * ku * bits / 8],
  /// params [groups, P * 16], value (w' - zp) * scale.
  enum class Layout { FloatPanels, IntegerBlocks } layout;
  unsigned bits = 8;
  /// Signed values: 8-bit bytes as stored, 4-bit nibbles offset by 8.
  bool signedBytes = true;
  int64_t group = 0, ku = 1;
  Value bytes, scales;
  Value offsets; ///< Biases (float) or zero points (integer); may be null.
};

/// Replaces a qmatmul with float activations by a call to the
/// weight-unpacking float kernel; returns where the packed weight is.
PackedWeightView lowerToFloatKernel(QMatmulOp op, const QMatmulWeights &w,
                                    KernelTarget target, RewriterBase &rewriter,
                                    SymbolTable &symbols);

/// Replaces `op` by a gather that dequantizes its rows (columns of the
/// stored [D, V] weight) from the kernel layout `view`. The packed
/// constants must dominate `op`: they are moved before it when needed.
void lowerQGatherToPackedWeight(QGatherOp op, const PackedWeightView &view,
                                RewriterBase &rewriter);

/// A call, built at `b`, of the f32 panel kernel for `x` ([?, K] or [M, K]
/// f32) times the constant `weights` ([K, N] row-major), which it packs
/// into panels; the result is [?, N]. The rows go in `rowBlocks` (see
/// forEachRowBlock).
Value callF32Kernel(OpBuilder &b, Location loc, ModuleOp module,
                    SymbolTable &symbols, Value x, int64_t k, int64_t n,
                    ArrayRef<float> weights, ArrayRef<int64_t> rowBlocks);

/// Whether the integer kernel of `target` takes these weights: one group,
/// or groups that are whole k-blocks of its dot product.
bool integerKernelTakes(const QMatmulWeights &w, KernelTarget target);

/// Replaces a qmatmul with quantized activations (static or dynamic; 8- or
/// 4-bit weights, per tensor, channel or group) by the activation
/// quantization and a call to the integer kernel of `target`. With
/// `fuseInput` the quantization goes into x's elementwise producer where
/// there is one (see InputQuantization.h).
PackedWeightView lowerToIntegerKernel(QMatmulOp op, const QMatmulWeights &w,
                                      KernelTarget target, bool fuseInput,
                                      RewriterBase &rewriter,
                                      SymbolTable &symbols);

} // namespace mlir::qopt

#endif // QUANT_OPT_CONVERSION_QOPTTOKERNELS_KERNELBUILDER_H
