#!/usr/bin/env bash
# Sets up the machine, builds, and runs the whole test suite (lit + FileCheck).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh quant-opt
ninja -C "${QUANT_OPT_BUILD_DIR:-build}" check-quant-opt
