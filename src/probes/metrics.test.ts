// The probes' CPU reference against an independent computation: a second GPT-2 forward pass written
// with plain loops straight from the HF-layout weights (f64, its own attention, LayerNorm and GELU), and
// composition strengths from the explicit headDim × headDim products rather than the Gram factorisation.

import { describe, expect, it } from 'vitest';
import { makeTestModel } from '../model/testModel';
import { parseSafetensors } from '../model/safetensors';
import { loadGpt2Weights, type Gpt2Weights } from '../model/checkpoint';
import { roundToF16 } from '../shared/f16';
import { CpuGpt2 } from '../model/reference';
import { compositionStrengths, drawnEdgeBits, drawnEdges, edgeCandidates, testBit } from './composition';
import { computeProbes, CpuProbes, headFiringFraction } from './metrics';
import { checkThresholds, neuronFractions, neuronWords, popcount32, thresholdProblem, type Thresholds } from '../shared/probes';

function model(layers: number, heads: number, embd: number, seed: number): Gpt2Weights {
  const m = makeTestModel({ layers, heads, embd, vocab: 97, ctx: 32, seed });
  return loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
}

interface Independent {
  /** [t][l·nHead + h] */
  head: number[][];
  /** [t][l][i] post-GELU */
  act: number[][][];
  attnNorm: number[][];
  mlpNorm: number[][];
}

/** GPT-2 from scratch in f64 over the f16-rounded matrices (what the GPU and the reference use). */
function independentForward(w: Gpt2Weights, ids: number[]): Independent {
  const { nLayer, nHead, nEmbd: D, headDim: hd, layerNormEps: eps } = w.config;
  const T = ids.length;
  const wte = roundToF16(w.wte);
  const wpe = roundToF16(w.wpe);
  const x = ids.map((id, t) => Array.from({ length: D }, (_, j) => wte[id * D + j] + wpe[t * D + j]));
  const ln = (v: number[], g: Float32Array, b: Float32Array) => {
    const mean = v.reduce((s, a) => s + a, 0) / D;
    const varc = v.reduce((s, a) => s + (a - mean) ** 2, 0) / D;
    return v.map((a, j) => ((a - mean) / Math.sqrt(varc + eps)) * g[j] + b[j]);
  };
  const gelu = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
  const out: Independent = {
    head: ids.map(() => new Array(nLayer * nHead).fill(0)),
    act: ids.map(() => []),
    attnNorm: ids.map(() => []),
    mlpNorm: ids.map(() => []),
  };
  for (let l = 0; l < nLayer; l++) {
    const L = w.layers[l];
    const cAttn = roundToF16(L.attnW); // [D, 3D]
    const cProj = roundToF16(L.attnProjW); // [D, D]
    const fc = roundToF16(L.fcW); // [D, 4D]
    const fcProj = roundToF16(L.fcProjW); // [4D, D]
    const xl = x.map((r) => r.slice());
    const a = x.map((r) => ln(r, L.ln1G, L.ln1B));
    const proj = (t: number, col: number) => {
      let s = L.attnB[col];
      for (let j = 0; j < D; j++) s += a[t][j] * cAttn[j * 3 * D + col];
      return s;
    };
    const q = a.map((_, t) => Array.from({ length: 3 * D }, (_, c) => proj(t, c)));
    const attnWrite = x.map(() => new Array(D).fill(0));
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < nHead; h++) {
        const scores = Array.from({ length: t + 1 }, (_, s) => {
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += q[t][h * hd + i] * q[s][D + h * hd + i];
          return dot / Math.sqrt(hd);
        });
        const mx = Math.max(...scores);
        const e = scores.map((v) => Math.exp(v - mx));
        const sum = e.reduce((p, v) => p + v, 0);
        const z = Array.from({ length: hd }, (_, i) => e.reduce((p, v, s) => p + (v / sum) * q[s][2 * D + h * hd + i], 0));
        const headWrite = Array.from({ length: D }, (_, j) => z.reduce((p, zi, i) => p + zi * cProj[(h * hd + i) * D + j], 0));
        headWrite.forEach((v, j) => { attnWrite[t][j] += v; });
        const xn = Math.hypot(...xl[t]);
        out.head[t][l * nHead + h] = Math.hypot(...headWrite) / xn;
      }
      attnWrite[t] = attnWrite[t].map((v, j) => v + L.attnProjB[j]);
      out.attnNorm[t].push(Math.hypot(...attnWrite[t]));
      x[t] = x[t].map((v, j) => v + attnWrite[t][j]);
    }
    for (let t = 0; t < T; t++) {
      const m = ln(x[t], L.ln2G, L.ln2B);
      const h = Array.from({ length: 4 * D }, (_, i) => {
        let s = L.fcB[i];
        for (let j = 0; j < D; j++) s += m[j] * fc[j * 4 * D + i];
        return gelu(s);
      });
      const write = Array.from({ length: D }, (_, j) => {
        let s = L.fcProjB[j];
        for (let i = 0; i < 4 * D; i++) s += h[i] * fcProj[i * D + j];
        return s;
      });
      out.act[t].push(h);
      out.mlpNorm[t].push(Math.hypot(...write));
      x[t] = x[t].map((v, j) => v + write[j]);
    }
  }
  return out;
}

