#!/usr/bin/env bash
# After both runs finished: plot the curves, export weights/dense and weights/sparse (config, f16
# safetensors, tokenizer, golden.json, model card) and check the exported folders.
# Usage: bash tools/train/finish.sh   (from any directory)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs="$here/runs"
py="${PYTHON:-/usr/bin/python3}"
"$py" "$here/plot.py" --run "dense=$runs/dense/log.csv" --run "sparse=$runs/sparse/log.csv" \
  --out "$runs/training_curves.png" --title "GPT-2 8x8x256 on the Python stdlib: dense vs block-sparse (1/8)"
for mode in dense sparse; do
  "$py" "$here/export.py" --run "$runs/$mode" --data "$runs/data" --out "$repo/weights/$mode" --name "$mode" \
    --plot "$runs/training_curves.png"
done
"$py" "$here/check_export.py" "$repo/weights/dense" "$repo/weights/sparse"
