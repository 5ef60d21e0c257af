// Embedding, LayerNorm and sampler kernels against their CPU references.

import { describe, expect, it } from 'vitest';
import { testKernelContext, gpuCheck, readF32, rng, randomArray, relErr } from './testing';
import { runOnce } from './kernel';
import { uploadMatrix, rowChunks } from './packed';
import { createEmbed, embedRef } from './embed';
import { createLayerNorm, layerNormRef, type LayerNormVariant } from './layernorm';
import { createSample, samplerParams, sampleRef, topIds, SAMPLE_RESULT_WORDS } from './sample';
import { roundToF16 } from '../shared/f16';
import { readBuffer } from '../gpu/buffers';

describe('small kernels match their CPU references', async () => {
  const ctx = await testKernelContext();

  it('embed: token + position rows, across several wte chunks, at an offset position', async () => {
    const [V, D, C] = [700, 22, 40];
    const r = rng(1);
    const wte = randomArray(V * D, r, 1);
    const wpe = randomArray(C * D, r, 1);
    const ids = [0, 699, 5, 350, 351, 123];
    const pos0 = 7;
    const got = await gpuCheck(ctx.gpu, 'embed', async () => {
      const wteM = uploadMatrix(ctx.pool, 'wte', wte, V, D, 'rows-cols');
      const wpeM = uploadMatrix(ctx.pool, 'wpe', wpe, C, D, 'rows-cols');
      const chunks = rowChunks(wteM, 12_000, 256);
      expect(chunks.length).toBeGreaterThan(1);
      const tokens = ctx.pool.storage('tokens', (C + 1) * 4);
      ctx.device.queue.writeBuffer(tokens, pos0 * 4, new Uint32Array(ids));
      const x = ctx.pool.storage('x', ids.length * D * 4);
      await runOnce(ctx, createEmbed(ctx, { wte: wteM, wteChunks: chunks, wpe: wpeM, tokens, x }), { pos0, T: ids.length, rand: 0, writePos: 0 });
      return readF32(ctx.device, x, ids.length * D);
    });
    expect(relErr(got, embedRef(roundToF16(wte), roundToF16(wpe), D, ids, pos0))).toBe(0);
  });

  for (const [rows, n, variant] of [[1, 1, 'coop'], [3, 7, 'coop'], [5, 300, 'coop'], [2, 1000, 'coop'], [1, 5, 'narrow'], [3, 7, 'narrow'], [4, 250, 'narrow'], [2, 1000, 'narrow']] as Array<[number, number, LayerNormVariant]>) {
    it(`layernorm ${variant} rows=${rows} n=${n}, and the last-row-only form`, async () => {
      const r = rng(rows * 100 + n);
      const x = randomArray(rows * n, r, 3).map((v, i) => v + (i % 5));
      const g = randomArray(n, r, 1);
      const b = randomArray(n, r, 1);
      const { all, last } = await gpuCheck(ctx.gpu, 'layernorm', async () => {
        const xb = ctx.pool.upload('x', x);
        const gb = ctx.pool.upload('g', g);
        const bb = ctx.pool.upload('b', b);
        const y = ctx.pool.storage('y', rows * n * 4);
        const yl = ctx.pool.storage('yl', n * 4);
        await runOnce(ctx, [
          createLayerNorm(ctx, { label: 'ln', nEmbd: n, eps: 1e-5, x: xb, g: gb, b: bb, y, variant }),
          createLayerNorm(ctx, { label: 'lnLast', nEmbd: n, eps: 1e-5, x: xb, g: gb, b: bb, y: yl, lastRowOnly: true, variant }),
        ], { pos0: 0, T: rows, rand: 0, writePos: 0 });
        return { all: await readF32(ctx.device, y, rows * n), last: await readF32(ctx.device, yl, n) };
      });
      const expected = layerNormRef(x, rows, n, g, b, 1e-5);
      expect(relErr(all, expected)).toBeLessThan(1e-5);
      expect(relErr(last, expected.subarray((rows - 1) * n))).toBeLessThan(1e-5);
    });
  }

  for (const [V, greedy, topK, temperature, nTop] of [
    [1, true, 1, 1, 1],
    [50257, true, 1, 1, 10],
    [3000, false, 40, 0.8, 5],
    [100, false, 64, 2, 64],
    // Around the sampler's 64 and 16 threads: one logit more than threads, and fewer logits than top-k.
    [65, false, 40, 1, 8],
    [63, false, 64, 0.5, 64],
    [17, false, 40, 1, 8],
    [15, true, 1, 1, 15],
  ] as Array<[number, boolean, number, number, number]>) {
    for (const variant of ['wide', 'narrow'] as const) it(`sample ${variant} V=${V} greedy=${greedy} topK=${topK} T=${temperature} nTop=${nTop}`, async () => {
      const r = rng(V);
      const logits = randomArray(V, r, 8);
      if (V > 10) logits[V - 1] = logits[topIds(logits, 1)[0]]; // a tie: lower id must win
      for (const rand of [0, 0.37, 0.999]) {
        const s = { greedy, topK, temperature, nTop };
        const res = await gpuCheck(ctx.gpu, 'sample', async () => {
          const lb = ctx.pool.upload('logits', logits);
          const result = ctx.pool.storage('result', SAMPLE_RESULT_WORDS * 4);
          const tokens = ctx.pool.storage('tokens', 16 * 4);
          const params = ctx.pool.uniform('params', samplerParams(V, s));
          await runOnce(ctx, [createSample(ctx, { label: 'sample', vocab: V, logits: lb, result, tokens, params, variant })], { pos0: 0, T: 1, rand, writePos: 3 });
          return { out: new Uint32Array(await readBuffer(ctx.device, result)), tok: new Uint32Array(await readBuffer(ctx.device, tokens)) };
        });
        const want = sampleRef(logits, s, rand);
        expect(res.out[0]).toBe(want);
        expect(res.tok[3]).toBe(want);
        // Never more entries than logits (V = 63 asks for 64).
        const n = Math.min(nTop, V);
        expect(res.out[1]).toBe(n);
        const f = new Float32Array(res.out.buffer);
        const ids = topIds(logits, n);
        for (let j = 0; j < n; j++) {
          expect(res.out[2 + 2 * j]).toBe(ids[j]);
          expect(f[3 + 2 * j]).toBe(logits[ids[j]]);
        }
      }
    });
  }

  // The sampler's worst orders for its per-thread lists: ascending logits (every logit enters every list)
  // and all logits equal (the order is the ids alone).
  for (const [name, make] of [
    ['ascending', (V: number) => Float32Array.from({ length: V }, (_, i) => i / V)],
    ['all equal', (V: number) => new Float32Array(V).fill(0.25)],
  ] as const) {
    for (const variant of ['wide', 'narrow'] as const) it(`sample ${variant}, ${name} logits: the top 64 and the sampled id match the reference`, async () => {
      const V = 5000;
      const logits = make(V);
      const s = { greedy: false, topK: 64, temperature: 0.7, nTop: 64 };
      const res = await gpuCheck(ctx.gpu, 'sample', async () => {
        const lb = ctx.pool.upload('logits', logits);
        const result = ctx.pool.storage('result', SAMPLE_RESULT_WORDS * 4);
        const tokens = ctx.pool.storage('tokens', 16 * 4);
        const params = ctx.pool.uniform('params', samplerParams(V, s));
        await runOnce(ctx, [createSample(ctx, { label: 'sample', vocab: V, logits: lb, result, tokens, params, variant })], { pos0: 0, T: 1, rand: 0.6, writePos: 3 });
        return new Uint32Array(await readBuffer(ctx.device, result));
      });
      expect(res[0]).toBe(sampleRef(logits, s, 0.6));
      expect(Array.from({ length: 64 }, (_, j) => res[2 + 2 * j])).toEqual(topIds(logits, 64));
    });
  }
});
