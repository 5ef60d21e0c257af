// The roofline kernels compute what their CPU references say (so the timed work is the work counted),
// on awkward sizes, and measureRoofline returns positive, finite rates.

import { describe, expect, it } from 'vitest';
import { gpuCheck, readF32, relErr, testKernelContext } from './testing';
import { encodeDispatches } from './kernel';
import { createFma, createStream, fmaRef, measureRoofline, streamRef } from './roofline';

describe('roofline kernels', async () => {
  const ctx = await testKernelContext();
  const run = async (d: Parameters<typeof encodeDispatches>[1]) => {
    const enc = ctx.device.createCommandEncoder({ label: 'roofline test' });
    const pass = enc.beginComputePass({ label: 'roofline test' });
    encodeDispatches(pass, d, 1);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
  };

  for (const [n, threads] of [[4, 256], [4 * 1001, 512], [4 * 70000, 256]] as const) {
    it(`stream sums ${n} values over ${threads} threads`, async () => {
      const values = new Float32Array(n).map((_, i) => ((i * 37) % 101) / 8 - 6);
      const k = createStream(ctx, { values, threads });
      const got = await gpuCheck(ctx.gpu, 'stream', async () => {
        await run([k.dispatch]);
        return readF32(ctx.device, k.out, threads);
      });
      expect(relErr(got, streamRef(values, threads))).toBeLessThan(1e-6);
      expect(k.bytes).toBe(4 * n);
    });
  }

  it('fma runs its chains (fused or not, within rounding)', async () => {
    const k = createFma(ctx, { threads: 512, iters: 333 });
    const got = await gpuCheck(ctx.gpu, 'fma', async () => {
      await run([k.dispatch]);
      return readF32(ctx.device, k.out, 512);
    });
    const want = Float32Array.from({ length: 512 }, (_, t) => fmaRef(t, 333));
    expect(relErr(got, want)).toBeLessThan(1e-5);
    expect(k.flops).toBe(512 * 333 * 32);
  });

  it('measureRoofline gives finite, positive rates', async () => {
    const r = await gpuCheck(ctx.gpu, 'roofline', () => measureRoofline(ctx.device, { streamBytes: 1 << 20, threads: 4096, fmaIters: 64, repeats: 2 }));
    expect(r.bytesPerS).toBeGreaterThan(0);
    expect(Number.isFinite(r.bytesPerS)).toBe(true);
    expect(r.flopsPerS).toBeGreaterThan(0);
    expect(Number.isFinite(r.flopsPerS)).toBe(true);
    expect(r.streamBytes).toBe(1 << 20);
  });
});
