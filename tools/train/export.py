# Export a finished run to an HF-style GPT-2 folder: config.json, model.safetensors (f16, HF
# GPT-2 names, Conv1D layout), tokenizer.json, corpus manifest, training log, golden.json
# (PyTorch f32 compute on the f16-rounded weights), summary.json (loss figures, samples) and a
# model card README.md.
import argparse
import csv
import json
import math
import os
import re
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bpe  # noqa: E402
import safetensors_io  # noqa: E402
from model import GPT, GPTConfig, block_norms  # noqa: E402

# The last one is the page's first prompt for the embedded pair (src/model/passage.ts, PROMPTS.code.initial): the
# e2e check of the demo on these models compares the page's greedy output with it.
# Prompts end inside a line, not at a newline: the BPE joins a newline with the next line's indentation
# ("\n   " + " return"), so a prompt ending in "\n" leaves the model a split it never saw in training
# (after a bare "\n" it sees only unindented or tab-indented lines) and it indents with a tab.
GOLDEN_PROMPTS = ["def fibonacci(n):\n    if", "import os\nimport sys\n\n",
                  "class Stack:\n    def __init__(self):\n        self.", "def add(a, b):\n    return"]
CARD_PROMPTS = GOLDEN_PROMPTS + ["for i in range(", "    def __repr__(self):\n        return"]
CONV1D_SUFFIXES = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
TRAIN_SAMPLE_WINDOWS = 256  # the training-split figure: the first this many windows of train.bin
SAMPLE_TEMPERATURE, SAMPLE_TOP_K, SAMPLE_SEED = 0.8, 40, 1234  # the card's sampled continuations


def hf_tensors(model):
    """(name, f32 array) in HF GPT-2 naming without the 'transformer.' prefix; the Linear
    weights [out, in] are transposed to HF Conv1D [in, out]. No lm_head: it is tied to wte."""
    out = []
    for name, t in model.state_dict().items():
        if name.endswith("causal"):
            continue
        a = t.detach().float().numpy()
        if name.endswith(CONV1D_SUFFIXES):
            a = a.T
        out.append((name, np.ascontiguousarray(a)))
    return out


