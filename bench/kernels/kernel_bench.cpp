//===- kernel_bench.cpp - Google Benchmark of compiled linear layers ------===//
//
// Times one-layer models compiled by quant-compile (entry `main`,
// x [M, K] f32 -> y [M, N] f32) through the runtime's C API, next to the
// machine's own limits measured in the same process: read bandwidth and the
// AVX2 FMA / vpmaddwd / vpmaddubsw peaks of one core (2 ops per multiply-add),
// and where the CPU has them the AVX-512 FMA and VNNI (vpdpbusd) peaks.
//
//   quant-opt-kernel-bench NAME=LIB.so:K:N:WEIGHT_BYTES...
//   [--batches=1,128,512]
//       [Google Benchmark flags, e.g. --benchmark_format=json]
//
// Counters: `weight_GBps` (weight bytes per second, what bounds batch 1) and
// `Gops` (2*M*K*N per second). Batch 1 also runs `cold`: a 2x last-level-cache
// buffer is streamed before each timed call, so the weights come from DRAM.
//
//===----------------------------------------------------------------------===//

#include "quant-opt-runtime/qopt_runtime.h"

#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Layer {
  std::string name;
  qopt_model *model = nullptr;
  int64_t k = 0, n = 0, weightBytes = 0;
};

/// Reads a buffer twice the size of a 32 MiB last-level cache.
void evictCaches() {
  static std::vector<float> buffer(64 << 20 >> 2, 1.0f);
  float sum = 0;
  for (size_t i = 0; i < buffer.size(); i += 16)
    sum += buffer[i];
  buffer[0] = sum * 1e-30f + 1.0f;
  benchmark::ClobberMemory();
}

void runLayer(benchmark::State &state, const Layer &layer, int64_t m,
              bool cold) {
  std::vector<float> x(m * layer.k);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 1);
  for (float &v : x)
    v = normal(rng);
  qopt_tensor input{};
  input.rank = 2;
  input.shape[0] = m;
  input.shape[1] = layer.k;
  input.data = x.data();
  for (auto _ : state) {
    if (cold)
      evictCaches();
    qopt_tensor output{};
    char *error = nullptr;
    auto start = std::chrono::steady_clock::now();
    int failed =
        qopt_model_run(layer.model, "main", &input, 1, &output, 1, &error);
    auto stop = std::chrono::steady_clock::now();
    if (failed) {
      state.SkipWithError(error);
      qopt_string_free(error);
      return;
    }
    benchmark::DoNotOptimize(output.data);
    qopt_tensor_release(&output);
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
  }
  using benchmark::Counter;
  state.counters["weight_GBps"] =
      Counter(layer.weightBytes / 1e9, Counter::kIsIterationInvariantRate);
  state.counters["Gops"] = Counter(2.0 * m * layer.k * layer.n / 1e9,
                                   Counter::kIsIterationInvariantRate);
}

