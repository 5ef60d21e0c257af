# Minimal GPT-2 in PyTorch (nanoGPT-like): pre-LN, learned absolute positions, tanh-GELU,
# tied embeddings, biases everywhere, LayerNorm eps 1e-5. Parameter names follow HF GPT-2 so
# export is a rename-free transpose of the Linear weights into Conv1D layout.
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    n_layer: int = 8
    n_head: int = 8
    n_embd: int = 256
    n_ctx: int = 256
    vocab_size: int = 4096
    layer_norm_epsilon: float = 1e-5

    def to_dict(self):
        return asdict(self)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)  # weight [3D, D] = HF Conv1D [D, 3D]^T
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        mask = torch.tril(torch.ones(cfg.n_ctx, cfg.n_ctx, dtype=torch.bool))
        self.register_buffer("causal", mask.view(1, 1, cfg.n_ctx, cfg.n_ctx), persistent=False)

    def forward(self, x):
        B, T, D = x.shape
        hd = D // self.n_head
        q, k, v = self.c_attn(x).split(D, dim=2)
        q = q.view(B, T, self.n_head, hd).transpose(1, 2)
        k = k.view(B, T, self.n_head, hd).transpose(1, 2)
        v = v.view(B, T, self.n_head, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~self.causal[:, :, :T, :T], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, D)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))  # GPT-2's "gelu_new"


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_ctx, cfg.n_embd)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.apply(self._init)
        # GPT-2's scaled init of residual projections (1/sqrt(2 * n_layer)).
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        if T > self.cfg.n_ctx:
            raise ValueError(f"sequence length {T} exceeds n_ctx {self.cfg.n_ctx}")
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for blk in self.h:
            x = blk(x)
        x = self.ln_f(x)
        logits = x @ self.wte.weight.t()  # tied output embedding
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss


def sparse_matrices(model):
    """The weight matrices that are held block-sparse: every attention and MLP matrix."""
    out = []
    for i, blk in enumerate(model.h):
        out += [(f"h.{i}.attn.c_attn.weight", blk.attn.c_attn.weight),
                (f"h.{i}.attn.c_proj.weight", blk.attn.c_proj.weight),
                (f"h.{i}.mlp.c_fc.weight", blk.mlp.c_fc.weight),
                (f"h.{i}.mlp.c_proj.weight", blk.mlp.c_proj.weight)]
    return out


def block_norms(w, block):
    """Frobenius norm of each block x block tile of a Linear weight [out, in] -> [out/b, in/b].

    Tiles of the Linear weight are the transposes of the tiles of HF's Conv1D [in, out] weight, so
    the same blocks (and the same norms) are selected in either orientation.
    """
    o, i = w.shape
    if o % block or i % block:
        raise ValueError(f"matrix {tuple(w.shape)} is not a multiple of the {block}-wide block")
    return w.detach().view(o // block, block, i // block, block).pow(2).sum(dim=(1, 3)).sqrt()


@torch.no_grad()
def apply_topk_blocks(w, keep_frac, block, state=None):
    """Keep the top-k blocks of w by Frobenius norm (k = round(keep_frac * nblocks), at least 1);
    zero the others in w and in the AdamW moments (state). Returns the number of kept blocks."""
    norms = block_norms(w, block)
    n = norms.numel()
    k = max(1, min(n, int(round(keep_frac * n))))
    if k == n:
        return n
    keep = torch.zeros(n, dtype=torch.bool)
    keep[torch.topk(norms.flatten(), k, sorted=False).indices] = True
    mask = keep.view(norms.shape).repeat_interleave(block, 0).repeat_interleave(block, 1)
    w.mul_(mask)
    if state:
        for key in ("exp_avg", "exp_avg_sq"):
            if key in state:
                state[key].mul_(mask)
    return k
