// Two recordings side by side, as numbers: how often each head fired in A and in B over their generated
// tokens (firing frequency, the fraction of steps whose frame has the head's bit set), A − B, the mean
// fraction of MLP neurons firing per layer in each, and the heads that fired in only one of them. Pure, so
// the difference view in the page and any notebook compute the same thing. The heads must correspond: both
// recordings need the same number of layers and heads (the embedded pair, or one model on two prompts).

import { testBit } from './composition';
import type { Recording } from './snapshot';
import { headCount, neuronFractions } from '../shared/probes';

export interface RecordingComparison {
  nLayer: number;
  nHead: number;
  /** Generated tokens (steps) in A and in B. */
  stepsA: number;
  stepsB: number;
  /** (nLayer·nHead) firing frequency in [0, 1] of each head, node l·nHead + h. */
  freqA: Float32Array;
  freqB: Float32Array;
  /** freqA − freqB, in [−1, 1]. */
  diff: Float32Array;
  /** (nLayer) mean fraction of MLP neurons firing per step. */
  neuronsA: Float32Array;
  neuronsB: Float32Array;
  /** Heads that fired at some step of A and at none of B, and the other way round (ascending node ids). */
  onlyA: number[];
  onlyB: number[];
}

/** Why two recordings cannot be compared head for head. */
export class CompareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompareError';
  }
}

function frequencies(rec: Recording): { freq: Float32Array; neurons: Float32Array } {
  const nodes = headCount(rec.model);
  const count = new Float64Array(nodes);
  const neurons = new Float64Array(rec.model.nLayer);
  for (const s of rec.steps) {
    for (let n = 0; n < nodes; n++) if (testBit(s.headFiring, n)) count[n]++;
    const f = neuronFractions(s.neuronBits, rec.model);
    for (let l = 0; l < f.length; l++) neurons[l] += f[l]!;
  }
  const N = rec.steps.length;
  return { freq: Float32Array.from(count, (c) => c / N), neurons: Float32Array.from(neurons, (x) => x / N) };
}

export function compareRecordings(a: Recording, b: Recording): RecordingComparison {
  if (a.model.nLayer !== b.model.nLayer || a.model.nHead !== b.model.nHead) {
    throw new CompareError(
      `“${a.name.slice(0, 60)}” has ${a.model.nLayer} × ${a.model.nHead} heads and “${b.name.slice(0, 60)}” ${b.model.nLayer} × ${b.model.nHead}: ` +
        'only recordings of models with the same layers and heads can be compared head for head',
    );
  }
  for (const r of [a, b]) {
    if (r.steps.length === 0) throw new CompareError(`“${r.name.slice(0, 60)}” has no generated tokens: nothing fired to compare`);
  }
  const A = frequencies(a);
  const B = frequencies(b);
  const nodes = A.freq.length;
  const onlyA: number[] = [];
  const onlyB: number[] = [];
  for (let n = 0; n < nodes; n++) {
    if (A.freq[n]! > 0 && B.freq[n] === 0) onlyA.push(n);
    if (B.freq[n]! > 0 && A.freq[n] === 0) onlyB.push(n);
  }
  return {
    nLayer: a.model.nLayer,
    nHead: a.model.nHead,
    stepsA: a.steps.length,
    stepsB: b.steps.length,
    freqA: A.freq,
    freqB: B.freq,
    diff: Float32Array.from(A.freq, (f, n) => f - B.freq[n]!),
    neuronsA: A.neurons,
    neuronsB: B.neurons,
    onlyA,
    onlyB,
  };
}
