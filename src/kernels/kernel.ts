// What every kernel module shares: the context kernels are built in, the Dispatch record the engine
// encodes per token, and the per-step uniform (position, rows, random number) all kernels read.

import type { BufferPool } from '../gpu/buffers';
import type { PipelineCache } from '../gpu/pipelines';

export interface KernelContext {
  device: GPUDevice;
  pipelines: PipelineCache;
  pool: BufferPool;
  /** The per-step uniform: { pos0: u32, T: u32, rand: f32, writePos: u32 }, rewritten before each step. */
  step: GPUBuffer;
  /** A small zero-filled storage buffer bound where a kernel has no bias. */
  zeros: GPUBuffer;
  /** A second small storage buffer for unused writable bindings (writable bindings must not alias). */
  scratch: GPUBuffer;
}

/** One compute dispatch, fully built at load: per step only its grid (a function of T) is computed. */
export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: (T: number) => [number, number, number];
}

export const STEP_BYTES = 16;

export interface StepParams {
  /** Position of the first row of this step in the context. */
  pos0: number;
  /** Rows (tokens) processed by this step: prompt length in prefill, 1 in decode. */
  T: number;
  /** Uniform random number in [0, 1) for the sampler. */
  rand: number;
  /** Where the sampler stores the chosen token id in the tokens buffer. */
  writePos: number;
}

const stepScratch = new ArrayBuffer(STEP_BYTES);
const stepU32 = new Uint32Array(stepScratch);
const stepF32 = new Float32Array(stepScratch);

export function writeStep(device: GPUDevice, step: GPUBuffer, s: StepParams): void {
  stepU32[0] = s.pos0;
  stepU32[1] = s.T;
  stepF32[2] = s.rand;
  stepU32[3] = s.writePos;
  device.queue.writeBuffer(step, 0, stepScratch);
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
