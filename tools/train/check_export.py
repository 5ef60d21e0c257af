# Checks exported model folders (weights/dense, weights/sparse or a smoke run's): files present,
# HF names/shapes/f16, golden.json well-formed and reproduced from the stored weights, block
# density as the config claims. With --data (the prepared data folder) it also computes the
# held-out validation loss with the independent NumPy forward over the whole val split, checks it
# against summary.json and the card, and optionally enforces thresholds.
# Usage: check_export.py DENSE_DIR [SPARSE_DIR] [--data DIR [--max-bpb X] [--max-sparse-ratio R]]
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import safetensors_io  # noqa: E402
from export import CONV1D_SUFFIXES, GOLDEN_PROMPTS, block_density, golden, model_from_hf, token_bytes, window_loss  # noqa: E402
from model import GPTConfig  # noqa: E402


def expected_shapes(c):
    D, V, C = c["n_embd"], c["vocab_size"], c["n_positions"]
    s = {"wte.weight": [V, D], "wpe.weight": [C, D], "ln_f.weight": [D], "ln_f.bias": [D]}
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        s.update({p + "ln_1.weight": [D], p + "ln_1.bias": [D], p + "ln_2.weight": [D], p + "ln_2.bias": [D],
                  p + "attn.c_attn.weight": [D, 3 * D], p + "attn.c_attn.bias": [3 * D],
                  p + "attn.c_proj.weight": [D, D], p + "attn.c_proj.bias": [D],
                  p + "mlp.c_fc.weight": [D, 4 * D], p + "mlp.c_fc.bias": [4 * D],
                  p + "mlp.c_proj.weight": [4 * D, D], p + "mlp.c_proj.bias": [D]})
    return s


def numpy_logits(t, c, ids, dtype=np.float64):
    """Independent GPT-2 forward in NumPy straight from the HF Conv1D layout (y = x @ W + b), so an
    export that transposed or misnamed a tensor cannot agree with golden.json by construction.
    ids: [T] -> logits [T, V], or a batch [B, T] -> [B, T, V]; compute in `dtype` (tensors already
    in that dtype are used as they are, so a caller can convert once: numpy_weights)."""
    f = numpy_weights(t, dtype)
    eps, H = c["layer_norm_epsilon"], c["n_head"]

    def ln(x, p):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + eps) * f[p + ".weight"] + f[p + ".bias"]

    ids = np.asarray(ids)
    single = ids.ndim == 1
    ids = ids[None] if single else ids
    B, T = ids.shape
    x = (f["wte.weight"][ids] + f["wpe.weight"][:T]).reshape(B * T, -1)  # rows: (batch, position)
    D = x.shape[1]
    hd = D // H
    mask = np.triu(np.full((T, T), -np.inf, dtype=dtype), 1)
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        qkv = ln(x, p + "ln_1") @ f[p + "attn.c_attn.weight"] + f[p + "attn.c_attn.bias"]
        q, k, v = (qkv[:, j * D:(j + 1) * D].reshape(B, T, H, hd).transpose(0, 2, 1, 3) for j in range(3))
        a = q @ k.transpose(0, 1, 3, 2) / dtype(np.sqrt(hd)) + mask
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        y = (a @ v).transpose(0, 2, 1, 3).reshape(B * T, D)
        x = x + y @ f[p + "attn.c_proj.weight"] + f[p + "attn.c_proj.bias"]
        hdn = ln(x, p + "ln_2") @ f[p + "mlp.c_fc.weight"] + f[p + "mlp.c_fc.bias"]
        hdn = 0.5 * hdn * (1 + np.tanh(dtype(np.sqrt(2 / np.pi)) * (hdn + dtype(0.044715) * hdn * hdn * hdn)))
        x = x + hdn @ f[p + "mlp.c_proj.weight"] + f[p + "mlp.c_proj.bias"]
    out = (ln(x, "ln_f") @ f["wte.weight"].T).reshape(B, T, -1)
    return out[0] if single else out


def numpy_weights(t, dtype):
    return {k: v if v.dtype == dtype else v.astype(dtype) for k, v in t.items()}


