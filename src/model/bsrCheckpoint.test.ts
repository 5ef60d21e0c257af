// Block-sparse checkpoints end to end: writing BSR and dense forms, byte-exact convert round trips, loading
// BSR into the same dense weights (and the same CPU-reference logits), file size, and typed errors for
// every malformed BSR checkpoint before anything is converted.
import { describe, expect, it, vi } from 'vitest';
import { BSR_COL_SUFFIX, BSR_CROW_SUFFIX, BSR_VALUES_SUFFIX } from './bsr';
import { loadGpt2Weights, parseModelFiles, validateGpt2Tensors, writeGpt2Checkpoint, type Gpt2Weights } from './checkpoint';
import { ModelFormatError, type ModelFormatErrorCode } from './errors';
import { pruneGpt2 } from './prune';
import { CpuGpt2 } from './reference';
import { parseSafetensors, writeSafetensors, type SafetensorsFile, type TensorToWrite } from './safetensors';
import { makeTestModel, type TestModelOptions } from './testModel';

// n_embd 40 is not a multiple of 16: every matrix has partial edge blocks.
const small: TestModelOptions = { layers: 2, heads: 2, embd: 40, vocab: 50, ctx: 8, seed: 11 };

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** A model pruned to density 1/4 in 16-blocks, written dense-with-zeros in its own dtype and metadata. */
function prunedDense(opts: TestModelOptions, density = 0.25, block = 16): { file: Uint8Array<ArrayBuffer>; weights: Gpt2Weights } {
  const m = makeTestModel(opts);
  const st = parseSafetensors(m.safetensors, 'orig');
  const { weights } = pruneGpt2(loadGpt2Weights(st, m.config), { density, block, method: 'magnitude' });
  const file = writeGpt2Checkpoint(weights, { format: 'dense', dtype: opts.dtype ?? 'F32', metadata: st.metadata });
  return { file, weights };
}

const convert = (bytes: Uint8Array, format: 'dense' | 'bsr', block?: number) =>
  writeGpt2Checkpoint(parseSafetensors(bytes, 'in/model.safetensors'), { format, block });

