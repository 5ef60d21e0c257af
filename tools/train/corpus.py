# Corpus for the embedded models: the Python standard library sources of the interpreter
# running this script, in a deterministic order, split train/validation by a hash of the path.
import hashlib
import os
import sysconfig

# Directories under the stdlib root that are not "the standard library's own code":
# third-party packages (site/dist-packages) and the regression-test suites, which are large,
# repetitive and full of deliberately odd code. Documented in tools/train/README.md.
EXCLUDED_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}
VAL_PERCENT = 5  # a file goes to validation when sha256(relpath) mod 100 < VAL_PERCENT


def stdlib_root():
    return sysconfig.get_paths()["stdlib"]


def list_files(root=None):
    """Return [relpath] of .py files under the stdlib root, sorted (byte order of the UTF-8 path)."""
    root = root or stdlib_root()
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS)
        for name in filenames:
            if name.endswith(".py"):
                out.append(os.path.relpath(os.path.join(dirpath, name), root))
    out.sort(key=lambda p: p.encode("utf-8"))
    return out


def split_of(relpath):
    h = int.from_bytes(hashlib.sha256(relpath.encode("utf-8")).digest()[:8], "little")
    return "val" if h % 100 < VAL_PERCENT else "train"


def load_corpus(root=None, max_files=None, max_bytes_per_file=None):
    """Read the corpus. Returns (manifest, train_texts, val_texts).

    manifest: list of {"path", "sha256", "bytes", "split"} in corpus order. Files that are not
    valid UTF-8 are skipped and recorded with split "skipped" so the manifest stays complete.
    max_files / max_bytes_per_file only exist for the CI smoke run.
    """
    root = root or stdlib_root()
    files = list_files(root)
    if max_files is not None:
        files = files[:max_files]
    manifest, train, val = [], [], []
    for rel in files:
        with open(os.path.join(root, rel), "rb") as f:
            raw = f.read()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            manifest.append({"path": rel, "sha256": digest, "bytes": len(raw), "split": "skipped"})
            continue
        if max_bytes_per_file is not None:
            text = text[:max_bytes_per_file]
        split = split_of(rel)
        manifest.append({"path": rel, "sha256": digest, "bytes": len(raw), "split": split})
        (val if split == "val" else train).append(text)
    if not train or not val:
        raise SystemExit(f"corpus under {root}: {len(train)} train / {len(val)} val files; "
                         "both splits must be non-empty (raise --max-files)")
    return manifest, train, val