def numpy_nll_sum(t, c, dtype=np.float32):
    """nll_sum for export.window_loss from the NumPy forward: total next-token nats of a batch
    (log-sum-exp per position minus the target's logit, summed in float64)."""
    f = numpy_weights(t, dtype)

    def nll(x, y):
        logits = numpy_logits(f, c, x, dtype)
        m = logits.max(-1, keepdims=True)
        lse = (m[..., 0] + np.log(np.exp(logits - m).sum(-1))).astype(np.float64)
        return float((lse - np.take_along_axis(logits, y[..., None], -1)[..., 0]).sum())
    return nll


def check(folder):
    errs = []
    for f in ("config.json", "model.safetensors", "tokenizer.json", "golden.json", "README.md",
              "corpus-manifest.json", "train_log.csv"):
        if not os.path.exists(os.path.join(folder, f)):
            errs.append(f"{folder}: missing {f}")
    if errs:
        return errs
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    for k, v in (("model_type", "gpt2"), ("activation_function", "gelu_new"), ("layer_norm_epsilon", 1e-5)):
        if c.get(k) != v:
            errs.append(f"{folder}/config.json: {k} is {c.get(k)!r}, expected {v!r}")
    tensors = safetensors_io.load(os.path.join(folder, "model.safetensors"))
    want = expected_shapes(c)
    if set(tensors) != set(want):
        errs.append(f"{folder}/model.safetensors: names differ: extra {sorted(set(tensors) - set(want))}, "
                    f"missing {sorted(set(want) - set(tensors))}")
        return errs
    for n, t in tensors.items():
        if list(t.shape) != want[n] or t.dtype != np.float16:
            errs.append(f"{folder}/model.safetensors: {n} is {t.dtype}{list(t.shape)}, expected float16{want[n]}")
    cfg = GPTConfig(n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"], n_ctx=c["n_positions"],
                    vocab_size=c["vocab_size"], layer_norm_epsilon=c["layer_norm_epsilon"])
    model = model_from_hf(tensors, cfg)
    enc = bpe.load_tokenizer(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "golden.json")) as f:
        gold = json.load(f)
    if gold.get("format") != "sparse-gpt2-golden/1" or [p.get("text") for p in gold.get("prompts", [])] != GOLDEN_PROMPTS:
        errs.append(f"{folder}/golden.json: bad format tag, or its prompts are not export.GOLDEN_PROMPTS")
        return errs
    again = golden(model, enc, [p["text"] for p in gold["prompts"]])
    for g, r in zip(gold["prompts"], again["prompts"]):
        where = f"{folder}/golden.json prompt {g['text']!r}"
        if g["input_ids"] != r["input_ids"] or g["greedy_ids"] != r["greedy_ids"]:
            errs.append(f"{where}: input or greedy ids not reproduced")
        if len(g["last_positions"]) != 4 or len(g["greedy_ids"]) != 20:
            errs.append(f"{where}: expected 4 positions and 20 greedy ids")
        for pg, pr in zip(g["last_positions"], r["last_positions"]):
            logits = [x[1] for x in pg["top10"]]
            if len(pg["top10"]) != 10 or logits != sorted(logits, reverse=True):
                errs.append(f"{where} pos {pg['pos']}: top10 not 10 entries best first")
            if [x[0] for x in pg["top10"]] != [x[0] for x in pr["top10"]] or \
                    max(abs(a[1] - b[1]) for a, b in zip(pg["top10"], pr["top10"])) > 1e-4:
                errs.append(f"{where} pos {pg['pos']}: top10 not reproduced from the stored weights")
    for g in gold["prompts"]:
        ref = numpy_logits(tensors, c, g["input_ids"])
        for pg in g["last_positions"]:
            diff = max(abs(ref[pg["pos"], i] - l) for i, l in pg["top10"])
            if diff > 2e-3:
                errs.append(f"{folder}/golden.json prompt {g['text']!r} pos {pg['pos']}: NumPy forward on the "
                            f"stored HF-layout weights differs by {diff:.2e}")
    density = block_density(tensors, 32)
    sp = c.get("block_sparse")
    raw, meta = safetensors_io.load_raw(os.path.join(folder, "model.safetensors"))
    stored_bsr = sorted(n[: -len(".bsr_values")] for n in raw if n.endswith(".bsr_values"))
    want_bsr = sorted(n for n in want if n.endswith(CONV1D_SUFFIXES)) if sp else []
    if stored_bsr != want_bsr or (sp and meta.get("bsr_block_size") != str(sp["block_size"])):
        errs.append(f"{folder}/model.safetensors: {len(stored_bsr)} matrices stored BSR "
                    f"(block {meta.get('bsr_block_size')}), expected {len(want_bsr)}"
                    + (f" in {sp['block_size']}x{sp['block_size']} blocks" if sp else ""))
    for n, d in density.items():
        if sp is None and d["density"] != 1.0:
            errs.append(f"{folder}: dense model has zero blocks in {n} ({d['density']:.3f})")
        if sp is not None:
            k = max(1, round(sp["target_density"] * d["total_blocks"]))
            if d["kept_blocks"] > k:
                errs.append(f"{folder}: {n} keeps {d['kept_blocks']} blocks, more than {k}")
    return errs