/** c straight from the definition: explicit products W_O^{h1} · W_X^{h2}, f64. */
function directComposition(w: Gpt2Weights): Float64Array {
  const { nLayer, nHead, nEmbd: D, headDim: hd } = w.config;
  const nodes = nLayer * nHead;
  const c = new Float64Array(nodes * nodes);
  const wO = w.layers.map((l) => roundToF16(l.attnProjW));
  const wA = w.layers.map((l) => roundToF16(l.attnW));
  for (let l1 = 0; l1 < nLayer; l1++) {
    for (let l2 = l1 + 1; l2 < nLayer; l2++) {
      for (let h1 = 0; h1 < nHead; h1++) {
        for (let h2 = 0; h2 < nHead; h2++) {
          let best = 0;
          for (let x = 0; x < 3; x++) {
            let prod = 0;
            let nA = 0;
            let nB = 0;
            for (let i = 0; i < hd; i++) for (let j = 0; j < D; j++) nA += wO[l1][(h1 * hd + i) * D + j] ** 2;
            for (let j = 0; j < D; j++) for (let k = 0; k < hd; k++) nB += wA[l2][j * 3 * D + x * D + h2 * hd + k] ** 2;
            for (let i = 0; i < hd; i++) {
              for (let k = 0; k < hd; k++) {
                let s = 0;
                for (let j = 0; j < D; j++) s += wO[l1][(h1 * hd + i) * D + j] * wA[l2][j * 3 * D + x * D + h2 * hd + k];
                prod += s * s;
              }
            }
            if (nA > 0 && nB > 0) best = Math.max(best, Math.sqrt(prod / (nA * nB)));
          }
          c[(l1 * nHead + h1) * nodes + l2 * nHead + h2] = best;
        }
      }
    }
  }
  return c;
}

/** A threshold in the widest gap between sorted values near the given quantile, so ties cannot flip a comparison. */
function thresholdInGap(values: number[], q: number): number {
  const s = values.filter((v) => v > 0).sort((a, b) => a - b);
  const centre = Math.floor(q * (s.length - 1));
  let best = centre;
  for (let i = Math.max(0, centre - 5); i < Math.min(s.length - 1, centre + 5); i++) if (s[i + 1] - s[i] > s[best + 1] - s[best]) best = i;
  expect(s[best + 1] - s[best]).toBeGreaterThan(1e-4 * s[best + 1]);
  return (s[best] + s[best + 1]) / 2;
}

describe('the probe sink', () => {
  it('leaves the reference logits bit-identical', () => {
    const w = model(2, 4, 32, 3);
    const ids = [5, 17, 3, 90, 42, 8];
    const plain = new CpuGpt2(w).forward(ids);
    let calls = 0;
    const probed = new CpuGpt2(w).forward(ids, (trace) => {
      expect(trace.layer).toBe(calls++);
      expect(trace.resid.length).toBe(ids.length * 32);
      expect(trace.mlpAct.length).toBe(ids.length * 128);
    });
    expect(calls).toBe(2);
    probed.forEach((row, t) => expect(Array.from(row)).toEqual(Array.from(plain[t])));
  });
});

