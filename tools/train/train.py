# Training tool for the embedded models: `prepare` builds the corpus, BPE tokenizer and token
# streams; `train` runs one dense or block-sparse GPT-2 run (resumable, CSV-logged).
import argparse
import csv
import hashlib
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import corpus  # noqa: E402
import safetensors_io  # noqa: E402
from model import GPT, GPTConfig, apply_topk_blocks, sparse_matrices  # noqa: E402

CSV_FIELDS = ["step", "tokens", "elapsed_s", "tokens_per_s", "lr", "keep_frac", "train_loss", "val_loss"]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- prepare
def cmd_prepare(a):
    os.makedirs(a.out, exist_ok=True)
    train_pk = a.packages.split(",") if a.packages else corpus.TRAIN_PACKAGES
    val_pk = a.val_packages.split(",") if a.val_packages else corpus.VAL_PACKAGES
    manifest, train_texts, val_texts = corpus.load_corpus(
        train_pk, val_pk, max_files=a.max_files, max_bytes_per_file=a.max_bytes_per_file)
    sizes = {n: sum(len(t.encode("utf-8")) for t in ts) for n, ts in (("train", train_texts), ("val", val_texts))}
    log(f"corpus: {len(train_texts)} train / {len(val_texts)} val files, "
        f"{sizes['train']} / {sizes['val']} bytes")
    if a.tokenizer:  # pinned (e.g. the carried runs' tokenizer): the token ids must mean what they meant
        vocab, merges = bpe.read_tokenizer(a.tokenizer)
        log(f"tokenizer: {a.tokenizer} ({len(vocab)} tokens, not retrained)")
    else:
        vocab, merges = bpe.train_bpe(train_texts, a.vocab_size, log=log)
    if len(vocab) != a.vocab_size:
        raise SystemExit(f"BPE reached only {len(vocab)} tokens of the requested {a.vocab_size}: "
                         "the corpus is too small for this vocab (lower --vocab-size)")
    bpe.save_tokenizer(os.path.join(a.out, "tokenizer.json"), vocab, merges)
    enc = bpe.Encoder(vocab, merges)
    for name, texts in (("train", train_texts), ("val", val_texts)):
        ids = []
        for t in texts:  # files in corpus order, each followed by <|endoftext|>
            ids.extend(enc.encode(t))
            ids.append(enc.eot_id)
        np.asarray(ids, dtype=np.uint16).tofile(os.path.join(a.out, f"{name}.bin"))
        log(f"{name}: {len(ids)} tokens, {sizes[name] / len(ids):.3f} bytes/token")
    meta = {"format": "sparse-gpt2-corpus/2", "python": sys.version.split()[0],
            "train_packages": train_pk, "val_packages": val_pk,
            "excluded_dirs": sorted(corpus.EXCLUDED_DIRS), "max_file_bytes": corpus.MAX_FILE_BYTES,
            "vocab_size": len(vocab), "n_merges": len(merges),
            "train_bytes": sizes["train"], "val_bytes": sizes["val"],
            "train_files": len(train_texts), "val_files": len(val_texts),
            "train_tokens": int(os.path.getsize(os.path.join(a.out, "train.bin")) // 2),
            "val_tokens": int(os.path.getsize(os.path.join(a.out, "val.bin")) // 2),
            "left_out": {k: v for k, v in corpus.summary(manifest).items() if k not in ("train", "val")},
            "manifest": manifest}
    with open(os.path.join(a.out, "corpus.json"), "w") as f:
        json.dump(meta, f, indent=1)
    log(f"prepared {a.out}")


# ---------------------------------------------------------------- train
def keep_frac_at(step, a):
    """Kept block fraction after optimizer step `step` (1-based). It falls from 1 to
    a.final_density over the first a.anneal_frac of the steps, then holds: 'linear' in the kept
    fraction, or 'cubic' (gradual pruning: fast at first, slow near the end, so the last blocks to
    go have the longest to be chosen well). An extension (--extend-from) continues a finished run,
    whose anneal is over: it holds a.final_density throughout."""
    if a.extend_from:
        return a.final_density
    end = max(1, round(a.steps * a.anneal_frac))
    p = min(1.0, step / end)
    shape = 1 - p if a.anneal_shape == "linear" else (1 - p) ** 3
    return a.final_density + (1.0 - a.final_density) * shape


def ctx_at(step, a):
    """Context of the batch for step `step` (0-based): a.ctx_short for the first a.ctx_short_frac of
    the steps (cheaper attention while the model learns local structure), then a.ctx; the batch
    grows as the context shrinks so every step sees the same number of tokens."""
    return a.ctx_short if a.ctx_short and step < round(a.steps * a.ctx_short_frac) else a.ctx


def lr_at(step, a, start=0):
    """Linear warmup, then cosine decay to lr/10 (step is 0-based). An extension's schedule starts
    at the step it continues from (`start`): warmup to its own peak lr, cosine to lr/10 at a.steps."""
    step -= start
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    p = (step - a.warmup) / max(1, a.steps - start - a.warmup)
    return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def batch_at(data, step, a):
    """Deterministic batch for a step: the same windows for the dense and the sparse run, and the
    same after a resume (the generator is seeded by (seed, step), not carried along).
    Shapes: x, y [a.batch * a.ctx / ctx, ctx] with ctx = ctx_at(step)."""
    ctx = ctx_at(step, a)
    g = np.random.default_rng([a.seed, step])
    starts = g.integers(0, len(data) - ctx - 1, size=a.batch * a.ctx // ctx)
    x = np.stack([data[s:s + ctx] for s in starts]).astype(np.int64)
    y = np.stack([data[s + 1:s + ctx + 1] for s in starts]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


@torch.no_grad()
def eval_loss(model, val, ctx, n_windows, batch):
    """Mean next-token loss (nats/token) over the first n_windows non-overlapping val windows."""
    model.eval()
    n = min(n_windows, (len(val) - 1) // ctx)
    total, count = 0.0, 0
    for i in range(0, n, batch):
        idx = range(i, min(n, i + batch))
        x = torch.from_numpy(np.stack([val[j * ctx:(j + 1) * ctx] for j in idx]).astype(np.int64))
        y = torch.from_numpy(np.stack([val[j * ctx + 1:(j + 1) * ctx + 1] for j in idx]).astype(np.int64))
        _, loss = model(x, y)
        total += loss.item() * x.numel()
        count += x.numel()
    model.train()
    return total / count


def save_ckpt(path, model, opt, step, tokens, elapsed, a, cfg, rewarm_from, carried, extended):
    tmp = path + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "tokens": tokens, "elapsed_s": elapsed, "args": vars(a), "config": cfg.to_dict(),
                "rewarm_from": rewarm_from, "carried": carried, "extended": extended}, tmp)
    os.replace(tmp, path)  # atomic: a kill during the save never leaves a torn checkpoint


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def keep_csv_rows(src, dst, step):
    """Copy the CSV log rows up to `step` (rows logged after a checkpoint would be duplicated)."""
    rows = []
    if os.path.exists(src):
        with open(src) as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= step]
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, CSV_FIELDS)
        w.writeheader()
        w.writerows(rows)


# Values of arguments added after a checkpoint was written (so --resume of an older run compares right).
DEFAULTS = {"warmup": 30, "final_density": 1 / 8, "anneal_frac": 0.5, "anneal_shape": "linear",
            "ctx_short": 0, "ctx_short_frac": 0.0, "extend_from": None}
# The arguments that define a run: a resumed or carried run must have the same ones.
RECIPE = ("mode", "seed", "steps", "batch", "ctx", "n_layer", "n_head", "n_embd", "lr", "block",
          "warmup", "final_density", "anneal_frac", "anneal_shape", "ctx_short", "ctx_short_frac", "extend_from")


def check_recipe(saved, a, path):
    for k in RECIPE:
        if saved.get(k, DEFAULTS.get(k)) != getattr(a, k):
            raise SystemExit(f"--resume: {path} was made with {k}={saved.get(k, DEFAULTS.get(k))}, "
                             f"this command has {k}={getattr(a, k)}; use the original arguments")


def cmd_train(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    train = np.fromfile(os.path.join(a.data, "train.bin"), dtype=np.uint16)
    val = np.fromfile(os.path.join(a.data, "val.bin"), dtype=np.uint16)
    with open(os.path.join(a.data, "corpus.json")) as f:
        vocab_size = json.load(f)["vocab_size"]
    cfg = GPTConfig(n_layer=a.n_layer, n_head=a.n_head, n_embd=a.n_embd, n_ctx=a.ctx, vocab_size=vocab_size)
    model = GPT(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    ckpt_path = os.path.join(a.out, "ckpt.pt")
    csv_path = os.path.join(a.out, "log.csv")
    step, tokens, elapsed = 0, 0, 0.0
    rewarm_from, carried = None, []  # set when the run continues from carried weights (optimizer reset)
    extended = None  # set when this run extends a finished one (--extend-from): where and what it started from
    run_name = os.path.basename(os.path.normpath(a.out))  # dense, sparse, sparse-ext: the carry's file names
    carry_json = os.path.join(a.carry, f"{run_name}.json") if a.carry else None
    if a.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        check_recipe(ck["args"], a, ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, tokens, elapsed = ck["step"], ck["tokens"], ck["elapsed_s"]
        rewarm_from, carried, extended = ck.get("rewarm_from"), ck.get("carried", []), ck.get("extended")
        keep_csv_rows(csv_path, csv_path, step)
        log(f"resumed {a.out} at step {step}/{a.steps} ({tokens} tokens, {elapsed:.0f}s)")
    elif a.resume and carry_json and os.path.exists(carry_json):
        # A new machine without the checkpoint: continue from the weights committed by `train.py carry`.
        # The AdamW moments are not carried (they would triple the committed bytes); with beta2 = 0.95
        # they rebuild within ~20 steps, and the lr ramps back over --rewarm steps meanwhile.
        with open(carry_json) as f:
            cj = json.load(f)
        check_recipe(cj["args"], a, carry_json)
        tok_sha = sha256_file(os.path.join(a.data, "tokenizer.json"))
        if tok_sha != cj["data"]["tokenizer_sha256"]:
            raise SystemExit(f"--carry: {a.data}/tokenizer.json is not the carried runs' tokenizer (sha256 "
                             f"{tok_sha[:12]} vs {cj['data']['tokenizer_sha256'][:12]}); prepare the data with "
                             f"--tokenizer {os.path.join(a.carry, 'tokenizer.json')}")
        same_data = sha256_file(os.path.join(a.data, "train.bin")) == cj["data"]["train_bin_sha256"]
        if not same_data:
            log("--carry: train.bin differs from the carried runs' (other package versions?): the batches "
                "after the carry differ from an uninterrupted run's")
        w16 = safetensors_io.load(os.path.join(a.carry, f"{run_name}.safetensors"))
        model.load_state_dict({n: torch.from_numpy(t.astype(np.float32)) for n, t in w16.items()})
        step, tokens, elapsed = cj["step"], cj["tokens"], cj["elapsed_s"]
        rewarm_from, extended = step, cj.get("extended")
        carried = cj.get("carried", []) + [{
            "step": step, "tokens": tokens, "date": time.strftime("%Y-%m-%d"), "weights": "f16",
            "optimizer": "reset", "rewarm_steps": a.rewarm, "same_train_bin": same_data}]
        if a.mode == "sparse":  # the f16 zeros already are the mask; re-impose it so kept counts are exact
            for _, w in sparse_matrices(model):
                apply_topk_blocks(w, keep_frac_at(step, a), a.block)
        keep_csv_rows(os.path.join(a.carry, f"{run_name}.log.csv"), csv_path, step)
        log(f"continued {a.out} from carried f16 weights at step {step}/{a.steps} ({tokens} tokens); "
            f"optimizer reset, lr re-warmed over {a.rewarm} steps")
    elif a.extend_from:
        # More steps for a finished run, in a new folder (the finished run and its export stay as they
        # were): weights and AdamW moments carry on; the lr warms up again to this command's --lr and
        # decays over the new steps; a sparse run keeps its final density (the mask may still move
        # between blocks, as in the held phase of the run). The batches continue the (seed, step) order.
        if os.path.exists(ckpt_path):
            raise SystemExit(f"{ckpt_path} exists: pass --resume to continue the extension, or choose a new --out")
        src = torch.load(os.path.join(a.extend_from, "ckpt.pt"))
        base = src["args"]
        if src["step"] != base["steps"]:
            raise SystemExit(f"--extend-from: {a.extend_from} is at step {src['step']} of {base['steps']}; "
                             "finish it first")
        for k in ("mode", "seed", "batch", "ctx", "n_layer", "n_head", "n_embd", "block", "final_density"):
            if base.get(k, DEFAULTS.get(k)) != getattr(a, k):
                raise SystemExit(f"--extend-from: {a.extend_from} was made with {k}={base.get(k)}, "
                                 f"this command has {k}={getattr(a, k)}")
        if a.steps <= src["step"]:
            raise SystemExit(f"--steps {a.steps}: an extension of {a.extend_from} must end after its step {src['step']}")
        model.load_state_dict(src["model"])
        opt.load_state_dict(src["opt"])
        step, tokens, elapsed = src["step"], src["tokens"], src["elapsed_s"]
        carried = src.get("carried", [])
        extended = {"from": os.path.abspath(a.extend_from), "step": step, "tokens": tokens,
                    "date": time.strftime("%Y-%m-%d"), "base_args": base}
        keep_csv_rows(os.path.join(a.extend_from, "log.csv"), csv_path, step)
        log(f"extending {a.extend_from} (step {step}, {tokens} tokens) to step {a.steps} in {a.out}: "
            f"lr warms up to {a.lr:g} over {a.warmup} steps, cosine to {a.lr / 10:g}")
    else:
        if os.path.exists(ckpt_path) and not a.resume:
            raise SystemExit(f"{ckpt_path} exists: pass --resume to continue it, or choose a new --out")
        with open(csv_path, "w", newline="") as f:
            csv.DictWriter(f, CSV_FIELDS).writeheader()
    with open(os.path.join(a.out, "args.json"), "w") as f:
        json.dump({"args": vars(a), "config": cfg.to_dict(), "carried": carried, "extended": extended}, f, indent=1)

    mats = sparse_matrices(model) if a.mode == "sparse" else []
    model.train()
    t_last, tok_last, t_ckpt = time.time(), tokens, time.time()
    loss_acc, loss_n = 0.0, 0
    stop_at = a.steps if a.stop_after is None else min(a.steps, step + a.stop_after)
    # SIGTERM / SIGINT (a session ending, `kill`, Ctrl-C): finish the step, checkpoint, exit cleanly, so a
    # stop loses nothing and --resume continues exactly.
    stop = {"signal": None}

    def request_stop(signum, _frame):
        stop["signal"] = signal.Signals(signum).name

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, request_stop)
    def lr_now(step):  # the schedule, ramped up again over a.rewarm steps after a carry
        f = 1.0 if rewarm_from is None else min(1.0, (step - rewarm_from + 1) / max(1, a.rewarm))
        return lr_at(step, a, extended["step"] if extended else 0) * f

    while step < stop_at and stop["signal"] is None:
        t0 = time.time()
        for g in opt.param_groups:
            g["lr"] = lr_now(step)
        x, y = batch_at(train, step, a)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        opt.step()
        step += 1
        kf = 1.0
        if mats:
            kf = keep_frac_at(step, a)
            for _, w in mats:
                apply_topk_blocks(w, kf, a.block, opt.state.get(w))
        tokens += x.numel()
        elapsed += time.time() - t0
        loss_acc += loss.item()
        loss_n += 1
        last = step == a.steps
        if step % a.log_every == 0 or last:
            vl = ""
            if step % a.eval_every == 0 or last:
                te = time.time()
                vl = f"{eval_loss(model, val, a.eval_ctx or a.ctx, a.eval_windows, a.batch):.5f}"
                elapsed += time.time() - te
            now = time.time()
            tps = (tokens - tok_last) / max(1e-9, now - t_last)
            row = {"step": step, "tokens": tokens, "elapsed_s": f"{elapsed:.1f}", "tokens_per_s": f"{tps:.1f}",
                   "lr": f"{lr_now(step - 1):.3e}", "keep_frac": f"{kf:.4f}",
                   "train_loss": f"{loss_acc / loss_n:.5f}", "val_loss": vl}
            with open(csv_path, "a", newline="") as f:
                csv.DictWriter(f, CSV_FIELDS).writerow(row)
            log(" ".join(f"{k}={v}" for k, v in row.items()))
            t_last, tok_last, loss_acc, loss_n = now, tokens, 0.0, 0
        if time.time() - t_ckpt > a.ckpt_every_s or last or step == stop_at or stop["signal"] is not None:
            save_ckpt(ckpt_path, model, opt, step, tokens, elapsed, a, cfg, rewarm_from, carried, extended)
            t_ckpt = time.time()
    why = "done" if step == a.steps else f"stopped by {stop['signal']}" if stop["signal"] else "stopped"
    log(f"{why}: {a.out} step {step}/{a.steps}, {tokens} tokens, {elapsed:.0f}s (checkpoint {ckpt_path})")


# ---------------------------------------------------------------- progress
def cmd_progress(a):
    """Prints `done` when the run in --run has logged its last step, else `step N of M` (for the shell scripts)."""
    with open(os.path.join(a.run, "args.json")) as f:
        steps = json.load(f)["args"]["steps"]
    with open(os.path.join(a.run, "log.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    last = int(rows[-1]["step"]) if rows else 0
    print("done" if last == steps else f"step {last} of {steps}")


# ---------------------------------------------------------------- carry
def cmd_carry(a):
    """Writes what a new machine needs to continue the runs (their checkpoints live outside the work
    tree and do not survive a machine change): per run the f16 weights, step/tokens/recipe, the CSV
    log, and the shared tokenizer plus the data's hashes. Committed under tools/train/carry/."""
    os.makedirs(a.out, exist_ok=True)
    tok_sha = sha256_file(os.path.join(a.data, "tokenizer.json"))
    data = {"tokenizer_sha256": tok_sha, "train_bin_sha256": sha256_file(os.path.join(a.data, "train.bin")),
            "val_bin_sha256": sha256_file(os.path.join(a.data, "val.bin"))}
    tok_out = os.path.join(a.out, "tokenizer.json")
    if os.path.exists(tok_out) and sha256_file(tok_out) != tok_sha:
        raise SystemExit(f"{tok_out} is another tokenizer than {a.data}'s: carry into an empty folder")
    for mode in a.modes.split(","):
        run = os.path.join(a.runs, mode)
        ck = torch.load(os.path.join(run, "ckpt.pt"))
        w16 = [(n, t.detach().numpy().astype(np.float16) + np.float16(0.0)) for n, t in ck["model"].items()]
        bad = [n for n, t in w16 if not np.isfinite(t).all()]
        if bad:
            raise SystemExit(f"{run}: tensor {bad[0]} is not finite in f16; not carrying it")
        tmp = os.path.join(a.out, f".{mode}.tmp")
        safetensors_io.save(tmp, w16, metadata={"step": ck["step"]})
        os.replace(tmp, os.path.join(a.out, f"{mode}.safetensors"))
        keep_csv_rows(os.path.join(run, "log.csv"), os.path.join(a.out, f"{mode}.log.csv"), ck["step"])
        meta = {"format": "sparse-gpt2-carry/1", "mode": ck["args"]["mode"], "step": ck["step"], "tokens": ck["tokens"],
                "elapsed_s": ck["elapsed_s"], "args": {k: ck["args"].get(k, DEFAULTS.get(k)) for k in RECIPE},
                "config": ck["config"], "carried": ck.get("carried", []), "extended": ck.get("extended"), "data": data,
                "written": time.strftime("%Y-%m-%d %H:%M")}
        with open(os.path.join(a.out, f"{mode}.json"), "w") as f:
            json.dump(meta, f, indent=1)
        log(f"carried {mode}: step {ck['step']}/{ck['args']['steps']}, {ck['tokens']} tokens -> {a.out}")
    with open(os.path.join(a.data, "tokenizer.json"), "rb") as f, open(tok_out + ".tmp", "wb") as g:
        g.write(f.read())
    os.replace(tok_out + ".tmp", tok_out)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="corpus manifest + BPE tokenizer + token streams")
    pp.add_argument("--out", required=True)
    pp.add_argument("--vocab-size", type=int, default=4096)
    pp.add_argument("--packages", default=None, help="comma list of training packages (default: corpus.TRAIN_PACKAGES)")
    pp.add_argument("--val-packages", default=None, help="comma list of held-out packages (default: corpus.VAL_PACKAGES)")
    pp.add_argument("--max-files", type=int, default=None, help="files per package; smoke runs only")
    pp.add_argument("--max-bytes-per-file", type=int, default=None, help="smoke runs only")
    pp.add_argument("--tokenizer", default=None, help="use this tokenizer.json instead of training one "
                    "(the carried runs' own: tools/train/carry/tokenizer.json)")
    pt = sub.add_parser("train", help="one dense or block-sparse run")
    pt.add_argument("--data", required=True)
    pt.add_argument("--out", required=True)
    pt.add_argument("--mode", choices=["dense", "sparse"], required=True)
    pt.add_argument("--steps", type=int, required=True)
    pt.add_argument("--batch", type=int, default=16)
    pt.add_argument("--ctx", type=int, default=256)
    pt.add_argument("--n-layer", type=int, default=8)
    pt.add_argument("--n-head", type=int, default=8)
    pt.add_argument("--n-embd", type=int, default=256)
    pt.add_argument("--lr", type=float, default=2e-3)
    pt.add_argument("--warmup", type=int, default=30)
    pt.add_argument("--weight-decay", type=float, default=0.1)
    pt.add_argument("--grad-clip", type=float, default=1.0)
    pt.add_argument("--block", type=int, default=32)
    pt.add_argument("--final-density", type=float, default=1 / 8)
    pt.add_argument("--anneal-frac", type=float, default=0.5, help="kept fraction reaches --final-density after this share of the steps")
    pt.add_argument("--anneal-shape", choices=["linear", "cubic"], default="linear")
    pt.add_argument("--ctx-short", type=int, default=0, help="shorter context for the first --ctx-short-frac of the steps (0: off)")
    pt.add_argument("--ctx-short-frac", type=float, default=0.0)
    pt.add_argument("--eval-ctx", type=int, default=0, help="context of the periodic evaluation (0: --ctx)")
    pt.add_argument("--seed", type=int, default=1234)
    pt.add_argument("--threads", type=int, default=1)
    pt.add_argument("--log-every", type=int, default=10)
    pt.add_argument("--eval-every", type=int, default=50)
    pt.add_argument("--eval-windows", type=int, default=32, help="val windows per periodic eval")
    pt.add_argument("--ckpt-every-s", type=float, default=240)
    pt.add_argument("--resume", action="store_true", help="continue from <out>/ckpt.pt, else from --carry")
    pt.add_argument("--carry", default=None, help="folder written by `carry`: with --resume and no "
                    "checkpoint, continue from its f16 weights (a new machine)")
    pt.add_argument("--rewarm", type=int, default=50, help="lr ramp (steps) after continuing from --carry")
    pt.add_argument("--extend-from", default=None,
                    help="a finished run's folder: continue it to --steps in --out (weights and AdamW state carry on; "
                         "lr warms up again to --lr over --warmup steps; a sparse run holds --final-density)")
    pt.add_argument("--stop-after", type=int, default=None,
                    help="checkpoint and exit after this many steps of this invocation (tests --resume)")
    pc = sub.add_parser("carry", help="write the runs' f16 weights and state for a new machine")
    pc.add_argument("--runs", required=True, help="folder holding <mode>/ckpt.pt")
    pc.add_argument("--data", required=True, help="the prepared data the runs train on")
    pc.add_argument("--out", required=True)
    pc.add_argument("--modes", default="dense,sparse")
    pg = sub.add_parser("progress", help="print `done` or `step N of M` for a run folder")
    pg.add_argument("--run", required=True, help="run folder with args.json and log.csv")
    a = p.parse_args()
    {"prepare": cmd_prepare, "train": cmd_train, "carry": cmd_carry, "progress": cmd_progress}[a.cmd](a)


if __name__ == "__main__":
    main()
