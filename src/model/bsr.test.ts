// BSR ⇄ dense on random shapes and densities (edge blocks, empty row-blocks, density 0 and 1, -0.0),
// torch's layout on a hand-checked example, and every kind of malformed index giving a ModelFormatError.
import { describe, expect, it } from 'vitest';
import {
  blockDensity, blockDensityOfDense, bsrBytesToDense, bsrGrid, bsrNonzeroBlocksOfDense, bsrToDense, denseBytesToBsr, denseToBsr,
  validateBsr, type BsrMatrix,
} from './bsr';
import { ModelFormatError } from './errors';
import { mulberry32 as rng } from '../shared/random';

/** A rows × cols matrix where each block is kept with probability density (its elements nonzero); returns the block mask too. */
function blockRandom(rows: number, cols: number, block: number, density: number, rand: () => number): { dense: Float32Array; mask: Uint8Array } {
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  const mask = new Uint8Array(rowBlocks * colBlocks).map(() => (rand() < density ? 1 : 0));
  const dense = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (mask[Math.floor(r / block) * colBlocks + Math.floor(c / block)]) dense[r * cols + c] = rand() * 2 - 1 || 0.5;
    }
  }
  return { dense, mask };
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

describe('denseToBsr / bsrToDense', () => {
  it('matches torch.Tensor.to_sparse_bsr on a hand-checked example (zero-padded edge blocks)', () => {
    // 3 × 5 in 2 × 2 blocks: a 2 × 3 grid whose last row and column of blocks are partial.
    const dense = new Float32Array([
      1, 0, 0, 0, 0,
      0, 0, 0, 2, 0,
      0, 0, 0, 0, 3,
    ]);
    const m = denseToBsr(dense, 3, 5, 2);
    expect([...m.crow]).toEqual([0, 2, 3]);
    expect([...m.col]).toEqual([0, 1, 2]);
    expect([...m.values]).toEqual([1, 0, 0, 0, /**/ 0, 0, 0, 2, /**/ 3, 0, 0, 0]);
    expect(blockDensity(m)).toBe(3 / 6);
    expect([...bsrToDense(m)]).toEqual([...dense]);
  });

  it('round-trips random shapes and densities bit for bit, with the expected blocks and values', () => {
    const rand = rng(7);
    let cases = 0;
    let emptyRowBlocks = 0;
    for (const block of [1, 3, 16, 32, 64]) {
      for (const density of [0, 0.1, 0.5, 1]) {
        for (let rep = 0; rep < 4; rep++) {
          const rows = Math.floor(rand() * 3 * block) + (rep === 0 ? 0 : 1);
          const cols = rep === 1 ? block * 2 : Math.floor(rand() * 3 * block) + 1;
          const { dense, mask } = blockRandom(rows, cols, block, density, rand);
          const m = denseToBsr(dense, rows, cols, block);
          validateBsr(m, 'test', 'w');
          const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
          expect(m.crow.length).toBe(rowBlocks + 1);
          // Stored blocks are exactly the nonzero ones, row-block by row-block in increasing column order.
          const expected: number[][] = Array.from({ length: rowBlocks }, (_, rb) =>
            Array.from({ length: colBlocks }, (_, cb) => cb).filter((cb) => mask[rb * colBlocks + cb]));
          for (let rb = 0; rb < rowBlocks; rb++) {
            expect([...m.col.subarray(m.crow[rb], m.crow[rb + 1])]).toEqual(expected[rb]);
            if (expected[rb].length === 0) emptyRowBlocks++;
          }
          expect(m.col.length).toBe(bsrNonzeroBlocksOfDense(dense, rows, cols, block));
          expect(blockDensity(m)).toBe(rowBlocks * colBlocks === 0 ? 1 : mask.reduce((s, v) => s + v, 0) / (rowBlocks * colBlocks));
          expect(blockDensityOfDense(dense, rows, cols, block)).toBe(blockDensity(m));
          // Every value sits where torch puts it; padding past the shape is zero.
          for (let rb = 0; rb < rowBlocks; rb++) {
            for (let i = m.crow[rb]; i < m.crow[rb + 1]; i++) {
              for (let r = 0; r < block; r++) {
                for (let c = 0; c < block; c++) {
                  const gr = rb * block + r;
                  const gc = m.col[i] * block + c;
                  const want = gr < rows && gc < cols ? dense[gr * cols + gc] : 0;
                  if (m.values[(i * block + r) * block + c] !== want) expect.fail(`block ${i} (${r}, ${c})`);
                }
              }
            }
          }
          expect(bitsEqual(bsrToDense(m), dense)).toBe(true);
          cases++;
        }
      }
    }
    expect(cases).toBe(80);
    expect(emptyRowBlocks).toBeGreaterThan(10);
  });

  it('density 0 stores no blocks, density 1 stores all of them', () => {
    const zero = denseToBsr(new Float32Array(40 * 70), 40, 70, 16);
    expect([...zero.crow]).toEqual([0, 0, 0, 0]);
    expect(zero.col.length).toBe(0);
    expect(zero.values.length).toBe(0);
    expect(blockDensity(zero)).toBe(0);
    expect(bsrToDense(zero).every((v) => v === 0)).toBe(true);
    const full = denseToBsr(new Float32Array(40 * 70).fill(1), 40, 70, 16);
    expect([...full.crow]).toEqual([0, 5, 10, 15]);
    expect(blockDensity(full)).toBe(1);
  });

  it('keeps a block that holds only -0.0, so the round trip is bit-exact', () => {
    const dense = new Float32Array(4 * 4);
    dense[5] = -0;
    const m = denseToBsr(dense, 4, 4, 2);
    expect([...m.col]).toEqual([0]);
    const back = bsrToDense(m);
    expect(Object.is(back[5], -0)).toBe(true);
    expect(bitsEqual(back, dense)).toBe(true);
  });

  it('byte-level conversion moves 2-byte elements (f16 / bf16 bit patterns) unchanged', () => {
    const rand = rng(3);
    const rows = 37;
    const cols = 50;
    const bits = new Uint16Array(rows * cols).map((_, i) => (Math.floor(i / cols) % 16 < 8 && rand() < 0.5 ? Math.floor(rand() * 65535) + 1 : 0));
    const bytes = new Uint8Array(bits.buffer);
    const b = denseBytesToBsr(bytes, rows, cols, 16, 2);
    expect(b.values.byteLength).toBe(b.col.length * 16 * 16 * 2);
    expect([...bsrBytesToDense(b, rows, cols, 16, 2)]).toEqual([...bytes]);
    // A mask that drops nonzero blocks prunes them: zeros come back.
    const keepNone = denseBytesToBsr(bytes, rows, cols, 16, 2, new Uint8Array(3 * 4));
    expect(bsrBytesToDense(keepNone, rows, cols, 16, 2).every((v) => v === 0)).toBe(true);
  });
});

