// Static composition strengths between attention heads of different layers (the grid's edges), computed
// once per model on the CPU: the reference the GPU's load-time computation must match.
//
//   c[(l1,h1)→(l2,h2)] = max over X ∈ {Q, K, V} of ‖W_O^{h1} · W_X^{h2}‖_F / (‖W_O^{h1}‖_F · ‖W_X^{h2}‖_F),  l1 < l2
//
// W_O^{h1} = rows h1·headDim.. of layer l1's c_proj weight ([in, out] = [nEmbd, nEmbd]), a [headDim, nEmbd]
// matrix; W_X^{h2} = columns x·nEmbd + h2·headDim.. (x = 0, 1, 2 for Q, K, V) of layer l2's c_attn weight
// ([nEmbd, 3·nEmbd]), a [nEmbd, headDim] matrix. c is 0 when either factor is all zeros, and in [0, 1]
// otherwise (‖AB‖_F ≤ ‖A‖_F‖B‖_F). Weights are taken f16-rounded, as the GPU holds them.
//
// Computing the headDim × headDim products directly costs headDim²·nEmbd per pair. Instead, with A = W_O^{h1}
// and B = W_X^{h2}:  ‖A·B‖_F² = trace(AᵀA · BBᵀ) = ⟨AᵀA, BBᵀ⟩, an element-wise dot product of two symmetric
// nEmbd × nEmbd Gram matrices, each built once per head (nEmbd²·headDim/2) and stored as a packed upper
// triangle, so each pair costs nEmbd²/2 multiply-adds. For GPT-2 124M (12 × 12 heads, nEmbd 768) that is
// 9,504 × 3 pairs × 295k ≈ 8.4·10⁹ plus 528 Grams ≈ 10¹⁰; for the embedded 8 × 8 × 256 pair it is ≈ 0.4·10⁹.
// Where a sparse model's blocks do not meet, the two Grams have disjoint supports and the sum is exactly 0.

import type { Gpt2Weights } from '../model/checkpoint';
import type { GPT2Config } from '../model/config';
import type { Engine, HeadProducts } from '../model/engineApi';
import { roundToF16 } from '../shared/f16';

/** Head-to-head composition strengths of a model. Node n = layer·nHead + head. */
export interface Composition {
  nLayer: number;
  nHead: number;
  /** (nodes × nodes): strength[src·nodes + dst] = c(src → dst) when layer(src) < layer(dst), else 0. */
  strength: Float32Array;
}

/** The pairs that can ever be drawn as edges under a given τ_edge: every (src, dst) with c ≥ τ_edge. */
export interface EdgeCandidates {
  /** (2·E): src0, dst0, src1, dst1, …, sorted by (src, dst); node ids as above. */
  pairs: Uint16Array;
  /** (E): c of each pair, every one ≥ τ_edge (as f32). */
  strength: Float32Array;
}

/** Largest node count a node id fits in (u16 ids in edge lists and recordings). */
export const MAX_NODES = 65536;

/**
 * Gram matrix XᵀX of X (rows × cols, row r at get(r, ·) into a cols-long row buffer) as a packed upper
 * triangle, row-major: entry (j, k), j ≤ k, at j·cols − j(j−1)/2 + (k − j). Off-diagonals are doubled when
 * `doubleOffDiagonal`, so that a plain dot product of two packed Grams is ⟨G1, G2⟩ over the full matrices.
 */
function packedGram(rows: number, cols: number, fillRow: (r: number, out: Float64Array) => void, doubleOffDiagonal: boolean): Float64Array {
  const g = new Float64Array((cols * (cols + 1)) / 2);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    fillRow(r, row);
    let o = 0;
    for (let j = 0; j < cols; j++) {
      const xj = row[j];
      if (xj === 0) { o += cols - j; continue; } // sparse models: zero blocks cost nothing
      for (let k = j; k < cols; k++) g[o++] += xj * row[k];
    }
  }
  if (doubleOffDiagonal) {
    let o = 0;
    for (let j = 0; j < cols; j++) {
      o++; // diagonal
      for (let k = j + 1; k < cols; k++) g[o++] *= 2;
    }
  }
  return g;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function frobeniusSq(rows: number, cols: number, fillRow: (r: number, out: Float64Array) => void): number {
  const row = new Float64Array(cols);
  let s = 0;
  for (let r = 0; r < rows; r++) {
    fillRow(r, row);
    for (let j = 0; j < cols; j++) s += row[j] * row[j];
  }
  return s;
}

