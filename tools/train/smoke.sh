#!/usr/bin/env bash
# CI smoke run of the training tool: the whole pipeline (corpus, BPE, dense + sparse training,
# resume, export (the sparse one BSR, read back by the TypeScript converter), golden, plot, held-out loss by the
# NumPy forward) on a tiny config in a temp dir.
# Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="${PYTHON:-/usr/bin/python3}"
tmp="$(mktemp -d)"
[ -n "${SMOKE_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT  # SMOKE_KEEP=1 keeps the outputs
export OMP_NUM_THREADS=1
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }
"$py" -c 'import torch, numpy, regex' 2>/dev/null ||
  fail "$py lacks torch/numpy/regex: apt-get install python3-torch python3-numpy python3-regex libopenblas0-openmp"

# Two small held-out packages keep the validation split (~12k tokens) quick for check_export --data.
"$py" "$here/train.py" prepare --out "$tmp/data" --vocab-size 300 --max-files 80 --max-bytes-per-file 3000 \
  --val-packages python3-httplib2,python3-distro > "$tmp/prepare.log" ||
  { cat "$tmp/prepare.log"; fail "prepare"; }
tiny=(--data "$tmp/data" --steps 6 --batch 4 --ctx 64 --n-layer 2 --n-head 2 --n-embd 64 --warmup 2
      --log-every 2 --eval-every 2 --eval-windows 4)
for mode in dense sparse; do
  "$py" "$here/train.py" train "${tiny[@]}" --mode $mode --out "$tmp/$mode" > "$tmp/$mode.log" ||
    { cat "$tmp/$mode.log"; fail "train $mode"; }
done
# A run stopped half-way and resumed must end exactly where the uninterrupted run ended.
"$py" "$here/train.py" train "${tiny[@]}" --mode sparse --out "$tmp/resumed" --stop-after 3 > "$tmp/resumed.log" ||
  { cat "$tmp/resumed.log"; fail "train (stop-after)"; }
"$py" "$here/train.py" train "${tiny[@]}" --mode sparse --out "$tmp/resumed" --resume >> "$tmp/resumed.log" ||
  { cat "$tmp/resumed.log"; fail "train --resume"; }
[ "$(tail -n 1 "$tmp/sparse/log.csv" | cut -d, -f7-)" = "$(tail -n 1 "$tmp/resumed/log.csv" | cut -d, -f7-)" ] ||
  fail "resumed run differs from the uninterrupted one: $(tail -n 1 "$tmp/sparse/log.csv") vs $(tail -n 1 "$tmp/resumed/log.csv")"
# A run stopped by SIGTERM (a session ending) checkpoints at once and resumes to the same end as an
# uninterrupted run; 40 steps, so the signal lands mid-run rather than at interpreter exit.
long=(--steps 40 --log-every 2 --eval-every 20)
"$py" "$here/train.py" train "${tiny[@]}" "${long[@]}" --mode sparse --out "$tmp/whole40" > "$tmp/whole40.log" ||
  { cat "$tmp/whole40.log"; fail "train (40 steps)"; }
"$py" "$here/train.py" train "${tiny[@]}" "${long[@]}" --mode sparse --out "$tmp/termed" > "$tmp/termed.log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "step=2 " "$tmp/termed.log" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid" || { cat "$tmp/termed.log"; fail "train (SIGTERM) exited non-zero"; }
grep -q "stopped by SIGTERM" "$tmp/termed.log" || { cat "$tmp/termed.log"; fail "SIGTERM did not stop the run with a checkpoint"; }
"$py" "$here/train.py" train "${tiny[@]}" "${long[@]}" --mode sparse --out "$tmp/termed" --resume >> "$tmp/termed.log" ||
  { cat "$tmp/termed.log"; fail "train --resume after SIGTERM"; }
[ "$(tail -n 1 "$tmp/whole40/log.csv" | cut -d, -f7-)" = "$(tail -n 1 "$tmp/termed/log.csv" | cut -d, -f7-)" ] ||
  fail "run resumed after SIGTERM differs from the uninterrupted one"

