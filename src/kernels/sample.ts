// Next-token choice on the GPU (shaders/sample.wgsl): greedy, or temperature + top-k; also reports the
// top-n (id, logit) pairs when asked. CPU reference beside it.

import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, stepUniform, type Dispatch, type KernelContext } from './kernel';

export const MAX_TOP = 64;
/** u32 words of the sampler's result: [id, nTop, (id, logitBits) x MAX_TOP]. */
export const SAMPLE_RESULT_WORDS = 2 + 2 * MAX_TOP;

/** shaders/sample.wgsl's Params. */
export const sampleParams = defineUniform('Params', [
  { name: 'V', type: 'u32' },
  { name: 'mode', type: 'u32' }, // 0 greedy, 1 temperature + top-k
  { name: 'topK', type: 'u32' },
  { name: 'nTop', type: 'u32' },
  { name: 'temperature', type: 'f32' },
  { name: '_pad0', type: 'u32' },
  { name: '_pad1', type: 'u32' },
  { name: '_pad2', type: 'u32' },
]);

export const SAMPLE_SHADER = shaderUniforms('sample', { 0: sampleParams, 1: stepUniform });

export interface SamplerSettings {
  greedy: boolean;
  topK: number;
  temperature: number;
  /** How many (id, logit) pairs to report (0 .. MAX_TOP). */
  nTop: number;
}

/** The sampler's uniform (sampleParams) for these settings; the engine rewrites it per generation. */
export function samplerParams(vocab: number, s: SamplerSettings): Uint32Array {
  return new Uint32Array(sampleParams.pack({
    V: vocab,
    mode: s.greedy ? 0 : 1,
    topK: s.greedy ? 1 : Math.max(1, Math.min(MAX_TOP, s.topK)),
    nTop: Math.max(0, Math.min(MAX_TOP, s.nTop)),
    temperature: s.temperature > 0 ? s.temperature : 1,
  }));
}

/** 'wide': 64 threads in the one workgroup (GPUs: two warps to hide load latency); 'narrow': 16 (CPU emulation). */
export type SampleVariant = 'wide' | 'narrow';

/** Threads of the sampler's one workgroup per variant (see createSample). */
export const SAMPLE_WG: Record<SampleVariant, number> = { wide: 64, narrow: 16 };

export function createSample(
  ctx: KernelContext,
  o: { label: string; vocab: number; logits: GPUBuffer; result: GPUBuffer; tokens: GPUBuffer; params: GPUBuffer; variant?: SampleVariant },
): Dispatch {
  // 'wide', 64 threads: each merge round costs two workgroup barriers and a serial pass over WG candidates, which
  // grow with WG, while the scan per thread shrinks with it. Measured on SwiftShader (weights/sparse, one
  // run, 7 decode positions, the earlier round-by-round kernel): greedy 1.25 ms at 256 threads, 0.33 at 128,
  // 0.26 at 64, 0.13 at 32. 64 keeps two warps (one AMD wavefront) to hide load latency on real GPUs,
  // where one workgroup scanning GPT-2's 50257 logits with 32 threads would stall. The one-read kernel
  // (per-thread sorted lists) then took top-k 40 from 3.93 to 2.10 ms, and on the GPT-2-124M-shaped
  // model's 50257 logits from 42.9 to 7.5 ms (greedy unchanged: 0.26 and 1.11 ms).
  // 'narrow', 16 threads: on SwiftShader every launched invocation pays at each barrier, and inside a whole
  // decode step more than alone (weights/sparse, greedy, alternating runs of 32 tokens: 12.28 / 11.53 ms per
  // token at 64 threads, 10.79 / 10.86 at 16; 0.26-0.33 -> 0.13 ms for the sampler timed alone). The engine
  // times both at load (chooseVariants), so a GPU keeps 'wide'.
  const pipeline = ctx.pipelines.get(SAMPLE_SHADER.shader, { WG: SAMPLE_WG[o.variant ?? 'wide'] });
  return {
    label: o.label,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [o.params, ctx.step, o.logits, o.result, o.tokens]),
    grid: () => [1, 1, 1],
  };
}

/** Ids of logits in the kernel's order: logit descending, id ascending on ties. */
export function topIds(logits: Float32Array, n: number): number[] {
  const idx = Array.from(logits.keys());
  idx.sort((a, b) => logits[b] - logits[a] || a - b);
  return idx.slice(0, n);
}

/** The id the kernel picks for these logits and this uniform random number. */
export function sampleRef(logits: Float32Array, s: SamplerSettings, rand: number): number {
  if (s.greedy) return topIds(logits, 1)[0];
  const k = Math.max(1, Math.min(MAX_TOP, s.topK, logits.length));
  const ids = topIds(logits, k);
  const t = s.temperature > 0 ? s.temperature : 1;
  const w = ids.map((i) => Math.exp((logits[i] - logits[ids[0]]) / t));
  const total = w.reduce((a, b) => a + b, 0);
  const target = rand * total;
  let acc = 0;
  for (let j = 0; j < k; j++) {
    acc += w[j];
    if (target < acc) return ids[j];
  }
  return ids[k - 1];
}
