// Generated test models: deterministic bytes, HF layout, and weight statistics that make every part of the
// network matter (LayerNorm gains ≠ 1, biases ≠ 0, O(1) pre-activations).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadGpt2Weights } from './checkpoint';
import { parameterCount, parseConfig } from './config';
import { readModelDir } from './files';
import { parseSafetensors } from './safetensors';
import { makeTestModel, PRESETS, writeModelDir } from './testModel';

const opts = { layers: 3, heads: 4, embd: 32, vocab: 50, ctx: 16, seed: 7 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (const v of a) { s += v; s2 += v * v; min = Math.min(min, v); max = Math.max(max, v); }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), min, max };
}

describe('makeTestModel', () => {
  it('is deterministic: same options give identical bytes, another seed different weights', () => {
    const a = makeTestModel(opts);
    const b = makeTestModel(opts);
    const c = makeTestModel({ ...opts, seed: 8 });
    expect(sha(a.safetensors)).toBe(sha(b.safetensors));
    expect(a.safetensors.length).toBe(c.safetensors.length);
    expect(sha(a.safetensors)).not.toBe(sha(c.safetensors));
    const wa = parseSafetensors(a.safetensors, 'a').getF32('h.0.mlp.c_fc.weight');
    const wc = parseSafetensors(c.safetensors, 'c').getF32('h.0.mlp.c_fc.weight');
    expect(wa.some((v, i) => v !== wc[i])).toBe(true);
  });

  it('gives each tensor its own stream (no two weight matrices alike)', () => {
    const st = parseSafetensors(makeTestModel(opts).safetensors, 'x');
    const first = (name: string) => [...st.getF32(name).subarray(0, 8)];
    expect(first('h.0.attn.c_attn.weight')).not.toEqual(first('h.1.attn.c_attn.weight'));
    expect(first('h.0.mlp.c_fc.weight')).not.toEqual(first('h.0.attn.c_attn.weight'));
  });

  it('writes the HF layout: unprefixed names, [in, out] matrices, format metadata, matching config', () => {
    const m = makeTestModel(opts);
    const st = parseSafetensors(m.safetensors, 'x');
    expect(st.metadata.format).toBe('pt');
    expect(st.tensors.get('h.2.mlp.c_proj.weight')?.shape).toEqual([128, 32]);
    expect(st.tensors.get('h.0.attn.c_attn.weight')?.shape).toEqual([32, 96]);
    expect([...st.tensors.keys()].every((n) => !n.startsWith('transformer.'))).toBe(true);
    expect(parseConfig(m.configJson)).toEqual(m.config);
    expect(m.configJson.torch_dtype).toBe('float32');
    const w = loadGpt2Weights(st, m.config);
    let total = w.wte.length + w.wpe.length + w.lnfG.length + w.lnfB.length;
    for (const l of w.layers) for (const t of Object.values(l)) total += t.length;
    expect(total).toBe(parameterCount(m.config));
  });

  it('draws non-trivial LayerNorm parameters and biases at the documented scales', () => {
    const big = { layers: 2, heads: 4, embd: 64, vocab: 500, ctx: 32, seed: 1 };
    const st = parseSafetensors(makeTestModel(big).safetensors, 'x');
    const gain = stats(st.getF32('h.1.ln_2.weight'));
    expect(gain.min).toBeGreaterThanOrEqual(0.9);
    expect(gain.max).toBeLessThanOrEqual(1.1);
    expect(gain.std).toBeGreaterThan(0.02);
    const bias = stats(st.getF32('h.0.attn.c_attn.bias'));
    expect(bias.std).toBeGreaterThan(0.05);
    // Weights feeding attention and the MLP have std 1/√n_embd so their outputs are O(1).
    for (const name of ['h.0.attn.c_attn.weight', 'h.1.mlp.c_fc.weight']) {
      expect(stats(st.getF32(name)).std).toBeCloseTo(1 / Math.sqrt(64), 2);
    }
    expect(stats(st.getF32('wte.weight')).std).toBeCloseTo(2 / Math.sqrt(64), 2);
  });

  it('stores F16 and BF16 when asked', () => {
    for (const [dtype, torch] of [['F16', 'float16'], ['BF16', 'bfloat16']] as const) {
      const m = makeTestModel({ ...opts, dtype });
      const st = parseSafetensors(m.safetensors, 'x');
      expect([...st.tensors.values()].every((t) => t.dtype === dtype)).toBe(true);
      expect(m.configJson.torch_dtype).toBe(torch);
      expect(m.safetensors.length).toBeLessThan(makeTestModel(opts).safetensors.length);
    }
  });

  it('rejects impossible shapes', () => {
    expect(() => makeTestModel({ ...opts, heads: 5 })).toThrow(/divisible/);
    expect(() => makeTestModel({ ...opts, layers: 0 })).toThrow(/n_layer/);
  });

  it('has the GPT-2 small preset', () => {
    const p = PRESETS['gpt2-124m'];
    expect(p).toEqual({ layers: 12, heads: 12, embd: 768, vocab: 50257, ctx: 1024 });
    const cfg = parseConfig({ n_layer: p.layers, n_head: p.heads, n_embd: p.embd, n_positions: p.ctx, vocab_size: p.vocab });
    expect(parameterCount(cfg)).toBe(124_439_808);
  });
});

describe('writeModelDir / readModelDir', () => {
  it('writes files that read back to the same model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-'));
    try {
      const m = makeTestModel(opts);
      await writeModelDir(join(dir, 'nested', 'model'), m, { model: { type: 'BPE' } });
      const back = await readModelDir(join(dir, 'nested', 'model'));
      expect(back.config).toEqual(m.config);
      expect(back.tokenizerJson).toEqual({ model: { type: 'BPE' } });
      expect(sha(await readFile(join(dir, 'nested', 'model', 'model.safetensors')))).toBe(sha(m.safetensors));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