# A new machine without the checkpoint: carry (f16 weights + state) at step 20, prepare the data again
# with the carried tokenizer, continue from the carry in an empty run folder to step 40.
"$py" "$here/train.py" train "${tiny[@]}" "${long[@]}" --mode sparse --out "$tmp/first20" --stop-after 20 > "$tmp/first20.log" ||
  { cat "$tmp/first20.log"; fail "train (first 20 of 40)"; }
"$py" "$here/train.py" carry --runs "$tmp" --data "$tmp/data" --out "$tmp/carry" --modes first20 > "$tmp/carry.log" ||
  { cat "$tmp/carry.log"; fail "carry"; }
"$py" "$here/train.py" prepare --out "$tmp/data2" --vocab-size 300 --max-files 80 --max-bytes-per-file 3000 \
  --val-packages python3-httplib2,python3-distro --tokenizer "$tmp/carry/tokenizer.json" > "$tmp/prepare2.log" ||
  { cat "$tmp/prepare2.log"; fail "prepare --tokenizer"; }
cmp -s "$tmp/data/train.bin" "$tmp/data2/train.bin" || fail "prepare with the carried tokenizer gave another token stream"
# carry files are named after the run folder they continue: rename them for the new folder, carried/
mv "$tmp/carry/first20.json" "$tmp/carry/carried.json"; mv "$tmp/carry/first20.safetensors" "$tmp/carry/carried.safetensors"
mv "$tmp/carry/first20.log.csv" "$tmp/carry/carried.log.csv"
"$py" "$here/train.py" train "${tiny[@]/$tmp\/data/$tmp/data2}" "${long[@]}" --mode sparse --out "$tmp/carried" --resume \
  --carry "$tmp/carry" --rewarm 5 > "$tmp/carried.log" || { cat "$tmp/carried.log"; fail "train --resume --carry"; }
grep -q "continued .* from carried f16 weights at step 20/40" "$tmp/carried.log" || { cat "$tmp/carried.log"; fail "the run did not continue from the carry"; }
[ "$(grep -c '' "$tmp/carried/log.csv")" = "$(grep -c '' "$tmp/whole40/log.csv")" ] || fail "carried run's log lost or duplicated rows"
[ "$(sed -n 11p "$tmp/carried/log.csv" | cut -d, -f1,2,5-)" = "$(sed -n 11p "$tmp/whole40/log.csv" | cut -d, -f1,2,5-)" ] || fail "carried log differs before the carry"
"$py" - "$tmp/carried/ckpt.pt" "$tmp/whole40/ckpt.pt" <<'PY' || fail "carried run did not reach step 40 with a sound model"
import sys, torch
c, w = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert c["step"] == w["step"] == 40 and c["tokens"] == w["tokens"], (c["step"], c["tokens"])
assert [h["step"] for h in c["carried"]] == [20] and c["carried"][0]["optimizer"] == "reset", c["carried"]
for n, t in c["model"].items():
    assert torch.isfinite(t).all(), n
PY

# An extension of a finished run (extend_sparse.sh): continues the 6-step sparse run to step 10 in a new
# folder at the final density, leaving the finished run as it was; its card says so.
"$py" "$here/train.py" train "${tiny[@]}" --mode sparse --out "$tmp/extended" --extend-from "$tmp/sparse" \
  --steps 10 --lr 1e-3 > "$tmp/extended.log" || { cat "$tmp/extended.log"; fail "train --extend-from"; }
"$py" - "$tmp/extended/ckpt.pt" "$tmp/sparse/ckpt.pt" <<'PY' || fail "the extension did not continue the finished run"
import sys, torch
e, s = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert s["step"] == 6 and e["step"] == 10 and e["tokens"] == s["tokens"] * 10 // 6, (e["step"], e["tokens"])
assert e["extended"]["step"] == 6 and e["extended"]["base_args"]["steps"] == 6, e["extended"]
PY
[ "$(cut -d, -f1 "$tmp/extended/log.csv" | tr '\n' ' ')" = "step 2 4 6 8 10 " ] || fail "extension log: $(cut -d, -f1 "$tmp/extended/log.csv" | tr '\n' ' ')"