def model_from_hf(tensors, cfg):
    """Inverse of hf_tensors: load HF-named arrays (any float dtype) into an f32 GPT."""
    model = GPT(cfg)
    sd = {}
    for name, a in tensors.items():
        a = a.astype(np.float32)
        if name.endswith(CONV1D_SUFFIXES):
            a = a.T
        sd[name] = torch.from_numpy(np.ascontiguousarray(a))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [m for m in missing if not m.endswith("causal")]
    if missing or unexpected:
        raise SystemExit(f"weights do not match the config: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model


def block_density(tensors, block):
    """Per matrix: fraction of block x block tiles (Conv1D layout) that hold any nonzero."""
    out = {}
    for name, a in tensors.items():
        if name.endswith(CONV1D_SUFFIXES):
            nz = block_norms(torch.from_numpy(a.astype(np.float32)), block) > 0
            out[name] = {"kept_blocks": int(nz.sum()), "total_blocks": int(nz.numel()),
                         "density": float(nz.float().mean())}
    return out


@torch.no_grad()
def greedy(model, ids, n):
    ids = list(ids)
    for _ in range(n):
        x = torch.tensor([ids[-model.cfg.n_ctx:]])
        logits, _ = model(x)
        ids.append(int(torch.argmax(logits[0, -1])))
    return ids


@torch.no_grad()
def golden(model, enc, prompts, n_new=20, last=4, top=10):
    out = []
    for text in prompts:
        ids = enc.encode(text)
        if len(ids) + n_new > model.cfg.n_ctx:
            raise SystemExit(f"golden prompt {text!r}: {len(ids)} + {n_new} tokens exceed n_ctx")
        if len(ids) < last:
            raise SystemExit(f"golden prompt {text!r} has {len(ids)} tokens, fewer than {last}")
        logits, _ = model(torch.tensor([ids]))
        positions = []
        for p in range(len(ids) - last, len(ids)):
            row = logits[0, p]
            # best first; equal logits ordered by lower id (stable sort on -logit)
            order = np.argsort(-row.numpy(), kind="stable")[:top]
            positions.append({"pos": p, "top10": [[int(i), float(row[i])] for i in order]})
        g = greedy(model, ids, n_new)[len(ids):]
        out.append({"text": text, "input_ids": ids, "last_positions": positions,
                    "greedy_ids": g, "greedy_text": enc.decode(g)})
    return {"format": "sparse-gpt2-golden/1", "dtype": "f32 compute, f16-rounded weights", "prompts": out}


def token_bytes(enc):
    """UTF-8 byte length of every token id, from the tokenizer's byte-level vocab (each vocab
    character stands for one byte, bpe.BYTE_DECODER); <|endoftext|> counts 0 bytes: it is a
    separator the corpus adds after each file, not text of the file."""
    out = np.zeros(max(enc.inv) + 1, dtype=np.int64)
    for i, t in enc.inv.items():
        out[i] = 0 if t == bpe.EOT else len(bytes(bpe.BYTE_DECODER[ch] for ch in t))
    return out


def window_loss(nll_sum, data, ctx, tok_bytes, n_windows=None, batch=16):
    """Loss figures over non-overlapping ctx-token windows of a token stream: window j reads
    data[j*ctx:(j+1)*ctx] and predicts data[j*ctx+1:(j+1)*ctx+1], all (len(data)-1)//ctx windows or
    the first n_windows. nll_sum(x, y) returns the total next-token loss in nats of an int64 [b, ctx]
    batch (PyTorch here, the NumPy forward in check_export.py). bits_per_byte = total nats / ln 2 /
    UTF-8 bytes of the predicted tokens (tok_bytes: token_bytes()).
    Returns {nats_per_token, bits_per_byte, tokens, bytes, windows, ctx}."""
    n = (len(data) - 1) // ctx
    if n_windows is not None:
        n = min(n, n_windows)
    if n < 1:
        raise SystemExit(f"token stream of {len(data)} tokens has no full {ctx}-token window")
    total = 0.0
    for i in range(0, n, batch):
        js = range(i, min(n, i + batch))
        x = np.stack([data[j * ctx:(j + 1) * ctx] for j in js]).astype(np.int64)
        y = np.stack([data[j * ctx + 1:(j + 1) * ctx + 1] for j in js]).astype(np.int64)
        total += float(nll_sum(x, y))
    tokens = n * ctx
    nbytes = int(tok_bytes[data[1:tokens + 1]].sum())
    return {"nats_per_token": total / tokens, "bits_per_byte": total / math.log(2) / nbytes if nbytes else float("nan"),
            "tokens": tokens, "bytes": nbytes, "windows": n, "ctx": ctx}


def torch_nll_sum(model):
    """nll_sum for window_loss from a PyTorch GPT."""
    @torch.no_grad()
    def f(x, y):
        logits, _ = model(torch.from_numpy(x))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), torch.from_numpy(y).reshape(-1),
                               reduction="sum").item()
    return f


@torch.no_grad()
def sample(model, ids, n, temperature, top_k, seed):
    """n tokens sampled at `temperature` from the top_k logits, torch.Generator seeded by `seed`."""
    g = torch.Generator().manual_seed(seed)
    ids = list(ids)
    for _ in range(n):
        logits, _ = model(torch.tensor([ids[-model.cfg.n_ctx:]]))
        top, idx = torch.topk(logits[0, -1] / temperature, min(top_k, logits.size(-1)))
        ids.append(int(idx[torch.multinomial(torch.softmax(top, -1), 1, generator=g)]))
    return ids


def package_table(corpus):
    """[(package, version, split, files, bytes)] of the kept files, in corpus order (train first)."""
    rows = {}
    for m in corpus["manifest"]:
        if m["split"] in ("train", "val"):
            r = rows.setdefault(m["package"], [m["package"], m["version"], m["split"], 0, 0])
            r[3] += 1
            r[4] += m["bytes"]
    order = corpus["train_packages"] + corpus["val_packages"]
    return [tuple(rows[p]) for p in order if p in rows]


def compact_json(obj):
    """Indented JSON whose arrays of plain numbers stay on one line (golden.json stays readable)."""
    text = json.dumps(obj, indent=1, ensure_ascii=False)
    return re.sub(r"\[\s*([-0-9.eE+,\s]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text)


def hf_config(cfg, eot_id, sparse_info):
    c = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
         "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_embd": cfg.n_embd,
         "n_positions": cfg.n_ctx, "n_ctx": cfg.n_ctx, "vocab_size": cfg.vocab_size,
         "n_inner": None, "layer_norm_epsilon": cfg.layer_norm_epsilon,
         "activation_function": "gelu_new", "initializer_range": 0.02,
         "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0,
         "scale_attn_weights": True, "tie_word_embeddings": True,
         "bos_token_id": eot_id, "eos_token_id": eot_id, "torch_dtype": "float16"}
    if sparse_info:
        c["block_sparse"] = sparse_info
    return c