describe('probe metrics equal an independent computation', () => {
  for (const [layers, heads, embd, seed] of [[2, 4, 32, 11], [3, 2, 24, 12]]) {
    it(`head activity, neuron bits, write norms and edges: L=${layers} H=${heads} D=${embd}`, () => {
      const w = model(layers, heads, embd, seed);
      const ids = [1, 50, 7, 7, 96, 23, 0, 64];
      const ind = independentForward(w, ids);
      const comp = directComposition(w);
      const nodes = layers * heads;

      const thresholds: Thresholds = {
        head: thresholdInGap(ind.head.flat(), 0.5),
        neuron: thresholdInGap(ind.act.flat(2), 0.8),
        edge: thresholdInGap(Array.from(comp), 0.5),
      };
      const frames = computeProbes(w, ids, thresholds);
      expect(frames.length).toBe(ids.length);
      let firing = 0;
      let edges = 0;
      frames.forEach((f, t) => {
        for (let n = 0; n < nodes; n++) {
          expect(Math.abs(f.headActivity[n] - ind.head[t][n])).toBeLessThan(2e-5 * Math.max(1, ind.head[t][n]));
          expect(testBit(f.headFiring, n)).toBe(ind.head[t][n] >= thresholds.head);
          if (ind.head[t][n] >= thresholds.head) firing++;
        }
        for (let l = 0; l < layers; l++) {
          expect(f.attnWriteNorm[l]).toBeCloseTo(ind.attnNorm[t][l], 4);
          expect(f.mlpWriteNorm[l]).toBeCloseTo(ind.mlpNorm[t][l], 4);
          const words = neuronWords({ nLayer: layers, nHead: heads, nEmbd: embd });
          let count = 0;
          ind.act[t][l].forEach((v, i) => {
            const fires = v >= thresholds.neuron;
            if (fires) count++;
            expect(testBit(f.neuronBits.subarray(l * words, (l + 1) * words), i)).toBe(fires);
          });
          expect(f.neuronFraction[l]).toBeCloseTo(count / (4 * embd), 6);
        }
        // Edges: both heads fire (independently) and the directly computed c ≥ τ_edge.
        const want: number[] = [];
        for (let src = 0; src < nodes; src++) {
          for (let dst = 0; dst < nodes; dst++) {
            if (ind.head[t][src] >= thresholds.head && ind.head[t][dst] >= thresholds.head && comp[src * nodes + dst] >= thresholds.edge) want.push(src, dst);
          }
        }
        expect(Array.from(f.edges)).toEqual(want);
        edges += want.length / 2;
      });
      // The thresholds sit mid-distribution: both outcomes occur, so the comparisons above mean something.
      expect(firing).toBeGreaterThan(0);
      expect(firing).toBeLessThan(ids.length * nodes);
      expect(edges).toBeGreaterThan(0);
    });
  }

  it('composition by Gram matrices equals the explicit products', () => {
    const w = model(3, 4, 32, 5);
    const nodes = 12;
    const direct = directComposition(w);
    const { strength } = compositionStrengths(w);
    let nonzero = 0;
    for (let i = 0; i < nodes * nodes; i++) {
      expect(Math.abs(strength[i] - direct[i])).toBeLessThan(1e-6);
      if (direct[i] > 0) nonzero++;
      expect(strength[i]).toBeLessThanOrEqual(1);
    }
    // Every cross-layer pair (3 layer pairs × 16) and nothing else.
    expect(nonzero).toBe(3 * 16);
  });

  it('gives 0 where a sparse model’s blocks do not meet, and a zeroed head never fires', () => {
    const w = model(2, 2, 16, 9); // headDim 8, "blocks" of 8
    const D = 16;
    // Layer 0 head 0's output projection writes only residual dims 0..7; layer 1's Q, K and V of head 1
    // read only dims 8..15: they cannot compose. Layer 0 head 1 writes nothing at all.
    const proj = w.layers[0].attnProjW.slice();
    for (let i = 0; i < 8; i++) for (let j = 8; j < D; j++) proj[i * D + j] = 0;
    for (let i = 8; i < 16; i++) for (let j = 0; j < D; j++) proj[i * D + j] = 0;
    const attn = w.layers[1].attnW.slice();
    for (let j = 0; j < 8; j++) for (let x = 0; x < 3; x++) for (let k = 8; k < 16; k++) attn[j * 3 * D + x * D + k] = 0;
    const sparse: Gpt2Weights = { ...w, layers: [{ ...w.layers[0], attnProjW: proj }, { ...w.layers[1], attnW: attn }] };
    const { strength } = compositionStrengths(sparse);
    const nodes = 4;
    expect(strength[0 * nodes + 3]).toBe(0); // (0,0) → (1,1): blocks do not meet
    expect(strength[0 * nodes + 2]).toBeGreaterThan(0); // (0,0) → (1,0)
    expect(strength[1 * nodes + 2]).toBe(0); // (0,1) writes nothing
    expect(strength[1 * nodes + 3]).toBe(0);
    directComposition(sparse).forEach((c, i) => expect(Math.abs(strength[i] - c)).toBeLessThan(1e-6));

    const frames = computeProbes(sparse, [3, 9, 27], { head: 1e-6, neuron: 0.1, edge: 1e-6 });
    for (const f of frames) {
      expect(f.headActivity[1]).toBe(0);
      expect(testBit(f.headFiring, 1)).toBe(false);
      for (let e = 0; e < f.edges.length; e += 2) expect([f.edges[e], f.edges[e + 1]]).not.toEqual([0, 3]);
    }
  });

  it('a prefill then single-token steps gives the frames of one pass over the whole sequence', () => {
    const w = model(2, 4, 32, 21);
    const ids = [4, 8, 15, 16, 23, 42];
    const t: Thresholds = { head: 0.05, neuron: 0.2, edge: 0.05 };
    const whole = computeProbes(w, ids, t);
    const probes = new CpuProbes(w, t, { composition: compositionStrengths(w) });
    const chunked = [...probes.forward(ids.slice(0, 3)).frames, ...ids.slice(3).flatMap((id) => probes.forward([id]).frames)];
    chunked.forEach((f, i) => {
      expect(Array.from(f.headActivity)).toEqual(Array.from(whole[i].headActivity));
      expect(Array.from(f.neuronBits)).toEqual(Array.from(whole[i].neuronBits));
      expect(Array.from(f.edges)).toEqual(Array.from(whole[i].edges));
    });
  });
});

