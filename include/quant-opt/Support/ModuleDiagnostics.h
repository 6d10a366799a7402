//===- ModuleDiagnostics.h - Errors on a module without the module -*- C++
//-*-===//
//
// MLIR attaches "see current operation: <op>" to every error emitted on an
// operation (--mlir-print-op-on-diagnostic, on by default). For an error on
// the builtin.module -- a pass refusing its options, or finding nothing to
// do -- that note is the whole model, megabytes of IR printed after a
// one-line message. The tools drop that one note; errors on other
// operations keep theirs.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_SUPPORT_MODULEDIAGNOSTICS_H
#define QUANT_OPT_SUPPORT_MODULEDIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLExtras.h"

#include <string>

namespace mlir::qopt {

/// True for the note MLIR attaches to a diagnostic emitted on a module.
inline bool isModuleDumpNote(const Diagnostic &note) {
  std::string text = note.str();
  StringRef rest(text);
  if (!rest.consume_front("see current operation:"))
    return false;
  rest = rest.ltrim();
  return rest.starts_with("\"builtin.module\"") || rest.starts_with("module");
}

/// Registers a handler on `context` that removes the module-dump note from
/// diagnostics and passes them on to the handlers registered before it
/// (which print them). Register it after the printing handler. Returns the
/// handler's id (DiagnosticEngine::eraseHandler).
inline DiagnosticEngine::HandlerID dropModuleDumpNotes(MLIRContext *context) {
  return context->getDiagEngine().registerHandler([](Diagnostic &diag) {
    if (llvm::none_of(diag.getNotes(), isModuleDumpNote))
      return failure();
    Diagnostic kept(diag.getLocation(), diag.getSeverity());
    kept << diag.str();
    for (Diagnostic &note : diag.getNotes())
      if (!isModuleDumpNote(note))
        kept.attachNote(note.getLocation()) << note.str();
    diag = std::move(kept);
    // Not handled here: the next handler prints the shortened diagnostic.
    return failure();
  });
}

} // namespace mlir::qopt

#endif // QUANT_OPT_SUPPORT_MODULEDIAGNOSTICS_H
