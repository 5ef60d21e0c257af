// A genuine recording for tests (snapshot format, store): greedy generation on the CPU reference of a small
// random model, with its probes, built the way a recorder builds one.

import { makeTestModel } from '../model/testModel';
import { parseSafetensors } from '../model/safetensors';
import { loadGpt2Weights, type Gpt2Weights } from '../model/checkpoint';
import { CpuProbes } from './metrics';
import { type Thresholds } from '../shared/probes';
import { recordStep, sha256Hex, type Recording } from './snapshot';

const SHAPE = { layers: 2, heads: 4, embd: 20, vocab: 97, ctx: 24 }; // 80 neurons: the last word is half padding

function weights(seed: number): { w: Gpt2Weights; file: Uint8Array } {
  const m = makeTestModel({ ...SHAPE, seed });
  return { w: loadGpt2Weights(parseSafetensors(m.safetensors, 'model.safetensors'), m.config), file: m.safetensors };
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/** steps generated tokens after a 5-token prompt (at most 20: the context is 24); the seed picks the weights. */
export async function makeRecording(steps: number, seed = 1, thresholds: Thresholds = { head: 0.2, neuron: 0.15, edge: 0.1 }): Promise<Recording> {
  const { w, file } = weights(seed);
  const probes = new CpuProbes(w, thresholds);
  const promptIds = [3, 14, 15, 92, 65];
  let out = probes.forward(promptIds);
  const rec: Recording = {
    name: `test recording ${seed}`,
    createdAt: new Date(Date.UTC(2025, 0, 31, 12, 0, seed)).toISOString(),
    model: { id: 'test-model', sha256: await sha256Hex(file), nLayer: 2, nHead: 4, nEmbd: 20, nCtx: 24, vocabSize: 97 },
    settings: { thresholds, sampling: { greedy: true }, maxTokens: 16 },
    prompt: 'def <b>"ünïcode"</b>\n\t😀',
    promptIds,
    edgeCandidates: probes.candidates,
    steps: [],
  };
  for (let i = 0; i < steps; i++) {
    const last = out.logits.length - 1;
    const id = argmax(out.logits[last]);
    rec.steps.push(recordStep(out.frames[last], id, `<tok ${id}>${i === 1 ? '\ud800' : ''}`, 1.25 * (i + 1)));
    if (i + 1 < steps) out = probes.forward([id]);
  }
  return rec;
}
