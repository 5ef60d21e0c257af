// Measured variant choice: times each candidate's dispatches on this adapter, once at load, and
// returns the fastest. Kernels keep one GPU-shaped variant and one CPU-emulation-shaped variant,
// and which wins depends on the adapter (SwiftShader pays for every barrier), so it is measured.

import { encodeDispatches, writeStep, type Dispatch, type KernelContext } from './kernel';

export interface TuneResult<V extends string> {
  variant: V;
  /** Best time of each candidate, ms for one pass over its dispatches. */
  ms: Record<V, number>;
}

export async function fastestVariant<V extends string>(
  ctx: KernelContext,
  candidates: ReadonlyArray<{ variant: V; list: readonly Dispatch[] }>,
  T: number,
  reps = 3,
  /** First position of the timed rows (attention's cost grows with it). */
  pos0 = 0,
): Promise<TuneResult<V>> {
  const { device } = ctx;
  writeStep(device, ctx.step, { pos0, T, rand: 0, writePos: pos0 });
  const run = async (list: readonly Dispatch[]) => {
    const enc = device.createCommandEncoder({ label: 'autotune' });
    const pass = enc.beginComputePass({ label: 'autotune' });
    encodeDispatches(pass, list, T);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  const ms = {} as Record<V, number>;
  for (const c of candidates) await run(c.list); // compile / warm caches
  for (const c of candidates) {
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await run(c.list);
      best = Math.min(best, performance.now() - t0);
    }
    ms[c.variant] = best;
  }
  const variant = candidates.reduce((a, b) => (ms[b.variant] < ms[a.variant] ? b : a)).variant;
  return { variant, ms };
}