def main():
    p = argparse.ArgumentParser(description="export a run to weights/<name>/")
    p.add_argument("--run", required=True, help="run folder with ckpt.pt and log.csv")
    p.add_argument("--data", required=True, help="prepared data folder (tokenizer, val.bin, corpus.json)")
    p.add_argument("--out", required=True)
    p.add_argument("--name", required=True, help="model name for the card, e.g. dense / sparse")
    p.add_argument("--plot", default=None, help="PNG of the training curves to copy next to the model")
    p.add_argument("--sample-tokens", type=int, default=64, help="new tokens per card sample")
    p.add_argument("--train-windows", type=int, default=TRAIN_SAMPLE_WINDOWS,
                   help="the training-split figure uses the first this many windows of train.bin")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--card-only", action="store_true",
                   help="rewrite README.md from the folder's summary.json and weights (no recomputation)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    ck = torch.load(os.path.join(a.run, "ckpt.pt"))
    if a.card_only:
        rewrite_card(a, ck)
        return
    args = ck["args"]
    if ck["step"] != args["steps"]:
        raise SystemExit(f"{a.run} stopped at step {ck['step']} of {args['steps']}: finish it with "
                         f"train.py train ... --resume before exporting")
    cfg = GPTConfig(**ck["config"])
    model = GPT(cfg)
    model.load_state_dict(ck["model"])
    os.makedirs(a.out, exist_ok=True)

    # `+ 0.0` turns the -0.0 that masking leaves (negative weight x 0) into +0.0: a pruned block is then
    # all-zero bits, so BSR tools (ours, torch.to_sparse_bsr) drop it instead of storing a block of -0.
    tensors16 = [(n, t.astype(np.float16) + np.float16(0.0)) for n, t in hf_tensors(model)]
    st_path = os.path.join(a.out, "model.safetensors")
    if args["mode"] == "sparse":  # the block matrices as BSR (docs/bsr.md): only the kept blocks are stored
        bsr_names = {n for n, _ in tensors16 if n.endswith(CONV1D_SUFFIXES)}
        safetensors_io.save_bsr(st_path, tensors16, bsr_names, args["block"], metadata={"format": "pt"})
    else:
        safetensors_io.save(st_path, tensors16, metadata={"format": "pt"})
    back = safetensors_io.load(st_path)  # everything below uses the f16-rounded weights, as stored
    for n, t in tensors16:
        if not np.array_equal(back[n].view(np.uint16), t.view(np.uint16)):
            raise SystemExit(f"safetensors round trip changed tensor {n}")
    m16 = model_from_hf(back, cfg)

    shutil.copy(os.path.join(a.data, "tokenizer.json"), os.path.join(a.out, "tokenizer.json"))
    enc = bpe.load_tokenizer(os.path.join(a.out, "tokenizer.json"))
    with open(os.path.join(a.data, "corpus.json")) as f:
        corpus = json.load(f)
    write_manifest(os.path.join(a.out, "corpus-manifest.json"), corpus)
    shutil.copy(os.path.join(a.run, "log.csv"), os.path.join(a.out, "train_log.csv"))
    if a.plot:
        shutil.copy(a.plot, os.path.join(a.out, "training_curves.png"))

    density = block_density(back, args["block"])
    sparse_info = None
    if args["mode"] == "sparse":
        sparse_info = {"block_size": args["block"], "target_density": args["final_density"],
                       "matrices": list(CONV1D_SUFFIXES), "storage": "bsr"}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(hf_config(cfg, enc.eot_id, sparse_info), f, indent=2)

    gold = golden(m16, enc, GOLDEN_PROMPTS)
    with open(os.path.join(a.out, "golden.json"), "w", encoding="utf-8") as f:
        f.write(compact_json(gold) + "\n")

    tok_bytes = token_bytes(enc)
    streams = {n: np.fromfile(os.path.join(a.data, f"{n}.bin"), dtype=np.uint16) for n in ("train", "val")}
    for n, d in streams.items():  # the byte accounting must reproduce prepare's own count of the text
        if int(tok_bytes[d].sum()) != corpus[f"{n}_bytes"]:
            raise SystemExit(f"{n}.bin decodes to {int(tok_bytes[d].sum())} bytes, corpus.json says "
                             f"{corpus[f'{n}_bytes']}: tokenizer and token streams do not belong together")
    nll = torch_nll_sum(m16)
    ev = {"val": window_loss(nll, streams["val"], cfg.n_ctx, tok_bytes),
          "train": window_loss(nll, streams["train"], cfg.n_ctx, tok_bytes, n_windows=a.train_windows)}
    ev["val"]["of"] = "whole split (val.bin)"
    ev["train"]["of"] = f"first {ev['train']['windows']} windows of train.bin"
    samples = []
    for text in CARD_PROMPTS:
        ids = enc.encode(text)
        samples.append({"prompt": text,
                        "greedy": enc.decode(greedy(m16, ids, a.sample_tokens)[len(ids):]),
                        "sampled": enc.decode(sample(m16, ids, a.sample_tokens, SAMPLE_TEMPERATURE,
                                                     SAMPLE_TOP_K, SAMPLE_SEED)[len(ids):])})
    with open(os.path.join(a.run, "log.csv")) as f:
        rows = list(csv.DictReader(f))
    last_val = [r for r in rows if r["val_loss"]][-1]
    summary = {"name": a.name, "mode": args["mode"], "steps": ck["step"], "tokens_seen": ck["tokens"],
               "train_wall_s": ck["elapsed_s"], "carried": ck.get("carried", []), "extended": ck.get("extended"),
               "val_loss_nats": ev["val"]["nats_per_token"], "val_bits_per_byte": ev["val"]["bits_per_byte"],
               "val_tokens": ev["val"]["tokens"], "eval": ev,
               "periodic_val_loss_last": float(last_val["val_loss"]),
               "train_loss_last": float(rows[-1]["train_loss"]),
               "mean_density": float(np.mean([d["density"] for d in density.values()])),
               "sample_tokens": a.sample_tokens,
               "sampling": {"temperature": SAMPLE_TEMPERATURE, "top_k": SAMPLE_TOP_K, "seed": SAMPLE_SEED},
               "samples": samples}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    write_card(os.path.join(a.out, "README.md"), a.name, args, cfg, corpus, summary, density, bool(a.plot))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("samples", "eval")}))
    print(f"exported {a.out} in {time.time() - t0:.0f}s")


