//===- Sensitivity.cpp - qopt-sensitivity: the cost of each tensor's format
//===//
//
// One compiled copy of the float model whose weights are read from buffers
// (CalibrationSession's weight slots): for each tensor and format the
// buffer gets the dequantized values, the calibration windows run, and the
// next-token distributions are compared with the float model's. A tied token
// table and LM head are one stored tensor, so they are quantized together.
//
//===----------------------------------------------------------------------===//

#include "CalibrationSession.h"
#include "quant-opt/Calibration/Passes.h"
#include "quant-opt/Dialect/QOpt/Algorithms/GPTQ.h"
#include "quant-opt/Dialect/QOpt/Transforms/QuantScheme.h"
#include "quant-opt/Dialect/QOpt/Utils/ModelRoles.h"
#include "quant-opt/Dialect/QOpt/Utils/ObservedOps.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Parallel.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTSENSITIVITYPASS
#include "quant-opt/Calibration/Passes.h.inc"
} // namespace mlir::qopt

using namespace mlir;
using namespace mlir::qopt;
namespace json = llvm::json;

namespace {

/// A stored tensor with its float values [K, N] and the session slots of
/// its points.
struct Unit : StoredTensor {
  std::vector<float> w;
  SmallVector<size_t> slots;
};

/// The values of `u` as point `i` reads them.
std::vector<float> oriented(const Unit &u, size_t i, ArrayRef<float> kn) {
  if (!u.transposed[i])
    return std::vector<float>(kn.begin(), kn.end());
  return transposeMatrix(kn, u.k, u.n);
}

/// The float model's next-token distributions of one window: p per row
/// ([rows, vocab]) and sum_v p log p per row.
struct Reference {
  std::vector<float> p;
  std::vector<double> negEntropy;
};

/// Log-sum-exp of one row.
double logSumExp(const float *z, int64_t vocab) {
  float m = *std::max_element(z, z + vocab);
  double sum = 0;
  for (int64_t v = 0; v < vocab; ++v)
    sum += std::exp(z[v] - m);
  return m + std::log(sum);
}

Reference makeReference(ArrayRef<float> logits, int64_t vocab) {
  int64_t rows = logits.size() / vocab;
  Reference ref;
  ref.p.resize(logits.size());
  ref.negEntropy.assign(rows, 0);
  llvm::parallelFor(0, rows, [&](int64_t r) {
    const float *z = logits.data() + r * vocab;
    double lse = logSumExp(z, vocab), h = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      double lp = z[v] - lse;
      float p = (float)std::exp(lp);
      ref.p[r * vocab + v] = p;
      h += p * lp;
    }
    ref.negEntropy[r] = h;
  });
  return ref;
}

/// Sum over rows of KL(P_ref || softmax(logits)) =
/// sum_v p log p - sum_v p z_v + logsumexp(z): one exp per logit.
double klSum(const Reference &ref, ArrayRef<float> logits, int64_t vocab) {
  int64_t rows = logits.size() / vocab;
  std::vector<double> perRow(rows);
  llvm::parallelFor(0, rows, [&](int64_t r) {
    const float *z = logits.data() + r * vocab;
    const float *p = ref.p.data() + r * vocab;
    double dot = 0;
    for (int64_t v = 0; v < vocab; ++v)
      dot += (double)p[v] * z[v];
    perRow[r] = ref.negEntropy[r] - dot + logSumExp(z, vocab);
  });
  return std::accumulate(perRow.begin(), perRow.end(), 0.0);
}

/// Spearman rank correlation of two equally long series.
double spearman(ArrayRef<double> a, ArrayRef<double> b) {
  auto ranks = [](ArrayRef<double> x) {
    std::vector<size_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t i, size_t j) { return x[i] < x[j]; });
    std::vector<double> r(x.size());
    for (size_t i = 0; i < order.size(); ++i)
      r[order[i]] = (double)i;
    return r;
  };
  std::vector<double> ra = ranks(a), rb = ranks(b);
  double n = a.size(), ma = (n - 1) / 2, num = 0, da = 0, db = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (ra[i] - ma) * (rb[i] - ma);
    da += (ra[i] - ma) * (ra[i] - ma);
    db += (rb[i] - ma) * (rb[i] - ma);
  }
  return da > 0 && db > 0 ? num / std::sqrt(da * db) : 0;
}

