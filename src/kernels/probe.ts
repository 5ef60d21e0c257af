// Instrumentation kernels' host side: the probe buffer's layout, the per-head Gram matrices
// G_h = W_O^h W_O^hᵀ made once at load (read by attention.wgsl's PROBE variant), the prefill neuron
// probe (shaders/probe.wgsl; decode sets the bits in c_fc's epilogue, lib/gemv_store.wgsl), and turning
// one step's readback into StepProbes. The metrics' CPU reference is src/probes/.

import { ATTN_TOP_K, NO_POSITION, neuronFractions, type AttentionTop, type ProbeShape, type StepProbes } from '../shared/probes';
import { roundToF16 } from '../shared/f16';
import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, stepUniform, thresholdsUniform, type Dispatch, type KernelContext } from './kernel';

/** shaders/probe.wgsl's Params. */
export const probeParams = defineUniform('Params', [
  { name: 'width', type: 'u32' }, // neurons per layer (4 nEmbd)
  { name: 'bitsWord', type: 'u32' }, // this layer's first bitset word
  { name: '_pad0', type: 'u32' },
  { name: '_pad1', type: 'u32' },
]);

export const PROBE_SHADER = shaderUniforms('probe', { 0: probeParams, 1: stepUniform, 2: thresholdsUniform });

/** Word offsets in the probe buffer (u32 words; floats stored as their bits). */
export interface ProbeLayout {
  nLayer: number;
  nHead: number;
  /** u32 words of one layer's neuron bitset. */
  words: number;
  xNorm: number; // (nLayer) ‖x_l‖₂, the residual input of layer l
  attnWrite: number; // (nLayer)
  mlpWrite: number; // (nLayer)
  head: number; // (nLayer, nHead) head activity
  bits: number; // (nLayer, words)
  attnTop: number; // (nLayer, nHead, ATTN_TOP_K, 2): position, weight (f32 bits)
  totalWords: number;
}

export const NO_SLOT = 0xffffffff;

export function probeLayout(cfg: ProbeShape): ProbeLayout {
  const L = cfg.nLayer;
  const words = Math.ceil((4 * cfg.nEmbd) / 32);
  const head = 3 * L;
  const bits = head + L * cfg.nHead;
  const attnTop = bits + L * words;
  return { nLayer: L, nHead: cfg.nHead, words, xNorm: 0, attnWrite: L, mlpWrite: 2 * L, head, bits, attnTop, totalWords: attnTop + L * cfg.nHead * ATTN_TOP_K * 2 };
}

/** Copies one step's probe words into StepProbes (new arrays: the caller may keep them). */
export function parseProbes(w: Uint32Array, l: ProbeLayout, nEmbd: number): StepProbes {
  const f = new Float32Array(w.buffer, w.byteOffset, w.length);
  const neuronBits = w.slice(l.bits, l.bits + l.nLayer * l.words);
  return {
    headActivity: f.slice(l.head, l.head + l.nLayer * l.nHead),
    neuronBits,
    // Counting bits here costs a few hundred word reads per token and keeps the GPU's side to atomicOr.
    neuronFraction: neuronFractions(neuronBits, { nLayer: l.nLayer, nHead: l.nHead, nEmbd }),
    attnWriteNorm: f.slice(l.attnWrite, l.attnWrite + l.nLayer),
    mlpWriteNorm: f.slice(l.mlpWrite, l.mlpWrite + l.nLayer),
    attnTop: parseAttnTop(w, f, l),
  };
}

function parseAttnTop(w: Uint32Array, f: Float32Array, l: ProbeLayout): AttentionTop {
  const n = l.nLayer * l.nHead * ATTN_TOP_K;
  const pos = new Uint32Array(n);
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const wt = f[l.attnTop + 2 * i + 1];
    // A head never run (dead) leaves its words zero: no entries rather than position 0 with weight 0.
    pos[i] = wt > 0 ? w[l.attnTop + 2 * i] : NO_POSITION;
    weight[i] = wt > 0 ? wt : 0;
  }
  return { k: ATTN_TOP_K, pos, weight };
}

/**
 * G_h = W_O^h W_O^hᵀ for every head, (nHead, headDim, headDim), from c_proj in HF layout (in = nEmbd
 * rows, out = nEmbd columns; head h owns input rows h·headDim ..). Uses the f16-rounded weights the GPU
 * multiplies with, so ‖z_h W_O^h‖ matches what c_proj actually writes.
 */
export function headGram(attnProjW: Float32Array, nHead: number, headDim: number): Float32Array {
  const D = nHead * headDim;
  const w = roundToF16(attnProjW);
  const g = new Float32Array(nHead * headDim * headDim);
  for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < headDim; i++) {
      const ri = (h * headDim + i) * D;
      for (let j = i; j < headDim; j++) {
        const rj = (h * headDim + j) * D;
        let acc = 0;
        for (let n = 0; n < D; n++) acc += w[ri + n] * w[rj + n];
        g[(h * headDim + i) * headDim + j] = acc;
        g[(h * headDim + j) * headDim + i] = acc;
      }
    }
  }
  return g;
}

export const THRESHOLD_BYTES = thresholdsUniform.bytes;

/** The Thresholds uniform's bytes (thresholdsUniform) for these thresholds. */
export function thresholdData(t: { head: number; neuron: number; edge: number }): Float32Array {
  return new Float32Array(thresholdsUniform.pack({ head: t.head, neuron: t.neuron, edge: t.edge }));
}

/** Prefill's neuron probe of one layer: a thread per bitset word of row T-1. */
export function createNeuronProbe(
  ctx: KernelContext,
  o: { label: string; cfg: ProbeShape; layer: number; layout: ProbeLayout; thresholds: GPUBuffer; h: GPUBuffer; probe: GPUBuffer },
): Dispatch {
  const { cfg, layout: l } = o;
  const WG = 64;
  const pipeline = ctx.pipelines.get(PROBE_SHADER.shader, { WG });
  const params = ctx.pool.uniform(`${o.label} params`, probeParams.pack({ width: 4 * cfg.nEmbd, bitsWord: l.bits + o.layer * l.words }));
  return {
    label: o.label,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, ctx.step, o.thresholds, o.h, o.probe]),
    grid: () => [Math.ceil(l.words / WG), 1, 1],
  };
}
