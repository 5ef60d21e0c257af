#!/usr/bin/env bash
# Starts (or with --resume continues) the dense and the block-sparse run side by side in the
# background: one thread each, niced, surviving logout, identical seed, data order and schedule.
# Checkpoints (every 4 minutes and at exit) and logs live outside the work tree, in $RUNS. On a new
# machine (no checkpoint there) --resume continues from the weights committed in tools/train/carry/
# (written by carry.sh), after preparing the data with the carried tokenizer.
# Usage: bash tools/train/run_pair.sh [--resume]   (MODES="dense" for one run)   status: bash tools/train/status.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${RUNS:-$HOME/.cache/sparse-gpt2/train}"
carry="${CARRY:-$here/carry}"
py="${PYTHON:-/usr/bin/python3}"
# The committed recipe (chosen by the pilots in tools/train/README.md): 6400 steps of 4096 tokens
# (26.2 M tokens per run); context 128 (batch 32) for the first 60 % of the steps, then 256
# (batch 16); sparse: the kept block fraction falls 1 -> 1/8 over the first 80 % of the steps.
steps="${STEPS:-6400}"
recipe=(--steps "$steps" --batch 16 --ctx 256 --ctx-short 128 --ctx-short-frac 0.6 --lr "${LR:-1e-3}"
        --warmup 100 --anneal-frac 0.8 --anneal-shape "${ANNEAL_SHAPE:-cubic}" --eval-ctx 256
        --eval-every 100 --log-every 20 --eval-windows 64 --carry "$carry")
if [ ! -f "$runs/data/train.bin" ]; then
  pin=(); [ -f "$carry/tokenizer.json" ] && pin=(--tokenizer "$carry/tokenizer.json")
  echo "no $runs/data: preparing it (about 3 minutes)${pin:+ with the carried tokenizer}"
  mkdir -p "$runs"
  nice -n 15 "$py" "$here/train.py" prepare --out "$runs/data" "${pin[@]}" > "$runs/prepare.log" 2>&1 ||
    { cat "$runs/prepare.log" >&2; exit 1; }
fi
for mode in ${MODES-dense sparse}; do  # MODES= (empty): only prepare the data
  if pgrep -f "train.py train .*--out $runs/$mode( |$)" >/dev/null; then echo "$mode: already running"; continue; fi
  OMP_NUM_THREADS=1 nohup nice -n 15 "$py" "$here/train.py" train --data "$runs/data" --out "$runs/$mode" \
    --mode "$mode" "${recipe[@]}" "$@" >> "$runs/$mode.log" 2>&1 &
  echo "$mode: pid $! log $runs/$mode.log"
done
