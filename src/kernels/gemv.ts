// Decode matrix-vector product with fused bias and GELU / residual epilogues (shaders/gemv.wgsl).
// CPU reference: linearRef in ./linear.

import { makeBindGroup, grid1d, ceilDiv, type Binding, type Dispatch, type KernelContext } from './kernel';
import { gemvEpilogueCode, type Epilogue, type NeuronProbe } from './gelu';

export const GEMV_WG = 256;
/** Workgroup size of the one-thread-per-row variant. */
export const GEMV_ROW_WG = 64;

/** 'coop': LANES threads per row with a workgroup reduction (GPUs); 'row': a thread per row, no barrier (CPU emulation). */
export type GemvVariant = 'coop' | 'row';
export const GEMV_VARIANTS: readonly GemvVariant[] = ['coop', 'row'];

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
    /** Weight rows (N, kStride) f16 pairs, or a row chunk of them. */
    w: Binding;
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
    ? ctx.pipelines.get('gemv', { WG: GEMV_WG, LANES: lanes, EPILOGUE })
    : ctx.pipelines.get('gemv', { WG: GEMV_ROW_WG, EPILOGUE }, 'main_row');
  const params = ctx.pool.uniform(
    `${o.label} params`,
    new Uint32Array([o.N, o.K, o.kStride / 8, o.yOffset ?? 0, o.bias ? 1 : 0, o.neurons?.word ?? 0, 0, 0]),
  );
  const wgCount = variant === 'coop' ? ceilDiv(o.N, GEMV_WG / lanes) : ceilDiv(o.N, GEMV_ROW_WG);
  return {
    label: `${o.label} [${variant}]`,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, o.w, o.bias ?? ctx.zeros, o.x, o.y, ...neuronBindings(ctx, o.neurons)]),
    grid: () => grid1d(wgCount),
  };
}

/** The neuron probe's two bindings; without a probe, placeholders the kernel never touches. */
export function neuronBindings(ctx: KernelContext, neurons?: NeuronProbe): Binding[] {
  return neurons ? [neurons.thresholds, neurons.bits] : [ctx.step, ctx.scratch];
}
