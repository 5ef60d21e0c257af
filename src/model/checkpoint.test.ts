// Loading GPT-2 weights by HF name: prefix handling, shape checks against the config, dtypes, and that a
// bad checkpoint fails before any tensor is converted.
import { describe, expect, it, vi } from 'vitest';
import { expectedTensors, loadGpt2Weights, parseModelFiles, validateGpt2Tensors } from './checkpoint';
import { parseConfig, type GPT2Config } from './config';
import { ModelFormatError, type ModelFormatErrorCode } from './errors';
import { roundToF16 } from '../shared/f16';
import { parseSafetensors, writeSafetensors, type SafetensorsFile, type TensorToWrite } from './safetensors';
import { makeTestModel } from './testModel';

const small = { layers: 2, heads: 2, embd: 8, vocab: 20, ctx: 6, seed: 5 } as const;

/** The tensors of a file, to edit and write back. */
function tensorsOf(st: SafetensorsFile): TensorToWrite[] {
  return [...st.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: st.bytes(t.name).slice() }));
}

function rewrite(edit: (ts: TensorToWrite[]) => TensorToWrite[], dtype: 'F32' | 'F16' | 'BF16' = 'F32'): { st: SafetensorsFile; config: GPT2Config } {
  const model = makeTestModel({ ...small, dtype });
  const st = parseSafetensors(model.safetensors, 'm/model.safetensors');
  return { st: parseSafetensors(writeSafetensors(edit(tensorsOf(st))), 'm/model.safetensors'), config: model.config };
}

function expectLoadError(st: SafetensorsFile, config: GPT2Config, code: ModelFormatErrorCode, tensor: string): ModelFormatError {
  const convert = vi.spyOn(st, 'getF32');
  let caught: unknown;
  try {
    loadGpt2Weights(st, config);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelFormatError);
  const err = caught as ModelFormatError;
  expect(err.code, err.message).toBe(code);
  expect(err.tensor).toBe(tensor);
  expect(err.message).toContain('m/model.safetensors');
  expect(err.message).toContain(tensor);
  // Nothing is converted before every tensor has been validated.
  if (code !== 'unsupported') expect(convert).not.toHaveBeenCalled();
  return err;
}

