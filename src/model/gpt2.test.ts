// The whole engine against the CPU reference on random models: prefill logits of every position,
// then 32 decode steps (top logits and greedy ids), a split LM head, a full context, seeded sampling,
// and the per-token discipline (no buffer created while generating).

import { describe, expect, it } from 'vitest';
import { testGpu, gpuCheck, relErr, rng, countBuffersCreated } from '../kernels/testing';
import { makeTestModel } from './testModel';
import { parseSafetensors } from './safetensors';
import { loadGpt2Weights } from './checkpoint';
import { Gpt2Engine, EngineInputError, crossoverRows, type KernelVariants } from './gpt2';
import { CpuGpt2 } from './reference';
import { topIds } from '../kernels/sample';

function model(layers: number, heads: number, embd: number, vocab: number, ctx: number, seed: number) {
  const m = makeTestModel({ layers, heads, embd, vocab, ctx, seed });
  return loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
}

/** Error of a logit vector relative to its scale (max |logit|), the "1e-3 of the logit scale". */
function logitErr(got: ArrayLike<number>, ref: Float32Array): number {
  return relErr(got, ref);
}

describe('GPT-2 engine equals the CPU reference', async () => {
  const gpu = await testGpu();

  for (const [layers, heads, embd, vocab, ctx, variants] of [
    [2, 4, 64, 300, 64, { gemv: 'coop', layernorm: 'coop', attention: 'coop', matmul: 'tiled' }],
    [2, 4, 64, 300, 64, { gemv: 'row', layernorm: 'narrow', attention: 'narrow', matmul: 'row' }],
    // Prompt-length switch: the 7-token prompt prefills with the row variant, the 9-token check below with tiled.
    [2, 4, 64, 300, 64, { gemv: 'row', layernorm: 'narrow', attention: 'coop', matmul: 'tiled', matmulShort: 'row', shortPrefillRows: 8 }],
    [3, 5, 40, 257, 48, undefined], // headDim 8, nEmbd not a multiple of the 64-wide tiles; variants measured
  ] as Array<[number, number, number, number, number, KernelVariants | undefined]>) {
    it(`prefill + 32 decode steps: L=${layers} H=${heads} D=${embd} V=${vocab} C=${ctx} ${JSON.stringify(variants ?? 'measured')}`, async () => {
      const w = model(layers, heads, embd, vocab, ctx, 7 + layers);
      const engine = await Gpt2Engine.create(gpu, w, { variants });
      if (variants) expect({ gemv: engine.variants.gemv, layernorm: engine.variants.layernorm, attention: engine.variants.attention, matmul: engine.variants.matmul, matmulShort: engine.variants.matmulShort, shortPrefillRows: engine.variants.shortPrefillRows }).toEqual({ matmulShort: undefined, shortPrefillRows: undefined, ...variants });
      const ref = new CpuGpt2(w);
      const prompt = [1, 17, 42, 5, 99, 3, 250];
      await gpuCheck(gpu, 'model', async () => {
        const gpuPrefill = await engine.prefillLogits(prompt);
        const cpuPrefill = ref.forward(prompt);
        for (let t = 0; t < prompt.length; t++) expect(logitErr(gpuPrefill[t], cpuPrefill[t])).toBeLessThan(1e-3);
        if (variants?.matmulShort) {
          const longer = [...prompt, 8, 9];
          ref.reset();
          const cpuLonger = ref.forward(longer);
          const gpuLonger = await engine.prefillLogits(longer);
          for (let t = 0; t < longer.length; t++) expect(logitErr(gpuLonger[t], cpuLonger[t])).toBeLessThan(1e-3);
          expect(engine.prefillList(longer.length, false)).not.toBe(engine.prefillList(prompt.length, false));
          expect(engine.prefillList(longer.length, true)).not.toBe(engine.prefillList(prompt.length, true));
          ref.reset();
        }

        const out = await engine.generate(prompt, { maxTokens: 33, greedy: true, topLogits: 10 });
        expect(out.ids.length).toBe(33);
        expect(out.decodeMs.length).toBe(32);
        ref.reset();
        let logits = ref.forward(prompt)[prompt.length - 1];
        for (const step of out.steps) {
          const top = step.top!;
          expect(top.length).toBe(10);
          const scale = Math.max(1, ...Array.from(logits, Math.abs));
          for (const [id, value] of top) expect(Math.abs(value - logits[id]) / scale).toBeLessThan(1e-3);
          // The GPU's top ids are the reference's, unless two reference logits are closer than the tolerance.
          const want = topIds(logits, 2);
          if (logits[want[0]] - logits[want[1]] > 1e-3 * scale) expect(step.id).toBe(want[0]);
          logits = ref.forward([step.id])[0];
        }
      });
      engine.destroy();
    });
  }

  it('crossoverRows: where two linear prefill costs cross', () => {
    // Short winner 2 ms ahead at T=8, 6 ms behind at T=64: the lines cross a quarter of the way, T=22.
    expect(crossoverRows(8, -2, 64, 6)).toBe(22);
    expect(crossoverRows(8, -1e-9, 64, 100)).toBe(8);
    expect(() => crossoverRows(8, 1, 64, 2)).toThrow(RangeError);
  });

  it('a split LM head (tiny binding limit) gives the same tokens and logits', async () => {
    const w = model(1, 2, 32, 1000, 32, 3);
    const whole = await Gpt2Engine.create(gpu, w);
    // The same kernels as `whole` (measured variants can differ between two loads when two are about as fast).
    const split = await Gpt2Engine.create(gpu, w, { maxBindingBytes: 16 * 1024, variants: whole.variants });
    expect(whole.lmHeadChunks).toBe(1);
    expect(split.lmHeadChunks).toBeGreaterThan(2);
    const opts = { maxTokens: 8, greedy: true, topLogits: 5 };
    const a = await gpuCheck(gpu, 'whole', () => whole.generate([3, 4, 5], opts));
    const b = await gpuCheck(gpu, 'split', () => split.generate([3, 4, 5], opts));
    expect(b.ids).toEqual(a.ids);
    expect(b.steps.map((s) => s.top)).toEqual(a.steps.map((s) => s.top));
    // The bench's blocks / head split (profileDecodeSplit) covers the step's dispatches once, the head being
    // ln_f, every row chunk of the LM head and the sampler, whatever the number of chunks.
    for (const e of [whole, split]) {
      const { blocks, head } = e.decodeParts;
      expect([...blocks, ...head]).toEqual([...e.decodeDispatches]);
      expect(head.map((d) => d.label.replace(/\[\d+\]/, '[#]').replace(/ \[.*\]$/, ''))).toEqual(['ln_f (last row)', ...Array(e.lmHeadChunks).fill('lm_head[#]'), 'sample']);
      const t = await e.profileDecodeSplit(4);
      expect(t.blocksMs).toBeGreaterThanOrEqual(0);
      expect(t.headMs).toBeGreaterThanOrEqual(0);
    }
    whole.destroy();
    split.destroy();
  });

  it('stops with context-full at the end of the context, and rejects bad input without running', async () => {
    const w = model(1, 2, 32, 100, 16, 4);
    const engine = await Gpt2Engine.create(gpu, w);
    const out = await gpuCheck(gpu, 'ctx', () => engine.generate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { maxTokens: 50, greedy: true }));
    expect(out.stopReason).toBe('context-full');
    // Positions 10..15 are fed back (6 decode steps) after the prefill's token: 7 tokens in all.
    expect(out.ids.length).toBe(7);
    await expect(engine.generate([], { maxTokens: 1, greedy: true })).rejects.toThrow(EngineInputError);
    await expect(engine.generate([100], { maxTokens: 1, greedy: true })).rejects.toThrow(/outside the vocabulary/);
    await expect(engine.generate(new Array(17).fill(1), { maxTokens: 1, greedy: true })).rejects.toThrow(/exceeds the context/);
    engine.destroy();
  });

  it('non-finite logits end the generation with a typed stop, never an id outside the vocabulary', async () => {
    // The loader refuses such weights; the engine must still not pass on a token if the arithmetic breaks.
    for (const bad of [NaN, Infinity]) {
      const w = model(1, 2, 32, 100, 16, 4);
      w.lnfB[3] = bad; // every logit becomes non-finite (NaN) or one row of the head Inf · wte
      const engine = await Gpt2Engine.create(gpu, w);
      for (const greedy of [true, false]) {
        const out = await gpuCheck(gpu, 'non-finite', () => engine.generate([1, 2, 3], { maxTokens: 5, greedy, temperature: 0.8, topK: 10 }));
        expect(out.stopReason).toBe('non-finite-logits');
        expect(out.ids).toEqual([]);
        expect(out.error).toMatch(/logits at position 2 are not finite/);
      }
      engine.destroy();
    }
  });

  it('seeded sampling is reproducible, draws from the top-k, and creates no buffer per token', async () => {
    const w = model(2, 2, 32, 200, 64, 5);
    const engine = await Gpt2Engine.create(gpu, w);
    const ref = new CpuGpt2(w);
    const opts = { maxTokens: 20, greedy: false, temperature: 1.5, topK: 5, seed: 11 };
    const { result: a, created } = await countBuffersCreated(gpu.device, () => gpuCheck(gpu, 'sample a', () => engine.generate([1, 2], opts)));
    expect(created).toBe(0);
    const b = await engine.generate([1, 2], opts);
    const c = await engine.generate([1, 2], { ...opts, seed: 12 });
    expect(b.ids).toEqual(a.ids);
    expect(c.ids).not.toEqual(a.ids);
    let logits = ref.forward([1, 2])[1];
    for (const id of a.ids) {
      expect(topIds(logits, 5)).toContain(id);
      logits = ref.forward([id])[0];
    }
    engine.destroy();
  });

  it('block-sparse weights run on BSR kernels, skip dead heads, and equal the reference and the dense kernels', async () => {
    const B = 16 as const;
    const [D, H] = [64, 4];
    const w = model(2, H, D, 300, 48, 21);
    // Zero about 3/4 of the 16 x 16 blocks of every matrix (HF [in, out] layout), and all of head 2's
    // output-projection rows in layer 1 (a dead head).
    const r = rng(5);
    const zeroBlocks = (a: Float32Array, rows: number, cols: number) => {
      for (let rb = 0; rb < rows / B; rb++) for (let cb = 0; cb < cols / B; cb++) {
        if ((r(1) + 1) / 2 < 0.25) continue;
        for (let i = rb * B; i < rb * B + B; i++) a.fill(0, i * cols + cb * B, i * cols + cb * B + B);
      }
    };
    for (const l of w.layers) {
      zeroBlocks(l.attnW, D, 3 * D);
      zeroBlocks(l.attnProjW, D, D);
      zeroBlocks(l.fcW, D, 4 * D);
      zeroBlocks(l.fcProjW, 4 * D, D);
    }
    w.layers[1].attnProjW.fill(0, 2 * (D / H) * D, 3 * (D / H) * D);
    const sparse = await Gpt2Engine.create(gpu, w, { block: B, crossoverDensity: 1 });
    const dense = await Gpt2Engine.create(gpu, w, { block: B, crossoverDensity: 0 });
    expect(sparse.matrices.every((m) => m.kind === 'bsr')).toBe(true);
    expect(dense.matrices.every((m) => m.kind === 'dense')).toBe(true);
    expect(Math.max(...sparse.matrices.map((m) => m.blockDensity))).toBeLessThan(0.5);
    expect(sparse.activeHeads[1]).not.toContain(2);
    expect(sparse.weightBytesPerToken).toBeLessThan(dense.weightBytesPerToken);
    const ref = new CpuGpt2(w);
    const prompt = [4, 8, 15, 16, 23, 42];
    await gpuCheck(gpu, 'sparse model', async () => {
      const gp = await sparse.prefillLogits(prompt);
      const cp = ref.forward(prompt);
      for (let t = 0; t < prompt.length; t++) expect(relErr(gp[t], cp[t])).toBeLessThan(1e-3);
      const a = await sparse.generate(prompt, { maxTokens: 12, greedy: true, topLogits: 5 });
      const b = await dense.generate(prompt, { maxTokens: 12, greedy: true, topLogits: 5 });
      expect(a.ids).toEqual(b.ids);
      for (let i = 0; i < a.steps.length; i++) {
        for (let j = 0; j < 5; j++) {
          expect(a.steps[i].top![j][0]).toBe(b.steps[i].top![j][0]);
          expect(Math.abs(a.steps[i].top![j][1] - b.steps[i].top![j][1])).toBeLessThan(1e-3);
        }
      }
    });
    sparse.destroy();
    dense.destroy();
  });
});
