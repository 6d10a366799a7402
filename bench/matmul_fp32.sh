#!/usr/bin/env bash
# fp32 matmul speed of compiled GPT-2 124M (d=768, 12 layers, vocab 50257):
# the vector kernels of qopt-vectorize-contractions against the scalar
# reference loops (quant-compile --vectorize-contractions=false), both timed by
# `quant-run bench`, alternating, in the same run.
#
#   bench/matmul_fp32.sh [--prompt-tokens 32] [--repeats 3] [--keep DIR]
#
# Environment: QUANT_OPT_BUILD_DIR (default build), MODEL (default
# build-bench/gpt2_124m_op17.onnx; created with bench/import_gpt2_124m.py).
# GFLOP/s counts 2 * M * K * N over the model's matmuls (the 4 per layer and
# the LM head; attention excluded): 2 * 123.5M FLOP per token. The exported
# model has no KV-cache inputs, so a "decode" step recomputes the whole
# context (prompt + 1 tokens); its GFLOP/s counts those tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${QUANT_OPT_BUILD_DIR:-build}
MODEL=${MODEL:-build-bench/gpt2_124m_op17.onnx}
PROMPT=32
DECODE=4
REPEATS=3
KEEP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prompt-tokens) PROMPT=$2; shift 2 ;;
    --decode-tokens) DECODE=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ! -f "$MODEL" ]; then
  /usr/bin/python3 bench/import_gpt2_124m.py --repeats 1
fi
DIR=${KEEP:-$(mktemp -d /tmp/matmul_fp32.XXXXXX)}
mkdir -p "$DIR"

compile() { # name, input, extra flags
  local start end
  start=$(date +%s.%N)
  "$BUILD/bin/quant-compile" "$2" -o "$DIR/$1.so" "${@:3}"
  end=$(date +%s.%N)
  echo "$1: compiled in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }') s" >&2
}
if [ ! -f "$DIR/vector.so" ]; then
  compile vector "$MODEL"
fi
if [ ! -f "$DIR/reference.so" ]; then
  compile reference "$MODEL" --vectorize-contractions=false
fi

# Weights in matmuls per token: 12 * (768*2304 + 768*768 + 2 * 768*3072) +
# 768*50257 = 123.5M multiply-adds.
FLOP_PER_TOKEN=$(( 2 * (12 * (768*2304 + 768*768 + 2*768*3072) + 768*50257) ))
declare -A OUT
for round in 1 2; do
  for v in reference vector; do
    OUT[$v]=$("$BUILD/bin/quant-run" "$DIR/$v.so" bench \
      --prompt-tokens "$PROMPT" --decode-tokens "$DECODE" \
      --repeats "$REPEATS" --context $((PROMPT + DECODE)))
  done
done
printf "%-10s %16s %12s %18s %12s\n" variant "prefill tok/s" "GFLOP/s" "decode ms/token" "GFLOP/s"
for v in reference vector; do
  tps=$(echo "${OUT[$v]}" | sed -n 's/^prefill [0-9]* tokens: \([0-9.]*\) tokens\/s.*/\1/p')
  ms=$(echo "${OUT[$v]}" | sed -n 's/^decode .*: \([0-9.]*\) ms\/token.*/\1/p')
  awk -v v="$v" -v tps="$tps" -v ms="$ms" -v f="$FLOP_PER_TOKEN" \
    -v p="$PROMPT" 'BEGIN { printf "%-10s %16s %12.1f %18s %12.1f\n", v, tps,
      tps * f / 1e9, ms, (p + 1) * f / (ms * 1e6) }'
done
[ -n "$KEEP" ] || rm -rf "$DIR"
