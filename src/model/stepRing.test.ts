// Pipelined decode (steps in flight, src/model/stepRing.ts) against the unpipelined path: the same ids, top
// logits and probe words, greedy and sampled with a seed, dense and block-sparse; every stop (end-of-text,
// abort from the step callback, max tokens, context full) ends the run at the same token, and the KV cache
// is left so the next generation equals a fresh engine's.

import { describe, expect, it } from 'vitest';
import { testGpu, gpuCheck, countBuffersCreated } from '../kernels/testing';
import { makeTestModel, zeroBlocks } from './testModel';
import { parseSafetensors } from './safetensors';
import { loadGpt2Weights } from './checkpoint';
import { Gpt2Engine } from './gpt2';
import { passGpuMs, StepRing } from './stepRing';
import { BufferPool } from '../gpu/buffers';
import type { GenerateOptions, GenerationSummary } from './engineApi';
import type { Gpt2Weights } from './checkpoint';

function model(seed: number, ctx = 64): Gpt2Weights {
  const m = makeTestModel({ layers: 2, heads: 4, embd: 64, vocab: 300, ctx, seed });
  return loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
}

/** About 1/4 of the 32 x 32 blocks kept, so the engine runs every matrix on BSR kernels. */
function blockSparse(w: Gpt2Weights): Gpt2Weights {
  zeroBlocks(w, 32, 4);
  return w;
}

/** What must not depend on the steps in flight (the timings may). */
function content(out: GenerationSummary) {
  return {
    ids: out.ids, stopReason: out.stopReason, decodeSteps: out.decodeMs.length,
    steps: out.steps.map((s) => ({ index: s.index, pos: s.pos, id: s.id, top: s.top, probes: s.probes })),
  };
}

describe('pipelined decode equals the unpipelined path', async () => {
  const gpu = await testGpu();
  // Fixed variants: measuring them at load would only slow the test (gpt2.test.ts covers that path).
  const fixed = { gemv: 'coop', layernorm: 'narrow', attention: 'narrow', matmul: 'tiled' } as const;
  const prompt = [5, 17, 42, 3];

  for (const [name, weights] of [['dense', model(31)], ['block-sparse', blockSparse(model(32))]] as const) {
    it(`${name}: 1, 2 and 4 steps in flight give the same tokens, top logits and probes`, async () => {
      const engines = await Promise.all([1, 2, 4].map((inFlight) => Gpt2Engine.create(gpu, weights, { inFlight, variants: fixed })));
      if (name === 'block-sparse') expect(engines[0].matrices.some((m) => m.kind === 'bsr')).toBe(true);
      for (const opts of [
        { maxTokens: 16, greedy: true, topLogits: 5 },
        { maxTokens: 16, greedy: false, temperature: 1.3, topK: 20, seed: 9, topLogits: 3 },
        { maxTokens: 12, greedy: false, temperature: 0.9, topK: 40, seed: 4, probes: true },
      ] as GenerateOptions[]) {
        const outs = await gpuCheck(gpu, 'in flight', async () => {
          const r: GenerationSummary[] = [];
          for (const e of engines) r.push(await e.generate(prompt, opts));
          return r;
        });
        expect(outs[0].ids.length).toBe(opts.maxTokens);
        if (opts.probes) expect(outs[0].steps.every((s) => s.probes !== undefined)).toBe(true);
        for (const o of outs.slice(1)) expect(content(o)).toEqual(content(outs[0]));
      }
      for (const e of engines) e.destroy();
    });
  }

  it('end-of-text, an abort from the step callback and a full context stop at the same token, and leave the KV cache sound', async () => {
    const w = model(33, 16);
    const one = await Gpt2Engine.create(gpu, w, { inFlight: 1, variants: fixed });
    const four = await Gpt2Engine.create(gpu, w, { inFlight: 4, variants: fixed });
    const fresh = await Gpt2Engine.create(gpu, w, { inFlight: 4, variants: fixed });
    const base = { greedy: false, temperature: 1.5, topK: 50, seed: 21 } as const;
    const full = await one.generate(prompt, { ...base, maxTokens: 12 });
    expect(full.stopReason).toBe('max-tokens');
    const stopAt = 5;
    const stopId = full.ids[stopAt];
    const first = full.ids.indexOf(stopId);
    for (const e of [one, four]) {
      const eot = await gpuCheck(gpu, 'eot', () => e.generate(prompt, { ...base, maxTokens: 12, stopIds: [stopId] }));
      expect(eot.stopReason).toBe('end-of-text');
      expect(eot.ids).toEqual(full.ids.slice(0, first + 1));

      const ctrl = new AbortController();
      const aborted = await e.generate(prompt, { ...base, maxTokens: 12, signal: ctrl.signal }, (s) => { if (s.index === 3) ctrl.abort(); });
      expect(aborted.stopReason).toBe('aborted');
      expect(aborted.ids).toEqual(full.ids.slice(0, 4));

      // Context 16, prompt of 4: the prefill's token and 12 fed back, 13 tokens at most.
      const ctxFull = await e.generate(prompt, { ...base, maxTokens: 40 });
      expect(ctxFull.stopReason).toBe('context-full');
      expect(ctxFull.ids.length).toBe(13);
      expect(ctxFull.ids.slice(0, 12)).toEqual(full.ids);

      // Steps dropped after a stop wrote KV rows past the last kept token: the next run must not see them.
      const after = await e.generate([9, 8], { ...base, maxTokens: 10, topLogits: 4 });
      const clean = await fresh.generate([9, 8], { ...base, maxTokens: 10, topLogits: 4 });
      expect(content(after)).toEqual(content(clean));
    }
    const pre = await four.generate(prompt, { ...base, maxTokens: 5, signal: AbortSignal.abort() });
    expect(pre).toMatchObject({ ids: [], stopReason: 'aborted' });
    for (const e of [one, four, fresh]) e.destroy();
  });

  it('each step reports its GPU time where the adapter has timestamps, and creates no buffer', async () => {
    const e = await Gpt2Engine.create(gpu, model(34), { inFlight: 3, variants: fixed });
    const { result: out, created } = await countBuffersCreated(gpu.device, () => gpuCheck(gpu, 'gpu time', () => e.generate(prompt, { maxTokens: 10, greedy: true, probes: true })));
    expect(created).toBe(0);
    for (const s of out.steps) {
      expect(s.ms).toBeGreaterThan(0);
      // A pass stamped as begun before the previous one ended counts from that end, so with quantised
      // timestamps a short step may get 0.
      if (gpu.device.features.has('timestamp-query')) expect(s.gpuMs).toBeGreaterThanOrEqual(0);
      else expect(s.gpuMs).toBeUndefined();
    }
    e.destroy();
  });
});

