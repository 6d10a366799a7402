#!/usr/bin/env bash
# Sets up the machine, builds, and runs the whole test suite (lit + FileCheck),
# then a short bounded run of every fuzzer (libFuzzer + ASan/UBSan, built in
# build-asan/; `bench/fuzz.sh 600` is the long run). CI (.ci/run) also runs
# the suite under the sanitizers: scripts/test-sanitizers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh quant-opt
ninja -C "${QUANT_OPT_BUILD_DIR:-build}" check-quant-opt
bench/fuzz.sh "${QUANT_OPT_FUZZ_SECONDS:-20}"
