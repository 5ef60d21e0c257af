# Checks exported model folders (weights/dense, weights/sparse or a smoke run's): files present,
# HF names/shapes/f16, golden.json well-formed and reproduced from the stored weights, block
# density as the config claims. Usage: check_export.py DENSE_DIR [SPARSE_DIR]
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import safetensors_io  # noqa: E402
from export import block_density, golden, model_from_hf  # noqa: E402
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


def numpy_logits(t, c, ids):
    """Independent GPT-2 forward in NumPy straight from the HF Conv1D layout (y = x @ W + b), so an
    export that transposed or misnamed a tensor cannot agree with golden.json by construction."""
    f = {k: v.astype(np.float64) for k, v in t.items()}
    eps, H = c["layer_norm_epsilon"], c["n_head"]

    def ln(x, p):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + eps) * f[p + ".weight"] + f[p + ".bias"]

    T = len(ids)
    x = f["wte.weight"][ids] + f["wpe.weight"][:T]
    D = x.shape[1]
    hd = D // H
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(c["n_layer"]):
        p = f"h.{i}."
        qkv = ln(x, p + "ln_1") @ f[p + "attn.c_attn.weight"] + f[p + "attn.c_attn.bias"]
        q, k, v = (qkv[:, j * D:(j + 1) * D].reshape(T, H, hd).transpose(1, 0, 2) for j in range(3))
        a = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + mask
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        y = (a @ v).transpose(1, 0, 2).reshape(T, D)
        x = x + y @ f[p + "attn.c_proj.weight"] + f[p + "attn.c_proj.bias"]
        hdn = ln(x, p + "ln_2") @ f[p + "mlp.c_fc.weight"] + f[p + "mlp.c_fc.bias"]
        hdn = 0.5 * hdn * (1 + np.tanh(np.sqrt(2 / np.pi) * (hdn + 0.044715 * hdn ** 3)))
        x = x + hdn @ f[p + "mlp.c_proj.weight"] + f[p + "mlp.c_proj.bias"]
    return ln(x, "ln_f") @ f["wte.weight"].T


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
    if gold.get("format") != "sparse-gpt2-golden/1" or len(gold.get("prompts", [])) != 3:
        errs.append(f"{folder}/golden.json: bad format tag or prompt count")
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
    for n, d in density.items():
        if sp is None and d["density"] != 1.0:
            errs.append(f"{folder}: dense model has zero blocks in {n} ({d['density']:.3f})")
        if sp is not None:
            k = max(1, round(sp["target_density"] * d["total_blocks"]))
            if d["kept_blocks"] > k:
                errs.append(f"{folder}: {n} keeps {d['kept_blocks']} blocks, more than {k}")
    return errs


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: check_export.py DIR [DIR...]")
    torch.set_num_threads(1)
    errs = [e for d in sys.argv[1:] for e in check(d)]
    for e in errs:
        print("FAIL", e)
    if errs:
        sys.exit(1)
    print(f"check_export: {', '.join(sys.argv[1:])} OK")


if __name__ == "__main__":
    main()
