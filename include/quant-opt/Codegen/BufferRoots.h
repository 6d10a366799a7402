//===- BufferRoots.h - The buffer a memref value is a view of ---*- C++ -*-===//

#ifndef QUANT_OPT_CODEGEN_BUFFERROOTS_H
#define QUANT_OPT_CODEGEN_BUFFERROOTS_H

#include "mlir/IR/Value.h"

namespace mlir::qopt {

/// The buffer `value` is a view of: through view-like ops and the base
/// buffer of `memref.extract_strided_metadata`.
Value bufferRoot(Value value);

} // namespace mlir::qopt

#endif // QUANT_OPT_CODEGEN_BUFFERROOTS_H
