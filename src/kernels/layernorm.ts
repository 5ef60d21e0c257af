// LayerNorm over rows (shaders/layernorm.wgsl) and its CPU reference.

import { makeBindGroup, type Dispatch, type KernelContext } from './kernel';

const WG = 64;

export function createLayerNorm(
  ctx: KernelContext,
  o: {
    label: string; nEmbd: number; eps: number; x: GPUBuffer; g: GPUBuffer; b: GPUBuffer; y: GPUBuffer; lastRowOnly?: boolean;
    /** Instrumentation: probe buffer (u32 words), the previous probed row (nEmbd f32), and the slots to write. */
    probe?: { buffer: GPUBuffer; prev: GPUBuffer; normSlot: number; diffSlot: number; clearBits?: { word: number; words: number } };
  },
): Dispatch {
  const pipeline = ctx.pipelines.get('layernorm', { WG });
  const NO_SLOT = 0xffffffff;
  const u = new Uint32Array(8);
  u[0] = o.nEmbd;
  new Float32Array(u.buffer)[1] = o.eps;
  u[2] = o.lastRowOnly ? 1 : 0;
  u[3] = o.probe?.normSlot ?? NO_SLOT;
  u[4] = o.probe?.diffSlot ?? NO_SLOT;
  u[5] = o.probe ? 1 : 0;
  u[6] = o.probe?.clearBits?.word ?? 0;
  u[7] = o.probe?.clearBits?.words ?? 0;
  const params = ctx.pool.uniform(`${o.label} params`, u);
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
