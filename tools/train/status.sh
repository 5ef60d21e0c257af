#!/usr/bin/env bash
# Where the long training stands: per run, running or not, the last logged step, tokens, the last
# validation loss, and the time left at the recent rate.
runs="${RUNS:-$HOME/.cache/sparse-gpt2/train}"
for mode in dense sparse sparse-ext; do
  csv="$runs/$mode/log.csv"
  state=stopped; pgrep -f "train.py train .*--out $runs/$mode( |$)" >/dev/null && state=running
  [ -f "$csv" ] || { [ "$mode" = sparse-ext ] || echo "$mode: $state, no log yet ($csv)"; continue; }
  total=$(/usr/bin/python3 -c "import json;print(json.load(open('$runs/$mode/args.json'))['args']['steps'])")
  awk -F, -v mode="$mode" -v state="$state" -v total="$total" 'NR>1 {s=$1; t=$2; r=$4; k=$6; tl=$7; if ($8!="") vl=$8}
    END {left=(total-s)*t/(s>0?s:1)/(r>0?r:1)/3600;
         printf "%s: %s, step %d/%d, %.2f M tokens, keep %.3f, train %.3f, val %s, ~%.1f h left at %.0f tokens/s\n",
                mode, state, s, total, t/1e6, k, tl, vl, left, r}' "$csv"
done
