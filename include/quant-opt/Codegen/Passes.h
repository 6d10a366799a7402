//===- Passes.h - backend and runtime-interface passes ----------*- C++ -*-===//
//
// The passes qopt-lower-to-llvm runs between bufferization and LLVM: loop
// structure and vector kernels for upstream linalg ops, in-place buffers and
// the KV cache, runtime checks, and the compiled model's interface.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_CODEGEN_PASSES_H
#define QUANT_OPT_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qopt {

#define GEN_PASS_DECL
#include "quant-opt/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant-opt/Codegen/Passes.h.inc"

} // namespace mlir::qopt

#endif // QUANT_OPT_CODEGEN_PASSES_H