/**
 * c for every pair of heads in different layers (see the header). Exact up to f64 rounding. Holds the Grams
 * of every output projection but the last layer's at once: (nLayer−1)·nHead·nEmbd²/2 f64 values
 * (312 MB for GPT-2 124M, 7 MB for the embedded 8 × 8 × 256 models).
 */
export function compositionStrengths(weights: Gpt2Weights): Composition {
  const { nLayer, nHead, nEmbd: D, headDim: hd } = weights.config;
  const nodes = nLayer * nHead;
  if (nodes > MAX_NODES) throw new RangeError(`composition: ${nodes} heads exceed ${MAX_NODES}`);
  const strength = new Float32Array(nodes * nodes);
  const wO = weights.layers.map((l) => roundToF16(l.attnProjW)); // [in = nEmbd, out = nEmbd]
  const wQkv = weights.layers.map((l) => roundToF16(l.attnW)); // [in = nEmbd, out = 3·nEmbd]

  // A = W_O^h as headDim rows of nEmbd: row i is c_proj row h·hd + i, contiguous.
  const oRow = (l: number, h: number) => (i: number, out: Float64Array) => {
    const base = (h * hd + i) * D;
    for (let j = 0; j < D; j++) out[j] = wO[l][base + j];
  };
  // Bᵀ = (W_X^h)ᵀ as headDim rows of nEmbd: row i is c_attn column x·nEmbd + h·hd + i.
  const xRow = (l: number, x: number, h: number) => (i: number, out: Float64Array) => {
    const col = x * D + h * hd + i;
    for (let j = 0; j < D; j++) out[j] = wQkv[l][j * 3 * D + col];
  };

  const oGram: Array<Float64Array | null> = new Array(nodes).fill(null);
  const oNorm = new Float64Array(nodes);
  for (let l = 0; l < nLayer - 1; l++) {
    for (let h = 0; h < nHead; h++) {
      const n = l * nHead + h;
      oNorm[n] = Math.sqrt(frobeniusSq(hd, D, oRow(l, h)));
      if (oNorm[n] > 0) oGram[n] = packedGram(hd, D, oRow(l, h), true);
    }
  }
  for (let l2 = 1; l2 < nLayer; l2++) {
    for (let h2 = 0; h2 < nHead; h2++) {
      const dst = l2 * nHead + h2;
      for (let x = 0; x < 3; x++) {
        const bNorm = Math.sqrt(frobeniusSq(hd, D, xRow(l2, x, h2)));
        if (bNorm === 0) continue;
        const bGram = packedGram(hd, D, xRow(l2, x, h2), false);
        for (let src = 0; src < l2 * nHead; src++) {
          const aGram = oGram[src];
          if (aGram === null) continue;
          const sq = Math.max(0, dot(aGram, bGram));
          const c = Math.sqrt(sq) / (oNorm[src] * bNorm);
          const i = src * nodes + dst;
          if (c > strength[i]) strength[i] = c;
        }
      }
    }
  }
  return { nLayer, nHead, strength };
}

/** Every pair with c ≥ τ_edge (compared in f32, as on the GPU), sorted by (src, dst). */
export function edgeCandidates(comp: Composition, tauEdge: number): EdgeCandidates {
  const nodes = comp.nLayer * comp.nHead;
  const tau = Math.fround(tauEdge);
  const pairs: number[] = [];
  const strength: number[] = [];
  for (let src = 0; src < nodes; src++) {
    const firstDst = (Math.floor(src / comp.nHead) + 1) * comp.nHead;
    for (let dst = firstDst; dst < nodes; dst++) {
      const c = comp.strength[src * nodes + dst];
      if (c > 0 && c >= tau) {
        pairs.push(src, dst);
        strength.push(c);
      }
    }
  }
  return { pairs: Uint16Array.from(pairs), strength: Float32Array.from(strength) };
}

