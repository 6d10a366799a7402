//===- AttentionProducts.h - Recognizing attention's matmuls ----*- C++ -*-===//
//
// Attention's two products after import and fusion: scores = Q K^T and
// context = P V, each a contraction generic over batch and heads.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CODEGEN_ATTENTIONPRODUCTS_H
#define QUANT_OPT_CODEGEN_ATTENTIONPRODUCTS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::qopt {

/// Whether `generic` is `C[b, h, m, n] += A[b, h, m, k] * B[b, h, k, n]` on
/// f32 buffers.
bool isTwoBatchMatmul(linalg::GenericOp generic);

} // namespace mlir::qopt

#endif // QUANT_OPT_CODEGEN_ATTENTIONPRODUCTS_H
