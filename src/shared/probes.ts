// What fired at one token, and the thresholds that decide it: the definitions every layer shares (the
// engine writes StepProbes, the CPU reference, the grid and the recordings read them). No imports.
// The metrics themselves are defined in src/probes/metrics.ts, with their CPU reference.

/** Firing thresholds; JSON field names too (recordings' settings.thresholds). */
export interface Thresholds {
  /** τ_head: a head fires when its activity a ≥ head. */
  head: number;
  /** τ_neuron: a neuron fires when its post-GELU activation ≥ neuron. */
  neuron: number;
  /** τ_edge: an edge between two firing heads is drawn when their composition strength c ≥ edge. */
  edge: number;
}

/** The parts of a model's shape the probes depend on. */
export interface ProbeShape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
}

export const neuronsPerLayer = (s: ProbeShape): number => 4 * s.nEmbd;
/** u32 words of one layer's neuron bitset. */
export const neuronWords = (s: ProbeShape): number => Math.ceil((4 * s.nEmbd) / 32);
export const headCount = (s: ProbeShape): number => s.nLayer * s.nHead;
/** u32 words of the head-firing bitset. */
export const headWords = (s: ProbeShape): number => Math.ceil((s.nLayer * s.nHead) / 32);

/** Upper bound on any threshold: larger values are surely a mistake (and would overflow f16 bookkeeping). */
export const MAX_THRESHOLD = 1000;

/**
 * Why thresholds are unusable, or null: each must be a finite number, τ_head and τ_neuron in (0, 1000],
 * τ_edge in (0, 1] (c never exceeds 1). Zero is excluded so that an all-zero head or edge never "fires".
 */
export function thresholdProblem(t: Thresholds): { field: keyof Thresholds; problem: string } | null {
  for (const field of ['head', 'neuron', 'edge'] as const) {
    const v = (t as unknown as Record<string, unknown>)[field];
    const max = field === 'edge' ? 1 : MAX_THRESHOLD;
    if (typeof v !== 'number') return { field, problem: `must be a number (got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v})` };
    if (!Number.isFinite(v)) return { field, problem: `must be a finite number (got ${v})` };
    if (!(v > 0 && v <= max)) return { field, problem: `must be in (0, ${max}] (got ${v})` };
  }
  return null;
}

export function checkThresholds(t: Thresholds): void {
  const p = thresholdProblem(t);
  if (p) throw new RangeError(`threshold τ_${p.field} ${p.problem}`);
}

/** Number of set bits in a u32. */
export function popcount32(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Per layer, the fraction of the 4·nEmbd neurons whose bit is set in neuronBits. */
export function neuronFractions(neuronBits: Uint32Array, s: ProbeShape): Float32Array {
  const words = neuronWords(s);
  const out = new Float32Array(s.nLayer);
  for (let l = 0; l < s.nLayer; l++) {
    let n = 0;
    for (let w = 0; w < words; w++) n += popcount32(neuronBits[l * words + w]);
    out[l] = n / neuronsPerLayer(s);
  }
  return out;
}


/** Bitset of the heads whose activity is ≥ τ_head, compared in f32 as the GPU does. */
export function headFiringBits(headActivity: Float32Array, tauHead: number): Uint32Array {
  const bits = new Uint32Array(Math.ceil(headActivity.length / 32));
  const tau = Math.fround(tauHead);
  for (let n = 0; n < headActivity.length; n++) if (headActivity[n] >= tau) bits[n >>> 5] |= 1 << (n & 31);
  return bits;
}

/** What fired at one token, computed on the GPU inside the forward pass (probes on). */
/** Positions kept per head of a token's attention row (the head view's shading and its top list). */
export const ATTN_TOP_K = 8;
/** Position of an unused top entry (fewer keys than ATTN_TOP_K, or a head that is never run). */
export const NO_POSITION = 0xffffffff;

/**
 * What each head attended to from the token's row: its ATTN_TOP_K largest softmax weights with their
 * context positions, (nLayer, nHead, k) row-major, weight-descending, ties to the lower position; unused
 * entries hold NO_POSITION and weight 0. The pattern of an ablated head is kept (only its output is zeroed).
 */
export interface AttentionTop {
  k: number;
  pos: Uint32Array;
  weight: Float32Array;
}

export interface StepProbes {
  /** a[l, h]: head activity, (nLayer, nHead) row-major. */
  headActivity: Float32Array;
  /** Per layer, which of the 4·nEmbd MLP neurons fired: (nLayer, ceil(4·nEmbd / 32)) u32 words, bit i of word i >> 5. */
  neuronBits: Uint32Array;
  /** Per layer, fraction of MLP neurons that fired. */
  neuronFraction: Float32Array;
  /** Per layer, ‖attention's write into the residual stream‖₂ and ‖the MLP's‖₂. */
  attnWriteNorm: Float32Array;
  mlpWriteNorm: Float32Array;
  /** Attention rows' top positions (the engine's probed attention, the CPU reference); absent in recordings. */
  attnTop?: AttentionTop;
}

/**
 * Measured on weights/dense (the embedded 8 × 8 × 256 model, 6400 steps on Python): suggestThresholds of
 * collectThresholdStats(dense, MEASURE_PROMPTS) with THRESHOLD_TARGETS; docs/instrumentation.md has the
 * distributions and the per-layer fractions dense and sparse fire at.
 */
export const DEFAULT_THRESHOLDS: Thresholds = { head: 0.0355, neuron: 0.0981, edge: 0.124 };
