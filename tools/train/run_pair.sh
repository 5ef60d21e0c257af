#!/usr/bin/env bash
# Starts the dense and the block-sparse run side by side in the background (one thread each,
# niced, surviving logout), with identical seed, data order and step count.
# Usage: bash tools/train/run_pair.sh [--resume]   (STEPS=400 by default; logs in tools/train/runs/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="$here/runs"
steps="${STEPS:-400}"
py="${PYTHON:-/usr/bin/python3}"
[ -f "$runs/data/train.bin" ] || { echo "no $runs/data: run '$py $here/train.py prepare --out $runs/data' first" >&2; exit 1; }
for mode in dense sparse; do
  OMP_NUM_THREADS=1 nohup nice -n 10 "$py" "$here/train.py" train --data "$runs/data" --out "$runs/$mode" \
    --mode "$mode" --steps "$steps" "$@" >> "$runs/$mode.log" 2>&1 &
  echo "$mode: pid $! log $runs/$mode.log"
done
