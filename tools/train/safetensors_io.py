# Minimal safetensors writer/reader (the `safetensors` package is not available from Debian):
# u64 little-endian header length, JSON header padded with spaces to 8 bytes, raw LE data.
import json
import struct

import numpy as np

DTYPES = {np.dtype("float16"): "F16", np.dtype("float32"): "F32"}
NP_OF = {v: k for k, v in DTYPES.items()}


def save(path, tensors, metadata=None):
    """tensors: list of (name, np.ndarray) written in that order, C-contiguous little-endian."""
    header, offset, blobs = {}, 0, []
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in DTYPES:
            raise ValueError(f"safetensors: tensor {name} has unsupported dtype {arr.dtype}")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load(path):
    """Returns {name: np.ndarray} (copies, native dtype from the header)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        dt = NP_OF[info["dtype"]].newbyteorder("<")
        out[name] = np.frombuffer(buf[base + s:base + e], dtype=dt).reshape(info["shape"]).copy()
    return out
