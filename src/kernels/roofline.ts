// The adapter's achieved memory bandwidth and arithmetic rate (shaders/roofline.wgsl), from which the
// benchmarks compute the decode floor in ms/token, with the kernels' CPU references.

import { BufferPool } from '../gpu/buffers';
import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { profileDispatches } from './timing';
import { createKernelContext, makeBindGroup, type Dispatch, type KernelContext } from './kernel';

/** shaders/roofline.wgsl's Params (shared by both entry points; each reads one field). */
export const rooflineParams = defineUniform('Params', [
  { name: 'n4', type: 'u32' }, // stream: vec4s to read
  { name: 'iters', type: 'u32' }, // fma_peak: FMA steps per thread
  { name: '_pad0', type: 'u32' },
  { name: '_pad1', type: 'u32' },
]);

export const ROOFLINE_SHADER = shaderUniforms('roofline', { 0: rooflineParams });

const WG = 256;
/** FMA steps per thread of the arithmetic kernel; 4 vec4 chains, 2 flops per lane per FMA. */
const FMA_FLOPS_PER_ITER = 4 * 4 * 2;

export interface StreamKernel {
  dispatch: Dispatch;
  /** Bytes one dispatch reads. */
  bytes: number;
  threads: number;
  out: GPUBuffer;
}

/** Streams `values` (uploaded once) through `threads` threads. */
export function createStream(ctx: KernelContext, o: { values: Float32Array; threads: number }): StreamKernel {
  if (o.values.length % 4 !== 0) throw new Error(`roofline stream: ${o.values.length} values is not a multiple of 4`);
  if (o.threads % WG !== 0) throw new Error(`roofline stream: threads ${o.threads} must be a multiple of ${WG}`);
  const pipeline = ctx.pipelines.get(ROOFLINE_SHADER.shader, { WG }, 'stream');
  const src = ctx.pool.upload('roofline stream source', o.values);
  const out = ctx.pool.storage('roofline stream out (threads)', o.threads * 4);
  const params = ctx.pool.uniform('roofline stream params', rooflineParams.pack({ n4: o.values.length / 4, iters: 0 }));
  return {
    dispatch: { label: 'roofline stream', pipeline, bindGroup: makeBindGroup(ctx.device, pipeline, 'roofline stream', [params, src, out]), grid: () => [o.threads / WG, 1, 1] },
    bytes: o.values.byteLength,
    threads: o.threads,
    out,
  };
}

/** What each stream thread writes: the sum of its grid-strided vec4s (f32, summed in the kernel's order). */
export function streamRef(values: Float32Array, threads: number): Float32Array {
  const n4 = values.length / 4;
  const out = new Float32Array(threads);
  for (let t = 0; t < threads; t++) {
    const acc = [0, 0, 0, 0];
    for (let i = t; i < n4; i += threads) for (let c = 0; c < 4; c++) acc[c] = Math.fround(acc[c] + values[4 * i + c]);
    out[t] = Math.fround(Math.fround(Math.fround(acc[0] + acc[1]) + acc[2]) + acc[3]);
  }
  return out;
}

export interface FmaKernel {
  dispatch: Dispatch;
  flops: number;
  threads: number;
  out: GPUBuffer;
}

export function createFma(ctx: KernelContext, o: { threads: number; iters: number }): FmaKernel {
  if (o.threads % WG !== 0) throw new Error(`roofline fma: threads ${o.threads} must be a multiple of ${WG}`);
  const pipeline = ctx.pipelines.get(ROOFLINE_SHADER.shader, { WG }, 'fma_peak');
  const out = ctx.pool.storage('roofline fma out (threads)', o.threads * 4);
  const params = ctx.pool.uniform('roofline fma params', rooflineParams.pack({ n4: 0, iters: o.iters }));
  return {
    // The stream's source binding is unused by this entry point: the auto layout leaves it out.
    dispatch: { label: 'roofline fma', pipeline, bindGroup: ctx.device.createBindGroup({ label: 'roofline fma', layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: params } }, { binding: 2, resource: { buffer: out } }] }), grid: () => [o.threads / WG, 1, 1] },
    flops: o.threads * o.iters * FMA_FLOPS_PER_ITER,
    threads: o.threads,
    out,
  };
}

