#!/usr/bin/env bash
# End of a session: stops the running pair cleanly (SIGTERM: the current step finishes and is
# checkpointed) and writes tools/train/carry/ (f16 weights, step, recipe, log, tokenizer, data hashes)
# so the next machine's `run_pair.sh --resume` continues from there. Commit the folder afterwards.
# Usage: bash tools/train/carry.sh [--keep-running]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs="${RUNS:-$HOME/.cache/sparse-gpt2/train}"
carry="${CARRY:-$here/carry}"
py="${PYTHON:-/usr/bin/python3}"
modes=()
for mode in ${MODES:-dense sparse}; do
  [ -f "$runs/$mode/ckpt.pt" ] && modes+=("$mode")
  [ "${1:-}" = "--keep-running" ] && continue
  pids=$(pgrep -f "train.py train .*--out $runs/$mode( |$)" || true)
  [ -n "$pids" ] && kill -TERM $pids && echo "$mode: stopping (pid $pids)"
done
for _ in $(seq 600); do pgrep -f "train.py train .*--out $runs/" >/dev/null || break; [ "${1:-}" = "--keep-running" ] && break; sleep 1; done
[ ${#modes[@]} -gt 0 ] || { echo "no checkpoint in $runs" >&2; exit 1; }
"$py" "$here/train.py" carry --runs "$runs" --data "$runs/data" --out "$carry" --modes "$(IFS=,; echo "${modes[*]}")"
du -sh "$carry"
