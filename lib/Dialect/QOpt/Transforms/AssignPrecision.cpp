//===- AssignPrecision.cpp - qopt-assign-precision: formats under a budget ===//
//
// A multiple-choice knapsack: each stored tensor takes exactly one format,
// each format costs bytes and adds damage (the KL qopt-sensitivity measured
// for that tensor alone). Bytes are bucketed (1/65536 of the largest total,
// rounded up so a chosen set never exceeds the budget) and a dynamic program
// keeps, per bucket, the least damage that fits; the same table answers
// "least damage within a size" and "smallest size within a damage".
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Transforms/Passes.h"
#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTASSIGNPRECISIONPASS
#include "quant-opt/Dialect/QOpt/Transforms/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;

namespace {

struct Choice {
  std::string format;
  double kl = 0;
  int64_t bytes = 0;
};

/// One stored tensor (storedTensors): the points its format goes on (its
/// weight points and its layer's input point) and its options.
struct Tensor {
  SmallVector<ObserveOp> points;
  std::vector<Choice> choices;
  int64_t parameters = 0;
};

struct QOptAssignPrecisionPass
    : qopt::impl::QOptAssignPrecisionPassBase<QOptAssignPrecisionPass> {
  using Base::Base;

  LogicalResult fail(const Twine &message) {
    return emitError(getOperation().getLoc())
           << "qopt-assign-precision: " << message;
  }

  void runOnOperation() override {
    int goals = (sizeMb > 0) + (bitsPerWeight > 0) + (maxKl > 0);
    if (goals != 1 || sizeMb < 0 || bitsPerWeight < 0 || maxKl < 0) {
      (void)fail("give exactly one positive size-mb, bits-per-weight or "
                 "max-kl");
      return signalPassFailure();
    }
    std::vector<Tensor> tensors;
    for (StoredTensor &stored : storedTensors(getOperation())) {
      ObserveOp point = stored.points.front();
      auto kl = point->getAttrOfType<DictionaryAttr>("qopt.sensitivity");
      auto bytes = point->getAttrOfType<DictionaryAttr>("qopt.format_bytes");
      if (!kl || !bytes) {
        (void)fail("weight point '" + point.getPoint() +
                   "' has no measurements (run qopt-sensitivity first)");
        return signalPassFailure();
      }
      Tensor t;
      // The format goes on every point of the tensor's layers.
      t.points = stored.points;
      if (stored.input)
        t.points.push_back(stored.input);
      t.parameters = stored.k * stored.n;
      for (NamedAttribute entry : bytes) {
        auto size = dyn_cast<IntegerAttr>(entry.getValue());
        if (!size)
          continue;
        std::string name = entry.getName().str();
        if (name == "f32") {
          if (allowFloat)
            t.choices.push_back({name, 0.0, size.getInt()});
          continue;
        }
        if (auto damage = kl.getAs<FloatAttr>(name))
          t.choices.push_back({name, damage.getValueAsDouble(), size.getInt()});
      }
      if (t.choices.empty()) {
        (void)fail("weight point '" + point.getPoint() +
                   "' has no format to choose from");
        return signalPassFailure();
      }
      tensors.push_back(std::move(t));
    }
    // What the archive stores besides the quantizable tensors.
    int64_t otherBytes = 0;
    getOperation().walk([&](arith::ConstantOp constant) {
      auto type = dyn_cast<RankedTensorType>(constant.getType());
      bool observed = llvm::any_of(constant->getUsers(), [](Operation *u) {
        return isa<ObserveOp>(u) &&
               cast<ObserveOp>(u).getRole() == ObserveRole::weight;
      });
      if (type && type.hasStaticShape() && type.getElementType().isF32() &&
          !observed)
        otherBytes += 4 * type.getNumElements();
    });
    if (tensors.empty()) {
      (void)fail("no measured weights (run qopt-sensitivity first)");
      return signalPassFailure();
    }

    // Buckets of bytes: the largest total in 4096 steps.
    int64_t maxTotal = 0, minTotal = 0, parameters = 0;
    for (const Tensor &t : tensors) {
      int64_t hi = 0, lo = std::numeric_limits<int64_t>::max();
      for (const Choice &c : t.choices) {
        hi = std::max(hi, c.bytes);
        lo = std::min(lo, c.bytes);
      }
      maxTotal += hi;
      minTotal += lo;
      parameters += t.parameters;
    }
    constexpr int64_t kBuckets = 1 << 16;
    double step = std::max(1.0, (double)maxTotal / kBuckets);
    auto bucket = [&](int64_t bytes) {
      return (int64_t)std::ceil((double)bytes / step);
    };
    int64_t width = bucket(maxTotal) + 1;
    const double inf = std::numeric_limits<double>::infinity();
    // best[b]: least damage of the tensors so far within b buckets.
    std::vector<double> best(width, inf), next(width);
    best[0] = 0;
    std::vector<std::vector<int16_t>> pick(tensors.size(),
                                           std::vector<int16_t>(width, -1));
    for (auto [i, t] : llvm::enumerate(tensors)) {
      std::fill(next.begin(), next.end(), inf);
      for (int64_t b = 0; b < width; ++b) {
        if (best[b] == inf)
          continue;
        for (auto [j, c] : llvm::enumerate(t.choices)) {
          int64_t nb = b + bucket(c.bytes);
          if (nb < width && best[b] + c.kl < next[nb]) {
            next[nb] = best[b] + c.kl;
            pick[i][nb] = (int16_t)j;
          }
        }
      }
      best.swap(next);
    }
    int64_t chosen = -1;
    if (maxKl > 0) {
      for (int64_t b = 0; b < width && chosen < 0; ++b)
        if (best[b] <= maxKl)
          chosen = b;
      if (chosen < 0) {
        (void)fail(llvm::formatv("no assignment stays within max-kl={0}",
                                 (double)maxKl)
                       .str());
        return signalPassFailure();
      }
    } else {
      double budget = sizeMb > 0 ? sizeMb * 1e6 - otherBytes
                                 : bitsPerWeight / 8.0 * parameters;
      int64_t limit =
          std::min<int64_t>(width - 1, (int64_t)std::floor(budget / step));
      for (int64_t b = 0; b <= limit; ++b)
        if (best[b] < inf && (chosen < 0 || best[b] < best[chosen]))
          chosen = b;
      if (chosen < 0) {
        (void)fail(llvm::formatv(
                       "the budget ({0:f2} MB for the quantizable weights) is "
                       "below the smallest assignment ({1:f2} MB)",
                       budget / 1e6, minTotal / 1e6)
                       .str());
        return signalPassFailure();
      }
    }
    // Walk the choices back from the chosen bucket.
    std::vector<int16_t> choice(tensors.size());
    for (int64_t i = (int64_t)tensors.size() - 1, b = chosen; i >= 0; --i) {
      choice[i] = pick[i][b];
      b -= bucket(tensors[i].choices[choice[i]].bytes);
    }
    Builder builder(&getContext());
    double predicted = 0;
    int64_t total = 0;
    std::string table = "| tensor | format | bytes | predicted KL |\n"
                        "|---|---|---:|---:|\n";
    for (auto [i, t] : llvm::enumerate(tensors)) {
      const Choice &c = t.choices[choice[i]];
      predicted += c.kl;
      total += c.bytes;
      for (ObserveOp p : t.points)
        p->setAttr(kFormatAttr, builder.getStringAttr(c.format));
      table +=
          llvm::formatv("| {0} | {1} | {2} | {3:e2} |\n",
                        t.points.front().getPoint(), c.format, c.bytes, c.kl)
              .str();
    }
    std::string summary = llvm::formatv(
        "qopt-assign-precision: {0} tensors, {1} bytes of weights ({2:f2} "
        "bits per weight) + {3} bytes other, predicted KL {4:e3}",
        tensors.size(), total, 8.0 * total / parameters, otherBytes, predicted);
    llvm::errs() << summary << "\n";
    if (!report.empty()) {
      std::error_code ec;
      llvm::raw_fd_ostream os(report, ec, llvm::sys::fs::OF_Text);
      if (ec) {
        (void)fail("cannot write '" + report + "': " + ec.message());
        return signalPassFailure();
      }
      os << table << "\n" << summary << "\n";
    }
  }
};

} // namespace
