#!/usr/bin/env bash
# Builds quant-opt with AddressSanitizer + UBSan in build-asan/ and runs the
# lit suite with it. Any sanitizer report aborts the failing test.
#
# LeakSanitizer is on and needs no suppressions: the tools free what they
# allocate, and quant-run never unloads the compiled model (dlopen'ed,
# uninstrumented; its buffers are malloc'ed through ASan's interceptors).
#
# libqopt_runtime.so is instrumented but does not link the sanitizer runtime
# (the executable provides it), so it cannot be loaded with ctypes into the
# uninstrumented /usr/bin/python3. The build sets the lit feature `asan` and
# tests that do so are `UNSUPPORTED: asan` (test/Runtime/onnx-conformance.test).
# To run the C API under ASan by hand, preload the runtime into that Python
# only (not into the sanitized tools it starts, which link their own):
#   LD_PRELOAD=$(clang-22 -print-file-name=libclang_rt.asan-x86_64.so) \
#   ASAN_OPTIONS=detect_leaks=0 QUANTOPT_LIB_DIR=build-asan/lib \
#   PYTHONPATH=python:scripts /usr/bin/python3 -m checks.conformance --run-one LIB.so TESTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
# allow_user_poisoning=0: LLVM's allocators poison and unpoison memory in
# inline code, so code compiled into our (instrumented) objects and the same
# templates inside Debian's uninstrumented libMLIR disagree about what is
# poisoned: memcpy into attribute storage that libMLIR allocated is then
# reported as use-after-poison. Real heap errors are still found.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allow_user_poisoning=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The same tree builds the fuzzers (bench/fuzz.sh): one sanitized build.
QUANT_OPT_BUILD_DIR=build-asan \
QUANT_OPT_CMAKE_ARGS="-DQUANT_OPT_ENABLE_SANITIZERS=ON -DQUANT_OPT_ENABLE_FUZZERS=ON" \
  scripts/build.sh check-quant-opt