/// Sums 1 GiB of floats: the read bandwidth the batch-1 kernels can reach.
void readBandwidth(benchmark::State &state) {
  std::vector<float> data(1 << 28, 1.0f);
  for (auto _ : state) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (size_t i = 0; i < data.size(); i += 32)
      for (int j = 0; j < 4; ++j)
        acc[j] = _mm256_add_ps(acc[j], _mm256_loadu_ps(&data[i + 8 * j]));
    benchmark::DoNotOptimize(acc);
  }
  state.counters["GBps"] = benchmark::Counter(
      data.size() * 4 / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

/// The peak loops: independent chains, enough to fill both pipes.
constexpr int kPeakChains = 10, kPeakSteps = 1 << 16;

void reportPeak(benchmark::State &state, double opsPerInstr) {
  state.counters["Gops"] =
      benchmark::Counter(kPeakChains * kPeakSteps * opsPerInstr / 1e9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

/// Chains of `op`: one core's peak for an AVX2 instruction. The AVX-512
/// ones below are functions of their own, compiled for those instructions
/// and registered only where the CPU has them.
template <typename Vec, typename Op>
void peak(benchmark::State &state, Vec init, Op op, double opsPerInstr) {
  for (auto _ : state) {
    Vec acc[kPeakChains];
    for (Vec &a : acc) {
      a = init;
      benchmark::DoNotOptimize(a); // Not a constant the loop could fold.
    }
    for (int s = 0; s < kPeakSteps; ++s)
      for (Vec &a : acc)
        a = op(a);
    benchmark::DoNotOptimize(acc);
  }
  reportPeak(state, opsPerInstr);
}

__attribute__((target("avx512f"))) void peakFmaZmm(benchmark::State &state) {
  for (auto _ : state) {
    __m512 acc[kPeakChains];
    for (__m512 &a : acc) {
      a = _mm512_set1_ps(1.0f);
      benchmark::DoNotOptimize(a);
    }
    for (int s = 0; s < kPeakSteps; ++s)
      for (__m512 &a : acc)
        a = _mm512_fmadd_ps(a, _mm512_set1_ps(0.999f), _mm512_set1_ps(1e-3f));
    benchmark::DoNotOptimize(acc);
  }
  reportPeak(state, 32); // 16 lanes x (mul + add)
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void
peakVpdpbusdZmm(benchmark::State &state) {
  const __m512i a = _mm512_set1_epi8(2), b = _mm512_set1_epi8(3);
  for (auto _ : state) {
    __m512i acc[kPeakChains];
    for (__m512i &c : acc) {
      c = _mm512_set1_epi32(1);
      benchmark::DoNotOptimize(c);
    }
    for (int s = 0; s < kPeakSteps; ++s)
      for (__m512i &c : acc)
        c = _mm512_dpbusd_epi32(c, a, b);
    benchmark::DoNotOptimize(acc);
  }
  reportPeak(state, 128); // 64 u8 x s8 products, each added
}

bool parseLayer(const char *spec, Layer &layer) {
  std::string s(spec);
  size_t eq = s.find('=');
  if (eq == std::string::npos)
    return false;
  layer.name = s.substr(0, eq);
  std::vector<std::string> parts;
  size_t start = eq + 1;
  for (size_t colon; (colon = s.find(':', start)) != std::string::npos;
       start = colon + 1)
    parts.push_back(s.substr(start, colon - start));
  parts.push_back(s.substr(start));
  if (parts.size() != 4)
    return false;
  layer.k = std::atoll(parts[1].c_str());
  layer.n = std::atoll(parts[2].c_str());
  layer.weightBytes = std::atoll(parts[3].c_str());
  std::string weights = parts[0].substr(0, parts[0].rfind('.')) + ".weights";
  char *error = nullptr;
  layer.model = qopt_model_load(parts[0].c_str(), weights.c_str(), &error);
  if (!layer.model) {
    std::fprintf(stderr, "error: %s\n", error);
    qopt_string_free(error);
    return false;
  }
  qopt_model_set_threads(layer.model, 1);
  return true;
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  std::vector<int64_t> batches = {1, 128, 512};
  static std::vector<Layer> layers;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--batches=", 10) == 0) {
      batches.clear();
      for (char *p = argv[i] + 10; *p;) {
        batches.push_back(std::strtoll(p, &p, 10));
        if (*p == ',')
          ++p;
      }
      continue;
    }
    Layer layer;
    if (!parseLayer(argv[i], layer)) {
      std::fprintf(stderr,
                   "error: bad layer '%s' (expected NAME=LIB.so:K:N:BYTES)\n",
                   argv[i]);
      return 1;
    }
    layers.push_back(layer);
  }
  benchmark::RegisterBenchmark("read_bandwidth", readBandwidth)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("peak/fma_f32", [](benchmark::State &state) {
    peak(
        state, _mm256_set1_ps(1.0f),
        [](__m256 a) {
          return _mm256_fmadd_ps(a, _mm256_set1_ps(0.999f),
                                 _mm256_set1_ps(1e-3f));
        },
        16); // 8 lanes x (mul + add)
  });
  benchmark::RegisterBenchmark(
      "peak/vpmaddwd_i16", [](benchmark::State &state) {
        const __m256i b = _mm256_set1_epi16(3);
        peak(
            state, _mm256_set1_epi32(1),
            [b](__m256i a) {
              return _mm256_add_epi32(_mm256_madd_epi16(a, b), a);
            },
            32); // 16 products + 16 additions: 16 multiply-adds
      });
  benchmark::RegisterBenchmark(
      "peak/vpmaddubsw_u8s8", [](benchmark::State &state) {
        const __m256i b = _mm256_set1_epi8(3);
        peak(
            state, _mm256_set1_epi16(1),
            [b](__m256i a) {
              return _mm256_add_epi16(_mm256_maddubs_epi16(a, b), a);
            },
            64); // 32 products, 16 + 16 additions: 32 multiply-adds
      });
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    benchmark::RegisterBenchmark("peak/fma_f32_zmm", peakFmaZmm);
  if (__builtin_cpu_supports("avx512vnni") &&
      __builtin_cpu_supports("avx512bw"))
    benchmark::RegisterBenchmark("peak/vpdpbusd_u8s8_zmm", peakVpdpbusdZmm);
  for (const Layer &layer : layers)
    for (int64_t m : batches)
      for (bool cold : {false, true}) {
        if (cold && m != 1)
          continue;
        std::string name =
            layer.name + "/m" + std::to_string(m) + (cold ? "/cold" : "/hot");
        benchmark::RegisterBenchmark(
            name.c_str(), // Google Benchmark 1.7 copies it.
            [&layer, m, cold](benchmark::State &state) {
              runLayer(state, layer, m, cold);
            })
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
      }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (Layer &layer : layers)
    qopt_model_free(layer.model);
  return 0;
}
