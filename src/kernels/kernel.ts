// What every kernel module shares: the context kernels are built in, the Dispatch record the engine
// encodes per token, and the uniforms several shaders bind (the per-step uniform all step-dependent kernels
// read, and the instrumentation's thresholds), each declared once (src/gpu/uniform.ts; WGSL in shaders/lib/).

import type { BufferPool } from '../gpu/buffers';
import { PipelineCache } from '../gpu/pipelines';
import { defineUniform, type UniformValuesOf } from '../gpu/uniform';

/** shaders/lib/step.wgsl's Step: rewritten before each step (writeStep). */
export const stepUniform = defineUniform('Step', [
  { name: 'pos0', type: 'u32' }, // position of the first row of this step in the context
  { name: 'T', type: 'u32' }, // rows (tokens) processed by this step: prompt length in prefill, 1 in decode
  { name: 'rand', type: 'f32' }, // uniform random number in [0, 1) for the sampler
  { name: 'writePos', type: 'u32' }, // where the sampler stores the chosen token id in the tokens buffer
]);

/** shaders/lib/thresholds.wgsl's Thresholds: the firing thresholds the probed kernels compare against. */
export const thresholdsUniform = defineUniform('Thresholds', [
  { name: 'head', type: 'f32' },
  { name: 'neuron', type: 'f32' },
  { name: 'edge', type: 'f32' },
  { name: '_pad0', type: 'f32' },
]);

export interface KernelContext {
  device: GPUDevice;
  pipelines: PipelineCache;
  pool: BufferPool;
  /** The per-step uniform (stepUniform), rewritten before each step. */
  step: GPUBuffer;
  /** A small zero-filled storage buffer bound where a kernel has no bias. */
  zeros: GPUBuffer;
  /** A second small storage buffer for unused writable bindings (writable bindings must not alias). */
  scratch: GPUBuffer;
  /** A Thresholds uniform (all zero) bound where a kernel has no neuron probe; the kernel never reads it then. */
  thresholds: GPUBuffer;
}

/** A context with its own step uniform and placeholder buffers, all from `pool`. */
export function createKernelContext(device: GPUDevice, pool: BufferPool, label: string): KernelContext {
  return {
    device,
    pool,
    pipelines: PipelineCache.of(device),
    step: pool.create(`${label}.step`, STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
    zeros: pool.storage(`${label}.zeros`, 64),
    scratch: pool.storage(`${label}.scratch`, 64),
    thresholds: pool.uniform(`${label}.thresholds (placeholder)`, thresholdsUniform.pack({ head: 0, neuron: 0, edge: 0 })),
  };
}

/** One compute dispatch, fully built at load: per step only its grid (a function of T) is computed. */
export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: (T: number) => [number, number, number];
}

export const STEP_BYTES = stepUniform.bytes;

/** One step's Step values (fields as stepUniform declares them). */
export type StepParams = UniformValuesOf<typeof stepUniform>;

// Reused by every writeStep: a token's uniform write allocates nothing.
const stepScratch = new ArrayBuffer(STEP_BYTES);

export function writeStep(device: GPUDevice, step: GPUBuffer, s: StepParams): void {
  device.queue.writeBuffer(step, 0, stepUniform.pack(s, stepScratch));
}

export type Binding = GPUBuffer | GPUBufferBinding;

export function makeBindGroup(device: GPUDevice, pipeline: GPUComputePipeline, label: string, entries: Binding[]): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: entries.map((e, binding) => ({ binding, resource: 'buffer' in e ? e : { buffer: e } })),
  });
}

export function encodeDispatches(pass: GPUComputePassEncoder, list: readonly Dispatch[], T: number): void {
  for (const d of list) {
    const [x, y, z] = d.grid(T);
    if (x === 0 || y === 0 || z === 0) continue;
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(x, y, z);
  }
}

/** Splits a 1-D workgroup count over x and y (x at most 65535, WebGPU's default per-dimension limit). */
export function grid1d(count: number): [number, number, number] {
  if (count <= 65535) return [count, 1, 1];
  const y = Math.ceil(count / 65535);
  return [Math.ceil(count / y), y, 1];
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** Runs dispatches in one encoder and pass and waits for the queue (tests and one-off work). */
export async function runOnce(ctx: KernelContext, list: readonly Dispatch[], step: StepParams): Promise<void> {
  writeStep(ctx.device, ctx.step, step);
  const enc = ctx.device.createCommandEncoder({ label: 'runOnce' });
  const pass = enc.beginComputePass({ label: 'runOnce' });
  encodeDispatches(pass, list, step.T);
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
}
