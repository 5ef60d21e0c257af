// What the activation grid shows, defined once for every model, and its CPU reference (computed from the
// CPU forward pass's probe sink): the GPU probes fused into the engine must match this.
//
// For layer l, token (row) t, with x_l the residual stream entering block l (ln_1's input):
//
// - Head activity   a[l,h,t] = ‖z_h · W_O^h‖₂ / ‖x_l‖₂
//     z_h: head h's attention output (headDim values, before c_proj); W_O^h: rows h·headDim..(h+1)·headDim of
//     c_proj's [in, out] weight, f16-rounded as the GPU holds it. No bias (c_proj's bias belongs to no head).
//     a = 0 when ‖x_l‖₂ = 0. Head h fires at t when a ≥ τ_head.
// - Neuron firing   MLP neuron i (0 ≤ i < 4·nEmbd) of layer l fires at t when its post-GELU activation
//     is ≥ τ_neuron. Per layer: a bitset (u32 words, neuron i is bit i & 31 of word i >> 5, unused high
//     bits of the last word 0) and the fraction of the 4·nEmbd neurons that fire.
// - Edges           c(src → dst), the static composition strength of src/probes/composition.ts, for heads
//     in layers l1 < l2. At t the edge is drawn when both heads fire and c ≥ τ_edge.
// - Write norms     ‖attention write‖₂ = ‖attn · c_proj + bias‖₂ and ‖MLP write‖₂ = ‖gelu(·) · c_proj + bias‖₂:
//     the full vectors each sub-block adds to the residual stream, per layer and token.
//
// Thresholds are applied in f32 (value ≥ Math.fround(τ)), as the GPU compares them. Head (node) n is
// layer·nHead + head everywhere: in activities, firing bitsets and edge pairs.

import type { Gpt2Weights } from '../model/checkpoint';
import { roundToF16 } from '../shared/f16';
import { ATTN_TOP_K, checkThresholds, headCount, headWords, neuronFractions, neuronsPerLayer, neuronWords, popcount32, type ProbeShape, type StepProbes, type Thresholds } from '../shared/probes';
import { CpuGpt2, type LayerTrace } from '../model/reference';
import { compositionStrengths, drawnEdges, edgeCandidates, setBit, type Composition, type EdgeCandidates } from './composition';

/**
 * What the probes measured at one token, as a recording keeps it: the engine's StepProbes (the neuron
 * fractions follow from the bits) with the thresholded head firing and the drawn edges.
 */
export interface ProbeFrame extends Omit<StepProbes, 'neuronFraction'> {
  /** Bitset over the nLayer·nHead heads: bit n set when head n fires (a ≥ τ_head). */
  headFiring: Uint32Array;
  /** (2·k): the drawn edges as (src, dst) head pairs, sorted by (src, dst). */
  edges: Uint16Array;
}

/** A frame of the CPU reference: everything StepProbes holds, with the head firing and drawn edges. */
export type TokenProbes = ProbeFrame & StepProbes;

/** Fraction of all heads firing in a frame. */
export function headFiringFraction(headFiring: Uint32Array, s: ProbeShape): number {
  let n = 0;
  for (const w of headFiring) n += popcount32(w);
  return n / headCount(s);
}

function norm(a: Float32Array, offset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[offset + i] * a[offset + i];
  return Math.sqrt(s);
}

/**
 * Head activities of one layer's rows: out[t·nHead + h] = ‖z_h · W_O^h‖₂ / ‖x_l‖₂ (0 when ‖x_l‖₂ = 0).
 * wO is layer l's c_proj weight in [in, out] layout, f16-rounded.
 */
export function headActivities(trace: LayerTrace, wO: Float32Array, nHead: number): Float32Array {
  const { T, resid, attnHeads } = trace;
  const D = resid.length / T;
  const hd = D / nHead;
  const out = new Float32Array(T * nHead);
  const write = new Float64Array(D);
  for (let t = 0; t < T; t++) {
    const xNorm = norm(resid, t * D, D);
    for (let h = 0; h < nHead; h++) {
      write.fill(0);
      for (let i = 0; i < hd; i++) {
        const z = attnHeads[t * D + h * hd + i];
        if (z === 0) continue;
        const row = (h * hd + i) * D;
        for (let j = 0; j < D; j++) write[j] += z * wO[row + j];
      }
      let s = 0;
      for (let j = 0; j < D; j++) s += write[j] * write[j];
      out[t * nHead + h] = xNorm > 0 ? Math.sqrt(s) / xNorm : 0;
    }
  }
  return out;
}

