// Block pruning: exact block counts, the highest-scoring blocks kept (ties to the lower index), scores as
// defined (Frobenius / Wanda-style activation-weighted), calibration activations from the CPU reference
// forward, and no Node imports (the page runs the same code).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bsrGrid } from './bsr';
import { loadGpt2Weights, prunableMatrices } from './checkpoint';
import { roundToF16 } from '../shared/f16';
import {
  applyBlockMask, blockScores, calibrationWindows, collectActivationNorms, keptBlockCount, pruneGpt2, topBlocks, type ActivationNorms,
} from './prune';
import { CpuGpt2 } from './reference';
import { parseSafetensors } from './safetensors';
import { makeTestModel } from './testModel';

const model = makeTestModel({ layers: 2, heads: 2, embd: 48, vocab: 40, ctx: 12, seed: 9 });
const weights = loadGpt2Weights(parseSafetensors(model.safetensors, 'm'), model.config);

/** Score of block (rb, cb) straight from the definition, in f64. */
function bruteScore(w: Float32Array, cols: number, rows: number, block: number, rb: number, cb: number, scale?: ArrayLike<number>): number {
  let s = 0;
  for (let k = rb * block; k < Math.min(rows, (rb + 1) * block); k++) {
    for (let n = cb * block; n < Math.min(cols, (cb + 1) * block); n++) s += (Math.abs(w[k * cols + n]) * (scale ? scale[k] : 1)) ** 2;
  }
  return Math.sqrt(s);
}

/** Indices of the top `keep` scores by an independent selection: repeatedly the first maximum. */
function bruteTop(scores: number[], keep: number): Set<number> {
  const left = scores.slice();
  const out = new Set<number>();
  for (let j = 0; j < keep; j++) {
    let best = -1;
    for (let i = 0; i < left.length; i++) if (left[i] !== -Infinity && (best < 0 || left[i] > left[best])) best = i;
    out.add(best);
    left[best] = -Infinity;
  }
  return out;
}

describe('keptBlockCount', () => {
  it('is exactly round(density · blocks), halves up, for densities in (0, 1]', () => {
    expect(keptBlockCount(48, 0.125)).toBe(6);
    expect(keptBlockCount(30, 0.25)).toBe(8); // 7.5
    expect(keptBlockCount(3, 0.1)).toBe(0); // 0.3: a matrix may lose every block
    expect(keptBlockCount(10, 1)).toBe(10);
    for (const bad of [0, -0.5, 1.5, NaN]) expect(() => keptBlockCount(10, bad)).toThrow(/density must be in \(0, 1\]/);
  });
});

describe('blockScores / topBlocks / applyBlockMask', () => {
  it('scores blocks by Frobenius norm, or weighted per input row, on shapes that are not multiples of the block', () => {
    const rows = 37;
    const cols = 21;
    const w = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 1.7) * (i % 5));
    const scale = Array.from({ length: rows }, (_, k) => 0.5 + (k % 7));
    for (const block of [4, 16]) {
      const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
      const plain = blockScores(w, rows, cols, block);
      const weighted = blockScores(w, rows, cols, block, scale);
      expect(plain.length).toBe(rowBlocks * colBlocks);
      for (let rb = 0; rb < rowBlocks; rb++) {
        for (let cb = 0; cb < colBlocks; cb++) {
          expect(plain[rb * colBlocks + cb]).toBeCloseTo(bruteScore(w, cols, rows, block, rb, cb), 10);
          expect(weighted[rb * colBlocks + cb]).toBeCloseTo(bruteScore(w, cols, rows, block, rb, cb, scale), 10);
        }
      }
    }
  });

  it('keeps the highest scores, ties to the lower block index, NaN last', () => {
    expect([...topBlocks([1, 3, 2, 3, 0], 2)]).toEqual([0, 1, 0, 1, 0]);
    expect([...topBlocks([5, 5, 5, 5], 3)]).toEqual([1, 1, 1, 0]);
    expect([...topBlocks([NaN, 1, 0], 2)]).toEqual([0, 1, 1]);
    expect([...topBlocks([2, 1], 0)]).toEqual([0, 0]);
    expect(() => topBlocks([1], 2)).toThrow(/keep must be in \[0, 1\]/);
  });

  it('zeroes exactly the dropped blocks', () => {
    const w = new Float32Array(5 * 6).fill(2);
    const out = applyBlockMask(w, 5, 6, 4, new Uint8Array([0, 1, 1, 0]));
    const expected = Array.from({ length: 30 }, (_, i) => {
      const [r, c] = [Math.floor(i / 6), i % 6];
      return (r < 4) === (c >= 4) ? 2 : 0;
    });
    expect([...out]).toEqual(expected);
    expect(w[0]).toBe(2); // the input is not modified
  });
});

