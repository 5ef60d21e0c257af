#!/usr/bin/env python3
"""Reads a sparse-gpt2 recording (format "sparse-gpt2-recording", version 1 or 2) into named NumPy arrays.

NumPy only, one file: copy it next to a notebook.

    import read_recording as rr
    rec = rr.load("run.recording.json")           # checks the checksum when the file has one
    rec.head_activity.shape                       # (tokens, n_layer, n_head) float32
    rec.head_firing[:, 0, 1].mean()               # how often L0H1 fired
    rec.neuron_bits.mean(axis=(0, 2))             # per-layer fraction of MLP neurons firing
    rec.attn_top_pos[5, 2, 3], rec.attn_top_weight[5, 2, 3]  # where L2H3 looked from token 5's row (version 2)

Run as `python3 tools/read_recording.py FILE` for a summary of what it read (`--json` prints the arrays as
JSON, which the TypeScript tests compare with their own decoder). The layout is docs/instrumentation.md's:
per token i, the probes of the forward pass that produced token i (step 0: the prompt's last row).
"""
import argparse
import base64
import hashlib
import json
import math
import sys

import numpy as np

FORMAT = "sparse-gpt2-recording"
VERSIONS = (1, 2)  # 2 adds the attention rows (steps.attnTop); 1 has none
NO_POSITION = 0xFFFFFFFF  # an unused attention entry (the row had fewer keys than k)


class RecordingError(ValueError):
    """A file that is not a readable recording; the message names the field."""


class Recording:
    """The arrays of a recording, with their shapes (N tokens, L layers, H heads, D = n_embd, E candidates):

    prompt_ids (P,) uint32 · ids (N,) uint32 · text: N strings · ms (N,) float64
    head_activity (N, L, H) float32 · head_firing (N, L, H) bool
    neuron_bits (N, L, 4D) bool · attn_write_norm, mlp_write_norm (N, L) float32
    edge_pairs (E, 2) uint16 (src, dst) head ids l * H + h · edge_strength (E,) float32
    edges (N, E) bool: candidate e drawn at token i (both its heads fire)
    attn_top_pos (N, L, H, k) uint32, attn_top_weight (N, L, H, k) float32 (version 2 only, else None):
      each head's k largest attention weights from token i's row (position P + i - 1) and their context
      positions, weight-descending; unused entries hold NO_POSITION and weight 0
    Plus: version, name, created_at, model (dict), settings (dict), prompt.
    """

    ARRAYS = ("prompt_ids", "ids", "ms", "head_activity", "head_firing", "neuron_bits", "attn_write_norm",
              "mlp_write_norm", "edge_pairs", "edge_strength", "edges", "attn_top_pos", "attn_top_weight")

    def arrays(self):
        """The names of the arrays this file holds (the attention rows only in version 2)."""
        return [a for a in self.ARRAYS if getattr(self, a) is not None]

    def head_name(self, node):
        """TransformerLens-style name of head id `node` (= layer * n_head + head): 'L{layer}H{head}'."""
        return f"L{node // self.n_head}H{node % self.n_head}"


