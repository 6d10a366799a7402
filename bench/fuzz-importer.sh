#!/usr/bin/env bash
# Bounded fuzzing of the ONNX importer (binary protobuf and text entry points)
# with libFuzzer + AddressSanitizer + UBSan.
#
#   bench/fuzz-importer.sh [SECONDS_PER_FUZZER]   (default 300)
#
# Builds the harnesses in build-fuzz/, seeds the binary fuzzer with small
# models from Debian's ONNX backend tests and the text fuzzer with the lit
# tests' .onnxtext cases, runs each fuzzer for the given time and prints a
# table. Crash reproducers land in build-fuzz/fuzz-out/<fuzzer>/crash-*;
# replay one with `build-fuzz/bin/<fuzzer> FILE`. Exits 1 if any fuzzer
# found a crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER=${1:-300}
BUILD=$ROOT/build-fuzz
OUT=$BUILD/fuzz-out

QUANT_OPT_BUILD_DIR=$BUILD \
QUANT_OPT_CMAKE_ARGS="-DQUANT_OPT_ENABLE_FUZZERS=ON -DQUANT_OPT_ENABLE_SANITIZERS=ON" \
  scripts/build.sh onnx-proto-fuzzer onnx-text-fuzzer

# Seed corpora (rebuilt each run; the fuzzers' own corpora persist).
rm -rf "$OUT/seeds" && mkdir -p "$OUT/seeds/proto" "$OUT/seeds/text"
find /usr/share/libonnx-testdata/data/node -name model.onnx -size -16k 2>/dev/null |
  sort | awk 'NR % 3 == 0' | while read -r f; do
    cp "$f" "$OUT/seeds/proto/$(basename "$(dirname "$f")").onnx"
  done
for f in test/Target/ONNX/*.onnxtext; do
  awk -v out="$OUT/seeds/text/$(basename "$f" .onnxtext)" '
    /^\/\/ -----/ { n++; next }
    { print > (out "_" n ".onnxtext") }' "$f"
done

status=0
printf '\n%-20s %8s %10s %8s %8s %8s\n' fuzzer seconds executions exec/s cov crashes
for fuzzer in onnx-proto-fuzzer onnx-text-fuzzer; do
  kind=${fuzzer#onnx-}; kind=${kind%-fuzzer}
  corpus=$OUT/$fuzzer/corpus
  mkdir -p "$corpus"
  rm -f "$OUT/$fuzzer"/crash-* "$OUT/$fuzzer"/leak-* "$OUT/$fuzzer"/timeout-* "$OUT/$fuzzer"/oom-*
  log=$OUT/$fuzzer/log.txt
  # Run in an empty directory: external-data references resolve against it.
  workdir=$(mktemp -d)
  (cd "$workdir" && ASAN_OPTIONS=detect_leaks=1 \
    "$BUILD/bin/$fuzzer" "$corpus" "$OUT/seeds/$kind" \
      -max_total_time="$SECONDS_PER" -timeout=20 -rss_limit_mb=4096 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$OUT/$fuzzer/" >"$log" 2>&1) || true
  rm -rf "$workdir"
  runs=$(grep -oP 'stat::number_of_executed_units:\s*\K\d+' "$log" || echo 0)
  cov=$(grep -oP 'cov: \K\d+' "$log" | tail -1 || echo 0)
  crashes=$(find "$OUT/$fuzzer" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-20s %8s %10s %8s %8s %8s\n' "$fuzzer" "$SECONDS_PER" "$runs" \
    "$((runs / SECONDS_PER))" "${cov:-0}" "$crashes"
  if [ "$crashes" -gt 0 ]; then
    status=1
    grep -m1 -A12 'ERROR: \|runtime error' "$log" || true
  fi
done
exit $status
