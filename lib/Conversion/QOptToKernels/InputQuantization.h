//===- InputQuantization.h - x to the integer kernels' bytes ----*- C++ -*-===//
//
// The integer kernels read x as bytes x' = q - offset ([M, Kp], K padded
// to a whole number of the target's k-blocks) with per-row zx' = zx - offset
// and sx. q is computed with the reference lowering's arithmetic
// (ActivationQuantization.h), so the kernels stay bit-exact.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CONVERSION_QOPTTOKERNELS_INPUTQUANTIZATION_H
#define QUANT_OPT_CONVERSION_QOPTTOKERNELS_INPUTQUANTIZATION_H

#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::qopt {

/// How an integer kernel stores x.
struct KernelInputLayout {
  int64_t k, paddedK;
  /// x' = q - offset fits the target's bytes ([0, 255] or [-128, 127]).
  int64_t offset;
  /// Whether the kernel reads x' as signed bytes.
  bool signedBytes;
  /// Groups of Kp to sum x' over per row (R', for weights with zero
  /// points); 0: none. Each has `rowSumGroupSize` bytes, the last one what
  /// is left of Kp (a ragged last group, with the padding).
  int64_t rowSumGroups;
  int64_t rowSumGroupSize;
};

/// x' ([M, Kp] i8), zx' ([M] i32), sx ([M] f32) and, if asked for, R'
/// ([M, groups] i32).
struct KernelInput {
  Value bytes, zeroPoint, scale, rowSums;
};

/// Quantizes `x` ([?, K] f32), the input of `op`, in passes over the whole
/// tensor: for dynamic inputs the rows' min/max, their parameters, then
/// the bytes.
KernelInput quantizeKernelInput(OpBuilder &b, Location loc, QMatmulOp op,
                                Value x, const KernelInputLayout &layout);

/// The same values computed inside `op`'s input producer, row by row: when
/// the input is the only use of an elementwise linalg.generic (LayerNorm's
/// normalization, GELU) or linalg.transpose (attention's heads), through
/// a collapse of its leading dimensions into rows and the others into K, one
/// parallel loop over the rows computes each row of the producer, its
/// min/max, its parameters and its bytes while the row is in L1, and the
/// producer's f32 result is never written to memory. Failure (nothing
/// built) when the input has no such producer. The caller erases the
/// producer once `op` is replaced.
FailureOr<KernelInput>
quantizeKernelInputInProducer(RewriterBase &b, Location loc, QMatmulOp op,
                              const KernelInputLayout &layout);

} // namespace mlir::qopt

#endif // QUANT_OPT_CONVERSION_QOPTTOKERNELS_INPUTQUANTIZATION_H
