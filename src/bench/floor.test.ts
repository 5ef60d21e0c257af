// The decode floor's arithmetic on a small config, worked out by hand.

import { describe, expect, it } from 'vitest';
import { decodeFloorMs, denseDecodeCost, engineDecodeCost, matrixShape, pctOfFloor } from './floor';
import type { GPT2Config } from '../model/config';

const cfg: GPT2Config = { nLayer: 1, nHead: 2, nEmbd: 8, nCtx: 16, vocabSize: 10, layerNormEps: 1e-5, headDim: 4 };

describe('decode floor', () => {
  it('dense f32: weights, vectors and attention at a position', () => {
    const c = denseDecodeCost(cfg, 4, 3);
    // 12·64 = 768 block weights, 80 LM-head, 16 embedding-row values, 13·8 = 104 LN/bias values + 16 for ln_f.
    const weights = 768 + 80 + 16 + 104 + 16;
    // K and V of 4 keys, 2 heads, headDim 4, f32: 2·2·4·4·4 = 256 bytes; 4·2·4·4 = 128 flops.
    expect(c.bytesPerToken).toBe(4 * weights + 256);
    expect(c.flopsPerToken).toBe(2 * (768 + 80) + 128);
  });

  it('engine: BSR matrices count by block density, only run heads attend', () => {
    const c = engineDecodeCost(cfg, {
      weightBytesPerToken: 1000,
      matrices: [
        { name: 'h.0.attn.c_attn.weight', kind: 'dense', blockDensity: 0.5 }, // dense kernels multiply every block
        { name: 'h.0.attn.c_proj', kind: 'bsr', blockDensity: 0.25 },
        { name: 'h.0.mlp.c_fc', kind: 'bsr', blockDensity: 0.5 },
        { name: 'h.0.mlp.c_proj', kind: 'bsr', blockDensity: 0 },
      ],
      activeHeads: [[1]],
    }, 0);
    expect(c.flopsPerToken).toBe(2 * (80 + 192 + 16 + 128 + 0) + 4 * 1 * 1 * 4);
    expect(c.bytesPerToken).toBe(1000 + 2 * 1 * 1 * 4 * 4);
    expect(matrixShape('h.3.mlp.c_proj', 8)).toEqual([8, 32]);
    expect(() => matrixShape('h.0.ln_1', 8)).toThrow(/unknown matrix/);
  });

  it('floor is the slower of memory and arithmetic; pct_of_floor compares speeds', () => {
    const c = { bytesPerToken: 2e9, flopsPerToken: 1e9 };
    expect(decodeFloorMs(c, { bytesPerS: 1e12, flopsPerS: 1e12 })).toBeCloseTo(2, 10); // memory-bound
    expect(decodeFloorMs(c, { bytesPerS: 1e13, flopsPerS: 1e11 })).toBeCloseTo(10, 10); // compute-bound
    expect(pctOfFloor(2, 250)).toBeCloseTo(50, 10); // 4 ms/token against a 2 ms floor
    expect(pctOfFloor(2, 0)).toBe(0);
  });
});
