// The engine's GPU instrumentation equals the CPU reference (src/probes/metrics.ts) on random models,
// dense and block-sparse: head activities, neuron bitsets and fractions, write norms; and probes on
// or off generate identical tokens.

import { describe, expect, it } from 'vitest';
import { testGpu, gpuCheck, relErr } from '../kernels/testing';
import { ATTN_TOP_K, NO_POSITION } from '../shared/probes';
import { makeTestModel } from '../model/testModel';
import { parseSafetensors } from '../model/safetensors';
import { loadGpt2Weights } from '../model/checkpoint';
import { Gpt2Engine } from '../model/gpt2';
import { CpuProbes } from './metrics';

const thresholds = { head: 0.2, neuron: 0.3, edge: 0.1 };

describe('GPU probes equal the CPU reference', async () => {
  const gpu = await testGpu();
  // Both gemv variants: decode records neurons in c_fc's epilogue, which each variant has its own path to.
  for (const sparse of [false, true]) for (const gemv of ['coop', 'row'] as const) {
    it(`${sparse ? 'block-sparse model (BSR kernels, a dead head)' : 'dense model'}, gemv ${gemv}`, async () => {
      const m = makeTestModel({ layers: 3, heads: 4, embd: 64, vocab: 200, ctx: 40, seed: 31 });
      const w = loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
      if (sparse) {
        // Zero half the 16 x 16 blocks of every c_fc, and head 1's output projection in layer 2.
        for (const l of w.layers) for (let r = 0; r < 64; r++) for (let c = 0; c < 256; c++) if (((r >> 4) + (c >> 4)) % 2) l.fcW[r * 256 + c] = 0;
        w.layers[2].attnProjW.fill(0, 16 * 64, 32 * 64);
      }
      const engine = await Gpt2Engine.create(gpu, w, { block: 16, crossoverDensity: sparse ? 0.6 : 0, variants: { gemv, matmul: 'tiled' } });
      if (sparse) {
        expect(engine.matrices.filter((x) => x.kind === 'bsr').length).toBe(3);
        expect(engine.activeHeads[2]).toEqual([0, 2, 3]);
      }
      const ref = new CpuProbes(w, thresholds);
      const prompt = [5, 9, 2, 77, 140];
      await gpuCheck(gpu, 'probes', async () => {
        const on = await engine.generate(prompt, { maxTokens: 10, greedy: true, probes: true, thresholds });
        const off = await engine.generate(prompt, { maxTokens: 10, greedy: true });
        expect(on.ids).toEqual(off.ids);
        let frames = ref.forward(prompt).frames;
        let flipped = 0;
        let bits = 0;
        for (const step of on.steps) {
          const f = frames[frames.length - 1];
          const p = step.probes!;
          expect(relErr(p.headActivity, f.headActivity)).toBeLessThan(1e-3);
          expect(relErr(p.attnWriteNorm, f.attnWriteNorm)).toBeLessThan(1e-3);
          expect(relErr(p.mlpWriteNorm, f.mlpWriteNorm)).toBeLessThan(1e-3);
          if (sparse) for (const h of [1]) expect(p.headActivity[2 * 4 + h]).toBe(0);
          // Attention top-k of the token's row: the same positions (fewer than k keys early on: NO_POSITION) and
          // weights; a head that is never run has no entries.
          const K = ATTN_TOP_K;
          for (let n = 0; n < 3 * 4; n++) {
            const gpuPos = Array.from(p.attnTop!.pos.subarray(n * K, (n + 1) * K));
            if (!engine.activeHeads[Math.floor(n / 4)]!.includes(n % 4)) {
              expect(gpuPos).toEqual(new Array(K).fill(NO_POSITION));
              continue;
            }
            expect(gpuPos).toEqual(Array.from(f.attnTop!.pos.subarray(n * K, (n + 1) * K)));
            const gw = p.attnTop!.weight.subarray(n * K, (n + 1) * K);
            const cw = f.attnTop!.weight.subarray(n * K, (n + 1) * K);
            for (let k = 0; k < K; k++) expect(Math.abs(gw[k]! - cw[k]!)).toBeLessThan(1e-4);
            // The token's row attends to positions 0 .. pos − 1: min(pos, k) distinct ones, the rest unused.
            const used = Math.min(step.pos, K);
            expect(new Set(gpuPos.slice(0, used)).size).toBe(used);
            expect(gpuPos.slice(0, used).every((x) => x < step.pos)).toBe(true);
            expect(gpuPos.slice(used)).toEqual(new Array(K - used).fill(NO_POSITION));
          }
          // Bitsets: equal except for activations within float rounding of τ_neuron (counted, must be rare).
          for (let i = 0; i < p.neuronBits.length; i++) {
            let x = p.neuronBits[i] ^ f.neuronBits[i];
            while (x) { flipped += x & 1; x >>>= 1; }
          }
          bits += p.neuronBits.length * 32;
          expect(relErr(p.neuronFraction, f.neuronFraction)).toBeLessThan(0.01);
          expect(Math.max(...f.neuronFraction)).toBeGreaterThan(0); // the bitsets are not trivially empty
          expect(Math.max(...f.headActivity)).toBeGreaterThan(thresholds.head); // some head fires
          frames = ref.forward([step.id]).frames;
        }
        expect(flipped / bits).toBeLessThan(1e-3);
      });
      engine.destroy();
    });
  }
});

describe('composition strengths (edges) on the GPU equal the CPU reference', async () => {
  const gpu = await testGpu();
  it('dense and block-sparse c_attn', async () => {
    const { compositionStrengths, compositionOnGpu } = await import('./composition');
    const m = makeTestModel({ layers: 3, heads: 4, embd: 64, vocab: 50, ctx: 16, seed: 8 });
    const w = loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
    // Layer 2's c_attn: keep only the q/k/v columns of head 0 in input rows 0..15 (16 x 16 blocks).
    const a = w.layers[2].attnW;
    for (let k = 0; k < 64; k++) for (let c = 0; c < 192; c++) if (k >= 16 || c % 64 >= 16) a[k * 192 + c] = 0;
    const ref = compositionStrengths(w).strength;
    for (const crossoverDensity of [0, 1]) {
      const engine = await Gpt2Engine.create(gpu, w, { block: 16, crossoverDensity });
      const got = await gpuCheck(gpu, 'composition', () => compositionOnGpu(engine)!);
      expect(got.length).toBe(12 * 12);
      expect(relErr(got, ref)).toBeLessThan(1e-4);
      expect(Math.max(...ref)).toBeGreaterThan(0.05);
      // Heads 1..3 of layer 2 have no weights left: nothing composes into them.
      for (let src = 0; src < 8; src++) for (let h = 1; h < 4; h++) expect(got[src * 12 + 8 + h]).toBe(0);
      engine.destroy();
    }
  });
});
