// Default firing thresholds (τ_head, τ_neuron, τ_edge) and how they are derived: quantiles of the dense
// model's measured distributions, chosen once and then applied unchanged to every model (dense and sparse),
// so the two grids are drawn by one rule. `npx tsx src/probes/measure.ts weights/dense` re-measures them.

import type { Gpt2Weights } from '../model/checkpoint';
import { CpuGpt2 } from '../model/reference';
import { roundToF16 } from '../shared/f16';
import { compositionStrengths, type Composition } from './composition';
import { headActivities } from './metrics';
import { type Thresholds } from '../shared/probes';

/** What fraction of the dense model's measurements each default threshold lets through. */
export interface ThresholdTargets {
  /** Fraction of (head, token) pairs that fire: τ_head is the (1 − headFiring) quantile of a. */
  headFiring: number;
  /** Fraction of (neuron, token) pairs that fire: τ_neuron is the (1 − neuronFiring) quantile of activations. */
  neuronFiring: number;
  /** Fraction of head pairs (l1 < l2) that are edge candidates: τ_edge is the (1 − edgeDensity) quantile of c. */
  edgeDensity: number;
}

/**
 * The targets behind DEFAULT_THRESHOLDS. Heads: the dense baseline lights most of its grid (as in the seed
 * picture), so a head is "silent" only when it writes less than 90% of the dense model's head-tokens do.
 * Neurons: most post-GELU activations are slightly negative or near zero; firing means the top tenth.
 * Edges: a fifth of all cross-layer head pairs, the most strongly composing ones.
 */
export const THRESHOLD_TARGETS: ThresholdTargets = { headFiring: 0.9, neuronFiring: 0.1, edgeDensity: 0.2 };


/** Raw distributions the thresholds are quantiles of. */
export interface ThresholdStats {
  /** Every head activity a[l,h,t] measured. */
  headActivity: Float32Array;
  /** Every post-GELU MLP activation measured (all layers, neurons and tokens). */
  neuronActivation: Float32Array;
  /** c of every pair of heads in different layers (l1 < l2), zeros included. */
  composition: Float32Array;
}

/** Code prompts (the embedded models are trained on Python sources) the defaults are measured on. */
export const MEASURE_PROMPTS: readonly string[] = [
  'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
  'import os\nimport sys\n\n\ndef main(argv=None):\n    if argv is None:\n        argv = sys.argv[1:]\n    for name in argv:\n        print(os.path.abspath(name))\n',
  'class Stack:\n    def __init__(self):\n        self._items = []\n\n    def push(self, item):\n        self._items.append(item)\n\n    def pop(self):\n        return self._items.pop()\n',
  '    try:\n        with open(path, encoding="utf-8") as f:\n            data = f.read()\n    except OSError as exc:\n        raise ValueError("cannot read %r" % (path,)) from exc\n',
  '# Copyright 2001 Python Software Foundation.\n"""Utilities for parsing and formatting dates."""\n\nimport re\nimport time\n',
  'def _check_arg(value, name):\n    if not isinstance(value, int):\n        raise TypeError(f"{name} must be an int, not {type(value).__name__}")\n    return value\n',
];

/** q-quantile (0 ≤ q ≤ 1) of values, by the nearest-rank rule on a sorted copy. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile q must be in [0, 1] (got ${q})`);
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** x rounded to `digits` significant digits: defaults are documented numbers, not 9-digit accidents. */
export function roundSignificant(x: number, digits = 3): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Number(x.toPrecision(digits));
}

/**
 * Thresholds that let through about the target fractions of the measured distributions: each is the
 * (1 − target) quantile, rounded to three significant digits. Zero-valued pairs never count as edges, and a
 * quantile of 0 (a distribution that is mostly zeros) is replaced by the smallest positive value.
 */
export function suggestThresholds(stats: ThresholdStats, targets: ThresholdTargets = THRESHOLD_TARGETS): Thresholds {
  const pick = (values: Float32Array, fraction: number, name: string): number => {
    if (!(fraction > 0 && fraction < 1)) throw new RangeError(`target ${name} must be in (0, 1) (got ${fraction})`);
    let q = quantile(values, 1 - fraction);
    if (!(q > 0)) {
      let min = Infinity;
      for (const v of values) if (v > 0 && v < min) min = v;
      if (!Number.isFinite(min)) throw new RangeError(`no positive ${name} values measured`);
      q = min;
    }
    return roundSignificant(q);
  };
  return {
    head: pick(stats.headActivity, targets.headFiring, 'headFiring'),
    neuron: pick(stats.neuronActivation, targets.neuronFiring, 'neuronFiring'),
    edge: Math.min(1, pick(stats.composition, targets.edgeDensity, 'edgeDensity')),
  };
}

/** The c of every cross-layer head pair (l1 < l2) of a composition matrix. */
export function crossLayerStrengths(comp: Composition): Float32Array {
  const nodes = comp.nLayer * comp.nHead;
  const out: number[] = [];
  for (let src = 0; src < nodes; src++) {
    const firstDst = (Math.floor(src / comp.nHead) + 1) * comp.nHead;
    for (let dst = firstDst; dst < nodes; dst++) out.push(comp.strength[src * nodes + dst]);
  }
  return Float32Array.from(out);
}

/** Runs each prompt (token ids, from position 0) through the CPU reference and gathers the raw distributions. */
export function collectThresholdStats(weights: Gpt2Weights, prompts: number[][], composition?: Composition): ThresholdStats {
  const { nHead } = weights.config;
  const wO = weights.layers.map((l) => roundToF16(l.attnProjW));
  const heads: Float32Array[] = [];
  const neurons: Float32Array[] = [];
  const model = new CpuGpt2(weights);
  for (const ids of prompts) {
    model.reset();
    model.forward(ids, (trace) => {
      heads.push(headActivities(trace, wO[trace.layer], nHead));
      neurons.push(trace.mlpAct);
    });
  }
  const concat = (parts: Float32Array[]): Float32Array => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  };
  return {
    headActivity: concat(heads),
    neuronActivation: concat(neurons),
    composition: crossLayerStrengths(composition ?? compositionStrengths(weights)),
  };
}
