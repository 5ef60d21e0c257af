# Byte-level BPE (GPT-2 style): training on word counts with incremental pair counts, the
# rank-based encoder, and the HF tokenizer.json writer/reader. No `tokenizers` package needed.
import heapq
import json
from collections import Counter, defaultdict

import regex

# GPT-2's pre-tokenization pattern, the same string @huggingface/tokenizers uses for
# ByteLevel(use_regex=true); `regex` gives the \p{L}/\p{N} classes Python's `re` lacks.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
PAT = regex.compile(GPT2_PATTERN)
EOT = "<|endoftext|>"


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode char map (so tokens are JSON-safe strings)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}


def pretokenize(text):
    """Text -> list of words, each word a string in the byte-level alphabet."""
    return ["".join(BYTE_ENCODER[b] for b in w.encode("utf-8")) for w in PAT.findall(text)]


def train_bpe(texts, vocab_size, log=print):
    """Train merges until the vocab (256 bytes + merges + <|endoftext|>) has vocab_size tokens.

    Works on unique words weighted by count; pair counts are updated incrementally for the words
    a merge touches, and the best pair comes from a lazy max-heap (ties: smallest pair by string,
    so the result is deterministic). Returns (vocab: {token: id}, merges: [(a, b)]).
    """
    word_counts = Counter()
    for t in texts:
        word_counts.update(pretokenize(t))
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())
    # The 256 byte tokens get id == byte value (GPT-2 orders them differently; any order works).
    vocab = {BYTE_ENCODER[b]: b for b in range(256)}
    target_merges = vocab_size - 1 - len(vocab)
    pair_counts = defaultdict(int)
    where = defaultdict(set)  # pair -> indices of words containing it
    for wi, (w, c) in enumerate(zip(words, counts)):
        for p in zip(w, w[1:]):
            pair_counts[p] += c
            where[p].add(wi)
    heap = [(-c, p) for p, c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < vocab_size - 1 and heap:
        negc, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negc or -negc <= 0:
            continue  # stale heap entry
        a, b = pair
        new = a + b
        merges.append(pair)
        if new not in vocab:
            vocab[new] = len(vocab)
        changed = set()
        for wi in list(where[pair]):
            w, c = words[wi], counts[wi]
            i, out = 0, []
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            if len(out) == len(w):
                continue
            for p in zip(w, w[1:]):
                pair_counts[p] -= c
                changed.add(p)
            for p in set(zip(w, w[1:])):
                where[p].discard(wi)
            for p in zip(out, out[1:]):
                pair_counts[p] += c
                where[p].add(wi)
                changed.add(p)
            words[wi] = out
        pair_counts.pop(pair, None)
        where.pop(pair, None)
        for p in changed:
            c = pair_counts.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            elif p in pair_counts:
                del pair_counts[p]
        if log and len(merges) % 500 == 0:
            log(f"bpe: {len(merges)}/{target_merges} merges, vocab {len(vocab)}")
    vocab[EOT] = len(vocab)
    return vocab, merges


class Encoder:
    """Rank-based BPE encoder (GPT-2's algorithm: merge the lowest-rank adjacent pair first)."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.inv = {i: t for t, i in vocab.items()}
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.cache = {}
        self.eot_id = vocab[EOT]

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for p in zip(parts, parts[1:]):
                r = self.ranks.get(p)
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = p, r
            if best is None:
                break
            a, b = best
            out, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        """Plain text -> ids. (<|endoftext|> inside text is NOT special here; corpus use only.)"""
        ids = []
        for w in pretokenize(text):
            ids.extend(self._bpe(w))
        return ids

    def decode(self, ids):
        parts = []
        for i in ids:
            t = self.inv[int(i)]
            parts.append(t.encode("utf-8") if t == EOT else bytes(BYTE_DECODER[ch] for ch in t))
        return b"".join(parts).decode("utf-8", errors="replace")


def to_tokenizer_json(vocab, merges):
    """HF tokenizer.json in GPT-2's layout (ByteLevel pre-tokenizer/decoder, BPE model)."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": vocab[EOT], "content": EOT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": dict(byte_level, trim_offsets=False),
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False,
                  "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def save_tokenizer(path, vocab, merges):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_tokenizer_json(vocab, merges), f, ensure_ascii=False)


def read_tokenizer(path):
    """(vocab, merges) of a tokenizer.json written by save_tokenizer (vocab includes <|endoftext|>)."""
    with open(path, encoding="utf-8") as f:
        tj = json.load(f)
    m = tj["model"]
    vocab = m["vocab"]
    for t in tj["added_tokens"]:
        vocab[t["content"]] = t["id"]
    merges = [tuple(x.split(" ")) if isinstance(x, str) else tuple(x) for x in m["merges"]]
    return vocab, merges


def load_tokenizer(path):
    return Encoder(*read_tokenizer(path))
