# Writes tools/train/tokenizer_sample.json: a varied Python snippet with the ids the Python BPE
# encoder gives it under weights/dense/tokenizer.json, for the TypeScript parity test
# (src/model/trainedTokenizer.test.ts). Rerun after retraining the tokenizer.
import hashlib
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import bpe  # noqa: E402

# Code with unicode (accents, CJK, Greek, an astral emoji), runs of spaces/tabs/newlines,
# numbers, contractions and punctuation clusters: the cases where pre-tokenizers diverge.
TEXT = (
    "# -*- coding: utf-8 -*-\n"
    "\"\"\"Café résumé: naïve π ≈ 3.14159, 中文 and 🐍 — it's the user's job, don't panic.\"\"\"\n"
    "import math, os\n\n\n"
    "class Vector2D:\n"
    "    __slots__ = ('x', 'y')\n\n"
    "    def __init__(self, x=0.0, y=-1e-3):\n"
    "        self.x, self.y = x, y\n\n"
    "    def norm(self) -> float:\n"
    "\treturn math.hypot(self.x, self.y)  # tab-indented on purpose\n\n"
    "MAX_SIZE = 1_000_000 + 0xFF - 0o17 * 2**10\n"
    "data = {'key': [1, 2, 3], \"ümlaut\": None}    \n"
    "if x != y and not (a <= b >= c):\n"
    "        raise ValueError(f\"bad value {x!r:>10}\")\n"
    "    \n"
    "print(\"done\")\n"
)

def main():
    path = os.path.join(here, "..", "..", "weights", "dense", "tokenizer.json")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    enc = bpe.load_tokenizer(path)
    ids = enc.encode(TEXT)
    if enc.decode(ids) != TEXT:
        raise SystemExit("the Python encoder does not round-trip the sample text")
    out = {"tokenizer": "weights/dense/tokenizer.json", "tokenizer_sha256": digest,
           "eot_id": enc.eot_id, "text": TEXT, "ids": ids}
    with open(os.path.join(here, "tokenizer_sample.json"), "w", encoding="utf-8") as f:
        head = json.dumps({k: v for k, v in out.items() if k != "ids"}, ensure_ascii=False, indent=1)
        f.write(head[:-2] + f',\n "ids": {json.dumps(ids)}\n}}\n')  # ids on one line
    print(f"{len(TEXT)} chars -> {len(ids)} ids")


if __name__ == "__main__":
    main()
