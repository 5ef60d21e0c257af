// gemv (decode) and matmul (prefill) against the CPU reference on awkward shapes: K not a multiple
// of 8, N not a multiple of the tile, M below and above the 64-row tile, every epilogue, LM-head chunks.

import { describe, expect, it } from 'vitest';
import { testKernelContext, gpuCheck, readF32, rng, randomArray, relErr } from './testing';
import { runOnce } from './kernel';
import { uploadMatrix, rowChunks, packMatrix } from './packed';
import { createGemv } from './gemv';
import { createMatmul } from './matmul';
import { linearRef } from './linear';
import { f16BitsToF32, roundToF16, weightCodeFor } from '../shared/f16';
import type { Epilogue } from './gelu';

const shapes: Array<[number, number, number, Epilogue]> = [
  // M, N, K, epilogue
  [1, 1, 1, 'none'],
  [1, 37, 13, 'gelu'],
  [3, 64, 64, 'residual'],
  [5, 100, 72, 'none'],
  [1, 300, 257, 'gelu'],
  [65, 129, 40, 'residual'],
  [17, 768, 256, 'none'],
];

describe('the gemv decodes the weight code exactly (shaders/lib/common.wgsl decode8)', async () => {
  const ctx = await testKernelContext();
  // Every finite f16 in two matrices (one code cannot span 65504 and the smallest subnormals): |v| <= 1 with all
  // subnormals, and the normals. Row r holds value (r + 7919 j) mod n at column j, so x = e_j reads one value of
  // every row through element j of the 8-weight decode, and y = v * 1 exactly (the other products are 0 * w).
  const all = Array.from({ length: 0x10000 }, (_, h) => h).filter((h) => (h & 0x7c00) !== 0x7c00).map(f16BitsToF32);
  const sets = { 'subnormals to 1': all.filter((v) => Math.abs(v) <= 1), 'normals to 65504': all.filter((v) => v === 0 || Math.abs(v) >= 2 ** -14) };
  for (const [name, values] of Object.entries(sets)) {
    it(`${name}: ${values.length} values, each of the 8 positions`, async () => {
      const N = values.length;
      const K = 8;
      const w = new Float32Array(N * K);
      for (let r = 0; r < N; r++) for (let j = 0; j < K; j++) w[r * K + j] = values[(r + 7919 * j) % N];
      const got = await gpuCheck(ctx.gpu, `decode ${name}`, async () => {
        const wm = uploadMatrix(ctx.pool, 'w', w, N, K, 'rows-cols');
        const yb = ctx.pool.storage('y', N * 4);
        const out: Float32Array[] = [];
        for (let j = 0; j < K; j++) {
          const xb = ctx.pool.upload('x', new Float32Array(K).map((_, i) => (i === j ? 1 : 0)));
          const d = createGemv(ctx, { label: 'gemv', w: wm.buffer, wScale: wm.code.scale, N, K, kStride: wm.kStride, x: xb, y: yb, epilogue: 'none', variant: 'row' });
          await runOnce(ctx, [d], { pos0: 0, T: 1, rand: 0, writePos: 0 });
          out.push(await readF32(ctx.device, yb, N));
        }
        return out;
      });
      for (let j = 0; j < K; j++) {
        for (let r = 0; r < N; r++) {
          const want = values[(r + 7919 * j) % N];
          // -0 sums to +0 with the zero products, so zeros compare by value.
          if (got[j][r] !== want) throw new Error(`row ${r} position ${j}: ${want} decoded as ${got[j][r]}`);
        }
      }
    });
  }
});

