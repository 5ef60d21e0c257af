// Threshold derivation: quantiles, the suggested thresholds hitting their target fractions, the stats a
// model yields, and defaults that are usable and still match the measurement on the embedded dense model.

import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModelDir } from '../model/files';
import { loadTokenizer } from '../model/tokenizer';
import { makeTestModel } from '../model/testModel';
import { parseSafetensors } from '../model/safetensors';
import { loadGpt2Weights } from '../model/checkpoint';
import { compositionStrengths } from './composition';
import { computeProbes } from './metrics';
import { DEFAULT_THRESHOLDS, thresholdProblem } from '../shared/probes';
import {
  collectThresholdStats, crossLayerStrengths, MEASURE_PROMPTS, quantile, roundSignificant, suggestThresholds,
  THRESHOLD_TARGETS,
} from './thresholds';

describe('threshold derivation', () => {
  it('quantile is the nearest-rank value, rounding keeps three digits', () => {
    const v = Float32Array.from([5, 1, 4, 2, 3]);
    expect(quantile(v, 0)).toBe(1);
    expect(quantile(v, 0.2)).toBe(1);
    expect(quantile(v, 0.5)).toBe(3);
    expect(quantile(v, 1)).toBe(5);
    expect(() => quantile(new Float32Array(0), 0.5)).toThrow(RangeError);
    expect(roundSignificant(0.0123456)).toBe(0.0123);
    expect(roundSignificant(1234.5)).toBe(1230);
    expect(roundSignificant(0)).toBe(0);
  });

  it('suggested thresholds let through about the target fractions', () => {
    // Deterministic spread-out values: i/n scrambled.
    const n = 10_000;
    const ramp = (scale: number) => Float32Array.from({ length: n }, (_, i) => (((i * 7919) % n) / n) * scale);
    const stats = { headActivity: ramp(2), neuronActivation: ramp(3), composition: ramp(0.5) };
    const t = suggestThresholds(stats, { headFiring: 0.9, neuronFiring: 0.1, edgeDensity: 0.25 });
    const frac = (a: Float32Array, tau: number) => a.filter((x) => x >= Math.fround(tau)).length / a.length;
    expect(frac(stats.headActivity, t.head)).toBeCloseTo(0.9, 2);
    expect(frac(stats.neuronActivation, t.neuron)).toBeCloseTo(0.1, 2);
    expect(frac(stats.composition, t.edge)).toBeCloseTo(0.25, 2);
    expect(thresholdProblem(t)).toBeNull();
  });

  it('a mostly-zero distribution (a sparse model) never yields a zero threshold', () => {
    const mostlyZero = Float32Array.from({ length: 100 }, (_, i) => (i < 95 ? 0 : i / 100));
    const t = suggestThresholds({ headActivity: mostlyZero, neuronActivation: mostlyZero, composition: mostlyZero });
    expect(t.head).toBe(0.95);
    expect(t.edge).toBe(0.95);
  });

  it('collects one value per head-token, neuron-token and cross-layer pair, consistent with the probes', () => {
    const m = makeTestModel({ layers: 3, heads: 2, embd: 16, vocab: 50, ctx: 16, seed: 4 });
    const w = loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config);
    const prompts = [[1, 2, 3, 4], [9, 8, 7]];
    const comp = compositionStrengths(w);
    const stats = collectThresholdStats(w, prompts, comp);
    expect(stats.headActivity.length).toBe(7 * 3 * 2);
    expect(stats.neuronActivation.length).toBe(7 * 3 * 64);
    expect(stats.composition.length).toBe(3 * 2 * 2); // 3 layer pairs × 2 × 2 heads
    expect(crossLayerStrengths(comp)).toEqual(stats.composition);
    // The first prompt's head activities are the probes' (layer-major per pass, row-major inside a layer).
    const frames = computeProbes(w, prompts[0], DEFAULT_THRESHOLDS, { composition: comp });
    for (let l = 0; l < 3; l++) {
      for (let t = 0; t < 4; t++) {
        for (let h = 0; h < 2; h++) expect(stats.headActivity[l * 4 * 2 + t * 2 + h]).toBe(frames[t].headActivity[l * 2 + h]);
      }
    }
  });

  it('the defaults are valid thresholds', () => {
    expect(thresholdProblem(DEFAULT_THRESHOLDS)).toBeNull();
  });
});

describe('DEFAULT_THRESHOLDS', () => {
  const dir = 'weights/dense';
  const present = existsSync(`${dir}/model.safetensors`) && existsSync(`${dir}/tokenizer.json`);
  it.skipIf(!present)('are what the measurement on weights/dense suggests (re-measure after retraining)', async () => {
    const files = await readModelDir(dir);
    const w = loadGpt2Weights(files.safetensors, files.config);
    const tok = await loadTokenizer(files.tokenizerJson, { vocabSize: files.config.vocabSize });
    const stats = collectThresholdStats(w, MEASURE_PROMPTS.map((p) => tok.encode(p)));
    expect(suggestThresholds(stats, THRESHOLD_TARGETS)).toEqual(DEFAULT_THRESHOLDS);
  });
});