describe('StepRing.map: on a host that spins while a promise is pending, the wait sleeps until the step is due', async () => {
  const gpu = await testGpu();
  for (const hostPollSpins of [true, false]) {
    it(`hostPollSpins ${hostPollSpins}: ${hostPollSpins ? 'maps no earlier than dueAt' : 'maps without waiting for dueAt'}, and reads the step's result`, async () => {
      const pool = new BufferPool(gpu.device);
      const ring = new StepRing(gpu.device, pool, { label: 'ring test', slots: 2, resultWords: 4, probeWords: 4, hostPollSpins });
      const result = pool.create('ring test result', 16, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
      gpu.device.queue.writeBuffer(result, 0, new Uint32Array([7, 8, 9, 10]));
      ring.submit(1, [], 1, { result, probe: result }, false, 'ring test');
      const due = performance.now() + 60;
      await ring.map(1, due);
      // Node may fire a timer up to a millisecond early; the step itself takes far less than 60 ms.
      if (hostPollSpins) expect(performance.now()).toBeGreaterThanOrEqual(due - 2);
      expect([...ring.read(1, false).result]).toEqual([7, 8, 9, 10]);
      ring.destroy();
      pool.destroy();
    });
  }
});

describe('passGpuMs: a step\'s own GPU time from its pass timestamps (ns)', () => {
  it('is end - begin when the pass began after the previous one ended', () => {
    expect(passGpuMs(5_000_000n, 7_500_000n, 4_000_000n)).toBe(2.5);
    expect(passGpuMs(5_000_000n, 7_500_000n, 0n)).toBe(2.5);
  });
  it('counts from the previous end when the passes overlap, so overlapping steps add up to the busy time', () => {
    // Three passes stamped as begun together at 1 ms, ending at 3, 5 and 7 ms: 2 + 2 + 2 = the 6 ms busy span.
    const ends = [3_000_000n, 5_000_000n, 7_000_000n];
    let prev = 0n;
    const ms = ends.map((t1) => { const m = passGpuMs(1_000_000n, t1, prev)!; prev = t1; return m; });
    expect(ms).toEqual([2, 2, 2]);
    expect(passGpuMs(1_000_000n, 3_000_000n, 3_000_000n)).toBe(0);
  });
  it('ignores a previous end after this pass ended (a clock reset) and answers nothing for unusable stamps', () => {
    expect(passGpuMs(1_000_000n, 2_000_000n, 9_000_000n)).toBe(1);
    expect(passGpuMs(0n, 0n, 0n)).toBeUndefined();
    expect(passGpuMs(2_000_000n, 1_000_000n, 0n)).toBeUndefined();
  });
});
