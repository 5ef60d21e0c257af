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
keep=false; [ "${1:-}" = "--keep-running" ] && keep=true
if ! $keep; then
  for mode in ${MODES:-dense sparse sparse-ext}; do
    pids=$(pgrep -f "train.py train .*--out $runs/$mode( |$)" || true)
    if [ -n "$pids" ]; then kill -TERM $pids; echo "$mode: stopping (pid $pids)"; fi
  done
  # The current step finishes, then the checkpoint is written: wait for both to exit.
  for _ in $(seq 600); do pgrep -f "train.py train .*--out $runs/" >/dev/null || break; sleep 1; done
fi
# Finished runs are not carried (what they made is exported to weights/; the extension has its own carry).
modes=()
for mode in ${MODES:-dense sparse sparse-ext}; do
  [ -f "$runs/$mode/ckpt.pt" ] || continue
  if [ "$("$py" "$here/train.py" progress --run "$runs/$mode")" = done ] && [ -z "${MODES:-}" ]; then
    echo "$mode: finished, not carried"; continue
  fi
  modes+=("$mode")
done
[ ${#modes[@]} -gt 0 ] || { echo "no checkpoint in $runs" >&2; exit 1; }
"$py" "$here/train.py" carry --runs "$runs" --data "$runs/data" --out "$carry" --modes "$(IFS=,; echo "${modes[*]}")"
du -sh "$carry"
