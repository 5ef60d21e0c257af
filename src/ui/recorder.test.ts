// Tests of the page's recorder: a generation with probes (here from the CPU reference, standing in for the
// engine's) becomes a valid recording whose file round-trips, and whose replayed firing heads and edges are
// exactly what the live grid drew under the same thresholds; names stay within the format's limit.

import { describe, expect, it } from 'vitest';
import type { StepProbes } from '../shared/probes';
import { loadGpt2Weights, parseModelFiles } from '../model/checkpoint';
import { makeTestModel } from '../model/testModel';
import { compositionStrengths } from '../probes/composition';
import { CpuProbes } from '../probes/metrics';
import { decodeRecording, encodeRecording } from '../probes/snapshot';
import { gridEdgeCandidates, gridView } from './grid-model';
import { buildRecording, recordingName, type RecordedToken } from '../app/recorder';

describe('buildRecording', () => {
  it('records what the live grid drew, and the file round-trips', () => {
    const model = makeTestModel({ layers: 3, heads: 4, embd: 32, vocab: 50, ctx: 32, seed: 4 });
    const files = parseModelFiles('test', { config: JSON.stringify(model.configJson), safetensors: model.safetensors });
    const weights = loadGpt2Weights(files.safetensors, files.config);
    const composition = compositionStrengths(weights);
    // Thresholds picked so that some heads fire and some do not, and some edges are candidates.
    const thresholds = { head: 0.35, neuron: 0.2, edge: 0.185 };
    const probes = new CpuProbes(weights, thresholds, { composition });
    const promptIds = [3, 14, 15];
    const generated = [9, 26, 5, 35];
    // Step 0's probes are the prompt's last row; step i's are the row that fed token i - 1.
    const frames = [probes.forward(promptIds).frames.at(-1)!, ...generated.slice(0, -1).map((id) => probes.forward([id]).frames[0]!)];
    const tokens: RecordedToken[] = generated.map((id, i) => {
      const f = frames[i]!;
      const p: StepProbes = {
        headActivity: f.headActivity,
        neuronBits: f.neuronBits,
        neuronFraction: f.neuronFraction,
        attnWriteNorm: f.attnWriteNorm,
        mlpWriteNorm: f.mlpWriteNorm,
      };
      return { id, text: `t${id}`, ms: 10 + i, probes: p };
    });
    const shape = { nLayer: 3, nHead: 4, nEmbd: 32 };
    const candidates = gridEdgeCandidates(shape, composition.strength, thresholds.edge);
    expect(candidates.strength.length).toBeGreaterThan(0);

    const rec = buildRecording({
      name: 'Sparse GPT-2: hello',
      createdAt: new Date(Date.UTC(2025, 0, 31, 12, 0, 0, 5)),
      model: { id: 'e2e', sha256: 'ab'.repeat(32), nLayer: 3, nHead: 4, nEmbd: 32, nCtx: 32, vocabSize: 50 },
      thresholds,
      sampling: { greedy: true },
      maxTokens: 8,
      prompt: 'hello',
      promptIds,
      candidates,
      tokens,
    });
    const back = decodeRecording(encodeRecording(rec));
    expect(back.createdAt).toBe('2025-01-31T12:00:00.005Z');
    expect(back.steps.map((s) => [s.id, s.text, s.ms])).toEqual(tokens.map((t) => [t.id, t.text, t.ms]));
    let firingSeen = 0;
    let silentSeen = 0;
    let edgesSeen = 0;
    back.steps.forEach((step, i) => {
      const live = gridView(shape, tokens[i]!.probes, candidates, thresholds.head);
      expect(Array.from(step.headFiring), `step ${i} firing`).toEqual(Array.from(live.headFiring));
      expect(Array.from(step.edges), `step ${i} edges`).toEqual(Array.from(live.edges));
      expect(Array.from(step.neuronBits)).toEqual(Array.from(tokens[i]!.probes.neuronBits));
      firingSeen += live.firingCount;
      silentSeen += 12 - live.firingCount;
      edgesSeen += live.edges.length;
    });
    expect(firingSeen).toBeGreaterThan(0);
    expect(silentSeen).toBeGreaterThan(0);
    expect(edgesSeen).toBeGreaterThan(0);
  });

  it('records no edges for a model without a composition', () => {
    const headActivity = Float32Array.from([0.5, 0.01, 0.5, 0.5]);
    const rec = buildRecording({
      name: 'x',
      createdAt: new Date(0),
      model: { id: 'm', sha256: '0'.repeat(64), nLayer: 2, nHead: 2, nEmbd: 8, nCtx: 8, vocabSize: 10 },
      thresholds: { head: 0.1, neuron: 0.1, edge: 0.1 },
      sampling: { greedy: false, temperature: 0.7, topK: 5, seed: 1 },
      maxTokens: 2,
      prompt: 'p',
      promptIds: [1],
      candidates: null,
      tokens: [
        {
          id: 2,
          text: '<img src=x>',
          ms: 3,
          probes: { headActivity, neuronBits: new Uint32Array(2), neuronFraction: new Float32Array(2), attnWriteNorm: new Float32Array(2), mlpWriteNorm: new Float32Array(2) },
        },
      ],
    });
    const back = decodeRecording(encodeRecording(rec));
    expect(back.edgeCandidates.strength).toHaveLength(0);
    expect(Array.from(back.steps[0]!.headFiring)).toEqual([0b1101]);
    expect(back.steps[0]!.text).toBe('<img src=x>');
  });
});

describe('recordingName', () => {
  it('names the panel and the start of the prompt, on one line and within 200 characters', () => {
    expect(recordingName('Sparse GPT-2', 'def f(x):\n    return x')).toBe('Sparse GPT-2: def f(x): return x');
    const long = recordingName('GPT-2 (baseline)', 'a'.repeat(500));
    expect(long).toBe(`GPT-2 (baseline): ${'a'.repeat(47)}…`);
    expect(recordingName('P', '   ')).toBe('P: (empty prompt)');
    expect(recordingName('x'.repeat(300), 'p').length).toBe(200);
  });
});