plot=()
if "$py" -c 'import matplotlib' 2>/dev/null; then
  "$py" "$here/plot.py" --run "dense=$tmp/dense/log.csv" --run "sparse=$tmp/sparse/log.csv" --out "$tmp/curves.png" > /dev/null ||
    fail "plot"
  plot=(--plot "$tmp/curves.png")
else
  echo "smoke: matplotlib missing (apt-get install python3-matplotlib), skipping the plot"
fi
for mode in dense sparse; do
  "$py" "$here/export.py" --run "$tmp/$mode" --data "$tmp/data" --out "$tmp/out/$mode" --name "smoke-$mode" \
    --sample-tokens 8 --threads 1 "${plot[@]}" > "$tmp/export-$mode.log" || { cat "$tmp/export-$mode.log"; fail "export $mode"; }
done
"$py" "$here/export.py" --run "$tmp/carried" --data "$tmp/data2" --out "$tmp/out/carried" --name smoke-carried \
  --sample-tokens 8 --threads 1 > "$tmp/export-carried.log" || { cat "$tmp/export-carried.log"; fail "export carried"; }
grep -q "continued on a new machine | at step 20 " "$tmp/out/carried/README.md" || fail "the card does not say the run was carried"
"$py" "$here/export.py" --run "$tmp/extended" --data "$tmp/data" --out "$tmp/out/extended" --name smoke-extended \
  --sample-tokens 8 --threads 1 > "$tmp/export-extended.log" || { cat "$tmp/export-extended.log"; fail "export extended"; }
grep -q "| extended | from step 6 " "$tmp/out/extended/README.md" || fail "the card does not say the run was extended"
"$py" "$here/check_export.py" "$tmp/out/dense" "$tmp/out/sparse" || fail "exported folders do not check out"
# The sparse export is BSR: the TypeScript loader reads it, and its converter gives back the same dense tensors.
if command -v npx >/dev/null 2>&1 && [ -d "$here/../../node_modules" ]; then
  (cd "$here/../.." && npx tsx src/cli/main.ts convert --model "$tmp/out/sparse" --to dense --out "$tmp/out/sparse-dense") \
    > "$tmp/convert.log" 2>&1 || { cat "$tmp/convert.log"; fail "cli convert of the BSR export"; }
  "$py" - "$here" "$tmp/out/sparse/model.safetensors" "$tmp/out/sparse-dense/model.safetensors" <<'PY' || fail "BSR export and its TS conversion differ"
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, safetensors_io as io
raw, meta = io.load_raw(sys.argv[2])
assert meta.get("sparse_format") == "bsr" and any(n.endswith(".bsr_values") for n in raw), "sparse export not BSR"
a, b = io.load(sys.argv[2]), io.load(sys.argv[3])
assert set(a) == set(b), sorted(set(a) ^ set(b))
for n in a:
    assert np.array_equal(a[n].view(np.uint16), b[n].view(np.uint16)), n
PY
else
  echo "smoke: node_modules missing, skipping the TypeScript conversion check of the BSR export"
fi
# The held-out loss by the NumPy forward must match the cards; thresholds generous for a 6-step model
# (uniform guessing over 300 tokens is about 6 bits/byte here).
"$py" "$here/check_export.py" "$tmp/out/dense" "$tmp/out/sparse" --data "$tmp/data" --max-bpb 7 \
  --max-sparse-ratio 1.5 || fail "check_export --data (validation loss by the NumPy forward, thresholds)"
echo "SMOKE OK: prepare, dense+sparse train, resume, carry to a new machine, extension, export, golden, NumPy validation loss all passed ($tmp)"
