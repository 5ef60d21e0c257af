// BSR kernels equal the dense reference on the same zeroed matrix: random shapes (not multiples of
// the block), densities 0 to 1, empty block rows, every block size, epilogue and variant.

import { describe, expect, it } from 'vitest';
import { testKernelContext, gpuCheck, readF32, rng, randomArray, relErr } from './testing';
import { runOnce } from './kernel';
import { uploadBsr, packBsr, type BsrBlock } from './bsr';
import { createBsrGemv, createBsrMatmul } from './bsr';
import { linearRef } from './linear';
import { roundToF16 } from '../shared/f16';
import type { Epilogue } from './gelu';

/** A random (N, K) matrix with whole B x B blocks zeroed at the given density; block row 0 emptied when asked. */
function blockSparse(N: number, K: number, B: number, density: number, seed: number, emptyFirstRow = false): Float32Array {
  const r = rng(seed);
  const w = randomArray(N * K, r, 0.5);
  const nr = Math.ceil(N / B);
  const nc = Math.ceil(K / B);
  for (let rb = 0; rb < nr; rb++) {
    for (let cb = 0; cb < nc; cb++) {
      const keep = (r(1) + 1) / 2 < density && !(emptyFirstRow && rb === 0);
      if (keep) continue;
      for (let i = rb * B; i < Math.min(N, rb * B + B); i++) for (let k = cb * B; k < Math.min(K, cb * B + B); k++) w[i * K + k] = 0;
    }
  }
  return w;
}

const cases: Array<[number, number, number, BsrBlock, number, Epilogue, boolean]> = [
  // M, N, K, B, density, epilogue, empty first block row
  [1, 64, 64, 32, 1, 'none', false],
  [3, 70, 50, 16, 0.5, 'gelu', true],
  [9, 100, 130, 32, 0.3, 'residual', false],
  [1, 96, 200, 64, 0.6, 'none', true],
  [65, 130, 96, 32, 0.125, 'gelu', false],
  [4, 64, 64, 32, 0, 'residual', false],
  [16, 48, 64, 16, 0.5, 'none', true], // two full 8-row groups, whole blocks: main_row's vec4 path
];

describe('BSR kernels equal the dense reference on the zeroed matrix', async () => {
  const ctx = await testKernelContext();
  for (const [M, N, K, B, density, epilogue, emptyRow] of cases) {
    for (const kind of ['gemv:coop', 'gemv:row', 'matmul:tiled', 'matmul:row'] as const) {
      if (kind.startsWith('gemv') && M !== 1) continue;
      it(`${kind} M=${M} N=${N} K=${K} B=${B} density=${density} ${epilogue}${emptyRow ? ' empty-row' : ''}`, async () => {
        const w = blockSparse(N, K, B, density, N * 13 + K + B);
        if (emptyRow) for (let i = 0; i < Math.min(B, N) * K; i++) w[i] = 0;
        const r = rng(M + N + K);
        const x = randomArray(M * K, r, 1);
        const bias = randomArray(N, r, 0.2);
        const y0 = randomArray(M * N, r, 1);
        const expected = linearRef({ x, w: roundToF16(w), bias, M, N, K, epilogue, y: y0.slice() });
        const got = await gpuCheck(ctx.gpu, kind, async () => {
          const bsr = uploadBsr(ctx.pool, 'w', w, N, K, B);
          // x padded with zeros to whole blocks (the engine's activation buffers are sized for this).
          const xPad = new Float32Array(Math.max(M * K, Math.ceil(K / B) * B) + 8);
          xPad.set(x);
          const xb = ctx.pool.upload('x', xPad);
          const yb = ctx.pool.upload('y', y0);
          const bb = ctx.pool.upload('bias', bias);
          const d = kind.startsWith('gemv')
            ? createBsrGemv(ctx, { label: 'g', w: bsr, bias: bb, x: xb, y: yb, epilogue, variant: kind === 'gemv:coop' ? 'coop' : 'row' })
            : createBsrMatmul(ctx, { label: 'm', x: xb, w: bsr, bias: bb, y: yb, epilogue, variant: kind === 'matmul:tiled' ? 'tiled' : 'row' });
          await runOnce(ctx, [d], { pos0: 0, T: M, rand: 0, writePos: 0 });
          return readF32(ctx.device, yb, M * N);
        });
        expect(relErr(got, expected)).toBeLessThan(1e-5);
      });
    }
  }

  it('packBsr keeps exactly the blocks holding a nonzero', () => {
    const w = blockSparse(80, 48, 16, 0.4, 9, true);
    const h = packBsr(w, 80, 48, 16);
    let expected = 0;
    for (let rb = 0; rb < 5; rb++) {
      for (let cb = 0; cb < 3; cb++) {
        let nz = false;
        for (let i = rb * 16; i < rb * 16 + 16; i++) for (let k = cb * 16; k < cb * 16 + 16; k++) nz ||= w[i * 48 + k] !== 0;
        if (nz) expected++;
      }
    }
    expect(h.nnzBlocks).toBe(expected);
    expect(h.rowPtr[1]).toBe(0); // first block row emptied
    expect(h.rowPtr[5]).toBe(expected);
  });
});
