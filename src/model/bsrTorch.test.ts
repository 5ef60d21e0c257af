// docs/bsr.md's PyTorch code, run for real against the TypeScript writer and loader: torch's
// to_sparse_bsr gives exactly our companions, and torch reads our BSR files back to the same dense
// tensors. Needs python3 with torch (CI installs python3-torch); skipped where there is none. Where the
// `safetensors` package is missing, a minimal stand-in of safe_open / save_file is put on sys.path.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BSR_COL_SUFFIX, BSR_CROW_SUFFIX, BSR_VALUES_SUFFIX } from './bsr';
import { loadGpt2Weights, prunableMatrices, writeGpt2Checkpoint } from './checkpoint';
import type { GPT2Config } from './config';
import { pruneGpt2 } from './prune';
import { parseSafetensors, type SafetensorsFile } from './safetensors';
import { makeTestModel, type TestModelOptions } from './testModel';

const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);

const SHIM_INIT = `
import json, struct
import torch as _torch  # the submodule safetensors.torch would shadow a plain "torch" here
DTYPES = {"F32": _torch.float32, "F16": _torch.float16, "BF16": _torch.bfloat16, "I32": _torch.int32, "I64": _torch.int64, "U8": _torch.uint8}
class safe_open:
    def __init__(self, path, framework, device="cpu"):
        with open(path, "rb") as f:
            self._buf = f.read()
        (n,) = struct.unpack("<Q", self._buf[:8])
        self._header = json.loads(self._buf[8:8 + n])
        self._base = 8 + n
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False
    def keys(self):
        return [k for k in self._header if k != "__metadata__"]
    def metadata(self):
        return self._header.get("__metadata__")
    def get_tensor(self, name):
        info = self._header[name]
        s, e = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        if e == s:
            return _torch.empty(info["shape"], dtype=dtype)
        return _torch.frombuffer(bytearray(self._buf[self._base + s:self._base + e]), dtype=dtype).reshape(info["shape"]).clone()
`;
const SHIM_TORCH = `
import json, struct, torch
from . import DTYPES
NAMES = {v: k for k, v in DTYPES.items()}
def save_file(tensors, filename, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name, t in tensors.items():
        t = t.contiguous()
        data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(filename, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
`;

/** The first python block of docs/bsr.md. */
function docSnippet(): string {
  const md = readFileSync(new URL('../../docs/bsr.md', import.meta.url), 'utf8');
  const m = /```python\n([\s\S]*?)```/.exec(md);
  if (!m) throw new Error('docs/bsr.md has no python block');
  return m[1];
}

describe.skipIf(PYTHON === undefined)('docs/bsr.md PyTorch code', () => {
  const root = mkdtempSync(join(tmpdir(), 'sparse-gpt2-torch-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const shim = join(root, 'shim');
  mkdirSync(join(shim, 'safetensors'), { recursive: true });
  writeFileSync(join(shim, 'safetensors', '__init__.py'), SHIM_INIT);
  writeFileSync(join(shim, 'safetensors', 'torch.py'), SHIM_TORCH);
  writeFileSync(join(root, 'snippet.py'), docSnippet());

  /** Runs the docs' code in a fresh directory whose pruned-dense/model.safetensors is input; returns its two outputs. */
  function runSnippet(name: string, input: Uint8Array): { bsr: SafetensorsFile; dense: SafetensorsFile } {
    const dir = join(root, name);
    for (const d of ['pruned-dense', 'pruned-bsr', 'dense']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'pruned-dense', 'model.safetensors'), input);
    const program = `import sys, warnings; warnings.simplefilter("ignore"); sys.path.append(${JSON.stringify(shim)}); exec(open(${JSON.stringify(join(root, 'snippet.py'))}).read())`;
    execFileSync(PYTHON!, ['-c', program], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const read = (d: string) => parseSafetensors(new Uint8Array(readFileSync(join(dir, d, 'model.safetensors'))), `${name}/${d}`);
    return { bsr: read('pruned-bsr'), dense: read('dense') };
  }

  function expectSameWeights(a: SafetensorsFile, b: SafetensorsFile, config: GPT2Config): void {
    const wa = loadGpt2Weights(a, config);
    const wb = loadGpt2Weights(b, config);
    for (const m of prunableMatrices(config)) expect([...wb.layers[m.layer][m.key]], m.name).toEqual([...wa.layers[m.layer][m.key]]);
    expect([...wb.wte]).toEqual([...wa.wte]);
    expect([...wb.layers[0].fcB]).toEqual([...wa.layers[0].fcB]);
  }

  // n_embd 40: partial edge blocks at B = 32 (the docs' example block).
  const cases: Array<[string, TestModelOptions, number]> = [
    ['f16-pruned', { layers: 2, heads: 2, embd: 40, vocab: 30, ctx: 8, seed: 4, dtype: 'F16' }, 0.5],
    ['f32-full', { layers: 1, heads: 2, embd: 40, vocab: 30, ctx: 8, seed: 5, dtype: 'F32' }, 1],
  ];
  it.each(cases)('%s: torch writes exactly our BSR companions and reads back the same dense tensors', (name, opts, density) => {
    const m = makeTestModel(opts);
    const st = parseSafetensors(m.safetensors, 'orig');
    const { weights } = pruneGpt2(loadGpt2Weights(st, m.config), { density, block: 32, method: 'magnitude' });
    const denseBytes = writeGpt2Checkpoint(weights, { format: 'dense', dtype: opts.dtype, metadata: st.metadata });
    const dense = parseSafetensors(denseBytes, 'ours-dense');
    const ours = parseSafetensors(writeGpt2Checkpoint(dense, { format: 'bsr', block: 32 }), 'ours-bsr');

    const py = runSnippet(name, denseBytes);
    expect(py.bsr.metadata).toMatchObject({ sparse_format: 'bsr', bsr_block_size: '32', 'h.0.attn.c_attn.weight.shape': '[40,120]' });
    for (const mat of prunableMatrices(m.config)) {
      for (const suffix of [BSR_CROW_SUFFIX, BSR_COL_SUFFIX, BSR_VALUES_SUFFIX]) {
        const n = mat.name + suffix;
        expect(py.bsr.info(n).dtype, n).toBe(ours.info(n).dtype);
        expect(py.bsr.info(n).shape, n).toEqual(ours.info(n).shape);
        expect(Buffer.from(py.bsr.bytes(n)).equals(Buffer.from(ours.bytes(n))), n).toBe(true);
      }
    }
    expectSameWeights(dense, py.bsr, m.config);
    expectSameWeights(dense, py.dense, m.config);
    for (const t of dense.tensors.values()) expect(Buffer.from(py.dense.bytes(t.name)).equals(Buffer.from(dense.bytes(t.name))), t.name).toBe(true);

    // And our BSR file through the docs' reader (to_bsr passes companions through; from_bsr densifies them).
    const back = runSnippet(`${name}-ours`, ours.raw);
    for (const t of dense.tensors.values()) expect(Buffer.from(back.dense.bytes(t.name)).equals(Buffer.from(dense.bytes(t.name))), t.name).toBe(true);
  });
});
