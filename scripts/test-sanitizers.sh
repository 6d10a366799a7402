#!/usr/bin/env bash
# Builds quant-opt with AddressSanitizer + UBSan in build-asan/ and runs the
# lit suite with it. Any sanitizer report aborts the failing test.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
QUANT_OPT_BUILD_DIR=build-asan \
QUANT_OPT_CMAKE_ARGS="-DQUANT_OPT_ENABLE_SANITIZERS=ON" \
  scripts/build.sh check-quant-opt
