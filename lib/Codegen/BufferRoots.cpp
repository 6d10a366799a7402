//===- BufferRoots.cpp - The buffer a memref value is a view of -----------===//

#include "quant-opt/Codegen/BufferRoots.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

Value qopt::bufferRoot(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      value = view.getViewSource();
    else if (auto meta = dyn_cast<memref::ExtractStridedMetadataOp>(def);
             meta && value == meta.getBaseBuffer())
      value = meta.getSource();
    else
      break;
  }
  return value;
}