def rewrite_card(a, ck):
    with open(os.path.join(a.out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(a.out, "corpus-manifest.json")) as f:
        corpus = json.load(f)
    if "eval" not in summary or "train_packages" not in corpus:
        raise SystemExit(f"{a.out}: summary.json / corpus-manifest.json predate the per-split loss figures "
                         "and the package corpus; export again without --card-only")
    density = block_density(safetensors_io.load(os.path.join(a.out, "model.safetensors")), ck["args"]["block"])
    write_card(os.path.join(a.out, "README.md"), a.name, ck["args"], GPTConfig(**ck["config"]), corpus, summary,
               density, os.path.exists(os.path.join(a.out, "training_curves.png")))
    print(f"rewrote {a.out}/README.md")


def write_manifest(path, corpus):
    """corpus-manifest.json: corpus.json as prepare wrote it (format, packages, filters, bytes/files/
    tokens per split, left_out, manifest), one manifest entry per line."""
    meta = {k: v for k, v in corpus.items() if k != "manifest"}
    head = json.dumps(meta, indent=1)[:-2]  # drop the closing "\n}"
    lines = ",\n".join(json.dumps(m, ensure_ascii=False) for m in corpus["manifest"])
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + ',\n "manifest": [\n' + lines + "\n ]\n}\n")


LEFT_OUT_WHY = {
    "excluded-dir": "inside a test, vendored-copy or cache directory",
    "test-file": "`test_*.py`, `*_test.py` or `conftest.py`",
    "too-large": "larger than the file size limit",
    "empty": "empty or whitespace only",
    "generated": "marked generated / do-not-edit in its first 2000 bytes",
    "table": "a data table (a line over 2000 bytes, mean line over 120 bytes, or over 30% digits)",
    "duplicate": "same content (sha256) as a file already taken; validation packages are read first",
    "not-utf8": "not valid UTF-8",
}


