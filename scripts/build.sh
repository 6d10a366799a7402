#!/usr/bin/env bash
# Configures (once) and builds quant-opt into build/ (or $QUANT_OPT_BUILD_DIR).
# Extra CMake arguments can be passed through $QUANT_OPT_CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${QUANT_OPT_BUILD_DIR:-build}
if [ -f "$BUILD_DIR/build.ninja" ] && [ -n "${QUANT_OPT_CMAKE_ARGS:-}" ]; then
  # An existing tree takes the options it is asked for (a no-op if it has them).
  cmake -S . -B "$BUILD_DIR" ${QUANT_OPT_CMAKE_ARGS} >/dev/null
elif [ ! -f "$BUILD_DIR/build.ninja" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit "${launcher[@]}" ${QUANT_OPT_CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR" -j"${QUANT_OPT_JOBS:-2}" "$@"
