// Attention kernel against the CPU reference: a prefill chunk at position 0, then further chunks and
// single decode rows reading earlier keys from the KV cache, on head sizes that are not powers of two,
// with an ablation gate (one head's output zeroed) read at a layer's offset in the head mask.

import { describe, expect, it } from 'vitest';
import { testKernelContext, gpuCheck, readF32, rng, randomArray, relErr } from './testing';
import { runOnce } from './kernel';
import { createAttention, attentionRef, newKvCacheRef, type AttentionVariant } from './attention';
import { shaderSource } from '../gpu/shaders';
import { ATTN_TOP_K } from '../shared/probes';

describe('attention matches the CPU reference', async () => {
  it('the shader keeps as many top positions per head as the probe layout has room for', () => {
    expect(shaderSource('attention')).toContain(`const TOP_K: u32 = ${ATTN_TOP_K}u;`);
  });

  const ctx = await testKernelContext();
  for (const [nHead, headDim, nCtx, chunks, variant] of [
    [1, 8, 16, [5, 1, 1], 'coop'],
    [3, 20, 70, [66, 1, 2, 1], 'coop'],
    [4, 64, 130, [1, 1, 1], 'coop'],
    // headDim 4 times the 32 threads, and a prefill chunk of 250 rows over 250 keys.
    [2, 128, 300, [250, 1], 'coop'],
    // 8 threads: fewer than headDim 20 and 128, and than one row's keys.
    [3, 20, 70, [66, 1, 2, 1], 'narrow'],
    [2, 128, 300, [250, 1], 'narrow'],
    [1, 5, 9, [3, 1], 'narrow'],
  ] as Array<[number, number, number, number[], AttentionVariant]>) {
    it(`${variant} nHead=${nHead} headDim=${headDim} nCtx=${nCtx} chunks=${chunks}`, async () => {
      const D = nHead * headDim;
      const r = rng(nHead * 31 + headDim);
      const cache = newKvCacheRef(nHead, nCtx, headDim);
      await gpuCheck(ctx.gpu, 'attention', async () => {
        const qkv = ctx.pool.storage('qkv', nCtx * 3 * D * 4);
        const kc = ctx.pool.storage('k', nHead * nCtx * headDim * 4);
        const vc = ctx.pool.storage('v', nHead * nCtx * headDim * 4);
        const out = ctx.pool.storage('out', nCtx * D * 4);
        const heads = ctx.pool.upload('heads', new Uint32Array(Array.from({ length: nHead }, (_, h) => h)));
        // The mask of a 2-layer model, this kernel being layer 1's: its head nHead - 1 is ablated (when there
        // is more than one), layer 0's entries (all 0) must not be read.
        const gate = Float32Array.from({ length: nHead }, (_, h) => (nHead > 1 && h === nHead - 1 ? 0 : 1));
        const headMask = ctx.pool.upload('head mask', Float32Array.from([...new Float32Array(nHead), ...gate]));
        const d = createAttention(ctx, { label: 'attn', nHead, headDim, nCtx, qkv, kCache: kc, vCache: vc, out, heads, nActive: nHead, headMask, maskBase: nHead, variant });
        let pos0 = 0;
        for (const T of chunks) {
          const q = randomArray(T * 3 * D, r, 2);
          ctx.device.queue.writeBuffer(qkv, 0, q as Float32Array<ArrayBuffer>);
          await runOnce(ctx, [d], { pos0, T, rand: 0, writePos: 0 });
          const expected = attentionRef(q, T, pos0, cache, nHead, headDim, nCtx, gate);
          const got = await readF32(ctx.device, out, T * D);
          expect(relErr(got, expected)).toBeLessThan(1e-5);
          if (nHead > 1) expect(got.subarray((T - 1) * D + (nHead - 1) * headDim, T * D).every((v) => v === 0)).toBe(true);
          pos0 += T;
        }
        expect(relErr(await readF32(ctx.device, kc, cache.k.length), cache.k)).toBe(0);
      });
    });
  }

  it('runs only the listed heads and leaves the skipped heads\' output untouched', async () => {
    const [nHead, headDim, nCtx, T] = [4, 16, 8, 3];
    const D = nHead * headDim;
    const r = rng(77);
    const q = randomArray(T * 3 * D, r, 2);
    const expected = attentionRef(q, T, 0, newKvCacheRef(nHead, nCtx, headDim), nHead, headDim, nCtx);
    const got = await gpuCheck(ctx.gpu, 'attention subset', async () => {
      const qkv = ctx.pool.upload('qkv', q);
      const kc = ctx.pool.storage('k', nHead * nCtx * headDim * 4);
      const vc = ctx.pool.storage('v', nHead * nCtx * headDim * 4);
      const out = ctx.pool.upload('out', new Float32Array(T * D).fill(-7));
      const heads = ctx.pool.upload('heads', new Uint32Array([1, 3]));
      const headMask = ctx.pool.upload('head mask', new Float32Array(nHead).fill(1));
      const d = createAttention(ctx, { label: 'attn', nHead, headDim, nCtx, qkv, kCache: kc, vCache: vc, out, heads, nActive: 2, headMask, maskBase: 0 });
      await runOnce(ctx, [d], { pos0: 0, T, rand: 0, writePos: 0 });
      return readF32(ctx.device, out, T * D);
    });
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < nHead; h++) {
        const sl = (a: Float32Array) => a.subarray(t * D + h * headDim, t * D + (h + 1) * headDim);
        if (h === 1 || h === 3) expect(relErr(sl(got), sl(expected))).toBeLessThan(1e-5);
        else expect(Array.from(sl(got)).every((v) => v === -7)).toBe(true);
      }
    }
  });
});
