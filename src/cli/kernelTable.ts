// The per-kernel table (`bench --kernel-table`): every linear kernel the engine can run, dense and BSR, gemv
// (decode) and matmul (an 8-row prefill), in each variant, on the shapes of one GPT-2 layer and its LM head.
// Each kernel is first checked against the CPU reference (linearRef on the f16-rounded weights), then timed:
// several copies of the dispatch in one pass, by the pass's timestamps (so neither the submit nor the host's wait
// enters), rounds alternating between the candidates, best round kept. Prints `op | N x K | kernel | variant | workgroup | ms | GB/s`.

import { BufferPool, readBuffer } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import { createKernelContext, runOnce, writeStep, type Dispatch } from '../kernels/kernel';
import { profileGroups } from '../kernels/timing';
import { uploadMatrix } from '../kernels/packed';
import { createGemv, gemvLanes, GEMV_WG, GEMV_ROW_WG, GEMV_ROWS_PER_THREAD, type GemvVariant } from '../kernels/gemv';
import { createMatmul, type MatmulVariant } from '../kernels/matmul';
import { uploadBsr, createBsrGemv, createBsrMatmul, type BsrBlock } from '../kernels/bsr';
import { linearRef } from '../kernels/linear';
import { roundToF16 } from '../shared/f16';
import { mulberry32 } from '../shared/random';
import { keepBlocksSpread } from './crossover';

export type KernelName = 'gemv' | 'bsr gemv' | 'matmul' | 'bsr matmul';

export interface KernelRow {
  op: string;
  N: number;
  K: number;
  kernel: KernelName;
  variant: GemvVariant | MatmulVariant;
  /** Threads per workgroup and what each computes. */
  workgroup: string;
  /** Block density of the matrix the kernel reads (1 for the dense kernels). */
  density: number;
  /** Weight bytes one dispatch reads (BSR: values, column indices and row pointers). */
  bytes: number;
  /** Best round, ms per dispatch. */
  ms: number;
  gbPerS: number;
}

export interface KernelTableOptions {
  embd: number;
  vocab: number;
  block: BsrBlock;
  /** Kept block fraction of the BSR matrices. */
  density: number;
  /** Rows of x for the matmuls (a short prompt's prefill). */
  rows?: number;
  /** Timed rounds per candidate (best kept). */
  rounds?: number;
}

/** How the variants spread work over a workgroup (the constants the kernels' TS side dispatches with). */
function workgroupOf(kernel: KernelName, variant: string, K: number): string {
  if (kernel === 'gemv' || kernel === 'bsr gemv') {
    const lanes = kernel === 'gemv' ? gemvLanes(K) : Math.min(gemvLanes(K), 32);
    return variant === 'row' ? `${GEMV_ROW_WG} x ${GEMV_ROWS_PER_THREAD} rows` : `${GEMV_WG}, ${lanes} per row`;
  }
  if (kernel === 'matmul') return variant === 'tiled' ? '16x16, 64x64 tile' : '64 x 8 rows of x';
  return variant === 'tiled' ? '256, block row x 64 rows of x' : '64 x 8 rows of x';
}

/**
 * ms of `copies` back-to-back dispatches of d in one pass (profileGroups: the pass's timestamps where the adapter
 * has them, else submit to done; where the host's wait spins, `expectMs` is slept through first).
 */
async function timePass(gpu: GpuContext, d: Dispatch, copies: number, T: number, expectMs = 0): Promise<number> {
  const [t] = await profileGroups(gpu.device, [{ label: `kernel table: ${d.label}`, list: Array<Dispatch>(copies).fill(d) }], T, 1, { hostPollSpins: gpu.hostPollSpins, expectMs });
  return t.ms;
}