/** What fma thread `t` writes (FMA rounded once, like the GPU's fma where it is fused; tests allow both). */
export function fmaRef(t: number, iters: number): number {
  const seed = Math.fround((t % 7) * 1e-3);
  const start = (d: number) => [0, 0.1, 0.2, 0.3].map((o) => Math.fround(Math.fround(seed + o) + d));
  const chains = [start(0), start(0.5), start(0.25), start(0.75)];
  const m = Math.fround(0.999);
  const k = Math.fround(1e-3);
  for (let i = 0; i < iters; i++) for (const c of chains) for (let l = 0; l < 4; l++) c[l] = Math.fround(c[l] * m + k);
  const s = [0, 1, 2, 3].map((l) => Math.fround(Math.fround(Math.fround(chains[0][l] + chains[1][l]) + chains[2][l]) + chains[3][l]));
  return Math.fround(Math.fround(Math.fround(s[0] + s[1]) + s[2]) + s[3]);
}

export interface Roofline {
  /** Achieved read bandwidth, bytes per second (best of the repeats). */
  bytesPerS: number;
  /** Achieved f32 arithmetic rate, flops per second (an FMA counts 2). */
  flopsPerS: number;
  streamBytes: number;
  fmaFlops: number;
  timing: 'timestamp-query' | 'cpu-wallclock';
}

/**
 * Times the two kernels (best of `repeats`, each dispatch in its own timed pass). The stream buffer
 * should be much larger than the adapter's caches; 64 MiB by default, within WebGPU's default binding limit.
 */
export async function measureRoofline(
  device: GPUDevice,
  o: { streamBytes?: number; threads?: number; fmaIters?: number; repeats?: number; hostPollSpins?: boolean } = {},
): Promise<Roofline> {
  const pool = new BufferPool(device);
  try {
    return await timeRoofline(createKernelContext(device, pool, 'roofline'), o);
  } finally {
    pool.destroy();
  }
}

async function timeRoofline(ctx: KernelContext, o: { streamBytes?: number; threads?: number; fmaIters?: number; repeats?: number; hostPollSpins?: boolean }): Promise<Roofline> {
  const streamBytes = o.streamBytes ?? 64 * 1024 * 1024;
  const threads = o.threads ?? 64 * 1024;
  const values = new Float32Array(streamBytes / 4);
  for (let i = 0; i < values.length; i++) values[i] = (i % 13) * 0.25;
  const stream = createStream(ctx, { values, threads });
  const fma = createFma(ctx, { threads, iters: o.fmaIters ?? 4096 });
  const repeats = o.repeats ?? 5;
  let streamMs = Infinity;
  let fmaMs = Infinity;
  await profileDispatches(ctx.device, [stream.dispatch, fma.dispatch], 1, 1); // warm-up: pipelines, first touch
  for (let r = 0; r < repeats; r++) {
    // Where the host's wait spins (GpuContext.hostPollSpins), the best round so far is the expected time.
    const expectMs = Number.isFinite(streamMs) ? streamMs + fmaMs : 0;
    const [s, f] = await profileDispatches(ctx.device, [stream.dispatch, fma.dispatch], 1, 1, { hostPollSpins: o.hostPollSpins ?? false, expectMs });
    streamMs = Math.min(streamMs, s.ms);
    fmaMs = Math.min(fmaMs, f.ms);
  }
  return {
    bytesPerS: stream.bytes / (streamMs / 1e3),
    flopsPerS: fma.flops / (fmaMs / 1e3),
    streamBytes: stream.bytes,
    fmaFlops: fma.flops,
    timing: ctx.device.features.has('timestamp-query') ? 'timestamp-query' : 'cpu-wallclock',
  };
}