/**
 * The instrumented CPU reference: a CpuGpt2 whose every forward also returns one ProbeFrame per row.
 * Stateful like CpuGpt2 (KV cache), so a prefill followed by single-token steps mirrors the engine's
 * decode loop; rows are causal, so the frames of a position do not depend on how the sequence was chunked.
 */
export class CpuProbes {
  readonly model: CpuGpt2;
  readonly composition: Composition;
  readonly candidates: EdgeCandidates;
  readonly shape: ProbeShape;
  private readonly wO: Float32Array[];
  private readonly tauHead: number;
  private readonly tauNeuron: number;

  /** composition: pass one already computed (it is the expensive part for large models). */
  constructor(weights: Gpt2Weights, readonly thresholds: Thresholds, opts: { composition?: Composition } = {}) {
    checkThresholds(thresholds);
    const { nLayer, nHead, nEmbd } = weights.config;
    this.shape = { nLayer, nHead, nEmbd };
    this.model = new CpuGpt2(weights);
    this.composition = opts.composition ?? compositionStrengths(weights);
    if (this.composition.nLayer !== nLayer || this.composition.nHead !== nHead) {
      throw new RangeError(`composition is for ${this.composition.nLayer} × ${this.composition.nHead} heads, the model has ${nLayer} × ${nHead}`);
    }
    this.candidates = edgeCandidates(this.composition, thresholds.edge);
    this.wO = weights.layers.map((l) => roundToF16(l.attnProjW));
    this.tauHead = Math.fround(thresholds.head);
    this.tauNeuron = Math.fround(thresholds.neuron);
  }

  reset(): void {
    this.model.reset();
  }

  /** Runs ids at the next positions; returns the logits and the probes of every row. */
  forward(ids: number[]): { logits: Float32Array[]; frames: TokenProbes[] } {
    const s = this.shape;
    const { nLayer, nHead, nEmbd: D } = s;
    const T = ids.length;
    const words = neuronWords(s);
    const N = neuronsPerLayer(s);
    const frames: TokenProbes[] = Array.from({ length: T }, () => ({
      headActivity: new Float32Array(nLayer * nHead),
      headFiring: new Uint32Array(headWords(s)),
      neuronBits: new Uint32Array(nLayer * words),
      attnWriteNorm: new Float32Array(nLayer),
      mlpWriteNorm: new Float32Array(nLayer),
      edges: new Uint16Array(0),
      neuronFraction: new Float32Array(nLayer),
      attnTop: { k: ATTN_TOP_K, pos: new Uint32Array(nLayer * nHead * ATTN_TOP_K), weight: new Float32Array(nLayer * nHead * ATTN_TOP_K) },
    }));
    const logits = this.model.forward(ids, (trace) => {
      const l = trace.layer;
      const act = headActivities(trace, this.wO[l], nHead);
      for (let t = 0; t < T; t++) {
        const f = frames[t];
        for (let h = 0; h < nHead; h++) {
          const a = act[t * nHead + h];
          f.headActivity[l * nHead + h] = a;
          if (a >= this.tauHead) setBit(f.headFiring, l * nHead + h);
        }
        const bits = f.neuronBits.subarray(l * words, (l + 1) * words);
        for (let i = 0; i < N; i++) if (trace.mlpAct[t * N + i] >= this.tauNeuron) setBit(bits, i);
        f.attnWriteNorm[l] = norm(trace.attnWrite, t * D, D);
        const row = nHead * ATTN_TOP_K;
        f.attnTop!.pos.set(trace.attnTop.pos.subarray(t * row, (t + 1) * row), l * row);
        f.attnTop!.weight.set(trace.attnTop.weight.subarray(t * row, (t + 1) * row), l * row);
        f.mlpWriteNorm[l] = norm(trace.mlpWrite, t * D, D);
      }
    });
    for (const f of frames) {
      f.edges = drawnEdges(this.candidates, f.headFiring);
      f.neuronFraction = neuronFractions(f.neuronBits, s);
    }
    return { logits, frames };
  }
}

/** The probes of every row of ids run from position 0 (a fresh CPU model). */
export function computeProbes(weights: Gpt2Weights, ids: number[], thresholds: Thresholds, opts: { composition?: Composition } = {}): TokenProbes[] {
  return new CpuProbes(weights, thresholds, opts).forward(ids).frames;
}
