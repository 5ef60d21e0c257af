// The dense-vs-BSR crossover: times the dense gemv and the BSR gemv (each in the variant this
// adapter runs fastest) on a GPT-2-shaped matrix whose 32 x 32 blocks are kept at densities
// 1 .. 1/16, after checking both against the CPU reference. The crossover density is where BSR
// starts to win; src/kernels/crossover.ts holds the measured value the engine uses.

import { BufferPool } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import { createKernelContext, runOnce, type Dispatch } from '../kernels/kernel';
import { uploadMatrix } from '../kernels/packed';
import { createGemv, type GemvVariant } from '../kernels/gemv';
import { uploadBsr, createBsrGemv, type BsrBlock } from '../kernels/bsr';
import { fastestVariant } from '../kernels/autotune';
import { linearRef } from '../kernels/linear';
import { roundToF16 } from '../shared/f16';
import { readBuffer } from '../gpu/buffers';
import { mulberry32 } from '../shared/random';

export interface CrossoverRow {
  kernel: 'dense' | 'bsr';
  variant: GemvVariant;
  density: number;
  ms: number;
  gbPerS: number;
}

export interface CrossoverResult {
  rows: CrossoverRow[];
  /** Highest measured density at which BSR was faster than dense (0 if never). */
  crossoverDensity: number;
  shape: { N: number; K: number; block: number };
}

/**
 * A copy of dense (rows, cols) that keeps max(1, round(density * blocks)) of its block x block blocks, spread
 * evenly over the block rows (as top-k pruning tends to), and zeroes the rest. cols must be a multiple of block.
 */
export function keepBlocksSpread(dense: Float32Array, rows: number, cols: number, block: number, density: number): Float32Array {
  const nr = Math.ceil(rows / block);
  const nc = cols / block;
  const keep = Math.max(1, Math.round(density * nr * nc));
  // Blocks in a fixed multiplicative-hash order: the first `keep` of it land in every block row alike.
  const order = Array.from({ length: nr * nc }, (_, i) => i).sort((a, b) => ((a * 2654435761) >>> 0) - ((b * 2654435761) >>> 0));
  const kept = new Set(order.slice(0, keep));
  const w = dense.slice();
  for (let b = 0; b < nr * nc; b++) {
    if (kept.has(b)) continue;
    const rb = Math.floor(b / nc);
    const cb = b % nc;
    for (let i = rb * block; i < Math.min(rows, rb * block + block); i++) w.fill(0, i * cols + cb * block, i * cols + cb * block + block);
  }
  return w;
}

export async function measureCrossover(gpu: GpuContext, nEmbd: number, block: BsrBlock, reps = 5): Promise<CrossoverResult> {
  const device = gpu.device;
  const pool = new BufferPool(device);
  const ctx = createKernelContext(device, pool, 'crossover');
  const [N, K] = [4 * nEmbd, nEmbd]; // the MLP's c_fc shape
  const rand = mulberry32(12345);
  const dense = new Float32Array(N * K).map(() => rand() - 0.5);
  const x = pool.upload('x', new Float32Array(K + 72).map((_, i) => (i < K ? rand() - 0.5 : 0)));
  const y = pool.storage('y', N * 4);
  const rows: CrossoverRow[] = [];
  const denseM = uploadMatrix(pool, 'dense', dense, N, K, 'rows-cols');
  const time = async (make: (v: GemvVariant) => Dispatch) => fastestVariant(ctx, (['coop', 'row'] as const).map((variant) => ({ variant, list: [make(variant)] })), 1, reps);
  const d = await time((variant) => createGemv(ctx, { label: 'dense', w: denseM.buffer, wScale: denseM.code.scale, N, K, kStride: denseM.kStride, x, y, epilogue: 'none', variant }));
  rows.push({ kernel: 'dense', variant: d.variant, density: 1, ms: d.ms[d.variant], gbPerS: denseM.bytes / d.ms[d.variant] / 1e6 });
  for (const density of [1, 1 / 2, 1 / 4, 1 / 8, 1 / 16]) {
    const w = keepBlocksSpread(dense, N, K, block, density);
    const bsr = uploadBsr(pool, `bsr ${density}`, w, N, K, block);
    // Validate before timing: BSR output equals the dense reference on the zeroed matrix.
    await runOnce(ctx, [createBsrGemv(ctx, { label: 'check', w: bsr, x, y, epilogue: 'none', variant: 'row' })], { pos0: 0, T: 1, rand: 0, writePos: 0 });
    const got = new Float32Array(await readBuffer(device, y, 0, N * 4));
    const xs = new Float32Array(await readBuffer(device, x, 0, K * 4));
    const want = linearRef({ x: xs, w: roundToF16(w), M: 1, N, K, epilogue: 'none' });
    let err = 0;
    for (let i = 0; i < N; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    if (err > 1e-3) throw new Error(`crossover: BSR gemv at density ${density} differs from the reference by ${err}`);
    const r = await time((variant) => createBsrGemv(ctx, { label: 'bsr', w: bsr, x, y, epilogue: 'none', variant }));
    rows.push({ kernel: 'bsr', variant: r.variant, density, ms: r.ms[r.variant], gbPerS: bsr.bytes / r.ms[r.variant] / 1e6 });
  }
  pool.destroy();
  const denseMs = rows[0].ms;
  const wins = rows.filter((r) => r.kernel === 'bsr' && r.ms < denseMs).map((r) => r.density);
  return { rows, crossoverDensity: wins.length ? Math.max(...wins) : 0, shape: { N, K, block } };
}
