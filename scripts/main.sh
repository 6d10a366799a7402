#!/usr/bin/env bash
# The main job: set up, build, import the shipped model and print a summary.
# (Quantization, compilation and evaluation join here as they land.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh quant-opt
model=$(ls models/*.onnx 2>/dev/null | head -n1 || true)
if [ -z "$model" ]; then
  echo "main: no shipped model in models/ yet" >&2
  exit 1
fi
echo "== importing $model"
/usr/bin/time -f "import: %e s, peak RSS %M KB" build/bin/quant-opt "$model" --emit-bytecode -o build/model.mlirbc
