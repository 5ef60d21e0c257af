// Test helpers for real WebGPU in Node (Dawn): one shared device per test file, every test's GPU work
// inside validation / out-of-memory error scopes, and uncaptured errors turned into test failures.

import { acquireNodeGpu } from '../gpu/node';
import { withErrorScopes, type GpuContext } from '../gpu/device';
import { BufferPool, readBuffer } from '../gpu/buffers';
import { createKernelContext, type KernelContext } from './kernel';
import { mulberry32 } from '../shared/random';

let shared: Promise<GpuContext> | null = null;

export function testGpu(): Promise<GpuContext> {
  shared ??= acquireNodeGpu({ label: 'test device' });
  return shared;
}

export async function testKernelContext(): Promise<KernelContext & { gpu: GpuContext }> {
  const gpu = await testGpu();
  return { gpu, ...createKernelContext(gpu.device, new BufferPool(gpu.device), 'test') };
}

/** Runs fn counting the GPU buffers created meanwhile (the per-token discipline: a generation creates none). */
export async function countBuffersCreated<T>(device: GPUDevice, fn: () => Promise<T>): Promise<{ result: T; created: number }> {
  let created = 0;
  const original = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    created++;
    return original(d);
  };
  try {
    return { result: await fn(), created };
  } finally {
    device.createBuffer = original;
  }
}

/** Runs fn in error scopes; fails on any validation/OOM error and on any uncaptured error during it. */
export async function gpuCheck<T>(gpu: GpuContext, what: string, fn: () => Promise<T>): Promise<T> {
  const before = gpu.errors.length;
  const r = await withErrorScopes(gpu.device, what, fn);
  await gpu.device.queue.onSubmittedWorkDone();
  if (gpu.errors.length > before) throw new Error(`${what}: uncaptured GPU error: ${gpu.errors.slice(before).join('; ')}`);
  return r;
}

export async function readF32(device: GPUDevice, b: GPUBuffer, count: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, b, 0, Math.ceil((count * 4) / 4) * 4)).subarray(0, count);
}

/** Deterministic pseudo-random numbers for tests (mulberry32), uniform in [-scale, scale). */
export function rng(seed: number): (scale?: number) => number {
  const next = mulberry32(seed);
  return (scale = 1) => (next() * 2 - 1) * scale;
}

export function randomArray(n: number, r: (s?: number) => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r(scale);
  return a;
}

/** max |a - b| / max(1, max |b|): error relative to the reference's scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let scale = 1;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return num / scale;
}
