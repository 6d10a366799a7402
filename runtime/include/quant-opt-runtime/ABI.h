//===- ABI.h - The compiled model's interface version -----------*- C++ -*-===//
//
// Shared by the compiler (which writes `qopt_model_meta`) and the runtime
// (which refuses other versions). The metadata is JSON with "abi" and either
// "entries" (a model library: its packed entry points, see
// EmitRuntimeInterface) or "variants" (a bundle: one library per target,
// each {"target", "requires": [CPU features], "library", "weights"}, file
// names relative to the bundle's).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_RUNTIME_ABI_H
#define QUANT_OPT_RUNTIME_ABI_H

#include <cstdint>

namespace quantopt::rt {

/// The calling convention and metadata version; the runtime refuses models
/// built for another one. Version 2: entries may update their KV cache in
/// place ("kv_cache"). Version 3: `qopt_entry_<name>` returns an int32
/// status, 0 or the 1-based number of the input check that failed (its
/// message is the entry's "checks"[status - 1]); entries may state the
/// model's "context" (positions).
constexpr int64_t kRuntimeABIVersion = 3;

} // namespace quantopt::rt

#endif // QUANT_OPT_RUNTIME_ABI_H