describe('linear kernels match the CPU reference', async () => {
  const ctx = await testKernelContext();
  for (const [M, N, K, epilogue] of shapes) {
    for (const kind of ['gemv:coop', 'gemv:row', 'matmul:tiled', 'matmul:row'] as const) {
      if (kind.startsWith('gemv') && M !== 1) continue;
      it(`${kind} M=${M} N=${N} K=${K} ${epilogue}`, async () => {
        const r = rng(M * 1000 + N * 7 + K);
        const w = randomArray(N * K, r, 0.5); // rows (N, K)
        const x = randomArray(M * K, r, 1);
        const bias = randomArray(N, r, 0.2);
        const y0 = randomArray(M * N, r, 1);
        const expected = linearRef({ x, w: roundToF16(w), bias, M, N, K, epilogue, y: y0.slice() });
        const got = await gpuCheck(ctx.gpu, `${kind} ${M}x${N}x${K}`, async () => {
          const wm = uploadMatrix(ctx.pool, 'w', w, N, K, 'rows-cols');
          const xb = ctx.pool.upload('x', new Float32Array(Math.max(M * K, K + 8)).fill(7).map((v, i) => (i < M * K ? x[i] : v)));
          const yb = ctx.pool.upload('y', y0);
          const bb = ctx.pool.upload('bias', bias);
          const d = kind === 'gemv:coop' || kind === 'gemv:row'
            ? createGemv(ctx, { label: 'gemv', w: wm.buffer, wScale: wm.code.scale, N, K, kStride: wm.kStride, bias: bb, x: xb, y: yb, epilogue, variant: kind === 'gemv:coop' ? 'coop' : 'row' })
            : createMatmul(ctx, { label: 'matmul', x: xb, w: wm.buffer, wScale: wm.code.scale, N, K, kStride: wm.kStride, bias: bb, y: yb, epilogue, variant: kind === 'matmul:tiled' ? 'tiled' : 'row' });
          await runOnce(ctx, [d], { pos0: 0, T: M, rand: 0, writePos: 0 });
          return readF32(ctx.device, yb, M * N);
        });
        expect(relErr(got, expected)).toBeLessThan(1e-5);
      });
    }
  }

  it('LM head split into row chunks equals the unsplit product (gemv and matmul)', async () => {
    const [V, D, M] = [1000, 48, 3];
    const r = rng(42);
    const w = randomArray(V * D, r, 0.5);
    const x = randomArray(M * D, r, 1);
    const expected = linearRef({ x, w: roundToF16(w), M, N: V, K: D, epilogue: 'none' });
    const { gemvOut, matOut, nChunks } = await gpuCheck(ctx.gpu, 'chunked head', async () => {
      const wm = uploadMatrix(ctx.pool, 'wte', w, V, D, 'rows-cols');
      // 48 halves -> 96 bytes per row; 20 KB chunks force several aligned chunks.
      const chunks = rowChunks(wm, 20_000, 256);
      const xb = ctx.pool.upload('x', x);
      const yg = ctx.pool.storage('yg', V * 4);
      const ym = ctx.pool.storage('ym', M * V * 4);
      const list = chunks.flatMap((c, i) => [
        createGemv(ctx, { label: `g${i}`, w: c.binding, wScale: wm.code.scale, N: c.rowCount, K: D, kStride: wm.kStride, x: xb, y: yg, yOffset: c.rowStart, epilogue: 'none', variant: i % 2 ? 'row' : 'coop' }),
        createMatmul(ctx, { label: `m${i}`, x: xb, w: c.binding, wScale: wm.code.scale, N: c.rowCount, K: D, kStride: wm.kStride, y: ym, ldy: V, yOffset: c.rowStart, epilogue: 'none', variant: i % 2 ? 'tiled' : 'row' }),
      ]);
      await runOnce(ctx, list, { pos0: 0, T: M, rand: 0, writePos: 0 });
      return { gemvOut: await readF32(ctx.device, yg, V), matOut: await readF32(ctx.device, ym, M * V), nChunks: chunks.length };
    });
    expect(nChunks).toBeGreaterThan(2);
    expect(relErr(gemvOut, expected.subarray(0, V))).toBeLessThan(1e-5);
    expect(relErr(matOut, expected)).toBeLessThan(1e-5);
  });

  it('packMatrix transposes Conv1D (in, out) weights and pads rows to 8 halves', () => {
    const w = new Float32Array([1, 2, 3, 4, 5, 6]); // (in=2, out=3)
    const code = weightCodeFor(w);
    expect(code.shift).toBe(14); // 6 has f16 exponent 17: codes are the f16 bits + 14 << 10
    const packed = new Uint16Array(packMatrix(w, 3, 2, 'cols-rows', code).buffer);
    expect(packed.length).toBe(3 * 8);
    // Row 0 of the GPU layout is output 0: inputs (1, 4), then zero padding.
    expect(Array.from(packed.subarray(0, 3))).toEqual([0x3c00 + 0x3800, 0x4400 + 0x3800, 0]);
    expect(Array.from(packed.subarray(8, 10))).toEqual([0x4000 + 0x3800, 0x4500 + 0x3800]);
  });

  it('weights at every f16 scale, subnormals and zeros included, decode exactly in gemv and matmul', async () => {
    // Rows of very different magnitudes: f16 subnormals (2^-24 .. 2^-15), tiny normals, ones, zeros.
    const [M, N, K] = [3, 16, 64];
    const r = rng(7);
    const w = new Float32Array(N * K);
    for (let i = 0; i < w.length; i++) {
      const row = Math.floor(i / K);
      const mag = row % 4 === 0 ? 2 ** -(15 + (i % 10)) : row % 4 === 1 ? 2 ** -12 : row % 4 === 2 ? 1 : 0;
      w[i] = mag * (r() < 0.5 ? -1 : 1) * (1 + Math.floor(r() * 1024) / 1024);
    }
    w[5] = 3.5; // the largest |w|, so the code is shifted by 31 - 16
    // |x| >= 1/2 keeps every product above where a flushing adapter drops raw products (max|w| * 2^-30; see
    // weightCodeFor): the rows of subnormals must come out exact, not merely close.
    const x = new Float32Array(M * K).map(() => (r() < 0.5 ? -1 : 1) * (0.5 + r() / 2));
    const wq = roundToF16(w);
    expect(wq.some((v) => v !== 0 && Math.abs(v) < 2 ** -14)).toBe(true); // subnormals really are in the matrix
    const expected = linearRef({ x, w: wq, M, N, K, epilogue: 'none' });
    const { gemvOut, matOut } = await gpuCheck(ctx.gpu, 'subnormal weights', async () => {
      const wm = uploadMatrix(ctx.pool, 'w', w, N, K, 'rows-cols');
      const xb = ctx.pool.upload('x', x);
      const yg = ctx.pool.storage('yg', N * 4);
      const ym = ctx.pool.storage('ym', M * N * 4);
      await runOnce(ctx, [
        createGemv(ctx, { label: 'g', w: wm.buffer, wScale: wm.code.scale, N, K, kStride: wm.kStride, x: xb, y: yg, epilogue: 'none', variant: 'row' }),
        createMatmul(ctx, { label: 'm', x: xb, w: wm.buffer, wScale: wm.code.scale, N, K, kStride: wm.kStride, y: ym, epilogue: 'none', variant: 'tiled' }),
      ], { pos0: 0, T: M, rand: 0, writePos: 0 });
      return { gemvOut: await readF32(ctx.device, yg, N), matOut: await readF32(ctx.device, ym, M * N) };
    });
    // Row by row: an adapter that flushes f32 subnormals drops raw products and partial sums below 2^-126,
    // at most 2K * max|w| * 2^-30 per output (weightCodeFor); the rows of subnormals, ~1e-6 .. 1e-4, stay
    // far from 0, so a decode that flushed them would fail here.
    const bound = 2 * K * 3.5 * 2 ** -30;
    for (const [got, want] of [[gemvOut, expected.subarray(0, N)], [matOut, expected]] as const) {
      for (let i = 0; i < want.length; i++) {
        if (want[i] === 0) expect(got[i]).toBe(0);
        else expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * Math.abs(want[i]) + bound);
      }
    }
    const subnormalRow = (n: number) => n % 4 === 0;
    expect(Array.from(gemvOut).filter((_, n) => subnormalRow(n)).every((v) => Math.abs(v) > 20 * bound)).toBe(true);
  });
});