def fence(s):
    return "```\n" + s.replace("```", "`\u200b``") + "\n```"


def write_card(path, name, args, cfg, corpus, s, density, has_plot):
    sparse = args["mode"] == "sparse"
    ext = s.get("extended")  # an extension (train.py --extend-from) of a finished run
    base = ext["base_args"] if ext else args  # the recipe of the run up to ext["step"]
    ev = s["eval"]
    L = []
    L.append(f"# {name}: GPT-2 {cfg.n_layer}x{cfg.n_head}, n_embd {cfg.n_embd}, trained on Python source code\n")
    L.append("Trained from scratch by `tools/train/` (see tools/train/README.md to reproduce). Architecture is "
             "exactly GPT-2 (pre-LN, learned absolute positions, tanh GELU `gelu_new`, tied embeddings, biases, "
             f"LayerNorm eps {cfg.layer_norm_epsilon}): {cfg.n_layer} layers x {cfg.n_head} heads "
             f"(head dim {cfg.n_embd // cfg.n_head}), n_embd {cfg.n_embd}, context {cfg.n_ctx}, "
             f"vocab {cfg.vocab_size} (byte-level BPE, `<|endoftext|>` = {cfg.vocab_size - 1}).\n")
    if sparse:
        L.append(f"**Block-sparse.** Every attention and MLP weight matrix (c_attn, attn.c_proj, c_fc, mlp.c_proj) "
                 f"is cut into {args['block']}x{args['block']} blocks (Conv1D [in, out] layout, aligned with the "
                 f"{cfg.n_embd // cfg.n_head}-wide heads). After every optimizer step only the top-k blocks per "
                 "matrix by Frobenius norm are kept; the rest and their AdamW moments are zeroed. The kept fraction "
                 f"fell from 1 to {base['final_density']:g} over the first {100 * base.get('anneal_frac', 0.5):g}% of "
                 f"the first {base['steps']} steps (" + ("linearly" if base.get("anneal_shape", "linear") == "linear" else
                                  "cubic schedule: fast at first, slow near the end") +
                 ") and was held there. Embeddings, LayerNorms "
                 "and biases are dense. Stored block-sparse: `model.safetensors` holds each of those matrices as BSR "
                 f"companion tensors ({args['block']}x{args['block']} blocks, only the kept ones; see docs/bsr.md); "
                 "`npm run -s cli -- convert --model weights/sparse --to dense --out DIR` writes the dense-with-zeros "
                 "file any GPT-2 implementation reads, bit for bit (pruned blocks are all +0.0).\n")
    else:
        L.append("**Dense baseline** for the block-sparse model in `weights/sparse/`: same seed, data order, "
                 f"hyperparameters and {s['steps']} steps as the sparse run (whose card says whether it was "
                 "continued beyond them).\n")

    L.append("## Evaluation\n")
    L.append("Next-token loss of the f16-rounded weights (f32 compute) over non-overlapping "
             f"{cfg.n_ctx}-token windows: window j reads tokens j*{cfg.n_ctx} .. (j+1)*{cfg.n_ctx}-1 of a split's "
             "token stream and predicts each following token. **bits/byte** = total nats / ln 2 / the UTF-8 bytes "
             "of the predicted tokens (each token's byte length from the tokenizer's byte-level vocab; "
             "`<|endoftext|>`, which follows every file, counts 0 bytes but its loss is included), so it does not "
             "depend on the tokenizer and compares with other models on the same text.\n")
    L.append("| split | windows | predicted tokens | bytes | nats/token | bits/byte |\n|---|---|---|---|---|---|")
    for key, label in (("val", "**validation**"), ("train", "training")):
        e = ev[key]
        L.append(f"| {label}: {e['of']} | {e['windows']:,} | {e['tokens']:,} | {e['bytes']:,} | "
                 f"{e['nats_per_token']:.4f} | {e['bits_per_byte']:.4f} |")
    L.append("")
    L.append(f"The validation packages are held out whole, never trained on (nor used for the tokenizer). The "
             f"training sample is the start of the training stream ({ev['train']['tokens'] / 1e3:.1f} k tokens "
             f"from the first files of `{corpus['train_packages'][0]}`); the run trained on "
             f"{s['tokens_seen']:,} tokens drawn at random positions of its {corpus['train_tokens']:,}, so it "
             "may have seen these windows, and the gap to the validation figure mixes generalization with the "
             "different code of the held-out packages.\n")

    L.append("## Data\n")
    n_pk = len(corpus["train_packages"])
    L.append(f"`.py` files of the Python {corpus['python']} standard library and of Debian 12 packages "
             f"(`/usr/lib/python3/dist-packages`): {n_pk} packages (with the stdlib) for training, "
             f"{len(corpus['val_packages'])} other packages held out whole for validation. Files are read in "
             "path order per package, each followed by `<|endoftext|>` in the token stream. Left out: directories "
             f"{', '.join(f'`{d}`' for d in corpus['excluded_dirs'])}, test files, files over "
             f"{corpus['max_file_bytes']:,} bytes, generated files, data tables and duplicates (table below). "
             "Every file of the named packages, kept or not, with its package, version, sha256 and split is in "
             "[`corpus-manifest.json`](corpus-manifest.json). Nothing of the corpus is in this repository.\n")
    L.append("| split | packages | files | bytes (UTF-8) | tokens |\n|---|---|---|---|---|")
    L.append(f"| train | {n_pk} | {corpus['train_files']:,} | {corpus['train_bytes']:,} | {corpus['train_tokens']:,} |")
    L.append(f"| validation | {len(corpus['val_packages'])} | {corpus['val_files']:,} | {corpus['val_bytes']:,} | "
             f"{corpus['val_tokens']:,} |")
    L.append("")
    L.append("Left out of both splits:\n")
    L.append("| reason | files | bytes |  |\n|---|---|---|---|")
    for why, v in sorted(corpus["left_out"].items(), key=lambda kv: -kv[1]["bytes"]):
        L.append(f"| {why} | {v['files']:,} | {v['bytes']:,} | {LEFT_OUT_WHY.get(why, '')} |")
    L.append("")
    val_files = sorted((m for m in corpus["manifest"] if m["split"] == "val"), key=lambda m: -m["bytes"])
    val_bytes = sum(m["bytes"] for m in val_files)
    if val_files and val_files[0]["bytes"] > 0.25 * val_bytes:
        L.append(f"Note: `{val_files[0]['path']}` is {100 * val_files[0]['bytes'] / val_bytes:.0f}% of the validation "
                 "bytes, so the whole-split validation figures weigh that one file heavily.\n")
    L.append("Packages (Debian versions; file bytes as on disk, before the smoke run's truncation if any):\n")
    L.append("| package | version | split | files | bytes |\n|---|---|---|---|---|")
    for pkg, ver, split, files, nbytes in package_table(corpus):
        L.append(f"| {pkg} | {ver} | {'validation' if split == 'val' else split} | {files:,} | {nbytes:,} |")
    L.append("")
    L.append("## Training\n")
    L.append("| | |\n|---|---|")
    L.append(f"| steps | {s['steps']} |")
    L.append(f"| batch | {args['batch']} x {args['ctx']} tokens |")
    L.append(f"| tokens seen | {s['tokens_seen']:,} |")
    L.append(f"| wall time | {s['train_wall_s'] / 60:.1f} min (1 CPU thread at nice 15 on a 2-core machine shared with the other run and with other jobs"
             + (f"; the extension from step {ext['step']}: {args['threads']} threads at nice 19, alone" if ext else "") + ") |")
    L.append(f"| optimizer | AdamW, betas (0.9, 0.95), weight decay {args['weight_decay']} on matrices/embeddings, "
             f"peak lr {base['lr']:g}, {base['warmup']}-step warmup, cosine to lr/10 at step {base['steps']}, "
             f"grad clip {args['grad_clip']} |")
    L.append(f"| seed | {args['seed']} (batches drawn by seed and step: identical for the dense and sparse runs) |")
    for c in s.get("carried", []):  # the run moved to a new machine without its checkpoint
        L.append(f"| continued on a new machine | at step {c['step']} ({c['tokens']:,} tokens, {c['date']}) from the "
                 f"committed {c['weights']} weights: AdamW moments reset, lr re-warmed over {c['rewarm_steps']} steps"
                 + ("" if c["same_train_bin"] else "; the token stream differed (other package versions)") + " |")
    if ext:
        L.append(f"| extended | from step {ext['step']} ({ext['tokens']:,} tokens, {ext['date']}) to step {s['steps']}, "
                 f"as a continuation of the finished run: weights and AdamW moments kept, lr warmed up again over "
                 f"{args['warmup']} steps to {args['lr']:g}, cosine to {args['lr'] / 10:g}; kept fraction held at "
                 f"{args['final_density']:g}; batches continue the (seed, step) order. The dense baseline stopped at "
                 f"step {ext['step']}: this model saw {s['tokens_seen'] / ext['tokens']:.2f}x its tokens |")
    L.append(f"| **validation loss** | **{ev['val']['nats_per_token']:.4f} nats/token, "
             f"{ev['val']['bits_per_byte']:.4f} bits/byte** over the whole validation split (see Evaluation) |")
    L.append(f"| periodic validation loss | {s['periodic_val_loss_last']:.4f} nats/token on the first "
             f"{args['eval_windows']} validation windows (the curve in the log and plot) |")
    L.append(f"| last train loss | {s['train_loss_last']:.4f} nats/token (mean of the last logging interval) |")
    L.append("")
    if base.get("ctx_short") and base.get("ctx_short_frac"):
        switch = round(base["ctx_short_frac"] * base["steps"])
        L.append(f"Context schedule: the first {switch} steps trained on {base['ctx_short']}-token windows "
                 f"({base['batch'] * base['ctx'] // base['ctx_short']} per batch, the same tokens per step), the rest on "
                 f"{base['ctx']}; the periodic validation is always on {base.get('eval_ctx', base['ctx'])}-token "
                 f"windows, so until step {switch} positions {base['ctx_short']}..{base['ctx'] - 1} (their position "
                 "embeddings untrained) weigh on it, and the curve drops at the switch.\n")
    pilots_path = os.path.join(HERE, "pilots.json")
    if os.path.exists(pilots_path):
        with open(pilots_path) as f:
            pilots = json.load(f)
        L.append("### Pilots\n")
        L.append(pilots["about"] + "\n")
        L.append("| pilot | steps | tokens | val loss (nats/token) |\n|---|---|---|---|")
        for p in pilots["pilots"]:
            b = "**" if p.get("chosen") else ""
            L.append(f"| {b}{p['run']}{b} | {p['steps']} | {p['tokens']} | {p['val_loss']} |")
        L.append("")
        L.append(pilots["conclusion"] + "\n")
    L.append("Per-step log: [`train_log.csv`](train_log.csv)" +
             (" — curves of both runs: ![training curves](training_curves.png)" if has_plot else "") + "\n")
    L.append("## Block density per matrix\n")
    L.append(f"Fraction of {args['block']}x{args['block']} blocks holding any nonzero, in the exported f16 "
             f"weights (mean {s['mean_density']:.4f}).\n")
    L.append("| matrix | kept blocks | density |\n|---|---|---|")
    for n, d in density.items():
        L.append(f"| `{n}` | {d['kept_blocks']}/{d['total_blocks']} | {d['density']:.4f} |")
    L.append("")
    L.append("## Sample completions\n")
    sp = s["sampling"]
    L.append(f"{s['sample_tokens']} new tokens per prompt with the f16-rounded weights, first greedy, then sampled "
             f"(temperature {sp['temperature']:g}, top-k {sp['top_k']}, `torch.Generator` seeded {sp['seed']} for "
             f"each prompt); each block shows the prompt, then the completion. A {s['tokens_seen'] / 1e6:.2f} M-token, "
             f"{s['steps']}-step model: expect local Python idiom, not working programs; greedy decoding often "
             "falls into repetition.\n")
    for x in s["samples"]:
        L.append(f"Prompt {x['prompt']!r}, greedy:\n")
        L.append(fence(x["prompt"] + x["greedy"]) + "\n")
        L.append("sampled:\n")
        L.append(fence(x["prompt"] + x["sampled"]) + "\n")
    L.append("## Files\n")
    L.append("- `config.json` — HF GPT2Config fields.\n"
             "- `model.safetensors` — f16, HF GPT-2 tensor names without the `transformer.` prefix, Conv1D "
             "[in, out] layout; no `lm_head` (tied to `wte`).\n"
             "- `tokenizer.json` — HF byte-level BPE tokenizer.\n"
             "- `golden.json` — for four prompts: input ids, top-10 logits at the last 4 positions, 20-token greedy "
             "continuation; PyTorch f32 compute on the f16-rounded weights.\n"
             "- `corpus-manifest.json`, `train_log.csv`, `summary.json`.\n")
    with open(path, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
