// Waiting on the GPU without stealing its cores: where the host's wait spins (GpuContext.hostPollSpins, Dawn's
// Node binding), a caller that knows when work will be done sleeps until shortly before, then waits.

/** The share of an expected duration slept through: the sleep ends before the work does, so no result waits long. */
export const DUE_FRACTION = 0.85;

/**
 * Sleeps until `dueAt` (a performance.now() time) when the host's wait spins and at least a millisecond is left
 * (setTimeout's grain); elsewhere returns at once. Answers whether it slept.
 */
export async function sleepUntilDue(hostPollSpins: boolean, dueAt: number | undefined): Promise<boolean> {
  if (!hostPollSpins || dueAt === undefined) return false;
  const ms = Math.floor(dueAt - performance.now());
  if (ms < 1) return false;
  await new Promise<void>((r) => setTimeout(r, ms));
  return true;
}

/** The dueAt of work submitted now that should take about `expectMs` (undefined without an estimate). */
export function dueAfter(expectMs: number): number | undefined {
  return expectMs > 0 ? performance.now() + DUE_FRACTION * expectMs : undefined;
}
