// Per-op GPU timing: each dispatch in its own compute pass with timestamp writes (when the adapter has
// 'timestamp-query'), else one submit per dispatch timed on the CPU. For benchmarks and profiling only:
// the engine's normal step is one pass.

import type { Dispatch } from './kernel';

export interface OpTiming {
  label: string;
  ms: number;
}

/**
 * `sleepMs`: time to sleep after each submit before waiting on it, for hosts whose wait spins a core the
 * adapter needs (GpuContext.hostPollSpins); the times come from timestamps, so the sleep does not enter them.
 */
export async function profileDispatches(device: GPUDevice, list: readonly Dispatch[], T: number, repeats = 3, sleepMs = 0): Promise<OpTiming[]> {
  const totals = new Float64Array(list.length);
  const useTs = device.features.has('timestamp-query');
  const n = list.length;
  const query = useTs ? device.createQuerySet({ label: 'profile', type: 'timestamp', count: 2 * n }) : null;
  const resolve = useTs ? device.createBuffer({ label: 'profile resolve', size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }) : null;
  const read = useTs ? device.createBuffer({ label: 'profile read', size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  for (let r = 0; r < repeats; r++) {
    if (useTs) {
      const enc = device.createCommandEncoder({ label: 'profile' });
      list.forEach((d, i) => {
        const pass = enc.beginComputePass({ label: d.label, timestampWrites: { querySet: query!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        const [x, y, z] = d.grid(T);
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        if (x && y && z) pass.dispatchWorkgroups(x, y, z);
        pass.end();
      });
      enc.resolveQuerySet(query!, 0, 2 * n, resolve!, 0);
      enc.copyBufferToBuffer(resolve!, 0, read!, 0, 16 * n);
      device.queue.submit([enc.finish()]);
      if (sleepMs >= 1) await new Promise<void>((r) => setTimeout(r, sleepMs));
      await read!.mapAsync(GPUMapMode.READ);
      const ts = new BigInt64Array(read!.getMappedRange().slice(0));
      read!.unmap();
      for (let i = 0; i < n; i++) totals[i] += Number(ts[2 * i + 1] - ts[2 * i]) / 1e6;
    } else {
      for (let i = 0; i < n; i++) {
        const d = list[i];
        const t0 = performance.now();
        const enc = device.createCommandEncoder({ label: d.label });
        const pass = enc.beginComputePass({ label: d.label });
        const [x, y, z] = d.grid(T);
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        if (x && y && z) pass.dispatchWorkgroups(x, y, z);
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
  return list.map((d, i) => ({ label: d.label, ms: totals[i] / repeats }));
}
