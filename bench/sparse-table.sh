#!/usr/bin/env bash
# Reproduces the README's dense-vs-BSR table in one run: a GPT-2-124M-shaped model (random weights)
# pruned to block densities 1/2 .. 1/16, each benched on the dense and on the BSR kernels (same
# weights), plus the embedded pair. Writes JSON to $OUT (default bench/results/) and prints a table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-bench/results}"
MODELS="${MODELS:-$(mktemp -d)}"
ARGS=(--prompt-tokens "${PROMPT_TOKENS:-8}" --tokens "${TOKENS:-8}" --runs "${RUNS:-2}" --json)
mkdir -p "$OUT"
cli() { npm run -s cli -- "$@"; }
[ -f "$MODELS/d1/model.safetensors" ] || cli make-test-model --preset gpt2-124m --seed 1 --out "$MODELS/d1"
pruned=()
for d in 0.5 0.25 0.125 0.0625; do
  [ -f "$MODELS/d$d/model.safetensors" ] || cli prune --model "$MODELS/d1" --density $d --block 32 --out "$MODELS/d$d"
  pruned+=(--model "$MODELS/d$d")
done
cli bench --kernels dense --model weights/dense --model weights/sparse --model "$MODELS/d1" "${pruned[@]}" "${ARGS[@]}" > "$OUT/dense-kernels.json"
cli bench --kernels bsr --model weights/sparse --model "$MODELS/d1" "${pruned[@]}" "${ARGS[@]}" > "$OUT/bsr-kernels.json"
cli bench --crossover --json > "$OUT/crossover.json"
node bench/table.mjs "$OUT" | tee "$OUT/table.md"
