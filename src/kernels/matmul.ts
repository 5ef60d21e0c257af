// Prefill matrix-matrix product with fused bias and GELU / residual epilogues (shaders/matmul.wgsl).
// CPU reference: linearRef in ./linear.

import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, ceilDiv, stepUniform, type Binding, type Dispatch, type KernelContext } from './kernel';
import { EPILOGUE_CODE, type Epilogue } from './gelu';

/** shaders/matmul.wgsl's Params. */
export const matmulParams = defineUniform('Params', [
  { name: 'M', type: 'u32' }, // rows of x; 0: the step's T
  { name: 'N', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'kStride8', type: 'u32' }, // vec4<u32> chunks (8 halves) per weight row
  { name: 'ldy', type: 'u32' },
  { name: 'yOffset', type: 'u32' },
  { name: 'hasBias', type: 'u32' },
  { name: 'wScale', type: 'f32' }, // the weight code's scale (src/shared/f16.ts)
]);

export const MATMUL_SHADER = shaderUniforms('matmul', { 0: matmulParams, 1: stepUniform });

const TILE = 64;

/** 'tiled': 64 x 64 tiles through workgroup memory (GPUs); 'row': a thread per (column, 8 rows), no barrier (CPU emulation). */
export type MatmulVariant = 'tiled' | 'row';

export function createMatmul(
  ctx: KernelContext,
  o: {
    label: string;
    x: GPUBuffer;
    /** Weight rows (N, kStride) in the weight code, or a row chunk of them. */
    w: Binding;
    /** The matrix's WeightCode.scale. */
    wScale: number;
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
  const pipeline = ctx.pipelines.get(MATMUL_SHADER.shader, { EPILOGUE: EPILOGUE_CODE[o.epilogue] }, variant === 'tiled' ? 'main' : 'main_row');
  const params = ctx.pool.uniform(
    `${o.label} params`,
    matmulParams.pack({ M: o.M ?? 0, N: o.N, K: o.K, kStride8: o.kStride / 8, ldy: o.ldy ?? o.N, yOffset: o.yOffset ?? 0, hasBias: o.bias ? 1 : 0, wScale: o.wScale }),
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
