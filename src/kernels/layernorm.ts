// LayerNorm over rows (shaders/layernorm.wgsl) and its CPU reference.

import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, stepUniform, type Dispatch, type KernelContext } from './kernel';

/** shaders/layernorm.wgsl's Params. */
export const layerNormParams = defineUniform('Params', [
  { name: 'nEmbd', type: 'u32' },
  { name: 'eps', type: 'f32' },
  { name: 'lastRowOnly', type: 'u32' },
  { name: 'normSlot', type: 'u32' }, // probe word for ‖x‖₂, or NO_SLOT
  { name: 'diffSlot', type: 'u32' }, // probe word for ‖x - prev‖₂, or NO_SLOT
  { name: 'probeOn', type: 'u32' },
  { name: 'bitsWord', type: 'u32' }, // first word of the neuron bitset to clear
  { name: 'bitsWords', type: 'u32' },
]);

export const LAYERNORM_SHADER = shaderUniforms('layernorm', { 0: layerNormParams, 1: stepUniform });

/**
 * 'coop': 64 threads per row (GPUs); 'narrow': 8 threads per row, for adapters that pay for every
 * invocation at a barrier (SwiftShader, one 256-wide row: 80 -> 34 us; 768-wide: 102 -> 67 us). Chosen by
 * measurement at load, like the gemv variant.
 */
export type LayerNormVariant = 'coop' | 'narrow';
export const LAYERNORM_WG: Record<LayerNormVariant, number> = { coop: 64, narrow: 8 };

export function createLayerNorm(
  ctx: KernelContext,
  o: {
    label: string; nEmbd: number; eps: number; x: GPUBuffer; g: GPUBuffer; b: GPUBuffer; y: GPUBuffer; lastRowOnly?: boolean;
    variant?: LayerNormVariant;
    /** Instrumentation: probe buffer (u32 words), the previous probed row (nEmbd f32), and the slots to write. */
    probe?: { buffer: GPUBuffer; prev: GPUBuffer; normSlot: number; diffSlot: number; clearBits?: { word: number; words: number } };
  },
): Dispatch {
  const pipeline = ctx.pipelines.get(LAYERNORM_SHADER.shader, { WG: LAYERNORM_WG[o.variant ?? 'coop'] });
  const NO_SLOT = 0xffffffff;
  const params = ctx.pool.uniform(`${o.label} params`, layerNormParams.pack({
    nEmbd: o.nEmbd,
    eps: o.eps,
    lastRowOnly: o.lastRowOnly ? 1 : 0,
    normSlot: o.probe?.normSlot ?? NO_SLOT,
    diffSlot: o.probe?.diffSlot ?? NO_SLOT,
    probeOn: o.probe ? 1 : 0,
    bitsWord: o.probe?.clearBits?.word ?? 0,
    bitsWords: o.probe?.clearBits?.words ?? 0,
  }));
  // Without probes the probe bindings still need buffers: the shared zeros buffer is never written then.
  const probe = o.probe?.buffer ?? ctx.zeros;
  const prev = o.probe?.prev ?? ctx.scratch;
  return {
    label: o.label,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, ctx.step, o.x, o.g, o.b, o.y, probe, prev]),
    grid: (T: number) => [o.lastRowOnly ? 1 : T, 1, 1],
  };
}

/** y (rows, n) = LayerNorm(x) * g + b, two-pass mean/variance like the kernel. */
export function layerNormRef(x: Float32Array, rows: number, n: number, g: Float32Array, b: Float32Array, eps: number): Float32Array {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[o + i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[o + i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / n + eps);
    for (let i = 0; i < n; i++) y[o + i] = (x[o + i] - mean) * rstd * g[i] + b[i];
  }
  return y;
}
