//===- Diagnostics.h - How the C API reports errors -------------*- C++ -*-===//
//
// Errors go to the context's diagnostic handlers (the client's, attached with
// mlirContextAttachDiagnosticHandler). A null handle leaves no context to
// report to: those are refused on stderr.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_CAPI_DIAGNOSTICS_H
#define QUANT_OPT_LIB_CAPI_DIAGNOSTICS_H

#include "quant-opt/Support/ModuleDiagnostics.h"

#include "mlir-c/Support.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qopt::capi {

/// Refuses a null handle on stderr; returns failure.
inline MlirLogicalResult refuseNull(llvm::StringRef function,
                                    llvm::StringRef argument) {
  llvm::errs() << "error: " << function << ": the " << argument << " is null\n";
  return mlirLogicalResultFailure();
}

/// The diagnostics of one API call: errors on the module reach the
/// client's handlers without the note that prints the whole module
/// (ModuleDiagnostics.h), and the call knows whether any error was reported.
class CallDiagnostics {
public:
  explicit CallDiagnostics(MLIRContext *context)
      : context(context), dropNotes(dropModuleDumpNotes(context)),
        countErrors(context->getDiagEngine().registerHandler(
            [this](Diagnostic &diagnostic) {
              errors += diagnostic.getSeverity() == DiagnosticSeverity::Error;
              return failure(); // Passed on to the client's handlers.
            })) {}
  ~CallDiagnostics() {
    context->getDiagEngine().eraseHandler(countErrors);
    context->getDiagEngine().eraseHandler(dropNotes);
  }
  CallDiagnostics(const CallDiagnostics &) = delete;
  CallDiagnostics &operator=(const CallDiagnostics &) = delete;

  /// Returns failure, first emitting `message` at `loc` unless the call has
  /// reported an error already (a pass may fail without saying why).
  MlirLogicalResult fail(Location loc, const llvm::Twine &message) {
    if (!errors)
      emitError(loc) << message;
    return mlirLogicalResultFailure();
  }

private:
  MLIRContext *context;
  DiagnosticEngine::HandlerID dropNotes, countErrors;
  int errors = 0;
};

} // namespace mlir::qopt::capi

#endif // QUANT_OPT_LIB_CAPI_DIAGNOSTICS_H
