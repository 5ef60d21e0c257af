// Block pruning of GPT-2's weight matrices: per matrix, keep the round(density · blocks) highest-scoring
// B × B blocks and zero the rest. Scores are Frobenius norms ('magnitude') or, Wanda-style, norms of the
// weights scaled by the L2 norm of each input feature's activations on calibration text ('activation').
// No Node imports: the page prunes in the browser with the same code (file IO lives in src/cli/prune.ts).

import { type Gpt2Weights, type LayerWeights, type PrunableMatrix, prunableMatrices } from './checkpoint';
import { bsrGrid } from './bsr';
import { roundToF16 } from '../shared/f16';
import { embedRef } from '../kernels/embed';
import { layerNormRef } from '../kernels/layernorm';
import { linearRef, conv1dToRows } from '../kernels/linear';
import { attentionRef, newKvCacheRef } from '../kernels/attention';

export type PruneMethod = 'magnitude' | 'activation';
export const PRUNE_METHODS: readonly PruneMethod[] = ['magnitude', 'activation'];

/** __metadata__ keys a pruned checkpoint carries (beside the BSR keys). */
export const PRUNE_METADATA_KEYS = {
  method: 'prune_method',
  density: 'prune_density',
  block: 'prune_block_size',
  calibrationTokens: 'prune_calibration_tokens',
} as const;

/** Calibration text used when none is given: plain English prose touching many common words. */
export const DEFAULT_CALIBRATION_TEXT =
  'The history of the city begins with a small settlement on the river, where farmers traded grain, wool and ' +
  'salt with travellers from the hills. Over the centuries the market grew into a town, the town built walls, ' +
  'and the walls were later torn down to make room for railways, schools and factories. Today about two ' +
  'million people live there. Most of them work in services, but the old harbour still handles ships from ' +
  'across the sea, and every spring the streets fill with music for a festival that is older than anyone ' +
  'can remember. Visitors often ask why the clock on the cathedral runs five minutes late; the answer, ' +
  'according to a story told in every school, is that the builders wanted the saints to have time to pray.';

/** Blocks to keep out of nBlocks at a density: exactly round(density · nBlocks) (halves round up). */
export function keptBlockCount(nBlocks: number, density: number): number {
  if (!(density > 0 && density <= 1)) throw new RangeError(`density must be in (0, 1] (got ${density})`);
  return Math.min(nBlocks, Math.round(density * nBlocks));
}

/**
 * Score of every block (row-major over the block grid) of a rows × cols matrix (HF Conv1D [in, out]):
 * sqrt(Σ (|W[k, n]| · s_k)²) over the block's elements, with s_k = rowScale[k] (1 when absent, which is the
 * Frobenius norm). Accumulated in f64.
 */
export function blockScores(w: Float32Array, rows: number, cols: number, block: number, rowScale?: ArrayLike<number>): Float64Array {
  if (w.length !== rows * cols) throw new RangeError(`blockScores: [${rows}, ${cols}] needs ${rows * cols} values, got ${w.length}`);
  if (rowScale && rowScale.length !== rows) throw new RangeError(`blockScores: rowScale has ${rowScale.length} entries, the matrix ${rows} rows`);
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  const sums = new Float64Array(rowBlocks * colBlocks);
  for (let k = 0; k < rows; k++) {
    const s = rowScale ? rowScale[k] : 1;
    const s2 = s * s;
    const base = Math.floor(k / block) * colBlocks;
    const row = k * cols;
    for (let n = 0; n < cols; n++) {
      const v = w[row + n];
      sums[base + Math.floor(n / block)] += v * v * s2;
    }
  }
  for (let i = 0; i < sums.length; i++) sums[i] = Math.sqrt(sums[i]);
  return sums;
}

/** Mask (1 = keep) of the `keep` highest scores; ties go to the lower block index, NaN scores rank last. */
export function topBlocks(scores: ArrayLike<number>, keep: number): Uint8Array {
  const n = scores.length;
  if (!Number.isSafeInteger(keep) || keep < 0 || keep > n) throw new RangeError(`topBlocks: keep must be in [0, ${n}] (got ${keep})`);
  const order = Array.from({ length: n }, (_, i) => i);
  const key = (i: number) => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  order.sort((a, b) => key(b) - key(a) || a - b);
  const mask = new Uint8Array(n);
  for (let i = 0; i < keep; i++) mask[order[i]] = 1;
  return mask;
}