describe('probe helpers', () => {
  it('popcount, fractions and the edge bitset agree with counting by hand', () => {
    for (const v of [0, 1, 0xffffffff, 0x80000000, 0x12345678, 0xdeadbeef]) {
      let n = 0;
      for (let i = 0; i < 32; i++) n += (v >>> i) & 1;
      expect(popcount32(v)).toBe(n);
    }
    const shape = { nLayer: 2, nHead: 3, nEmbd: 10 }; // 40 neurons per layer: 2 words, 8 bits of the second used
    const bits = new Uint32Array([0xff, 0x01, 0xffffffff, 0xff]);
    expect(Array.from(neuronFractions(bits, shape))).toEqual([Math.fround(9 / 40), 1]);
    expect(headFiringFraction(new Uint32Array([0b101011]), shape)).toBe(4 / 6);

    const w = model(2, 3, 12, 2);
    const comp = compositionStrengths(w);
    const cands = edgeCandidates(comp, 1e-6);
    expect(cands.strength.length).toBe(9); // every (layer 0, layer 1) pair
    const firing = new Uint32Array([0b011001]); // heads 0, 3, 4
    expect(Array.from(drawnEdges(cands, firing))).toEqual([0, 3, 0, 4]);
    const eb = drawnEdgeBits(cands, firing);
    expect(Array.from({ length: 9 }, (_, e) => testBit(eb, e))).toEqual([true, true, false, false, false, false, false, false, false]);
  });

  it('rejects unusable thresholds and names the field', () => {
    expect(thresholdProblem({ head: 0.1, neuron: 0.5, edge: 0.2 })).toBeNull();
    expect(thresholdProblem({ head: 0, neuron: 0.5, edge: 0.2 })?.field).toBe('head');
    expect(thresholdProblem({ head: 0.1, neuron: Number.NaN, edge: 0.2 })?.field).toBe('neuron');
    expect(thresholdProblem({ head: 0.1, neuron: 0.5, edge: 1.5 })?.field).toBe('edge');
    expect(() => checkThresholds({ head: 0.1, neuron: 0.5, edge: -1 })).toThrow(/τ_edge/);
  });
});
