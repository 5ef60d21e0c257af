// Decode matrix-vector product with fused bias and GELU / residual epilogues (shaders/gemv.wgsl).
// CPU reference: linearRef in ./linear.

import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, grid1d, ceilDiv, thresholdsUniform, type Binding, type Dispatch, type KernelContext } from './kernel';
import { gemvEpilogueCode, type Epilogue, type NeuronProbe } from './gelu';

/** shaders/gemv.wgsl's Params. */
export const gemvParams = defineUniform('Params', [
  { name: 'N', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'kStride8', type: 'u32' }, // vec4<u32> chunks (8 halves) per weight row
  { name: 'yOffset', type: 'u32' },
  { name: 'hasBias', type: 'u32' },
  { name: 'bitsWord', type: 'u32' }, // the neuron probe's first bitset word
  { name: 'wScale', type: 'f32' }, // the weight code's scale (src/shared/f16.ts)
  { name: '_pad1', type: 'u32' },
]);

export const GEMV_SHADER = shaderUniforms('gemv', { 0: gemvParams, 5: thresholdsUniform });

export const GEMV_WG = 256;
/**
 * Workgroup size of the row variant (dense and BSR). A CPU-emulated adapter runs a workgroup on one core, so the
 * 256-row c_proj matrices must make several: 16 threads x 4 rows gives them 4 and the LM head 64 (SwiftShader,
 * 2 cores, kernel table by timestamps: c_proj 256 x 1024 0.908 -> 0.732 ms, LM head 2.62 -> 2.49 ms against 64).
 */
export const GEMV_ROW_WG = 16;
/** shaders/lib/gemv_store.wgsl's ROWS4: rows per thread of both gemvs' row variant (every BSR block size is a
 * multiple, so four rows never straddle two block rows). */
export const GEMV_ROWS_PER_THREAD = 4;

/** 'coop': LANES threads per row with a workgroup reduction (GPUs); 'row': four rows per thread, no barrier (CPU emulation). */
export type GemvVariant = 'coop' | 'row';

/** Threads per row: enough to cover the row's vec4<u32> chunks once, between 4 and 32 (a power of two). */
export function gemvLanes(K: number): number {
  const chunks = Math.ceil(K / 8);
  let lanes = 4;
  while (lanes < 32 && lanes < chunks) lanes *= 2;
  return lanes;
}

export function createGemv(
  ctx: KernelContext,
  o: {
    label: string;
    /** Weight rows (N, kStride) in the weight code, two per u32, or a row chunk of them. */
    w: Binding;
    /** The matrix's WeightCode.scale. */
    wScale: number;
    N: number;
    K: number;
    kStride: number;
    bias?: GPUBuffer;
    x: GPUBuffer;
    y: GPUBuffer;
    yOffset?: number;
    epilogue: Epilogue;
    variant?: GemvVariant;
    /** Instrumentation: with the GELU epilogue, also record which rows (neurons) fired. */
    neurons?: NeuronProbe;
  },
): Dispatch {
  if (o.kStride % 8 !== 0 || o.kStride < o.K) throw new Error(`${o.label}: kStride ${o.kStride} must be a multiple of 8 and >= K ${o.K}`);
  const variant = o.variant ?? 'coop';
  const lanes = gemvLanes(o.K);
  const EPILOGUE = gemvEpilogueCode(o.label, o.epilogue, o.neurons);
  const pipeline = variant === 'coop'
    ? ctx.pipelines.get(GEMV_SHADER.shader, { WG: GEMV_WG, LANES: lanes, EPILOGUE })
    : ctx.pipelines.get(GEMV_SHADER.shader, { WG: GEMV_ROW_WG, EPILOGUE }, 'main_row');
  const params = ctx.pool.uniform(
    `${o.label} params`,
    gemvParams.pack({ N: o.N, K: o.K, kStride8: o.kStride / 8, yOffset: o.yOffset ?? 0, hasBias: o.bias ? 1 : 0, bitsWord: o.neurons?.word ?? 0, wScale: o.wScale }),
  );
  const wgCount = variant === 'coop' ? ceilDiv(o.N, GEMV_WG / lanes) : ceilDiv(o.N, GEMV_ROW_WG * GEMV_ROWS_PER_THREAD);
  return {
    label: `${o.label} [${variant}]`,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, o.w, o.bias ?? ctx.zeros, o.x, o.y, ...neuronBindings(ctx, o.neurons)]),
    grid: () => grid1d(wgCount),
  };
}

/** The neuron probe's two bindings (thresholds, bits); without a probe, placeholders of the same kinds that the kernel never touches. */
export function neuronBindings(ctx: KernelContext, neurons?: NeuronProbe): Binding[] {
  return neurons ? [neurons.thresholds, neurons.bits] : [ctx.thresholds, ctx.scratch];
}