describe('writeGpt2Checkpoint', () => {
  it('dense → bsr → dense and bsr → dense → bsr are byte-exact, for F32, F16 and BF16', () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const { file: dense } = prunedDense({ ...small, dtype });
      const bsr = convert(dense, 'bsr', 16);
      expect(bsr.byteLength).toBeLessThan(dense.byteLength);
      const dense2 = convert(bsr, 'dense');
      expect(bytesEqual(dense2, dense), dtype).toBe(true);
      const bsr2 = convert(dense2, 'bsr', 16);
      expect(bytesEqual(bsr2, bsr), dtype).toBe(true);
      // The BSR file keeps the dtype, tensor order (companions where the matrix was) and metadata.
      const st = parseSafetensors(bsr, 'x');
      const names = [...st.tensors.keys()];
      const i = names.indexOf(`h.0.attn.c_attn.weight${BSR_CROW_SUFFIX}`);
      expect(names.slice(i - 1, i + 4)).toEqual([
        'h.0.ln_1.bias', `h.0.attn.c_attn.weight${BSR_CROW_SUFFIX}`, `h.0.attn.c_attn.weight${BSR_COL_SUFFIX}`,
        `h.0.attn.c_attn.weight${BSR_VALUES_SUFFIX}`, 'h.0.attn.c_attn.bias',
      ]);
      expect(st.info(`h.1.mlp.c_proj.weight${BSR_VALUES_SUFFIX}`).dtype).toBe(dtype);
      expect(st.info(`h.1.mlp.c_proj.weight${BSR_CROW_SUFFIX}`).dtype).toBe('I32');
      expect(st.metadata).toMatchObject({
        format: 'pt', seed: '11', sparse_format: 'bsr', bsr_block_size: '16',
        'h.0.attn.c_attn.weight.shape': '[40,120]', 'h.1.mlp.c_proj.weight.shape': '[160,40]',
      });
      expect(parseSafetensors(dense, 'd').metadata).toEqual({ format: 'pt', generator: 'sparse-gpt2 make-test-model', seed: '11' });
    }
  });

  it('round-trips a prefixed checkpoint with extra tensors, keeping them where they were', () => {
    const { file } = prunedDense(small);
    const st = parseSafetensors(file, 'x');
    const tensors: TensorToWrite[] = [...st.tensors.values()].map((t) => ({ name: `transformer.${t.name}`, dtype: t.dtype, shape: t.shape, data: st.bytes(t.name) }));
    tensors.splice(5, 0, { name: 'transformer.h.0.attn.bias', dtype: 'U8', shape: [1, 1, 8, 8], data: new Uint8Array(64).fill(1) });
    tensors.push({ name: 'lm_head.weight', dtype: 'F32', shape: tensors[0].shape, data: tensors[0].data });
    const dense = writeSafetensors(tensors, { format: 'pt' });
    const bsr = convert(dense, 'bsr', 32);
    const sparse = parseSafetensors(bsr, 'x');
    expect(sparse.has(`transformer.h.1.mlp.c_fc.weight${BSR_VALUES_SUFFIX}`)).toBe(true);
    expect(sparse.has('transformer.h.0.attn.bias')).toBe(true);
    expect(sparse.metadata['transformer.h.1.mlp.c_fc.weight.shape']).toBe('[40,160]');
    expect(bytesEqual(convert(bsr, 'dense'), dense)).toBe(true);
    expect(bytesEqual(convert(convert(bsr, 'dense'), 'bsr', 32), bsr)).toBe(true);
    // Different block sizes convert through dense.
    expect(bytesEqual(convert(convert(convert(bsr, 'bsr', 16), 'bsr', 64), 'bsr', 32), bsr)).toBe(true);
  });

  it('writes weights in the asked dtype and rejects a block size the kernels lack', () => {
    const m = makeTestModel(small);
    const w = loadGpt2Weights(parseSafetensors(m.safetensors, 'x'), m.config);
    const f16 = parseSafetensors(writeGpt2Checkpoint(w, { format: 'bsr', block: 64, dtype: 'F16' }), 'y');
    expect(f16.info(`h.0.mlp.c_fc.weight${BSR_VALUES_SUFFIX}`).dtype).toBe('F16');
    expect(f16.info('wte.weight').dtype).toBe('F16');
    expect(f16.metadata.format).toBe('pt');
    expect(() => writeGpt2Checkpoint(w, { format: 'bsr', block: 8 })).toThrow(/block must be one of 16, 32, 64/);
    expect(() => writeGpt2Checkpoint(parseSafetensors(m.safetensors, 'x'), { format: 'dense', dtype: 'F16' })).toThrow(/keeps its own dtypes/);
  });

  it('stores a sparse checkpoint in proportion to its density (< 0.35× of dense at 1/4, overhead included)', () => {
    // Matrices dominate this model, as they do GPT-2's blocks (wte/wpe stay dense).
    const opts: TestModelOptions = { layers: 4, heads: 4, embd: 128, vocab: 64, ctx: 16, seed: 2, dtype: 'F16' };
    const { file: dense } = prunedDense(opts, 0.25, 16);
    const bsr = convert(dense, 'bsr', 16);
    expect(bsr.byteLength / dense.byteLength).toBeLessThan(0.35);
    // The matrices alone: values at 1/4 plus 4-byte indices per block and per row-block.
    const st = parseSafetensors(bsr, 'x');
    let sparseBytes = 0;
    for (const t of st.tensors.values()) if (t.name.includes('.bsr_')) sparseBytes += t.end - t.begin;
    const denseMatrixBytes = 4 * 12 * 128 * 128 * 2;
    expect(sparseBytes / denseMatrixBytes).toBeGreaterThan(0.25);
    expect(sparseBytes / denseMatrixBytes).toBeLessThan(0.26);
  });
});

describe('loading BSR checkpoints', () => {
  it('gives the same dense weights and exactly the same CPU-reference logits as the dense-with-zeros form', () => {
    for (const dtype of ['F32', 'F16'] as const) {
      const { file: dense, weights } = prunedDense({ ...small, dtype });
      const bsr = convert(dense, 'bsr', 16);
      const m = makeTestModel({ ...small, dtype });
      const wd = loadGpt2Weights(parseSafetensors(dense, 'd'), m.config);
      const ws = loadGpt2Weights(parseSafetensors(bsr, 's'), m.config);
      expect(wd.sparse).toBeUndefined();
      expect(ws.sparse?.block).toBe(16);
      expect(Object.keys(ws.sparse!.matrices)).toEqual(['h.0.attn.c_attn.weight', 'h.0.attn.c_proj.weight', 'h.0.mlp.c_fc.weight', 'h.0.mlp.c_proj.weight',
        'h.1.attn.c_attn.weight', 'h.1.attn.c_proj.weight', 'h.1.mlp.c_fc.weight', 'h.1.mlp.c_proj.weight']);
      // 40 × 120 in 16-blocks: 3 × 8 = 24 blocks, round(24 / 4) = 6 kept.
      expect(ws.sparse!.matrices['h.0.attn.c_attn.weight']).toBe(6 / 24);
      for (let l = 0; l < small.layers; l++) {
        for (const key of ['attnW', 'attnProjW', 'fcW', 'fcProjW', 'attnB', 'ln2G'] as const) {
          expect([...ws.layers[l][key]]).toEqual([...wd.layers[l][key]]);
          if (dtype === 'F32') expect([...ws.layers[l][key]]).toEqual([...weights.layers[l][key]]);
        }
      }
      const ids = [3, 14, 15, 9, 26, 5, 35, 8];
      const a = new CpuGpt2(wd).forward(ids);
      const b = new CpuGpt2(ws).forward(ids);
      for (let t = 0; t < ids.length; t++) expect(b[t]).toEqual(a[t]);
    }
  });

  it('validates BSR eagerly in parseModelFiles and resolves matrices to their companions', () => {
    const { file: dense } = prunedDense(small);
    const bsr = convert(dense, 'bsr', 16);
    const m = makeTestModel(small);
    const files = parseModelFiles('dir', { config: JSON.stringify(m.configJson), safetensors: bsr });
    const resolved = validateGpt2Tensors(files.safetensors, files.config);
    const fc = resolved.get('h.1.mlp.c_fc.weight')!;
    expect(fc.name).toBe('h.1.mlp.c_fc.weight');
    expect(fc.shape).toEqual([40, 160]);
    expect(fc.bsr?.block).toBe(16);
    expect(fc.bsr?.col.length).toBe(Math.round(3 * 10 / 4));
    expect(resolved.get('h.1.mlp.c_fc.bias')!.bsr).toBeUndefined();
  });
});

