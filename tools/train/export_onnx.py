# Exports a model folder (config.json + model.safetensors, HF GPT-2 names) to ONNX with a KV cache, so
# ONNX Runtime Web can run the same weights as the engine in the browser benchmark (bench/browser/).
#
# Graph: inputs input_ids (1, T) int64 and, per layer i, past_key_values.i.key / .value (1, nHead, P, headDim)
# f32; outputs logits (1, T, vocab) and present.i.key / .value (1, nHead, P + T, headDim). Prefill feeds
# P = 0 (empty past tensors), decode T = 1. Weights are f32 (upcast from the checkpoint's f16), because
# ORT's WebGPU provider needs the shader-f16 feature for f16 and the target adapters may lack it.
#
#   /usr/bin/python3 tools/train/export_onnx.py --model weights/dense --out bench/build/dense.onnx
#
# It also writes <out>.check.json: the greedy continuation of a fixed prompt computed by this PyTorch
# graph (prefill, then one token at a time through the cache), which the benchmark compares with ORT.
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import model_from_hf  # noqa: E402
from model import GPTConfig  # noqa: E402
import safetensors_io  # noqa: E402


def config_from_hf(path):
    with open(path) as f:
        c = json.load(f)
    return GPTConfig(n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"],
                     n_ctx=c.get("n_positions", c.get("n_ctx")), vocab_size=c["vocab_size"],
                     layer_norm_epsilon=c.get("layer_norm_epsilon", 1e-5))


class KvGPT(nn.Module):
    """The training tool's GPT with the attention written out over an explicit KV cache."""

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt
        self.cfg = gpt.cfg

    def forward(self, input_ids, *past):
        g, cfg = self.gpt, self.cfg
        T = input_ids.shape[1]
        P = past[0].shape[2]
        H, D = cfg.n_head, cfg.n_embd
        hd = D // H
        pos = torch.arange(T, dtype=torch.int64) + P
        x = g.wte(input_ids) + g.wpe(pos)                          # (1, T, D)
        # Causal mask over keys 0 .. P+T-1: query row i (position P + i) sees keys j <= P + i.
        keys = torch.arange(T, dtype=torch.int64).unsqueeze(1) + P   # (T, 1)
        allowed = torch.arange(T, dtype=torch.int64).unsqueeze(0)    # (1, T) for the new keys
        new_mask = allowed <= (keys - P)                              # (T, T)
        presents = []
        for i, blk in enumerate(g.h):
            a = blk.ln_1(x)
            q, k, v = blk.attn.c_attn(a).split(D, dim=2)
            q = q.view(1, T, H, hd).transpose(1, 2)                  # (1, H, T, hd)
            k = torch.cat([past[2 * i], k.view(1, T, H, hd).transpose(1, 2)], dim=2)      # (1, H, P+T, hd)
            v = torch.cat([past[2 * i + 1], v.view(1, T, H, hd).transpose(1, 2)], dim=2)
            presents += [k, v]
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))  # (1, H, T, P+T)
            mask = torch.cat([torch.ones(T, P, dtype=torch.bool), new_mask], dim=1)
            att = att.masked_fill(~mask, float("-inf"))
            y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).reshape(1, T, D)
            x = x + blk.attn.c_proj(y)
            x = x + blk.mlp(blk.ln_2(x))
        logits = g.ln_f(x) @ g.wte.weight.t()                         # (1, T, vocab)
        return (logits, *presents)


def empty_past(cfg, P=0):
    hd = cfg.n_embd // cfg.n_head
    return [torch.zeros(1, cfg.n_head, P, hd) for _ in range(2 * cfg.n_layer)]


def greedy(kv, cfg, prompt, n):
    """Prefill, then n - 1 cached decode steps: the tokens the benchmark expects every engine to produce."""
    with torch.no_grad():
        out = kv(torch.tensor([prompt]), *empty_past(cfg))
        ids = [int(out[0][0, -1].argmax())]
        past = list(out[1:])
        for _ in range(n - 1):
            out = kv(torch.tensor([[ids[-1]]]), *past)
            ids.append(int(out[0][0, -1].argmax()))
            past = list(out[1:])
    return ids


def main():
    p = argparse.ArgumentParser(description="export a model folder to ONNX with KV-cache inputs and outputs")
    p.add_argument("--model", required=True, help="folder with config.json and model.safetensors (dense)")
    p.add_argument("--out", required=True, help="path of the .onnx file to write")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--check-prompt", default="1,2,3,4,5,6,7,8", help="token ids of the greedy check")
    p.add_argument("--check-tokens", type=int, default=16)
    a = p.parse_args()
    torch.set_num_threads(2)
    cfg = config_from_hf(os.path.join(a.model, "config.json"))
    tensors = safetensors_io.load(os.path.join(a.model, "model.safetensors"))
    if any(k.endswith(".bsr_indices") or "bsr" in k for k in tensors):
        raise SystemExit(f"{a.model}: BSR-stored checkpoint; export the dense model (ORT has no block-sparse GEMM)")
    kv = KvGPT(model_from_hf(tensors, cfg)).eval()

    # Trace with a non-empty past (P = 3, T = 2) so neither length is specialised to 0 or 1.
    ids = torch.tensor([[1, 2]])
    past = empty_past(cfg, 3)
    for t in past:
        t.normal_()
    names_in = ["input_ids"] + [f"past_key_values.{i}.{kind}" for i in range(cfg.n_layer) for kind in ("key", "value")]
    names_out = ["logits"] + [f"present.{i}.{kind}" for i in range(cfg.n_layer) for kind in ("key", "value")]
    axes = {"input_ids": {1: "T"}, "logits": {1: "T"}}
    for n in names_in[1:]:
        axes[n] = {2: "P"}
    for n in names_out[1:]:
        axes[n] = {2: "P_plus_T"}
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with torch.no_grad():
        torch.onnx.export(kv, (ids, *past), tmp, input_names=names_in, output_names=names_out,
                          dynamic_axes=axes, opset_version=a.opset, do_constant_folding=True)
    os.replace(tmp, a.out)

    prompt = [int(s) for s in a.check_prompt.split(",")]
    check = {"prompt_ids": prompt, "greedy_ids": greedy(kv, cfg, prompt, a.check_tokens),
             "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_embd": cfg.n_embd, "vocab_size": cfg.vocab_size,
             "onnx_bytes": os.path.getsize(a.out), "opset": a.opset}
    with open(a.out + ".check.json", "w") as f:
        json.dump(check, f, indent=1)
    print(f"wrote {a.out} ({check['onnx_bytes'] / 1e6:.1f} MB, opset {a.opset}); greedy check {check['greedy_ids']}")


if __name__ == "__main__":
    main()
