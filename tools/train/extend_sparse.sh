#!/usr/bin/env bash
# Starts (or with --resume continues) the extension of the finished sparse run: more steps at the final
# 1/8 density, in $RUNS/sparse-ext (the 6400-step run in $RUNS/sparse stays as it is). Why: at equal
# tokens (26.2 M) the sparse model's held-out loss is 1.111x the dense one's; the issue's gate is 1.10x,
# and a 1/8-density model needs more tokens for the same loss. Weights and AdamW moments carry on, the lr
# warms up again to $LR over 100 steps and decays (cosine) to $LR/10 at step $STEPS; the batches continue
# the runs' (seed, step) order, so the extension sees windows neither run saw.
# Usage: bash tools/train/extend_sparse.sh [--resume]   status: bash tools/train/status.sh
# End of a session: bash tools/train/carry.sh (stops it cleanly, writes carry/sparse-ext.*; commit them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${RUNS:-$HOME/.cache/sparse-gpt2/train}"
carry="${CARRY:-$here/carry}"
py="${PYTHON:-/usr/bin/python3}"
out="$runs/sparse-ext"
if pgrep -f "train.py train .*--out $out( |$)" >/dev/null; then echo "sparse-ext: already running"; exit 0; fi
# Starting needs the finished run's checkpoint; continuing needs the extension's own checkpoint, or on a new
# machine its carry (carry.sh writes tools/train/carry/sparse-ext.*; the data is prepared as run_pair.sh does).
if [ ! -f "$runs/sparse/ckpt.pt" ] && [ ! -f "$out/ckpt.pt" ] && [ ! -f "$carry/sparse-ext.json" ]; then
  echo "no $runs/sparse/ckpt.pt, $out/ckpt.pt or $carry/sparse-ext.json: finish the sparse run first (run_pair.sh --resume)" >&2; exit 1
fi
if [ ! -f "$runs/data/train.bin" ]; then MODES= bash "$here/run_pair.sh"; fi
OMP_NUM_THREADS="${THREADS:-2}" nohup nice -n 19 "$py" "$here/train.py" train --data "$runs/data" --out "$out" \
  --mode sparse --extend-from "$runs/sparse" --steps "${STEPS:-8400}" --batch 16 --ctx 256 --lr "${LR:-3e-4}" \
  --warmup 100 --anneal-frac 0.8 --anneal-shape cubic --eval-ctx 256 --eval-every 100 --log-every 20 \
  --eval-windows 64 --threads "${THREADS:-2}" --carry "$carry" "$@" >> "$runs/sparse-ext.log" 2>&1 &
echo "sparse-ext: pid $! log $runs/sparse-ext.log"
