# Minimal safetensors writer/reader (the `safetensors` package is not available from Debian):
# u64 little-endian header length, JSON header padded with spaces to 8 bytes, raw LE data. Also the
# block-sparse (BSR) layout of docs/bsr.md: save_bsr writes it, load gives every matrix back dense.
import json
import struct

import numpy as np

DTYPES = {np.dtype("float16"): "F16", np.dtype("float32"): "F32", np.dtype("int32"): "I32"}
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


BSR_SUFFIXES = (".bsr_crow_indices", ".bsr_col_indices", ".bsr_values")


def to_bsr(w, b):
    """The BSR of a 2-D [in, out] array in b x b blocks (docs/bsr.md): crow (I32), col (I32), values
    [nnz, b, b]; a block is kept when any of its bits is nonzero (so a block of -0.0 would be kept: the
    export writes +0.0 in pruned blocks)."""
    n_in, n_out = w.shape
    if n_in % b or n_out % b:
        raise ValueError(f"BSR: shape {list(w.shape)} is not a multiple of the block {b}")
    blocks = w.reshape(n_in // b, b, n_out // b, b).transpose(0, 2, 1, 3)   # [rb, cb, b, b]
    keep = (blocks.view(np.uint16 if w.dtype == np.float16 else np.uint32) != 0).any(axis=(2, 3))
    crow = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    rb, cb = np.nonzero(keep)                                              # row-major: sorted by rb, then cb
    return crow, cb.astype(np.int32), np.ascontiguousarray(blocks[rb, cb])


def save_bsr(path, tensors, bsr_names, block, metadata=None):
    """Like save, with the matrices named in bsr_names stored as BSR companions in place of the dense tensor."""
    out, meta = [], dict(metadata or {}, sparse_format="bsr", bsr_block_size=str(block))
    for name, arr in tensors:
        if name not in bsr_names:
            out.append((name, arr))
            continue
        crow, col, values = to_bsr(arr, block)
        out += [(name + ".bsr_crow_indices", crow), (name + ".bsr_col_indices", col), (name + ".bsr_values", values)]
        meta[name + ".shape"] = json.dumps(list(arr.shape), separators=(",", ":"))
    save(path, out, meta)


def from_bsr(crow, col, values, shape):
    b = values.shape[1]
    n_in, n_out = shape
    if len(crow) != n_in // b + 1 or crow[0] != 0 or crow[-1] != len(col) or np.any(np.diff(crow) < 0):
        raise ValueError("BSR: bad crow_indices")
    if np.any(col < 0) or np.any(col >= n_out // b):
        raise ValueError("BSR: column index out of range")
    w = np.zeros((n_in // b, n_out // b, b, b), dtype=values.dtype)
    rb = np.repeat(np.arange(n_in // b), np.diff(crow))
    w[rb, col] = values
    return w.transpose(0, 2, 1, 3).reshape(n_in, n_out)


def load_raw(path):
    """(tensors as stored, __metadata__)."""
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
    return out, header.get("__metadata__", {})


def load(path):
    """Returns {name: np.ndarray} (copies, native dtype from the header); BSR matrices come back dense
    under their own name, zeros filled in."""
    raw, meta = load_raw(path)
    if meta.get("sparse_format") != "bsr":
        return raw
    out = {}
    for name, t in raw.items():
        if name.endswith(".bsr_values"):
            base = name[: -len(".bsr_values")]
            shape = json.loads(meta[base + ".shape"])
            out[base] = from_bsr(raw[base + ".bsr_crow_indices"], raw[base + ".bsr_col_indices"], t, shape)
        elif not name.endswith(BSR_SUFFIXES):
            out[name] = t
    return out