/** A copy of w with every block whose mask entry is 0 set to +0. */
export function applyBlockMask(w: Float32Array, rows: number, cols: number, block: number, mask: Uint8Array): Float32Array {
  const { colBlocks } = bsrGrid(rows, cols, block);
  const out = new Float32Array(w);
  for (let k = 0; k < rows; k++) {
    const base = Math.floor(k / block) * colBlocks;
    const row = k * cols;
    for (let n = 0; n < cols; n++) if (!mask[base + Math.floor(n / block)]) out[row + n] = 0;
  }
  return out;
}

/** L2 norm over calibration tokens of each input feature of each prunable matrix, per layer. */
export interface ActivationNorms {
  /** Per layer: inputs of attn.c_attn (ln_1 output, nEmbd), attn.c_proj (attention output, nEmbd), mlp.c_fc (ln_2 output, nEmbd) and mlp.c_proj (GELU output, 4·nEmbd). */
  layers: Array<Record<PrunableMatrix['key'], Float64Array>>;
  /** Calibration tokens the norms were taken over. */
  tokens: number;
}

/** Splits calibration ids into windows of at most nCtx tokens, each run from position 0. */
export function calibrationWindows(ids: readonly number[], nCtx: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += nCtx) out.push(ids.slice(i, i + nCtx));
  return out;
}

/**
 * Runs the CPU reference forward (src/model/reference.ts: the same kernels' CPU references, weights rounded
 * through f16 as the GPU holds them) over each window from position 0 and accumulates, per layer, the sum of
 * squares of every input feature of the four matrices; returns their square roots. With withLogits it also
 * returns each window's logits (tests check they equal CpuGpt2's, so this is the reference forward).
 */
export function collectActivationNorms(
  w: Gpt2Weights, windows: readonly (readonly number[])[], opts: { withLogits?: boolean } = {},
): ActivationNorms & { logits?: Float32Array[][] } {
  const { nEmbd: D, nHead, nCtx, headDim, vocabSize: V, layerNormEps: eps } = w.config;
  const rows = (a: Float32Array, K: number, N: number) => roundToF16(conv1dToRows(a, K, N));
  const sq = w.layers.map(() => ({ attnW: new Float64Array(D), attnProjW: new Float64Array(D), fcW: new Float64Array(D), fcProjW: new Float64Array(4 * D) }));
  const accumulate = (acc: Float64Array, x: Float32Array) => {
    const K = acc.length;
    for (let i = 0; i < x.length; i++) acc[i % K] += x[i] * x[i];
  };
  const wte = roundToF16(w.wte);
  const wpe = roundToF16(w.wpe);
  // One layer's GPU-order matrices at a time would save memory, but the windows loop is outside: keep all.
  const layers = w.layers.map((l: LayerWeights) => ({
    l,
    attnW: rows(l.attnW, D, 3 * D), attnProjW: rows(l.attnProjW, D, D), fcW: rows(l.fcW, D, 4 * D), fcProjW: rows(l.fcProjW, 4 * D, D),
  }));
  const wteRows = opts.withLogits ? wte : undefined;
  const logits: Float32Array[][] = [];
  let tokens = 0;
  for (const ids of windows) {
    const T = ids.length;
    if (T === 0) continue;
    if (T > nCtx) throw new RangeError(`calibration window of ${T} tokens exceeds the context ${nCtx}`);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`calibration token id ${id} is outside the vocabulary [0, ${V})`);
    }
    tokens += T;
    const x = embedRef(wte, wpe, D, ids, 0);
    layers.forEach((m, li) => {
      const s = sq[li];
      const cache = newKvCacheRef(nHead, nCtx, headDim);
      const a = layerNormRef(x, T, D, m.l.ln1G, m.l.ln1B, eps);
      accumulate(s.attnW, a);
      const qkv = linearRef({ x: a, w: m.attnW, bias: m.l.attnB, M: T, N: 3 * D, K: D, epilogue: 'none' });
      const att = attentionRef(qkv, T, 0, cache, nHead, headDim, nCtx);
      accumulate(s.attnProjW, att);
      linearRef({ x: att, w: m.attnProjW, bias: m.l.attnProjB, M: T, N: D, K: D, epilogue: 'residual', y: x });
      const h0 = layerNormRef(x, T, D, m.l.ln2G, m.l.ln2B, eps);
      accumulate(s.fcW, h0);
      const h = linearRef({ x: h0, w: m.fcW, bias: m.l.fcB, M: T, N: 4 * D, K: D, epilogue: 'gelu' });
      accumulate(s.fcProjW, h);
      linearRef({ x: h, w: m.fcProjW, bias: m.l.fcProjB, M: T, N: D, K: 4 * D, epilogue: 'residual', y: x });
    });
    if (wteRows) {
      const f = layerNormRef(x, T, D, w.lnfG, w.lnfB, eps);
      const out = linearRef({ x: f, w: wteRows, M: T, N: V, K: D, epilogue: 'none' });
      logits.push(Array.from({ length: T }, (_, t) => out.subarray(t * V, (t + 1) * V)));
    }
  }
  const sqrtAll = (a: Float64Array) => a.map(Math.sqrt);
  return {
    layers: sq.map((s) => ({ attnW: sqrtAll(s.attnW), attnProjW: sqrtAll(s.attnProjW), fcW: sqrtAll(s.fcW), fcProjW: sqrtAll(s.fcProjW) })),
    tokens,
    ...(opts.withLogits ? { logits } : {}),
  };
}

