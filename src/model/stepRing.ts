// The ring of in-flight steps: k readback slots (the sampler's result, the probe words, the pass's two GPU
// timestamps), so that step t+1 is submitted before step t is read back. The sampler already writes the
// next token id on the GPU, so nothing the next step needs waits on the CPU; a slot is reused only after its
// result was read and unmapped. A slot is mapped when its reader asks (map), not at submit: on a host whose
// pending promises keep a core spinning (GpuContext.hostPollSpins) the reader first sleeps until the step is due.

import type { BufferPool } from '../gpu/buffers';
import { sleepUntilDue } from '../gpu/wait';
import { encodeDispatches, type Dispatch } from '../kernels/kernel';

/** What one step hands back. */
export interface StepReadback {
  result: Uint32Array;
  probe?: Uint32Array;
  /** GPU time of the step's compute pass (timestamp queries, overlap with the previous pass left out: passGpuMs; absent without 'timestamp-query'). */
  gpuMs?: number;
}

/**
 * A step's own GPU time from its pass's timestamps (ns): from its start, or from the previous pass's end
 * (`prevEnd`) when it was stamped as begun before that ended. With steps in flight an adapter may stamp a
 * pass's beginning while the previous pass still runs (SwiftShader does), and end - begin then counts the
 * overlap twice: the GPU times of a run would add up to more than its wall time. Counted this way they add
 * up to the time the GPU was busy, so wall - GPU is the time it waited on the host. Undefined when the
 * adapter answered no usable time (zeros, or an end before the beginning across a clock reset).
 */
export function passGpuMs(t0: bigint, t1: bigint, prevEnd: bigint): number | undefined {
  if (t0 <= 0n || t1 < t0) return undefined;
  const from = prevEnd > t0 && prevEnd <= t1 ? prevEnd : t0;
  return Number(t1 - from) / 1e6;
}

// resolveQuerySet writes at multiples of 256 bytes: one 256-byte row of the resolve buffer per slot.
const RESOLVE_STRIDE = 256;

export class StepRing {
  readonly slots: number;
  private readonly staging: GPUBuffer[];
  private readonly query: GPUQuerySet | null;
  private readonly resolve: GPUBuffer | null;
  private readonly resultBytes: number;
  private readonly probeBytes: number;
  /** End timestamp of the last step read (steps are read in the order they were submitted). */
  private lastEnd = 0n;
  /** Bytes each slot's pending step asked to have mapped (set by submit, used by map). */
  private readonly mapBytes: number[];
  private readonly hostPollSpins: boolean;

  constructor(private readonly device: GPUDevice, pool: BufferPool, o: { label: string; slots: number; resultWords: number; probeWords: number; hostPollSpins?: boolean }) {
    if (!Number.isInteger(o.slots) || o.slots < 1 || o.slots > 8) throw new Error(`${o.label}: steps in flight must be 1..8 (got ${o.slots})`);
    this.slots = o.slots;
    this.mapBytes = new Array<number>(o.slots).fill(0);
    this.hostPollSpins = o.hostPollSpins ?? false;
    this.resultBytes = o.resultWords * 4;
    this.probeBytes = o.probeWords * 4;
    const bytes = StepRing.tsOffset(this.resultBytes + this.probeBytes) + 16;
    this.staging = Array.from({ length: o.slots }, (_, s) =>
      pool.create(`${o.label}.readback slot ${s} (result + probe + timestamps)`, bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST));
    const ts = device.features.has('timestamp-query');
    this.query = ts ? device.createQuerySet({ label: `${o.label}.step timestamps (2 per slot)`, type: 'timestamp', count: 2 * o.slots }) : null;
    this.resolve = ts ? pool.create(`${o.label}.step timestamps resolve`, RESOLVE_STRIDE * o.slots, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC) : null;
  }

  // The two u64 timestamps sit 8-byte aligned after the result (and probe) words.
  private static tsOffset(used: number): number {
    return Math.ceil(used / 8) * 8;
  }

  /**
   * Encodes one step into slot `slot` (one encoder, one pass, the copies of its results into the slot) and
   * submits it. `result` and `probe` are the buffers the pass writes. map(slot) then waits for it.
   */
  submit(slot: number, list: readonly Dispatch[], T: number, bufs: { result: GPUBuffer; probe: GPUBuffer }, probes: boolean, label: string): void {
    const { device } = this;
    const staging = this.staging[slot];
    const used = this.resultBytes + (probes ? this.probeBytes : 0);
    const enc = device.createCommandEncoder({ label: `${label} step` });
    const pass = enc.beginComputePass({
      label: `${label} forward`,
      ...(this.query ? { timestampWrites: { querySet: this.query, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 } } : {}),
    });
    encodeDispatches(pass, list, T);
    pass.end();
    enc.copyBufferToBuffer(bufs.result, 0, staging, 0, this.resultBytes);
    if (probes) enc.copyBufferToBuffer(bufs.probe, 0, staging, this.resultBytes, this.probeBytes);
    let mapBytes = used;
    if (this.query && this.resolve) {
      enc.resolveQuerySet(this.query, 2 * slot, 2, this.resolve, RESOLVE_STRIDE * slot);
      enc.copyBufferToBuffer(this.resolve, RESOLVE_STRIDE * slot, staging, StepRing.tsOffset(used), 16);
      mapBytes = StepRing.tsOffset(used) + 16;
    }
    device.queue.submit([enc.finish()]);
    this.mapBytes[slot] = mapBytes;
  }

  /**
   * Resolves when slot's step is done and its slot mapped. `dueAt` (a performance.now() time) is when the
   * reader expects it done: on a host that spins while a promise is pending the wait sleeps until then
   * before mapping, so the spin lasts only past that point (the steps queued behind keep the adapter busy
   * meanwhile). Elsewhere it maps at once. Answers whether it slept and found the step already done (woke
   * late), so the reader can catch up instead of sleeping again.
   */
  async map(slot: number, dueAt?: number): Promise<{ wokeLate: boolean }> {
    const slept = await sleepUntilDue(this.hostPollSpins, dueAt);
    const t = performance.now();
    await this.staging[slot].mapAsync(GPUMapMode.READ, 0, this.mapBytes[slot]);
    // A map of a finished step resolves on the poll's next turn, well under half a millisecond.
    return { wokeLate: slept && performance.now() - t < 0.5 };
  }

  /** Reads a slot whose map has resolved (copies out, unmaps). */
  read(slot: number, probes: boolean): StepReadback {
    const staging = this.staging[slot];
    const used = this.resultBytes + (probes ? this.probeBytes : 0);
    const mapBytes = this.query ? StepRing.tsOffset(used) + 16 : used;
    const bytes = staging.getMappedRange(0, mapBytes).slice(0);
    staging.unmap();
    const words = new Uint32Array(bytes, 0, used / 4);
    const out: StepReadback = {
      result: words.subarray(0, this.resultBytes / 4),
      probe: probes ? words.subarray(this.resultBytes / 4) : undefined,
    };
    if (this.query) {
      const view = new DataView(bytes, StepRing.tsOffset(used), 16);
      const t0 = view.getBigUint64(0, true);
      const t1 = view.getBigUint64(8, true);
      const ms = passGpuMs(t0, t1, this.lastEnd);
      if (ms !== undefined) {
        out.gpuMs = ms;
        this.lastEnd = t1;
      }
    }
    return out;
  }

  destroy(): void {
    this.query?.destroy();
  }
}