export async function measureKernelTable(gpu: GpuContext, o: KernelTableOptions): Promise<KernelRow[]> {
  const { embd: D, vocab: V, block } = o;
  if (D % block !== 0) throw new Error(`kernel table: --embd ${D} must be a multiple of --block ${block}`);
  const M = o.rows ?? 8;
  const rounds = o.rounds ?? 7;
  const device = gpu.device;
  const pool = new BufferPool(device);
  const ctx = createKernelContext(device, pool, 'kernel table');
  const rand = mulberry32(2024);
  const maxK = 4 * D;
  // x is (M, K) for the matmuls and its first row the gemvs' vector; padded past K as the engine's buffers are.
  const xHost = new Float32Array(M * maxK + 72).map(() => rand() - 0.5);
  const x = pool.upload('kernel table x', xHost);
  const y = pool.storage('kernel table y', M * Math.max(V, maxK) * 4);
  writeStep(device, ctx.step, { pos0: 0, T: M, rand: 0, writePos: 0 });
  const shapes: { op: string; N: number; K: number; sparse: boolean }[] = [
    { op: 'attn.c_attn', N: 3 * D, K: D, sparse: true },
    { op: 'attn.c_proj', N: D, K: D, sparse: true },
    { op: 'mlp.c_fc', N: 4 * D, K: D, sparse: true },
    { op: 'mlp.c_proj', N: D, K: 4 * D, sparse: true },
    { op: 'lm_head', N: V, K: D, sparse: false },
  ];
  const rows: KernelRow[] = [];
  try {
    for (const s of shapes) {
      const { N, K } = s;
      const dense = new Float32Array(N * K).map(() => rand() - 0.5);
      const denseM = uploadMatrix(pool, `${s.op} dense`, dense, N, K, 'rows-cols');
      type Candidate = { kernel: KernelName; variant: GemvVariant | MatmulVariant; d: Dispatch; T: number; w: Float32Array; density: number; bytes: number };
      const cands: Candidate[] = [];
      for (const variant of ['row', 'coop'] as const) {
        cands.push({ kernel: 'gemv', variant, T: 1, w: dense, density: 1, bytes: denseM.bytes,
          d: createGemv(ctx, { label: `${s.op} gemv`, w: denseM.buffer, wScale: denseM.code.scale, N, K, kStride: denseM.kStride, x, y, epilogue: 'none', variant }) });
      }
      for (const variant of ['row', 'tiled'] as const) {
        cands.push({ kernel: 'matmul', variant, T: M, w: dense, density: 1, bytes: denseM.bytes,
          d: createMatmul(ctx, { label: `${s.op} matmul`, x, w: denseM.buffer, wScale: denseM.code.scale, M, N, K, kStride: denseM.kStride, y, epilogue: 'none', variant }) });
      }
      if (s.sparse) {
        const w = keepBlocksSpread(dense, N, K, block, o.density);
        const bsr = uploadBsr(pool, `${s.op} bsr`, w, N, K, block);
        for (const variant of ['row', 'coop'] as const) {
          cands.push({ kernel: 'bsr gemv', variant, T: 1, w, density: bsr.density, bytes: bsr.bytes,
            d: createBsrGemv(ctx, { label: `${s.op} bsr gemv`, w: bsr, x, y, epilogue: 'none', variant }) });
        }
        for (const variant of ['row', 'tiled'] as const) {
          cands.push({ kernel: 'bsr matmul', variant, T: M, w, density: bsr.density, bytes: bsr.bytes,
            d: createBsrMatmul(ctx, { label: `${s.op} bsr matmul`, x, w: bsr, M, y, epilogue: 'none', variant }) });
        }
      }
      // Validate every candidate before anything is timed.
      for (const c of cands) {
        const m = c.T;
        await runOnce(ctx, [c.d], { pos0: 0, T: m, rand: 0, writePos: 0 });
        const got = new Float32Array(await readBuffer(device, y, 0, m * N * 4));
        const want = linearRef({ x: xHost.subarray(0, m * K), w: roundToF16(c.w), M: m, N, K, epilogue: 'none' });
        let err = 0;
        let scale = 1;
        for (let i = 0; i < m * N; i++) {
          err = Math.max(err, Math.abs(got[i] - want[i]));
          scale = Math.max(scale, Math.abs(want[i]));
        }
        if (!(err <= 1e-4 * scale * Math.sqrt(K))) {
          throw new Error(`kernel table: ${c.kernel} ${c.variant} on ${s.op} (${N} x ${K}) differs from the CPU reference by ${err.toExponential(2)}`);
        }
      }
      // Enough copies per pass for ~8 ms, then rounds alternating over the candidates.
      const copies = new Map<Candidate, number>();
      for (const c of cands) {
        await timePass(gpu, c.d, 1, c.T);
        const one = await timePass(gpu, c.d, 1, c.T);
        copies.set(c, Math.min(32, Math.max(1, Math.ceil(8 / Math.max(one, 0.01)))));
      }
      const best = new Map<Candidate, number>(cands.map((c) => [c, Infinity]));
      for (let r = 0; r < rounds; r++) {
        for (const c of r % 2 ? [...cands].reverse() : cands) {
          const n = copies.get(c)!;
          const prev = best.get(c)!;
          best.set(c, Math.min(prev, (await timePass(gpu, c.d, n, c.T, Number.isFinite(prev) ? prev * n : 0)) / n));
        }
      }
      for (const c of cands) {
        const ms = best.get(c)!;
        rows.push({ op: s.op, N, K, kernel: c.kernel, variant: c.variant, workgroup: workgroupOf(c.kernel, c.variant, K), density: c.density, bytes: c.bytes, ms, gbPerS: c.bytes / ms / 1e6 });
      }
    }
  } finally {
    pool.destroy();
  }
  return rows;
}

/** The Markdown table of the rows. */
export function kernelTableMarkdown(rows: readonly KernelRow[]): string {
  const lines = ['| op | N x K | kernel | variant | workgroup | density | ms | GB/s |', '|---|---|---|---|---|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.op} | ${r.N} x ${r.K} | ${r.kernel} | ${r.variant} | ${r.workgroup} | ${r.density.toFixed(3)} | ${r.ms.toFixed(3)} | ${r.gbPerS.toFixed(3)} |`);
  }
  return lines.join('\n');
}