def load_folder(folder):
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    return c, safetensors_io.load(os.path.join(folder, "model.safetensors"))


def check_val(folder, data_dir, val, data_tokenizer):
    """Whole-split validation loss by the NumPy forward; compared with summary.json and the card.
    Returns (figures dict or None, errors)."""
    errs = []
    with open(os.path.join(folder, "tokenizer.json"), "rb") as f:
        if f.read() != data_tokenizer:
            return None, [f"{folder}/tokenizer.json differs from {data_dir}/tokenizer.json: not this data's model"]
    c, tensors = load_folder(folder)
    tok_bytes = token_bytes(bpe.load_tokenizer(os.path.join(folder, "tokenizer.json")))
    t0 = time.time()
    r = window_loss(numpy_nll_sum(tensors, c), val, c["n_positions"], tok_bytes)
    r["seconds"] = time.time() - t0
    path = os.path.join(folder, "summary.json")
    if not os.path.exists(path):
        return r, errs + [f"{folder}: missing summary.json"]
    with open(path) as f:
        s = json.load(f).get("eval", {}).get("val")
    if not s:
        return r, errs + [f"{folder}/summary.json has no eval.val figures (exported before they existed?)"]
    for k in ("nats_per_token", "bits_per_byte"):
        if abs(s[k] - r[k]) > 1e-3 * abs(r[k]):
            errs.append(f"{folder}/summary.json: validation {k} {s[k]:.5f}, the NumPy forward gives {r[k]:.5f} "
                        "(more than 1e-3 relative apart)")
    for k in ("tokens", "bytes"):
        if s[k] != r[k]:
            errs.append(f"{folder}/summary.json: validation {k} {s[k]}, recomputed {r[k]}")
    with open(os.path.join(folder, "README.md"), encoding="utf-8") as f:
        card = f.read()
    for k in ("nats_per_token", "bits_per_byte"):
        if f"{s[k]:.4f}" not in card:
            errs.append(f"{folder}/README.md does not state summary.json's validation {k} {s[k]:.4f}")
    return r, errs


def main():
    p = argparse.ArgumentParser(description="check exported model folders (the first dense, the second sparse)")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="DENSE_DIR [SPARSE_DIR ...]")
    p.add_argument("--data", default=None,
                   help="prepared data folder (val.bin, tokenizer.json, corpus.json): also compute the whole "
                        "validation split's loss with the NumPy forward and check it against summary.json/card")
    p.add_argument("--max-bpb", type=float, default=None, help="fail if the first folder's validation bits/byte exceeds this")
    p.add_argument("--max-sparse-ratio", type=float, default=None,
                   help="fail unless the second folder's validation bits/byte <= this x the first's, and the "
                        "second folder is block-sparse with at most --max-density of its blocks per matrix")
    p.add_argument("--max-density", type=float, default=1 / 8,
                   help="block density bound of the sparse folder under --max-sparse-ratio (default 1/8; "
                        "per matrix at most max(1, round(f * blocks)) blocks)")
    a = p.parse_args()
    if a.data is None and (a.max_bpb is not None or a.max_sparse_ratio is not None):
        p.error("--max-bpb / --max-sparse-ratio need --data")
    if a.max_sparse_ratio is not None and len(a.dirs) < 2:
        p.error("--max-sparse-ratio needs a second (sparse) folder")
    torch.set_num_threads(1)
    errs = [e for d in a.dirs for e in check(d)]
    if a.data is not None and not errs:
        errs += check_data(a)
    for e in errs:
        print("FAIL", e)
    if errs:
        sys.exit(1)
    print(f"check_export: {', '.join(a.dirs)} OK")


