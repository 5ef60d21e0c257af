// compareRecordings against a count done by hand from the steps' bits, on two genuine recordings (the CPU
// reference of two small models of one shape), and its refusals: heads that do not correspond, no tokens.

import { describe, expect, it } from 'vitest';
import { CompareError, compareRecordings } from './compare';
import { testBit } from './composition';
import { makeRecording } from './testRecording';

describe('compareRecordings', () => {
  it('gives each head\'s firing frequency in A and B, A − B, per-layer neuron fractions and the heads of only one', async () => {
    // Seed 1 at a high head threshold fires few heads, seed 2 at a low one many: both lists are non-empty.
    const a = await makeRecording(7, 1, { head: 0.9, neuron: 0.15, edge: 0.1 });
    const b = await makeRecording(5, 2, { head: 0.05, neuron: 0.3, edge: 0.1 });
    const c = compareRecordings(a, b);
    expect([c.nLayer, c.nHead, c.stepsA, c.stepsB]).toEqual([2, 4, 7, 5]);
    for (let n = 0; n < 8; n++) {
      const fa = a.steps.filter((s) => testBit(s.headFiring, n)).length / 7;
      const fb = b.steps.filter((s) => testBit(s.headFiring, n)).length / 5;
      expect(c.freqA[n]).toBeCloseTo(fa, 6);
      expect(c.freqB[n]).toBeCloseTo(fb, 6);
      expect(c.diff[n]).toBeCloseTo(fa - fb, 6);
      expect(c.onlyA.includes(n)).toBe(fa > 0 && fb === 0);
      expect(c.onlyB.includes(n)).toBe(fb > 0 && fa === 0);
    }
    expect(c.onlyB.length).toBeGreaterThan(0);
    // Neurons: layer l's bits, counted over the 80 neurons and the steps.
    for (let l = 0; l < 2; l++) {
      let on = 0;
      for (const s of a.steps) for (let i = 0; i < 80; i++) if (testBit(s.neuronBits.subarray(l * 3), i)) on++;
      expect(c.neuronsA[l]).toBeCloseTo(on / (80 * 7), 6);
    }
    // A recording against itself: no difference, nobody alone.
    const same = compareRecordings(a, a);
    expect(Array.from(same.diff).every((d) => d === 0)).toBe(true);
    expect([same.onlyA, same.onlyB]).toEqual([[], []]);
  });

  it('refuses recordings whose heads do not correspond, or without tokens, saying which', async () => {
    const a = await makeRecording(3, 1);
    const other = { ...a, name: 'wide', model: { ...a.model, nHead: 5, nEmbd: 20 } };
    expect(() => compareRecordings(a, other)).toThrow(CompareError);
    expect(() => compareRecordings(a, other)).toThrow(/has 2 × 4 heads and “wide” 2 × 5: only recordings of models with the same layers and heads/);
    const empty = await makeRecording(0, 2);
    expect(() => compareRecordings(a, empty)).toThrow(/“test recording 2” has no generated tokens/);
  });
});