/** Bit i of a u32 bitset (bit i lives in word i >> 5, at position i & 31). */
export function testBit(bits: Uint32Array, i: number): boolean {
  return ((bits[i >>> 5] >>> (i & 31)) & 1) === 1;
}

/** Sets bit i of a u32 bitset. */
export function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] |= 1 << (i & 31);
}

/** The edges drawn at a token: the candidates whose two heads both fire, as (src, dst) pairs in candidate order. */
export function drawnEdges(cands: EdgeCandidates, headFiring: Uint32Array): Uint16Array {
  const out: number[] = [];
  for (let e = 0; e < cands.strength.length; e++) {
    const src = cands.pairs[2 * e];
    const dst = cands.pairs[2 * e + 1];
    if (testBit(headFiring, src) && testBit(headFiring, dst)) out.push(src, dst);
  }
  return Uint16Array.from(out);
}

/** The same edges as a bitset over the candidate list (bit e = candidate e drawn): the recordings' form. */
export function drawnEdgeBits(cands: EdgeCandidates, headFiring: Uint32Array): Uint32Array {
  const E = cands.strength.length;
  const bits = new Uint32Array(Math.ceil(E / 32));
  for (let e = 0; e < E; e++) {
    if (testBit(headFiring, cands.pairs[2 * e]) && testBit(headFiring, cands.pairs[2 * e + 1])) setBit(bits, e);
  }
  return bits;
}

const gpuCompositions = new WeakMap<object, Promise<Float32Array>>();

/**
 * c for every pair of heads in different layers, from an engine's GPU products (Engine.headProducts), as a
 * (nLayer·nHead)² row-major matrix: c = max over Q, K, V of ‖W_O^{h1} W_X^{h2}‖_F / (‖W_O^{h1}‖_F ‖W_X^{h2}‖_F).
 * Once per engine (memoised); null when the engine cannot compute the products.
 */
export function compositionOnGpu(engine: Pick<Engine, 'config' | 'headProducts'>): Promise<Float32Array> | null {
  if (!engine.headProducts) return null;
  let p = gpuCompositions.get(engine);
  if (!p) {
    p = engine.headProducts().then((r) => strengthsFromProducts(engine.config, r));
    gpuCompositions.set(engine, p);
  }
  return p;
}

/** The normalisation of compositionOnGpu: per-head norms of W_O and W_Q|K|V (f64), then the max over X. */
export function strengthsFromProducts(cfg: Pick<GPT2Config, 'nLayer' | 'nHead' | 'nEmbd' | 'headDim'>, r: HeadProducts): Float32Array {
  const { nLayer: L, nHead: H, nEmbd: D, headDim: hd } = cfg;
  const nodes = L * H;
  const strength = new Float32Array(nodes * nodes);
  const oNorm = r.wO.map((w) => Float64Array.from({ length: H }, (_, h) => Math.sqrt(w.subarray(h * hd * D, (h + 1) * hd * D).reduce((t, v) => t + v * v, 0))));
  const xNorm = r.wQkv.map((w) => {
    const n = new Float64Array(3 * H); // index x · nHead + h
    for (let k = 0; k < D; k++) for (let c = 0; c < 3 * D; c++) n[Math.floor(c / hd)] += w[k * 3 * D + c] ** 2;
    return n.map(Math.sqrt);
  });
  r.pairs.forEach(([l1, l2], i) => {
    for (let h1 = 0; h1 < H; h1++) {
      for (let h2 = 0; h2 < H; h2++) {
        let c = 0;
        for (let x = 0; x < 3; x++) {
          const den = oNorm[l1][h1] * xNorm[l2][x * H + h2];
          if (den > 0) c = Math.max(c, Math.sqrt(Math.max(0, r.sq[i * H * 3 * H + (h1 * 3 + x) * H + h2])) / den);
        }
        strength[(l1 * H + h1) * nodes + l2 * H + h2] = c;
      }
    }
  });
  return strength;
}