export interface PruneOptions {
  /** Fraction of blocks to keep per matrix, in (0, 1]. */
  density: number;
  /** Block size (the BSR block the checkpoint will use). */
  block: number;
  method: PruneMethod;
  /** Required for 'activation' (collectActivationNorms on calibration text). */
  activationNorms?: ActivationNorms;
}

export interface PrunedMatrix {
  /** Unprefixed HF name, e.g. "h.0.mlp.c_fc.weight". */
  name: string;
  rows: number;
  cols: number;
  totalBlocks: number;
  keptBlocks: number;
  /** Keep mask over the block grid, row-major. */
  mask: Uint8Array;
}

/**
 * Prunes every attn.c_attn / attn.c_proj / mlp.c_fc / mlp.c_proj weight of every layer to exactly
 * keptBlockCount(blocks, density) blocks, the highest-scoring ones (ties: lower block index). Returns new
 * weights (pruned matrices are fresh arrays with +0 in dropped blocks; every other array is shared with the
 * input) and what was kept per matrix.
 */
export function pruneGpt2(w: Gpt2Weights, opts: PruneOptions): { weights: Gpt2Weights; matrices: PrunedMatrix[] } {
  if (!Number.isSafeInteger(opts.block) || opts.block < 1) throw new RangeError(`block must be a positive integer (got ${opts.block})`);
  if (opts.method !== 'magnitude' && opts.method !== 'activation') throw new RangeError(`method must be magnitude or activation (got ${String(opts.method)})`);
  if (opts.method === 'activation') {
    if (!opts.activationNorms) throw new RangeError('activation pruning needs activationNorms (collectActivationNorms on calibration text)');
    if (opts.activationNorms.layers.length !== w.config.nLayer) {
      throw new RangeError(`activationNorms has ${opts.activationNorms.layers.length} layers, the model ${w.config.nLayer}`);
    }
  }
  const layers = w.layers.map((l) => ({ ...l }));
  const matrices: PrunedMatrix[] = [];
  for (const m of prunableMatrices(w.config)) {
    const dense = w.layers[m.layer][m.key];
    const scale = opts.method === 'activation' ? opts.activationNorms!.layers[m.layer][m.key] : undefined;
    const scores = blockScores(dense, m.rows, m.cols, opts.block, scale);
    const keep = keptBlockCount(scores.length, opts.density);
    const mask = topBlocks(scores, keep);
    layers[m.layer][m.key] = applyBlockMask(dense, m.rows, m.cols, opts.block, mask);
    matrices.push({ name: m.name, rows: m.rows, cols: m.cols, totalBlocks: scores.length, keptBlocks: keep, mask });
  }
  const weights: Gpt2Weights = { config: w.config, wte: w.wte, wpe: w.wpe, layers, lnfG: w.lnfG, lnfB: w.lnfB };
  return { weights, matrices };
}
