#!/usr/bin/env bash
# The main job: set up, build, import the shipped model and print a summary.
# Quantization, compilation and evaluation join here as they land. Until the
# trained model is in models/, the GPT-2 export variants (a tiny random
# config, python/quantopt/variants.py) stand in for it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh quant-opt
models=(models/*.onnx)
if [ ! -e "${models[0]}" ]; then
  echo "== no trained model in models/ yet: importing the GPT-2 export variants instead"
  mkdir -p build/variants
  PYTHONPATH=python /usr/bin/python3 -m quantopt.variants --out build/variants >/dev/null 2>&1
  models=(build/variants/*.onnx)
fi
printf '\n%-28s %9s %9s %10s %8s %8s %9s\n' model "size MB" "import s" "peak RSS" matmuls softmax resources
for model in "${models[@]}"; do
  out=build/$(basename "$model" .onnx).mlir
  stats=$( { /usr/bin/time -f "%e %M" build/bin/quant-opt "$model" -canonicalize -o "$out"; } 2>&1 | tail -n1)
  read -r secs rss <<<"$stats"
  size=$(du -bL "$model" | cut -f1)
  [ -f "$model.data" ] && size=$((size + $(du -bL "$model.data" | cut -f1)))
  printf '%-28s %9.1f %9s %8s MB %8s %8s %9s\n' "$(basename "$model")" \
    "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" "$secs" "$((rss / 1024))" \
    "$(grep -c 'linalg.matmul' "$out")" "$(grep -c 'linalg.softmax' "$out")" \
    "$(grep -c 'dense_resource<' "$out")"
done
