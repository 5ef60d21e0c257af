// Zero-ablation of heads through the engine's head mask against the CPU reference under the same mask,
// dense and block-sparse: logits of every prompt position and greedy decode, the ablated heads' probed
// activity zero, nothing rebuilt or allocated, and an empty mask giving the model back bit for bit.

import { describe, expect, it } from 'vitest';
import { testGpu, gpuCheck, relErr, countBuffersCreated } from '../kernels/testing';
import { makeTestModel, zeroBlocks } from './testModel';
import { parseSafetensors } from './safetensors';
import { loadGpt2Weights, type Gpt2Weights } from './checkpoint';
import { Gpt2Engine, EngineInputError } from './gpt2';
import { CpuGpt2 } from './reference';
import { headName, parseHeadNames } from './engineApi';

function model(seed: number): Gpt2Weights {
  const m = makeTestModel({ layers: 3, heads: 4, embd: 64, vocab: 300, ctx: 48, seed });
  return loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
}

const argmax = (a: Float32Array): number => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

describe('head ablation', async () => {
  const gpu = await testGpu();
  const prompt = [7, 1, 99, 42, 250, 3];
  const fixed = { gemv: 'coop', matmul: 'tiled' } as const;

  for (const [name, sparse] of [['dense', false], ['block-sparse', true]] as const) {
    it(`${name}: the engine under a head mask equals the reference under the same mask`, async () => {
      const w = model(sparse ? 42 : 41);
      if (sparse) zeroBlocks(w, 32, 4);
      const engine = await Gpt2Engine.create(gpu, w, { variants: fixed, crossoverDensity: sparse ? 1 : 0 });
      expect(engine.matrices.every((m) => m.kind === (sparse ? 'bsr' : 'dense'))).toBe(true);
      const ref = new CpuGpt2(w);
      const ablate = parseHeadNames('L0H1, L2H3', 3, 4) as number[];
      expect(ablate).toEqual([1, 11]);
      const before = await engine.prefillLogits(prompt);

      const { result: run, created } = await countBuffersCreated(gpu.device, () => {
        engine.setAblatedHeads(ablate);
        return gpuCheck(gpu, 'ablated', () => engine.generate(prompt, { maxTokens: 10, greedy: true, topLogits: 5, probes: true }));
      });
      expect(created).toBe(0); // a mask write, not a rebuild
      expect(engine.ablatedHeads).toEqual([1, 11]);
      const after = await engine.prefillLogits(prompt);
      ref.setAblatedHeads(ablate);
      const cpu = ref.forward(prompt);
      let changed = 0;
      for (let t = 0; t < prompt.length; t++) {
        expect(relErr(after[t], cpu[t])).toBeLessThan(1e-3);
        changed = Math.max(changed, relErr(after[t], before[t]));
      }
      expect(changed).toBeGreaterThan(1e-2); // the ablation changed the model

      // Greedy decode under the mask follows the reference's argmax; the ablated heads never fire.
      ref.reset();
      let logits = ref.forward(prompt)[prompt.length - 1];
      for (const step of run.steps) {
        expect(step.id).toBe(argmax(logits));
        expect(relErr(step.top!.map((x) => x[1]), Float32Array.from(step.top!.map((x) => logits[x[0]])))).toBeLessThan(1e-3);
        for (const n of ablate) expect(step.probes!.headActivity[n]).toBe(0);
        logits = ref.forward([step.id])[0];
      }

      engine.setAblatedHeads([]);
      const restored = await engine.prefillLogits(prompt);
      for (let t = 0; t < prompt.length; t++) expect(Array.from(restored[t])).toEqual(Array.from(before[t]));
      expect(() => engine.setAblatedHeads([12])).toThrow(EngineInputError);
      engine.destroy();
    });
  }

  it('head names: TransformerLens style both ways, and one-line errors for names outside the model', () => {
    expect(headName(11, 4)).toBe('L2H3');
    expect(parseHeadNames('L2H3,l0h0,L2H3', 3, 4)).toEqual([0, 11]);
    expect(parseHeadNames('L3H0', 3, 4)).toBe('L3H0 is outside the model (layers L0..L2, heads H0..H3)');
    expect(parseHeadNames('L0H4', 3, 4)).toMatch(/outside the model/);
    expect(parseHeadNames('head1', 3, 4)).toBe("'head1' is not a head name like L0H1");
    expect(parseHeadNames('', 3, 4)).toBe("'' is not a head name like L0H1");
  });
});