def _js_number(x):
    """A number as JavaScript's JSON.stringify writes it (the checksum is over that text)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return "null"
    if x == 0:
        return "0"
    # Shortest round-trip digits (Python's repr and ECMAScript agree on them), then ECMAScript's layout.
    mant, _, exp = f"{x!r}".partition("e")
    sign = "-" if mant.startswith("-") else ""
    mant = mant.lstrip("-")
    intpart, _, frac = mant.partition(".")
    digits = (intpart + frac).lstrip("0")
    # ECMAScript's n: the value is 0.d1d2...dk x 10^n. A zero integer part (0.00ddd) has no digits before the
    # point, and each leading zero of the fraction moves it one place further left.
    if intpart.strip("0") == "":
        point = -(len(frac) - len(frac.lstrip("0")))
    else:
        point = len(intpart.lstrip("0"))
    point += int(exp) if exp else 0
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def _js_json(v):
    """Compact JSON as JSON.stringify writes it (key order kept, no spaces, non-ASCII as is)."""
    if isinstance(v, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _js_json(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(_js_json(x) for x in v) + "]"
    if isinstance(v, str):
        # A lone surrogate (a token holding half a character pair) is written escaped, as JavaScript does.
        return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in json.dumps(v, ensure_ascii=False))
    if v is None:
        return "null"
    return _js_number(v)


def _array(obj, field, dtype, count, path):
    s = obj.get(field)
    if not isinstance(s, str):
        raise RecordingError(f"recording {path}.{field}: must be a base64 string")
    raw = base64.b64decode(s, validate=True)
    want = np.dtype(dtype).itemsize * count
    if len(raw) != want:
        raise RecordingError(f"recording {path}.{field}: {len(raw)} bytes, the shape needs {want}")
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(np.dtype(dtype).newbyteorder("="))


def _bits(words, n_bits):
    """(..., W) uint32 words -> (..., n_bits) bool; bit i is bit i & 31 of word i >> 5."""
    as_bytes = np.ascontiguousarray(words.astype("<u4")).view(np.uint8).reshape(*words.shape[:-1], 4 * words.shape[-1])
    b = np.unpackbits(as_bytes, axis=-1, bitorder="little")
    return b[..., :n_bits].astype(bool)


def load(path_or_bytes, verify=True):
    """Reads a recording file (path or bytes). Raises RecordingError for a file this reader cannot trust."""
    data = path_or_bytes
    if not isinstance(data, (bytes, bytearray)):
        with open(path_or_bytes, "rb") as f:
            data = f.read()
    try:
        root = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecordingError(f"recording: not a JSON file ({str(e)[:200]})") from None
    if not isinstance(root, dict) or root.get("format") != FORMAT:
        raise RecordingError(f'recording format: must be "{FORMAT}": not a recording of this project')
    if root.get("version") not in VERSIONS or isinstance(root.get("version"), bool):
        raise RecordingError(f"recording version: {str(root.get('version'))[:20]}, this reader knows "
                             f"{' and '.join(map(str, VERSIONS))}; update tools/read_recording.py")
    if verify and "checksum" in root:
        payload = {k: v for k, v in root.items() if k != "checksum"}
        actual = hashlib.sha256(_js_json(payload).encode("utf-8")).hexdigest()
        if actual != root["checksum"]:
            raise RecordingError(f"recording checksum: SHA-256 of the contents is {actual[:12]}..., the file says "
                                 f"{str(root['checksum'])[:12]}...: the file is corrupted or was edited")
    m = root["model"]
    L, H, D = m["nLayer"], m["nHead"], m["nEmbd"]
    st, ed = root["steps"], root["edges"]
    N, E, P = st["count"], ed["count"], root["promptTokens"]
    hw, nw, ew = math.ceil(L * H / 32), math.ceil(4 * D / 32), math.ceil(E / 32)

    r = Recording()
    r.name, r.created_at, r.prompt = root["name"], root["createdAt"], root["prompt"]
    r.model, r.settings = dict(m), root["settings"]
    r.n_layer, r.n_head, r.n_embd = L, H, D
    r.prompt_ids = _array(root, "promptIds", "u4", P, "")
    r.ids = _array(st, "ids", "u4", N, "steps")
    r.text = list(st["text"])
    r.ms = _array(st, "ms", "f8", N, "steps")
    r.head_activity = _array(st, "headActivity", "f2", N * L * H, "steps").astype(np.float32).reshape(N, L, H)
    r.head_firing = _bits(_array(st, "headFiring", "u4", N * hw, "steps").reshape(N, hw), L * H).reshape(N, L, H)
    r.neuron_bits = _bits(_array(st, "neuronBits", "u4", N * L * nw, "steps").reshape(N, L, nw), 4 * D)
    r.attn_write_norm = _array(st, "attnWriteNorm", "f4", N * L, "steps").reshape(N, L)
    r.mlp_write_norm = _array(st, "mlpWriteNorm", "f4", N * L, "steps").reshape(N, L)
    r.edge_pairs = _array(ed, "pairs", "u2", 2 * E, "edges").reshape(E, 2)
    r.edge_strength = _array(ed, "strength", "f4", E, "edges")
    r.edges = _bits(_array(st, "edgeBits", "u4", N * ew, "steps").reshape(N, ew), E)
    r.version = root["version"]
    r.attn_top_pos = r.attn_top_weight = None
    if r.version >= 2:
        top = st["attnTop"]
        k = top["k"]
        r.attn_top_pos = _array(top, "pos", "u4", N * L * H * k, "steps.attnTop").reshape(N, L, H, k)
        r.attn_top_weight = _array(top, "weight", "f4", N * L * H * k, "steps.attnTop").reshape(N, L, H, k)
    if len(r.text) != N:
        raise RecordingError(f"recording steps.text: {len(r.text)} strings for {N} steps")
    return r


def summary(r):
    N, L, H = r.head_activity.shape
    lines = [
        f"{r.name}: {N} tokens after a {len(r.prompt_ids)}-token prompt, model {r.model['id']} "
        f"({L} layers x {H} heads x {r.n_embd}), recorded {r.created_at}, version {r.version}",
        f"thresholds: head {r.settings['thresholds']['head']}, neuron {r.settings['thresholds']['neuron']}, "
        f"edge {r.settings['thresholds']['edge']}",
        "arrays:",
    ]
    for a in r.arrays():
        v = getattr(r, a)
        lines.append(f"  {a:16s} {str(v.shape):16s} {v.dtype}")
    if N:
        firing = r.head_firing.mean(axis=0)  # (L, H)
        top = np.argsort(-firing.ravel(), kind="stable")[:5]
        lines.append("heads firing most often: " + ", ".join(f"{r.head_name(n)} {firing.ravel()[n]:.0%}" for n in top))
        lines.append("neurons firing per layer: " + " ".join(f"{x:.1%}" for x in r.neuron_bits.mean(axis=(0, 2))))
        lines.append(f"edges drawn per token: {r.edges.sum(axis=1).mean():.1f} of {r.edges.shape[1]} candidates")
        if r.attn_top_pos is not None:
            # How far back each head's strongest attention reaches from the last token's row, on average.
            row = len(r.prompt_ids) + N - 2
            best = r.attn_top_pos[N - 1, :, :, 0]
            reach = np.where(best == NO_POSITION, 0, row - best.astype(np.int64)).mean()
            lines.append(f"attention rows: top {r.attn_top_pos.shape[-1]} per head; from the last row the strongest "
                         f"position is {reach:.1f} tokens back on average")
    return "\n".join(lines)


def to_json(r):
    out = {a: getattr(r, a).tolist() for a in r.arrays()}
    out.update(name=r.name, text=r.text, model=r.model, version=r.version)
    return json.dumps(out)


def main(argv=None):
    p = argparse.ArgumentParser(description="read a sparse-gpt2 recording into NumPy arrays and summarise it")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the arrays as JSON instead of the summary")
    a = p.parse_args(argv)
    try:
        r = load(a.file)
    except (OSError, RecordingError, KeyError, TypeError, ValueError) as e:
        msg = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        print(f"error: {a.file}: {msg[:500]}", file=sys.stderr)
        return 1
    print(to_json(r) if a.json else summary(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
