//===- GPTQ.cpp - Error-compensating weight rounding (GPTQ) ---------------===//
//
// Our weight is ONNX MatMul's B, [K, N]: a row is an input channel, which is
// a column of the paper's W (torch's [N, K] weight). Output channels are
// independent of each other in GPTQ (the Hessian couples input channels
// only), so the rounding runs on chunks of columns, in parallel, each chunk
// small enough to stay in cache; the lazy batch update of the rows after a
// block is one dgemm per chunk.
//
//===----------------------------------------------------------------------===//

#include "quant-opt/Dialect/QOpt/Algorithms/GPTQ.h"

#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cblas.h>
#include <cmath>
#include <lapacke.h>
#include <numeric>

using namespace mlir;
using namespace mlir::qopt;

extern "C" {
// OpenBLAS's thread control (cblas.h does not always declare it).
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
}

namespace {

/// Columns per chunk: [K, 256] doubles stay within L2 for K up to ~1024.
constexpr int64_t kChunkColumns = 256;

/// Replaces `a` (a damped Hessian, [K, K] row-major) by the upper Cholesky
/// factor U of its inverse (A^-1 = U^T U), as the reference implementation
/// does (cholesky, cholesky_inverse, cholesky upper). False when A is not
/// numerically positive definite.
bool inverseCholeskyUpper(std::vector<double> &a, int64_t k) {
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', k, a.data(), k) != 0)
    return false;
  if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', k, a.data(), k) != 0)
    return false;
  for (int64_t i = 0; i < k; ++i) // dpotri writes the lower triangle.
    for (int64_t j = i + 1; j < k; ++j)
      a[i * k + j] = a[j * k + i];
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', k, a.data(), k) != 0)
    return false;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < i; ++j)
      a[i * k + j] = 0;
  for (int64_t i = 0; i < k; ++i)
    if (!(a[i * k + i] > 0) || !std::isfinite(a[i * k + i]))
      return false;
  return true;
}

/// Parameters of `count` rows of column `col` of a [*, stride] matrix.
AffineParams columnParams(const double *w, int64_t count, int64_t stride,
                          const WeightScheme &scheme) {
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, w[i * stride]);
    hi = std::max(hi, w[i * stride]);
  }
  return computeParams(lo, hi, scheme.bits, scheme.symmetric);
}

std::string firstNonFinite(ArrayRef<double> values, int64_t columns,
                           StringRef what) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return (what + " element [" + Twine(i / columns) + ", " +
              Twine(i % columns) + "] is " +
              (std::isnan(values[i]) ? "NaN" : "infinite"))
          .str();
  return "";
}

/// Restores OpenBLAS's thread count when GPTQ's own parallel loop ends.
struct SingleThreadedBlas {
  int previous = openblas_get_num_threads();
  SingleThreadedBlas() { openblas_set_num_threads(1); }
  ~SingleThreadedBlas() { openblas_set_num_threads(previous); }
};

} // namespace

double mlir::qopt::hessianWeightedError(ArrayRef<float> w,
                                        const QuantizedWeight &q,
                                        ArrayRef<double> h) {
  return hessianWeightedDifference(w, dequantizeWeight(q), q.k, q.n, h);
}

double mlir::qopt::hessianWeightedDifference(ArrayRef<float> w,
                                             ArrayRef<float> approx, int64_t k,
                                             int64_t n, ArrayRef<double> h) {
  double total = 0;
  std::vector<double> d, hd;
  for (int64_t c0 = 0; c0 < n; c0 += kChunkColumns) {
    int64_t nc = std::min(kChunkColumns, n - c0);
    d.assign(k * nc, 0.0);
    hd.assign(k * nc, 0.0);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t j = 0; j < nc; ++j)
        d[r * nc + j] =
            double(w[r * n + c0 + j]) - double(approx[r * n + c0 + j]);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, nc, k, 1.0,
                h.data(), k, d.data(), nc, 0.0, hd.data(), nc);
    for (int64_t i = 0; i < k * nc; ++i)
      total += d[i] * hd[i];
  }
  return total;
}

