// Prefill matrix-matrix product with fused bias and GELU / residual epilogues (shaders/matmul.wgsl).
// CPU reference: linearRef in ./linear.

import { makeBindGroup, ceilDiv, type Binding, type Dispatch, type KernelContext } from './kernel';
import { EPILOGUE_CODE, type Epilogue } from './gelu';

const TILE = 64;

/** 'tiled': 64 x 64 tiles through workgroup memory (GPUs); 'row': a thread per (column, 8 rows), no barrier (CPU emulation). */
export type MatmulVariant = 'tiled' | 'row';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['tiled', 'row'];

export function createMatmul(
  ctx: KernelContext,
  o: {
    label: string;
    x: GPUBuffer;
    w: Binding;
    /** Rows of x; 0 means "the step's T". */
    M?: number;
    N: number;
    K: number;
    kStride: number;
    bias?: GPUBuffer;
    y: GPUBuffer;
    ldy?: number;
    yOffset?: number;
    epilogue: Epilogue;
    variant?: MatmulVariant;
  },
): Dispatch {
  if (o.kStride % 8 !== 0 || o.kStride < o.K) throw new Error(`${o.label}: kStride ${o.kStride} must be a multiple of 8 and >= K ${o.K}`);
  const variant = o.variant ?? 'tiled';
  const pipeline = ctx.pipelines.get('matmul', { EPILOGUE: EPILOGUE_CODE[o.epilogue] }, variant === 'tiled' ? 'main' : 'main_row');
  const params = ctx.pool.uniform(
    `${o.label} params`,
    new Uint32Array([o.M ?? 0, o.N, o.K, o.kStride / 8, o.ldy ?? o.N, o.yOffset ?? 0, o.bias ? 1 : 0, 0]),
  );
  return {
    label: `${o.label} [${variant}]`,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, ctx.step, o.x, o.w, o.bias ?? ctx.zeros, o.y, ...(variant === 'row' ? [o.x] : [])]),
    grid: variant === 'tiled'
      ? (T: number) => [ceilDiv(o.N, TILE), ceilDiv(o.M || T, TILE), 1]
      : (T: number) => [ceilDiv(o.N, 64), ceilDiv(o.M || T, 8), 1],
  };
}