struct QOptSensitivityPass
    : qopt::impl::QOptSensitivityPassBase<QOptSensitivityPass> {
  using Base::Base;

  LogicalResult fail(const Twine &message) {
    return emitError(getOperation().getLoc())
           << "qopt-sensitivity: " << message;
  }

  FailureOr<std::vector<Unit>> collectUnits() {
    std::vector<Unit> units;
    for (StoredTensor &t : storedTensors(getOperation())) {
      FailureOr<std::vector<float>> values =
          observedWeightValues(t.points.front());
      if (failed(values))
        return failure();
      Unit u{std::move(t), {}, {}};
      u.w = u.transposed.front() ? transposeMatrix(*values, u.n, u.k)
                                 : std::move(*values);
      units.push_back(std::move(u));
    }
    return units;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<CandidateFormat> candidates;
    for (StringRef name : llvm::split(formats, ',')) {
      FailureOr<CandidateFormat> f = parseCandidateFormat(name.trim());
      if (failed(f)) {
        (void)fail("unknown format '" + name.trim() +
                   "' (fp16, bf16, int8, int4, int3, int8-gG, int4-gG, "
                   "int3-gG)");
        return signalPassFailure();
      }
      candidates.push_back(*f);
    }
    if (samples <= 0 || seqLen <= 0) {
      (void)fail("samples and seq-len must be positive");
      return signalPassFailure();
    }
    FailureOr<std::vector<Unit>> collected = collectUnits();
    if (failed(collected))
      return signalPassFailure();
    std::vector<Unit> &units = *collected;
    if (units.empty()) {
      (void)fail("no observed weights (run qopt-insert-observers first, "
                 "embedding=true for the tables)");
      return signalPassFailure();
    }
    auto tokenIds = readCalibrationTokens(data, tokens, tokenizerDir, seqLen);
    if (!tokenIds) {
      (void)fail(llvm::toString(tokenIds.takeError()));
      return signalPassFailure();
    }
    SmallVector<ObserveOp> slotPoints;
    for (Unit &u : units)
      for (ObserveOp p : u.points) {
        u.slots.push_back(slotPoints.size());
        slotPoints.push_back(p);
      }
    auto passStart = CalibrationClock::now();
    auto session = CalibrationSession::create(module, {}, slotPoints);
    double compileSeconds = secondsSince(passStart), klSeconds = 0;
    int64_t runs = 0;
    if (!session) {
      (void)fail(llvm::toString(session.takeError()));
      return signalPassFailure();
    }
    auto writeUnit = [&](const Unit &u, ArrayRef<float> kn) {
      for (size_t i = 0; i < u.points.size(); ++i)
        (*session)->setWeight(u.slots[i], oriented(u, i, kn));
    };
    for (const Unit &u : units)
      writeUnit(u, u.w);

    CalibrationWindows windows{samples, seqLen};
    int64_t vocab = 0;
    std::vector<Reference> reference(samples);
    if (auto err = (*session)->forEachWindowLogits(
            *tokenIds, windows, [&](int64_t i, ArrayRef<float> logits) {
              vocab = logits.size() / seqLen;
              reference[i] = makeReference(logits, vocab);
            })) {
      (void)fail(llvm::toString(std::move(err)));
      return signalPassFailure();
    }
    // Mean KL(P_float || P) over every position of every window.
    auto measure = [&]() -> FailureOr<double> {
      double total = 0;
      if (auto err = (*session)->forEachWindowLogits(
              *tokenIds, windows, [&](int64_t i, ArrayRef<float> logits) {
                auto klStart = CalibrationClock::now();
                total += klSum(reference[i], logits, vocab);
                klSeconds += secondsSince(klStart);
              })) {
        (void)fail(llvm::toString(std::move(err)));
        return failure();
      }
      ++runs;
      return total / (double)(samples * seqLen);
    };

    json::Array records;
    std::vector<double> proxies, measured;
    Builder b(&getContext());
    for (Unit &u : units) {
      // The layer's Hessian x^T x / rows, for the proxy.
      std::vector<double> h;
      if (u.input)
        if (StatsAttr stats = u.input.getStatsAttr();
            stats && stats.getXtx() && stats.getSamples() > 0) {
          FailureOr<std::vector<double>> xtx = calibratedXtx(u.input, u.k, "");
          if (succeeded(xtx)) {
            h = std::move(*xtx);
            for (double &v : h)
              v /= (double)stats.getSamples();
          }
        }
      SmallVector<NamedAttribute> klAttrs, byteAttrs;
      byteAttrs.push_back(
          b.getNamedAttr("f32", b.getI64IntegerAttr(4 * u.k * u.n)));
      json::Object formatsJson;
      std::string line;
      bool hasTable = llvm::is_contained(u.transposed, true);
      for (const CandidateFormat &f : candidates) {
        // Tables are stored as integers only (qopt.qgather).
        if (f.floatFormat && hasTable)
          continue;
        std::vector<float> deq;
        std::string error;
        if (f.floatFormat) {
          FloatQuantizedWeight q =
              quantizeWeightFloat(u.w, u.k, u.n, *f.floatFormat, error);
          if (error.empty())
            for (int64_t r = 0; r < u.k; ++r)
              for (int64_t c = 0; c < u.n; ++c)
                deq.push_back(q.valueAt(r, c));
        } else if (checkWeightScheme(f.scheme, u.k).empty()) {
          QuantizedWeight q = quantizeWeight(u.w, u.k, u.n, f.scheme, error);
          if (error.empty())
            deq = dequantizeWeight(q);
        } else {
          continue; // A scheme the weight cannot take: not a format for it.
        }
        if (!error.empty()) {
          (void)fail("'" + u.name + "' as " + f.name + ": " + error);
          return signalPassFailure();
        }
        writeUnit(u, deq);
        FailureOr<double> kl = measure();
        writeUnit(u, u.w);
        if (failed(kl))
          return signalPassFailure();
        double bytes = f.bytes(u.k, u.n);
        klAttrs.push_back(b.getNamedAttr(f.name, b.getF64FloatAttr(*kl)));
        byteAttrs.push_back(
            b.getNamedAttr(f.name, b.getI64IntegerAttr((int64_t)bytes)));
        json::Object entry{{"kl", *kl}, {"bytes", (int64_t)bytes}};
        if (!h.empty()) {
          double proxy = hessianWeightedDifference(u.w, deq, u.k, u.n, h);
          entry["proxy"] = proxy;
          proxies.push_back(proxy);
          measured.push_back(*kl);
        }
        formatsJson[f.name] = std::move(entry);
        line += llvm::formatv(" {0}={1:e2}", f.name, *kl).str();
      }
      auto klDict = b.getDictionaryAttr(klAttrs);
      auto bytesDict = b.getDictionaryAttr(byteAttrs);
      for (ObserveOp p : u.points) {
        p->setAttr("qopt.sensitivity", klDict);
        p->setAttr("qopt.format_bytes", bytesDict);
      }
      if (progress)
        llvm::errs() << "qopt-sensitivity: " << u.name
                     << (u.role.empty() ? "" : " [" + u.role + "]") << line
                     << "\n";
      records.push_back(json::Object{{"name", u.name},
                                     {"role", u.role},
                                     {"k", u.k},
                                     {"n", u.n},
                                     {"formats", std::move(formatsJson)}});
    }
    double rho = proxies.size() > 1 ? spearman(proxies, measured) : 0;
    double totalSeconds = secondsSince(passStart);
    if (progress)
      llvm::errs() << llvm::format(
          "qopt-sensitivity: %zu tensors, %lld runs of %lld windows x %lld "
          "tokens in %.1f s: compiling %.1f s, running the model %.1f s, "
          "KL %.1f s\n",
          units.size(), (long long)runs, (long long)samples, (long long)seqLen,
          totalSeconds, compileSeconds,
          totalSeconds - compileSeconds - klSeconds, klSeconds);
    if (progress && proxies.size() > 1)
      llvm::errs() << llvm::format("qopt-sensitivity: proxy vs measured KL: "
                                   "Spearman %.3f over %zu (layer, format) "
                                   "pairs\n",
                                   rho, proxies.size());
    if (!report.empty() && failed(writeReport(records, rho, proxies.size())))
      return signalPassFailure();
  }

  LogicalResult writeReport(json::Array &records, double rho, size_t pairs) {
    std::error_code ec;
    llvm::raw_fd_ostream md(report + ".md", ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + report + ".md': " + ec.message());
    md << "| tensor | role | shape |";
    SmallVector<std::string> names;
    for (json::Value &r : records)
      for (auto &kv : *r.getAsObject()->getObject("formats"))
        if (!llvm::is_contained(names, kv.first.str()))
          names.push_back(kv.first.str());
    for (const std::string &n : names)
      md << " KL " << n << " |";
    md << "\n|---|---|---|"
       << llvm::join(SmallVector<std::string>(names.size(), "---:"), "|")
       << "|\n";
    for (json::Value &r : records) {
      json::Object &o = *r.getAsObject();
      md << "| " << *o.getString("name") << " | " << *o.getString("role")
         << " | " << *o.getInteger("k") << "x" << *o.getInteger("n") << " |";
      for (const std::string &n : names) {
        json::Object *f = o.getObject("formats")->getObject(n);
        md << (f ? llvm::formatv(" {0:e2} |", *f->getNumber("kl")).str()
                 : std::string(" — |"));
      }
      md << "\n";
    }
    md << llvm::formatv("\nProxy (Hessian-weighted error) vs measured KL: "
                        "Spearman {0:f3} over {1} pairs.\n",
                        rho, pairs);
    json::Object root{{"samples", (int64_t)samples},
                      {"seq_len", (int64_t)seqLen},
                      {"proxy_spearman", rho},
                      {"proxy_pairs", (int64_t)pairs},
                      {"tensors", std::move(records)}};
    llvm::raw_fd_ostream js(report, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail("cannot write '" + report + "': " + ec.message());
    js << llvm::formatv("{0:2}", json::Value(std::move(root))) << "\n";
    return success();
  }
};

} // namespace
