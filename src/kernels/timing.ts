// Per-op GPU timing: each dispatch (or group of dispatches) in its own compute pass with timestamp writes (when
// the adapter has 'timestamp-query'), else one submit per pass timed on the CPU. For benchmarks and profiling only:
// the engine's normal step is one pass.

import { dueAfter, sleepUntilDue } from '../gpu/wait';
import { encodeDispatches, type Dispatch } from './kernel';

export interface OpTiming {
  label: string;
  ms: number;
}

/** How a profile waits: whether the host's wait spins, and the expected GPU time of one round of its passes. */
export interface ProfileWait {
  hostPollSpins: boolean;
  expectMs: number;
}

/**
 * GPU time of each group of dispatches, each group in its own compute pass (one pass per op: groups of one).
 * `wait`: where the host's wait spins a core the adapter needs (GpuContext.hostPollSpins), about how long all
 * the passes take, slept through (src/gpu/wait.ts) before waiting on them; timestamps do not see the sleep.
 */
export async function profileGroups(
  device: GPUDevice, list: ReadonlyArray<{ label: string; list: readonly Dispatch[] }>, T: number, repeats = 3,
  wait: ProfileWait = { hostPollSpins: false, expectMs: 0 },
): Promise<OpTiming[]> {
  const totals = new Float64Array(list.length);
  const useTs = device.features.has('timestamp-query');
  const n = list.length;
  const query = useTs ? device.createQuerySet({ label: 'profile', type: 'timestamp', count: 2 * n }) : null;
  const resolve = useTs ? device.createBuffer({ label: 'profile resolve', size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;
  const read = useTs ? device.createBuffer({ label: 'profile read', size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  for (let r = 0; r < repeats; r++) {
    if (useTs) {
      const enc = device.createCommandEncoder({ label: 'profile' });
      list.forEach((g, i) => {
        const pass = enc.beginComputePass({ label: g.label, timestampWrites: { querySet: query!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        encodeDispatches(pass, g.list, T);
        pass.end();
      });
      enc.resolveQuerySet(query!, 0, 2 * n, resolve!, 0);
      enc.copyBufferToBuffer(resolve!, 0, read!, 0, 16 * n);
      device.queue.submit([enc.finish()]);
      await sleepUntilDue(wait.hostPollSpins, dueAfter(wait.expectMs));
      await read!.mapAsync(GPUMapMode.READ);
      const ts = new BigInt64Array(read!.getMappedRange().slice(0));
      read!.unmap();
      for (let i = 0; i < n; i++) totals[i] += Number(ts[2 * i + 1] - ts[2 * i]) / 1e6;
    } else {
      for (let i = 0; i < n; i++) {
        const g = list[i];
        const t0 = performance.now();
        const enc = device.createCommandEncoder({ label: g.label });
        const pass = enc.beginComputePass({ label: g.label });
        encodeDispatches(pass, g.list, T);
        pass.end();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        totals[i] += performance.now() - t0;
      }
    }
  }
  query?.destroy();
  resolve?.destroy();
  read?.destroy();
  return list.map((g, i) => ({ label: g.label, ms: totals[i] / repeats }));
}

/** GPU time of each dispatch in its own pass (profileGroups with groups of one). */
export function profileDispatches(device: GPUDevice, list: readonly Dispatch[], T: number, repeats = 3, wait?: ProfileWait): Promise<OpTiming[]> {
  return profileGroups(device, list.map((d) => ({ label: d.label, list: [d] })), T, repeats, wait);
}