def check_data(a):
    errs = []
    val = np.fromfile(os.path.join(a.data, "val.bin"), dtype=np.uint16)
    with open(os.path.join(a.data, "tokenizer.json"), "rb") as f:
        data_tokenizer = f.read()
    with open(os.path.join(a.data, "corpus.json")) as f:
        corpus = json.load(f)
    if len(val) != corpus["val_tokens"]:
        errs.append(f"{a.data}/val.bin has {len(val)} tokens, corpus.json says {corpus['val_tokens']}")
    tok_bytes = token_bytes(bpe.load_tokenizer(os.path.join(a.data, "tokenizer.json")))
    if int(tok_bytes[val].sum()) != corpus["val_bytes"]:
        errs.append(f"{a.data}/val.bin decodes to {int(tok_bytes[val].sum())} bytes, corpus.json says "
                    f"{corpus['val_bytes']}")
    rows = []
    for d in a.dirs:
        r, e = check_val(d, a.data, val, data_tokenizer)
        errs += e
        rows.append((d, r))
    if any(r is None for _, r in rows):
        return errs
    dense = rows[0][1]
    print(f"validation split of {a.data}: {corpus['val_files']} files of {len(corpus['val_packages'])} "
          f"held-out packages; NumPy float32 forward")
    print(f"{'folder':<40} {'windows':>8} {'tokens':>9} {'bytes':>10} {'nats/tok':>9} {'bits/byte':>9} "
          f"{'x first':>8} {'density':>8} {'secs':>6}")
    for d, r in rows:
        c, tensors = load_folder(d)
        dens = block_density(tensors, (c.get("block_sparse") or {}).get("block_size", 32))
        mean_d = float(np.mean([x["density"] for x in dens.values()]))
        print(f"{d[-40:]:<40} {r['windows']:>8} {r['tokens']:>9} {r['bytes']:>10} {r['nats_per_token']:>9.4f} "
              f"{r['bits_per_byte']:>9.4f} {r['bits_per_byte'] / dense['bits_per_byte']:>8.4f} {mean_d:>8.4f} "
              f"{r['seconds']:>6.1f}")
    if a.max_bpb is not None and not dense["bits_per_byte"] <= a.max_bpb:
        errs.append(f"{rows[0][0]}: validation {dense['bits_per_byte']:.4f} bits/byte exceeds --max-bpb {a.max_bpb}")
    if a.max_sparse_ratio is not None:
        sd, sr = rows[1]
        ratio = sr["bits_per_byte"] / dense["bits_per_byte"]
        if not ratio <= a.max_sparse_ratio:
            errs.append(f"{sd}: validation {sr['bits_per_byte']:.4f} bits/byte is {ratio:.4f} x the dense "
                        f"{dense['bits_per_byte']:.4f}, over --max-sparse-ratio {a.max_sparse_ratio}")
        c, tensors = load_folder(sd)
        if not c.get("block_sparse"):
            errs.append(f"{sd}/config.json has no block_sparse entry: not a block-sparse export")
        for n, x in block_density(tensors, (c.get("block_sparse") or {}).get("block_size", 32)).items():
            k = max(1, round(a.max_density * x["total_blocks"]))
            if x["kept_blocks"] > k:
                errs.append(f"{sd}: {n} keeps {x['kept_blocks']}/{x['total_blocks']} blocks, more than {k} "
                            f"(--max-density {a.max_density:g})")
    return errs


if __name__ == "__main__":
    main()