describe('validateBsr', () => {
  /** A valid 40 × 70 matrix in 16-blocks: row-blocks [0, 2], [], [1, 3, 4]. */
  function valid(): BsrMatrix {
    return {
      rows: 40, cols: 70, block: 16,
      crow: new Int32Array([0, 2, 2, 5]),
      col: new Int32Array([0, 2, 1, 3, 4]),
      values: new Float32Array(5 * 256),
    };
  }

  function expectBad(edit: (m: BsrMatrix) => void, tensor: string, pattern: RegExp): void {
    const m = valid();
    edit(m);
    let caught: unknown;
    try {
      validateBsr(m, 'dir/model.safetensors', 'h.0.mlp.c_fc.weight');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ModelFormatError);
    const err = caught as ModelFormatError;
    expect(err.file).toBe('dir/model.safetensors');
    expect(err.tensor).toBe(tensor);
    expect(err.message).toMatch(pattern);
  }

  it('accepts a valid matrix with an empty row-block', () => {
    expect(() => validateBsr(valid(), 'f', 'w')).not.toThrow();
  });

  it('rejects bad row pointers', () => {
    const crow = 'h.0.mlp.c_fc.weight.bsr_crow_indices';
    expectBad((m) => { m.crow = new Int32Array([0, 2, 5]); }, crow, /has 3 entries.*needs 4/);
    expectBad((m) => { m.crow = new Int32Array([1, 2, 2, 5]); }, crow, /must start at 0 \(got 1\)/);
    expectBad((m) => { m.crow = new Int32Array([0, 3, 2, 5]); }, crow, /decreases at row-block 1/);
    expectBad((m) => { m.crow = new Int32Array([0, 2, 2, 4]); }, crow, /ends at 4 but .* holds 5 blocks/);
  });

  it('rejects column indices out of range, unsorted or repeated', () => {
    const col = 'h.0.mlp.c_fc.weight.bsr_col_indices';
    expectBad((m) => { m.col[4] = 5; }, col, /column-block 5, outside \[0, 5\)/);
    expectBad((m) => { m.col[0] = -1; }, col, /column-block -1/);
    expectBad((m) => { m.col.set([2, 0], 0); }, col, /row-block 0: column-blocks must strictly increase/);
    expectBad((m) => { m.col.set([3, 3], 2); }, col, /row-block 2: column-blocks must strictly increase/);
  });

  it('rejects a values array of the wrong length', () => {
    expectBad((m) => { m.values = new Float32Array(5 * 256 - 1); }, 'h.0.mlp.c_fc.weight.bsr_values', /holds 1279 values; 5 blocks of 16×16 need 1280/);
  });
});
