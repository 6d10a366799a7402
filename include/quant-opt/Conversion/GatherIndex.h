//===- GatherIndex.h - ONNX Gather's row index, bounded -------*- C++ -*-===//

#ifndef QUANT_OPT_CONVERSION_GATHERINDEX_H
#define QUANT_OPT_CONVERSION_GATHERINDEX_H

#include "mlir/IR/Builders.h"

namespace mlir::qopt {

/// The row `id` (an integer or index value) selects in a table of `rows`
/// rows, as an index: below 0 it counts from the end (ONNX Gather), then it
/// is clamped to [0, rows - 1] so that no id reads outside the table.
Value gatherRowIndex(OpBuilder &b, Location loc, Value id, int64_t rows);

} // namespace mlir::qopt

#endif // QUANT_OPT_CONVERSION_GATHERINDEX_H
