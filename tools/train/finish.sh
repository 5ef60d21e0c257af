#!/usr/bin/env bash
# After both runs finished: plot the curves, export weights/dense and weights/sparse (config, f16
# safetensors, tokenizer, golden.json, model card) and check the exported folders, including the
# validation loss recomputed by check_export.py's NumPy forward (a few minutes per model), and refresh the
# tokenizer parity sample (tokenizer_sample.json) for the exported tokenizer.
# Usage: bash tools/train/finish.sh   (from any directory)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs="${RUNS:-$HOME/.cache/sparse-gpt2/train}"
py="${PYTHON:-/usr/bin/python3}"
# The sparse model is the extension (extend_sparse.sh) once it has finished, else the 6400-step run;
# SPARSE_RUN=sparse|sparse-ext chooses explicitly.
sparse_run="${SPARSE_RUN:-}"
if [ -z "$sparse_run" ]; then
  sparse_run=sparse
  if [ -f "$runs/sparse-ext/args.json" ]; then
    ext_state=$("$py" "$here/train.py" progress --run "$runs/sparse-ext")
    if [ "$ext_state" = done ]; then sparse_run=sparse-ext
    else echo "note: the sparse extension is at $ext_state: exporting the 6400-step sparse run" >&2; fi
  fi
fi
# The dense run finished first; a machine that continued only the sparse extension (from carry/) has no
# dense checkpoint: then weights/dense, exported where the dense run finished, stays as it is and its
# train_log.csv gives the dense curve.
modes="dense sparse"; dense_log="$runs/dense/log.csv"
if [ ! -f "$runs/dense/ckpt.pt" ]; then
  [ -f "$repo/weights/dense/train_log.csv" ] || { echo "no $runs/dense/ckpt.pt and no weights/dense/train_log.csv" >&2; exit 1; }
  echo "note: no $runs/dense/ckpt.pt: keeping the exported weights/dense, re-exporting the sparse model only" >&2
  modes="sparse"; dense_log="$repo/weights/dense/train_log.csv"
fi
"$py" "$here/plot.py" --run "dense=$dense_log" --run "sparse=$runs/$sparse_run/log.csv" \
  --out "$runs/training_curves.png" --title "GPT-2 8x8x256 on Python (stdlib + Debian packages): dense vs block-sparse (1/8)"
for mode in $modes; do
  run="$runs/$mode"; [ "$mode" = sparse ] && run="$runs/$sparse_run"
  "$py" "$here/export.py" --run "$run" --data "$runs/data" --out "$repo/weights/$mode" --name "$mode" \
    --plot "$runs/training_curves.png"
done
[ "$modes" = sparse ] && cp "$runs/training_curves.png" "$repo/weights/dense/training_curves.png"
# Held-out loss by the independent NumPy forward, checked against the cards; quality gates (override
# with MAX_BPB / MAX_SPARSE_RATIO).
"$py" "$here/check_export.py" "$repo/weights/dense" "$repo/weights/sparse" --data "$runs/data" \
  --max-bpb "${MAX_BPB:-1.2}" --max-sparse-ratio "${MAX_SPARSE_RATIO:-1.10}"
# The TypeScript parity test (src/model/trainedTokenizer.test.ts) pins the exported tokenizer's sha256.
"$py" "$here/make_tokenizer_sample.py"