describe('pruneGpt2', () => {
  it('magnitude: every matrix keeps exactly round(density · blocks) blocks, the highest-norm ones, and nothing else changes', () => {
    for (const [density, block] of [[0.25, 16], [0.125, 16], [0.5, 32], [1, 16]] as const) {
      const { weights: pruned, matrices } = pruneGpt2(weights, { density, block, method: 'magnitude' });
      expect(matrices.map((m) => m.name)).toEqual(prunableMatrices(model.config).map((m) => m.name));
      for (const pm of prunableMatrices(model.config)) {
        const info = matrices.find((m) => m.name === pm.name)!;
        const src = weights.layers[pm.layer][pm.key];
        const out = pruned.layers[pm.layer][pm.key];
        const { rowBlocks, colBlocks } = bsrGrid(pm.rows, pm.cols, block);
        expect(info.totalBlocks).toBe(rowBlocks * colBlocks);
        expect(info.keptBlocks).toBe(Math.round(density * rowBlocks * colBlocks));
        const scores: number[] = [];
        for (let rb = 0; rb < rowBlocks; rb++) for (let cb = 0; cb < colBlocks; cb++) scores.push(bruteScore(src, pm.cols, pm.rows, block, rb, cb));
        const top = bruteTop(scores, info.keptBlocks);
        expect([...info.mask].map((v, i) => (v ? i : -1)).filter((i) => i >= 0)).toEqual([...top].sort((a, b) => a - b));
        for (let k = 0; k < pm.rows; k++) {
          for (let n = 0; n < pm.cols; n++) {
            const kept = top.has(Math.floor(k / block) * colBlocks + Math.floor(n / block));
            if (out[k * pm.cols + n] !== (kept ? src[k * pm.cols + n] : 0)) expect.fail(`${pm.name} (${k}, ${n})`);
          }
        }
      }
      expect(pruned.wte).toBe(weights.wte);
      expect(pruned.layers[1].attnB).toBe(weights.layers[1].attnB);
      expect(weights.layers[0].fcW.every((v) => v !== 0)).toBe(true); // input untouched
    }
  });

  it('activation: blocks are scored with each input row weighted by its activation norm', () => {
    const { nEmbd: D, nLayer } = model.config;
    const ones = (n: number) => new Float64Array(n).fill(1);
    const norms: ActivationNorms = {
      tokens: 1,
      layers: Array.from({ length: nLayer }, () => ({ attnW: ones(D), attnProjW: ones(D), fcW: ones(D), fcProjW: ones(4 * D) })),
    };
    // Make input features 16..31 of layer 0's mlp.c_fc dominate: every kept block must lie in row-block 1.
    norms.layers[0].fcW.fill(1000, 16, 32);
    const { weights: pruned, matrices } = pruneGpt2(weights, { density: 0.25, block: 16, method: 'activation', activationNorms: norms });
    const fc = matrices.find((m) => m.name === 'h.0.mlp.c_fc.weight')!;
    const colBlocks = (4 * D) / 16;
    expect(fc.keptBlocks).toBe(Math.round(0.25 * 3 * colBlocks)); // 9 of 36, all in row-block 1 (12 blocks)
    expect([...fc.mask].every((v, i) => !v || Math.floor(i / colBlocks) === 1)).toBe(true);
    // With all-ones norms the other matrices prune exactly as magnitude does.
    const magnitude = pruneGpt2(weights, { density: 0.25, block: 16, method: 'magnitude' });
    expect([...pruned.layers[1].fcProjW]).toEqual([...magnitude.weights.layers[1].fcProjW]);
    expect(() => pruneGpt2(weights, { density: 0.25, block: 16, method: 'activation' })).toThrow(/needs activationNorms/);
  });
});

describe('collectActivationNorms', () => {
  it('runs the CPU reference forward: same logits as CpuGpt2, norms over every window', () => {
    const ids = [1, 5, 9, 2, 33, 7, 0, 39, 12, 4, 4, 18, 25, 3, 6, 11, 20];
    const windows = calibrationWindows(ids, model.config.nCtx);
    expect(windows.map((w) => w.length)).toEqual([12, 5]);
    expect(windows.flat()).toEqual(ids);
    const r = collectActivationNorms(weights, windows, { withLogits: true });
    expect(r.tokens).toBe(ids.length);
    windows.forEach((w, i) => {
      const ref = new CpuGpt2(weights).forward(w);
      for (let t = 0; t < w.length; t++) expect(r.logits![i][t]).toEqual(ref[t]);
    });
    // Layer 0's attn.c_attn input is LayerNorm(wte[id] + wpe[pos]) of every token: recompute it independently.
    const { nEmbd: D, layerNormEps: eps } = model.config;
    const wte = roundToF16(weights.wte);
    const wpe = roundToF16(weights.wpe);
    const sq = new Float64Array(D);
    for (const w of windows) {
      w.forEach((id, pos) => {
        const x = Array.from({ length: D }, (_, d) => wte[id * D + d] + wpe[pos * D + d]);
        const mean = x.reduce((a, b) => a + b, 0) / D;
        const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / D + eps);
        x.forEach((v, d) => { sq[d] += (((v - mean) / std) * weights.layers[0].ln1G[d] + weights.layers[0].ln1B[d]) ** 2; });
      });
    }
    for (let d = 0; d < D; d++) expect(r.layers[0].attnW[d]).toBeCloseTo(Math.sqrt(sq[d]), 4);
    for (const l of r.layers) {
      expect(l.fcProjW.length).toBe(4 * D);
      for (const a of [l.attnW, l.attnProjW, l.fcW, l.fcProjW]) expect(a.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    }
    expect(() => collectActivationNorms(weights, [[40]])).toThrow(/outside the vocabulary \[0, 40\)/);
  });
});

describe('browser safety', () => {
  it('prune.ts, bsr.ts and checkpoint.ts import nothing from Node', () => {
    for (const f of ['prune.ts', 'bsr.ts', 'checkpoint.ts']) {
      const src = readFileSync(new URL(`./${f}`, import.meta.url), 'utf8');
      const imports = [...src.matchAll(/^import[^;]*from '([^']+)'/gm)].map((m) => m[1]);
      expect(imports.length, f).toBeGreaterThan(0);
      expect(imports.filter((s) => s.startsWith('node:') || !s.startsWith('.')), f).toEqual([]);
    }
  });
});