describe('malformed BSR checkpoints', () => {
  const m = makeTestModel(small);
  const { file: dense } = prunedDense(small);
  const bsr = parseSafetensors(convert(dense, 'bsr', 16), 'm/model.safetensors');
  const target = 'h.1.mlp.c_fc.weight';

  /** The BSR file with tensors and metadata edited. */
  function edited(edit: (ts: TensorToWrite[], meta: Record<string, string>) => TensorToWrite[] | void): SafetensorsFile {
    const ts: TensorToWrite[] = [...bsr.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: bsr.bytes(t.name).slice() }));
    const meta = { ...bsr.metadata };
    const out = edit(ts, meta) ?? ts;
    return parseSafetensors(writeSafetensors(out, meta), 'm/model.safetensors');
  }
  const find = (ts: TensorToWrite[], name: string) => ts.find((t) => t.name === name)!;
  const i32 = (a: number[]) => new Uint8Array(new Int32Array(a).buffer);

  function expectError(st: SafetensorsFile, code: ModelFormatErrorCode, tensor: string, pattern: RegExp): void {
    const widen = vi.spyOn(st, 'getF32');
    let caught: unknown;
    try {
      loadGpt2Weights(st, m.config);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ModelFormatError);
    const err = caught as ModelFormatError;
    expect(err.code, err.message).toBe(code);
    expect(err.tensor).toBe(tensor);
    expect(err.message).toContain('m/model.safetensors');
    expect(err.message).toMatch(pattern);
    expect(widen).not.toHaveBeenCalled(); // nothing half-loaded
  }

  it('loads the unedited file', () => {
    expect(() => loadGpt2Weights(edited(() => {}), m.config)).not.toThrow();
  });

  it('bad crow, out-of-range or unsorted col, wrong values length', () => {
    // h.1.mlp.c_fc.weight: 40 × 160 → 3 × 10 blocks, 8 kept.
    const crowName = target + BSR_CROW_SUFFIX;
    const colName = target + BSR_COL_SUFFIX;
    const crow = () => [...new Int32Array(bsr.bytes(crowName).slice().buffer)];
    const col = () => [...new Int32Array(bsr.bytes(colName).slice().buffer)];
    expectError(edited((ts) => { const c = crow(); c[0] = 1; find(ts, crowName).data = i32(c); }), 'offsets', crowName, /must start at 0/);
    expectError(edited((ts) => {
      const c = crow();
      [c[1], c[2]] = [c[2] + 1, c[1]];
      find(ts, crowName).data = i32(c);
    }), 'offsets', crowName, /decreases at row-block 1/);
    expectError(edited((ts) => {
      const c = col();
      c[0] = 10;
      find(ts, colName).data = i32(c);
    }), 'offsets', colName, /column-block 10, outside \[0, 10\)/);
    expectError(edited((ts) => {
      const c = crow();
      const k = c.findIndex((v, r) => r < 3 && c[r + 1] - v >= 2); // a row-block with two blocks
      const cc = col();
      [cc[c[k]], cc[c[k] + 1]] = [cc[c[k] + 1], cc[c[k]]];
      find(ts, colName).data = i32(cc);
    }), 'offsets', colName, /must strictly increase/);
    expectError(edited((ts) => {
      const v = find(ts, target + BSR_VALUES_SUFFIX);
      v.shape = [v.shape[0] - 1, 16, 16];
      v.data = v.data.slice(0, v.data.byteLength - 16 * 16 * 4);
    }), 'shape', target + BSR_VALUES_SUFFIX, /\[7, 16, 16\]; 8 blocks of 16×16 need \[8, 16, 16\]/);
  });

  it('logical shape in metadata that differs from config.json', () => {
    expectError(edited((ts, meta) => {
      // A consistent BSR matrix of the wrong logical shape: the check against the config catches it.
      meta[`${target}.shape`] = '[48,160]';
    }), 'shape', target, /BSR logical shape \[48, 160\].*config\.json implies \[40, 160\]/);
    expectError(edited((_, meta) => { meta[`${target}.shape`] = '40x160'; }), 'header-json', target, /must be a JSON array \[rows, cols\]/);
    expectError(edited((_, meta) => { delete meta[`${target}.shape`]; }), 'header-json', target, /no "h\.1\.mlp\.c_fc\.weight\.shape"/);
  });

  it('missing companion, wrong dtypes, metadata without sparse_format or with a bad block size', () => {
    expectError(edited((ts) => ts.filter((t) => t.name !== target + BSR_COL_SUFFIX)), 'missing-tensor', target + BSR_COL_SUFFIX, /BSR companion missing/);
    expectError(edited((ts) => {
      const t = find(ts, target + BSR_CROW_SUFFIX);
      const v = new Int32Array(t.data.slice().buffer);
      t.dtype = 'I64';
      t.data = new Uint8Array(new BigInt64Array([...v].map(BigInt)).buffer);
    }), 'dtype', target + BSR_CROW_SUFFIX, /BSR indices must be I32.*torch\.int32/);
    expectError(edited((ts) => {
      const t = find(ts, target + BSR_VALUES_SUFFIX);
      t.dtype = 'I32';
    }), 'dtype', target + BSR_VALUES_SUFFIX, /F32, F16 or BF16/);
    expectError(edited((_, meta) => { delete meta.sparse_format; }), 'header-json', 'h.0.attn.c_attn.weight', /no "sparse_format"/);
    expectError(edited((_, meta) => { meta.bsr_block_size = '8'; }), 'header-json', 'h.0.attn.c_attn.weight', /must be one of 16, 32, 64 \(got "8"\)/);
  });

  it('a matrix stored twice, a non-prunable tensor as BSR', () => {
    const denseSt = parseSafetensors(dense, 'd');
    expectError(edited((ts) => [...ts, { name: target, dtype: 'F32', shape: [40, 160], data: denseSt.bytes(target).slice() }]),
      'unsupported', target, /stored both dense and as BSR/);
    expectError(edited((ts, meta) => {
      const i = ts.findIndex((t) => t.name === 'wpe.weight');
      ts.splice(i, 1,
        { name: `wpe.weight${BSR_CROW_SUFFIX}`, dtype: 'I32', shape: [2], data: i32([0, 0]) },
        { name: `wpe.weight${BSR_COL_SUFFIX}`, dtype: 'I32', shape: [0], data: new Uint8Array(0) },
        { name: `wpe.weight${BSR_VALUES_SUFFIX}`, dtype: 'F32', shape: [0, 16, 16], data: new Uint8Array(0) });
      meta['wpe.weight.shape'] = '[8,40]';
    }), 'unsupported', 'wpe.weight', /only the attn\.c_attn, attn\.c_proj, mlp\.c_fc and mlp\.c_proj weights may be block-sparse/);
  });

  it('nonzero values in the zero padding of an edge block', () => {
    // Magnitude pruning drops the smaller edge blocks, so poke the unpruned model: h.0.attn.c_attn.weight is
    // 40 × 120, its row-block 2 covers rows 32..47 of 40 and its first stored block starts that row-block.
    const full = parseSafetensors(convert(m.safetensors, 'bsr', 16), 'm/model.safetensors');
    const name = 'h.0.attn.c_attn.weight';
    const crow = new Int32Array(full.bytes(name + BSR_CROW_SUFFIX).slice().buffer);
    expect([...crow]).toEqual([0, 8, 16, 24]);
    const ts: TensorToWrite[] = [...full.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: full.bytes(t.name).slice() }));
    const v = find(ts, name + BSR_VALUES_SUFFIX);
    const f = new Float32Array(v.data.buffer);
    expect(f[(16 * 16 + 7) * 16]).not.toBe(0); // row 39: inside the shape
    expect(f[(16 * 16 + 8) * 16]).toBe(0); // row 40: padding
    f[(16 * 16 + 8) * 16] = 1;
    expectError(parseSafetensors(writeSafetensors(ts, full.metadata), 'm/model.safetensors'), 'shape', name + BSR_VALUES_SUFFIX,
      /block 16 has a nonzero value at \(8, 0\), past the logical shape \[40, 120\]; edge blocks must be zero-padded/);
  });
});
