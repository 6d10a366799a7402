//===- CalibrationSession.h - A JIT-compiled instrumented model -*- C++ -*-===//
//
// What qopt-calibrate and qopt-gptq share: reading calibration tokens, and a
// copy of the module compiled with the deployment pipeline and JIT-run
// window by window, whose activation points report into PointStatistics and
// whose selected weights are read from buffers the caller can rewrite
// between runs (GPTQ's sequential calibration: the layers already quantized
// run with their quantized weights, without recompiling).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_OPT_LIB_DIALECT_QOPT_CALIBRATION_CALIBRATIONSESSION_H
#define QUANT_OPT_LIB_DIALECT_QOPT_CALIBRATION_CALIBRATIONSESSION_H

#include "PointStatistics.h"
#include "quant-opt/Dialect/QOpt/IR/QOptOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Error.h"

#include <chrono>
#include <memory>

namespace mlir {
class ExecutionEngine;
} // namespace mlir
namespace quantopt::rt {
class LanguageModel;
} // namespace quantopt::rt

namespace mlir::qopt {

/// Wall time for the calibration passes' time splits.
using CalibrationClock = std::chrono::steady_clock;
inline double secondsSince(CalibrationClock::time_point start) {
  return std::chrono::duration<double>(CalibrationClock::now() - start).count();
}

/// Reads the calibration tokens: a pre-tokenized file (`tokens`, ids
/// separated by whitespace) or UTF-8 text (`data`) encoded with GPT-2's BPE
/// from `tokenizerDir` (empty: the directory quant-opt was built with).
/// Fewer tokens than one window of `seqLen` is an error saying so.
llvm::Expected<std::vector<int32_t>>
readCalibrationTokens(StringRef data, StringRef tokens, StringRef tokenizerDir,
                      int64_t seqLen);

/// Where the calibration windows come from.
struct CalibrationWindows {
  int64_t samples = 32;
  int64_t seqLen = 128;
};

class CalibrationSession {
public:
  /// Compiles an instrumented copy of `module`: `activations[i]` reports to
  /// statistics i, `weightSlots[j]` reads its weight from slot j (zero until
  /// setWeight); other observation points are dropped from the copy.
  static llvm::Expected<std::unique_ptr<CalibrationSession>>
  create(ModuleOp module, ArrayRef<ObserveOp> activations,
         ArrayRef<ObserveOp> weightSlots);
  ~CalibrationSession();

  /// Writes slot `slot`'s weight ([K, N] f32, row-major).
  void setWeight(size_t slot, ArrayRef<float> values);

  /// Runs `windows.samples` windows of `windows.seqLen` tokens, evenly
  /// spaced over `tokens`. Statistics of activation i go to `stats[i]`
  /// (re-created with `options`) when `active` is empty or `active[i]`.
  /// `lastPositionOnly` runs the entry that computes the last position's
  /// logits only (when the model has one): faster, for points before the
  /// LM head. `progressLabel` empty: no progress bar.
  llvm::Error run(ArrayRef<int32_t> tokens, const CalibrationWindows &windows,
                  const StatisticsOptions &options, ArrayRef<bool> active,
                  bool lastPositionOnly, StringRef progressLabel,
                  std::vector<PointStatistics> &stats);

  /// Runs the same windows as `run` without collecting statistics and calls
  /// `consume(window, logits)` with each window's logits ([seqLen, vocab]
  /// row-major, valid during the call).
  llvm::Error
  forEachWindowLogits(ArrayRef<int32_t> tokens,
                      const CalibrationWindows &windows,
                      function_ref<void(int64_t, ArrayRef<float>)> consume);

private:
  CalibrationSession() = default;
  /// Runs the windows, each after a reset, and passes its logits on.
  llvm::Error runWindows(ArrayRef<int32_t> tokens,
                         const CalibrationWindows &windows,
                         bool lastPositionOnly,
                         function_ref<void(int64_t, ArrayRef<float>)> consume);
  OwningOpRef<ModuleOp> copy;
  SmallString<128> archive;
  std::unique_ptr<ExecutionEngine> engine;
  std::unique_ptr<quantopt::rt::LanguageModel> model;
  std::vector<std::pair<float *, size_t>> slots; // Address, elements.
  size_t activationCount = 0;
};

} // namespace mlir::qopt

#endif // QUANT_OPT_LIB_DIALECT_QOPT_CALIBRATION_CALIBRATIONSESSION_H
