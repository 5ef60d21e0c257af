// bench --kernel-table on awkward shapes (D 96: three 32-wide blocks; vocab 203: no multiple of 8 or 64): every
// kernel and variant passes its check against the CPU reference before it is timed, and each row's GB/s is its
// bytes over its time.

import { describe, expect, it } from 'vitest';
import { testGpu, gpuCheck } from '../kernels/testing';
import { measureKernelTable, kernelTableMarkdown } from './kernelTable';

describe('kernel table', async () => {
  const gpu = await testGpu();

  it('checks and times dense and BSR gemv and matmul in every variant on one layer and the LM head', async () => {
    const rows = await gpuCheck(gpu, 'kernel table', () => measureKernelTable(gpu, { embd: 96, vocab: 203, block: 32, density: 0.5, rows: 3, rounds: 1 }));
    const ops = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj', 'lm_head'];
    expect([...new Set(rows.map((r) => r.op))]).toEqual(ops);
    for (const op of ops) {
      const kinds = rows.filter((r) => r.op === op).map((r) => `${r.kernel}:${r.variant}`).sort();
      const dense = ['gemv:coop', 'gemv:row', 'matmul:row', 'matmul:tiled'];
      const bsr = ['bsr gemv:coop', 'bsr gemv:row', 'bsr matmul:row', 'bsr matmul:tiled'];
      expect(kinds).toEqual((op === 'lm_head' ? dense : [...bsr, ...dense]).sort());
    }
    const lm = rows.find((r) => r.op === 'lm_head' && r.kernel === 'gemv')!;
    expect([lm.N, lm.K, lm.density]).toEqual([203, 96, 1]);
    for (const r of rows) {
      expect(r.ms).toBeGreaterThan(0);
      expect(r.gbPerS).toBeCloseTo(r.bytes / r.ms / 1e6, 9);
      if (r.kernel.startsWith('bsr')) {
        // 3 x 3 blocks of c_proj at 1/2 keep round(4.5) = 5 (not 4): density of what was stored.
        expect(r.density).toBeGreaterThan(0.4);
        expect(r.density).toBeLessThan(0.6);
      }
    }
    expect(kernelTableMarkdown(rows).split('\n')).toHaveLength(2 + rows.length);
  });
});
