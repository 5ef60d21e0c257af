// Perplexity from the engine's logits (real WebGPU through Dawn) equals the one computed from the CPU
// reference forward on the same small random model, across several context windows; plus the maths.

import { describe, expect, it } from 'vitest';
import { gpuCheck, testGpu } from '../kernels/testing';
import { loadGpt2Weights } from './checkpoint';
import { Gpt2Engine } from './gpt2';
import { PERPLEXITY_PASSAGE } from './passage';
import { perplexity, perplexityWindows, windowNll } from './perplexity';
import { CpuGpt2 } from './reference';
import { parseSafetensors } from './safetensors';
import { makeTestModel } from './testModel';
import { mulberry32 } from '../shared/random';
import { gpt2TokenizerFromNpm } from './gpt2Tokenizer';
import { loadTokenizer } from './tokenizer';

describe('windowNll and windows', () => {
  it('is −log softmax of the next token, summed', () => {
    const logits = [new Float32Array([0, Math.log(3)]), new Float32Array([5, 5])];
    const r = windowNll(logits, [0, 1]);
    expect(r.count).toBe(1);
    expect(r.sum).toBeCloseTo(-Math.log(3 / 4), 7) // log 3 is stored as f32;
    // Uniform logits over V give perplexity V.
    return perplexity(() => [new Float32Array(7), new Float32Array(7), new Float32Array(7)], [1, 2, 3], 8).then((p) => {
      expect(p.perplexity).toBeCloseTo(7, 10);
      expect(p.predicted).toBe(2);
    });
  });

  it('cuts at the context and refuses what it cannot score', async () => {
    expect(perplexityWindows([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    await expect(perplexity(() => [new Float32Array(2)], [1], 4)).rejects.toThrow(/nothing to predict/);
    expect(() => windowNll([new Float32Array(2), new Float32Array(2)], [0, 2])).toThrow(/outside/);
  });
});

describe('perplexity on the engine equals the CPU reference', async () => {
  const gpu = await testGpu();

  it('matches CpuGpt2 over three windows of a random model', async () => {
    const m = makeTestModel({ layers: 2, heads: 4, embd: 64, vocab: 300, ctx: 16, seed: 77 });
    const w = loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
    const next = mulberry32(5);
    const ids = Array.from({ length: 40 }, () => Math.floor(next() * 300)); // windows of 16, 16, 8
    const engine = await gpuCheck(gpu, 'create', () => Gpt2Engine.create(gpu, w));
    try {
      const got = await gpuCheck(gpu, 'perplexity', () => perplexity((x) => engine.prefillLogits(x), ids, 16));
      const cpu = new CpuGpt2(w);
      const want = await perplexity((x) => {
        cpu.reset();
        return cpu.forward(x);
      }, ids, 16);
      expect(got.windows).toBe(3);
      expect(got.predicted).toBe(15 + 15 + 7);
      expect(want.predicted).toBe(got.predicted);
      // A random model is close to uniform: perplexity near the vocabulary size, and equal to the reference's.
      expect(got.perplexity).toBeGreaterThan(50);
      expect(Math.abs(got.meanNll - want.meanNll)).toBeLessThan(1e-3);
      expect(got.perplexity / want.perplexity).toBeCloseTo(1, 3);
    } finally {
      engine.destroy();
    }
  });

  it('the built-in passage is about 100 GPT-2 tokens', async () => {
    const tok = await loadTokenizer(await gpt2TokenizerFromNpm());
    const n = tok.encode(PERPLEXITY_PASSAGE).length;
    expect(n).toBeGreaterThanOrEqual(80);
    expect(n).toBeLessThanOrEqual(120);
  });
});