static double squaredError(ArrayRef<float> w, const QuantizedWeight &q) {
  std::vector<float> deq = dequantizeWeight(q);
  double total = 0;
  for (size_t i = 0; i < deq.size(); ++i) {
    double d = double(w[i]) - double(deq[i]);
    total += d * d;
  }
  return total;
}

bool mlir::qopt::runGPTQ(ArrayRef<float> w, int64_t k, int64_t n,
                         ArrayRef<double> h, const GPTQOptions &options,
                         GPTQResult &result, std::string &error) {
  const WeightScheme &scheme = options.scheme;
  error = checkWeightScheme(scheme, k);
  if (!error.empty())
    return false;
  if (scheme.granularity == WeightGranularity::Tensor) {
    error = "GPTQ quantizes per output channel or per group, not per tensor";
    return false;
  }
  if ((int64_t)w.size() != k * n || (int64_t)h.size() != k * k) {
    error = "the weight or the Hessian has the wrong size";
    return false;
  }
  if (options.blockSize < 1 || !(options.damp > 0) ||
      !std::isfinite(options.damp)) {
    error = "block-size must be >= 1 and damp > 0";
    return false;
  }
  std::vector<double> wd(w.begin(), w.end());
  if (!(error = firstNonFinite(wd, n, "weight")).empty() ||
      !(error = firstNonFinite(h, k, "Hessian")).empty())
    return false;

  bool grouped = scheme.granularity == WeightGranularity::Group;
  // Groups as quantizeWeight makes them: the last one shorter when the
  // size does not divide K, one group when it is K or more.
  int64_t g = grouped ? std::min(scheme.groupSize, k) : k;
  int64_t numGroups = groupCount(k, g);

  // Dead input channels (never active in calibration): H_jj = 1, W_j = 0.
  std::vector<double> hm(h.begin(), h.end());
  result.deadChannels = 0;
  for (int64_t j = 0; j < k; ++j)
    if (hm[j * k + j] == 0) {
      hm[j * k + j] = 1;
      std::fill_n(wd.begin() + j * n, n, 0.0);
      ++result.deadChannels;
    }

  // Parameters fixed before rounding: per channel, or static groups.
  std::vector<AffineParams> params(numGroups * n);
  bool fixedParams = !grouped || options.staticGroups;
  if (fixedParams)
    for (int64_t gi = 0; gi < numGroups; ++gi)
      for (int64_t c = 0; c < n; ++c)
        params[gi * n + c] = columnParams(wd.data() + gi * g * n + c,
                                          groupRows(k, g, gi), n, scheme);

  // Act-order: input channels by decreasing H_jj (stable).
  std::vector<int64_t> perm(k);
  std::iota(perm.begin(), perm.end(), 0);
  if (options.actOrder) {
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t a, int64_t b) {
      return hm[a * k + a] > hm[b * k + b];
    });
    std::vector<double> wp(k * n), hp(k * k);
    for (int64_t i = 0; i < k; ++i) {
      std::copy_n(wd.begin() + perm[i] * n, n, wp.begin() + i * n);
      for (int64_t j = 0; j < k; ++j)
        hp[i * k + j] = hm[perm[i] * k + perm[j]];
    }
    wd.swap(wp);
    hm.swap(hp);
  }

  // Damping, doubled until both Cholesky factorizations succeed.
  double meanDiagonal = 0;
  for (int64_t j = 0; j < k; ++j)
    meanDiagonal += hm[j * k + j];
  meanDiagonal /= k;
  std::vector<double> u;
  double damp = options.damp;
  for (;;) {
    u = hm;
    for (int64_t j = 0; j < k; ++j)
      u[j * k + j] += damp * meanDiagonal;
    if (inverseCholeskyUpper(u, k))
      break;
    damp *= 2;
    if (damp >= 1) {
      error = "the Hessian is not positive definite even with damping " +
              std::to_string(damp / 2) + " of its mean diagonal";
      return false;
    }
  }
  result.dampUsed = damp;

  // The rounding, chunk by chunk of columns; rows in (permuted) order.
  int64_t block = grouped ? g * std::max<int64_t>(1, options.blockSize / g)
                          : options.blockSize;
  std::vector<int16_t> codes(k * n);
  auto groupOfRow = [&](int64_t r) -> int64_t {
    if (!grouped)
      return 0;
    return options.staticGroups ? perm[r] / g : r / g;
  };
  int64_t chunks = (n + kChunkColumns - 1) / kChunkColumns;
  {
    SingleThreadedBlas singleThreaded;
    llvm::parallelFor(0, chunks, [&](size_t chunk) {
      int64_t c0 = chunk * kChunkColumns;
      int64_t nc = std::min(kChunkColumns, n - c0);
      std::vector<double> wc(k * nc), err(block * nc);
      for (int64_t r = 0; r < k; ++r)
        std::copy_n(wd.begin() + r * n + c0, nc, wc.begin() + r * nc);
      for (int64_t i1 = 0; i1 < k; i1 += block) {
        int64_t i2 = std::min(i1 + block, k);
        for (int64_t r = i1; r < i2; ++r) {
          if (!fixedParams && r % g == 0)
            for (int64_t j = 0; j < nc; ++j)
              params[(r / g) * n + c0 + j] = columnParams(
                  wc.data() + r * nc + j, std::min(g, k - r), nc, scheme);
          int64_t gi = groupOfRow(r);
          double d = u[r * k + r];
          double *row = wc.data() + r * nc, *e = err.data() + (r - i1) * nc;
          for (int64_t j = 0; j < nc; ++j) {
            const AffineParams &p = params[gi * n + c0 + j];
            int64_t q = quantizeValue(static_cast<float>(row[j]), p);
            codes[r * n + c0 + j] = static_cast<int16_t>(q);
            e[j] = (row[j] - double(dequantizeValue(q, p))) / d;
          }
          // The rows left in this block absorb the error now (rank 1).
          if (r + 1 < i2)
            cblas_dger(CblasRowMajor, i2 - r - 1, nc, -1.0,
                       u.data() + r * k + r + 1, 1, e, 1,
                       wc.data() + (r + 1) * nc, nc);
        }
        // The rows after the block absorb it at once (lazy batch, BLAS-3).
        if (i2 < k)
          cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k - i2, nc,
                      i2 - i1, -1.0, u.data() + i1 * k + i2, k, err.data(), nc,
                      1.0, wc.data() + i2 * nc, nc);
      }
    });
  }

  // Back to the original row order.
  QuantizedWeight &q = result.weight;
  q = QuantizedWeight();
  q.k = k;
  q.n = n;
  q.groupSize = g;
  q.values.resize(k * n);
  for (int64_t r = 0; r < k; ++r)
    std::copy_n(codes.begin() + r * n, n, q.values.begin() + perm[r] * n);
  q.params = std::move(params);
  if (grouped && numGroups > 1 && options.actOrder && !options.staticGroups) {
    q.groupIndex.resize(k);
    for (int64_t r = 0; r < k; ++r)
      q.groupIndex[perm[r]] = static_cast<int32_t>(r / g);
  }

  // How much better than round-to-nearest on the same grid.
  WeightScheme rtnScheme = scheme;
  rtnScheme.mseClip = false;
  std::string rtnError;
  QuantizedWeight rtn = quantizeWeight(w, k, n, rtnScheme, rtnError);
  result.errorH = hessianWeightedError(w, q, h);
  result.errorF = squaredError(w, q);
  result.rtnErrorH = hessianWeightedError(w, rtn, h);
  result.rtnErrorF = squaredError(w, rtn);
  return true;
}