describe('loadGpt2Weights', () => {
  it('returns every tensor with the config-implied size and the stored values', () => {
    const model = makeTestModel(small);
    const st = parseSafetensors(model.safetensors, 'm/model.safetensors');
    const w = loadGpt2Weights(st, model.config);
    const d = small.embd;
    expect(w.wte.length).toBe(small.vocab * d);
    expect(w.wpe.length).toBe(small.ctx * d);
    expect(w.layers.length).toBe(small.layers);
    for (const l of w.layers) {
      expect([l.ln1G, l.ln1B, l.attnW, l.attnB, l.attnProjW, l.attnProjB, l.ln2G, l.ln2B, l.fcW, l.fcB, l.fcProjW, l.fcProjB].map((a) => a.length))
        .toEqual([d, d, 3 * d * d, 3 * d, d * d, d, d, d, 4 * d * d, 4 * d, 4 * d * d, d]);
    }
    expect([...w.layers[1].fcW]).toEqual([...st.getF32('h.1.mlp.c_fc.weight')]);
    expect([...w.lnfB]).toEqual([...st.getF32('ln_f.bias')]);
    expect(w.config).toBe(model.config);
  });

  it('accepts the "transformer." prefix and ignores HF buffers and a tied lm_head', () => {
    const { st, config } = rewrite((ts) => [
      ...ts.map((t) => ({ ...t, name: `transformer.${t.name}` })),
      { name: 'transformer.h.0.attn.bias', dtype: 'F32', shape: [1, 1, 6, 6], data: new Uint8Array(144) },
      { name: 'lm_head.weight', dtype: 'F32', shape: ts[0].shape, data: ts[0].data },
    ]);
    const plain = parseSafetensors(makeTestModel(small).safetensors, 'x');
    const w = loadGpt2Weights(st, config);
    expect([...w.wte]).toEqual([...plain.getF32('wte.weight')]);
    expect([...w.layers[1].attnProjW]).toEqual([...plain.getF32('h.1.attn.c_proj.weight')]);
  });

  it('widens F16 and BF16 checkpoints exactly', () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const f32 = loadGpt2Weights(parseSafetensors(makeTestModel(small).safetensors, 'a'), parseConfig({
        n_layer: 2, n_head: 2, n_embd: 8, n_positions: 6, vocab_size: 20,
      }));
      const m = makeTestModel({ ...small, dtype });
      const w = loadGpt2Weights(parseSafetensors(m.safetensors, 'b'), m.config);
      if (dtype === 'F16') expect([...w.wte]).toEqual([...roundToF16(f32.wte)]);
      const maxErr = Math.max(...w.layers[0].attnW.map((v, i) => Math.abs(v - f32.layers[0].attnW[i])));
      expect(maxErr).toBeGreaterThan(0);
      expect(maxErr).toBeLessThan(dtype === 'F16' ? 1e-3 : 1e-2);
    }
  });

  it('a missing tensor names it and the shape it should have', () => {
    const { st, config } = rewrite((ts) => ts.filter((t) => t.name !== 'h.1.mlp.c_fc.bias'));
    const err = expectLoadError(st, config, 'missing-tensor', 'h.1.mlp.c_fc.bias');
    expect(err.problem).toContain('[32]');
  });

  it('a config with more layers than the file has is a missing tensor', () => {
    const model = makeTestModel(small);
    const st = parseSafetensors(model.safetensors, 'm/model.safetensors');
    expectLoadError(st, { ...model.config, nLayer: 3 }, 'missing-tensor', 'h.2.ln_1.weight');
  });

  it('a wrong shape names expected and actual, and spots a transposed Conv1D weight', () => {
    const { st, config } = rewrite((ts) => ts.map((t) => (t.name === 'h.0.attn.c_attn.weight' ? { ...t, shape: [24, 8] } : t)));
    const err = expectLoadError(st, config, 'shape', 'h.0.attn.c_attn.weight');
    expect(err.problem).toContain('[8, 24] expected');
    expect(err.problem).toContain('file has [24, 8]');
    expect(err.hint).toMatch(/transposed/);
    const last = rewrite((ts) => ts.map((t) => (t.name === 'ln_f.bias' ? { ...t, shape: [2, 4] } : t)));
    expectLoadError(last.st, last.config, 'shape', 'ln_f.bias');
  });

  it('a config that disagrees with the file is a shape error on wte', () => {
    const model = makeTestModel(small);
    const st = parseSafetensors(model.safetensors, 'm/model.safetensors');
    expectLoadError(st, { ...model.config, vocabSize: 21 }, 'shape', 'wte.weight');
  });

  it('a non-float weight is a dtype error', () => {
    const { st, config } = rewrite((ts) => ts.map((t) => (t.name === 'wpe.weight' ? { ...t, dtype: 'I32' } : t)));
    expectLoadError(st, config, 'dtype', 'wpe.weight');
  });

  it('an lm_head.weight different from wte is refused (the head is tied)', () => {
    const { st, config } = rewrite((ts) => [...ts, { name: 'lm_head.weight', dtype: 'F32', shape: ts[0].shape, data: new Uint8Array(ts[0].data.length) }]);
    expectLoadError(st, config, 'unsupported', 'lm_head.weight');
  });
});

describe('expectedTensors / validateGpt2Tensors', () => {
  it('lists 2 + 12·layers + 2 HF names and resolves each one', () => {
    const model = makeTestModel(small);
    const names = expectedTensors(model.config).map((t) => t.name);
    expect(names.length).toBe(4 + 12 * small.layers);
    expect(names).toContain('h.1.attn.c_proj.weight');
    const resolved = validateGpt2Tensors(parseSafetensors(model.safetensors, 'x'), model.config);
    expect([...resolved.keys()]).toEqual(names);
  });
});

describe('parseModelFiles', () => {
  const model = makeTestModel(small);
  const config = JSON.stringify(model.configJson);

  it('parses config, tokenizer and weights and validates shapes', () => {
    const files = parseModelFiles('models/tiny/', { config, safetensors: model.safetensors, tokenizer: '{"model": {}}' });
    expect(files.config).toEqual(model.config);
    expect(files.safetensors.file).toBe('models/tiny/model.safetensors');
    expect(files.tokenizerJson).toEqual({ model: {} });
    expect(files.source).toBe('models/tiny/');
  });

  it('names the file whose JSON is broken', () => {
    expect(() => parseModelFiles('d', { config: '{oops', safetensors: model.safetensors }))
      .toThrowError(expect.objectContaining({ code: 'config', file: 'd/config.json' }));
    expect(() => parseModelFiles('d', { config, safetensors: model.safetensors, tokenizer: 'nope' }))
      .toThrowError(expect.objectContaining({ code: 'tokenizer', file: 'd/tokenizer.json' }));
  });

  it('rejects weights that do not match the config eagerly', () => {
    const wrong = JSON.stringify({ ...model.configJson, n_embd: 16 });
    expect(() => parseModelFiles('d', { config: wrong, safetensors: model.safetensors }))
      .toThrowError(expect.objectContaining({ code: 'shape', tensor: 'wte.weight', file: 'd/model.safetensors' }));
  });
});
