// tools/read_recording.py (NumPy) against this project's decoder on the same files: every array it names
// holds what decodeRecording reads, the checksum it recomputes agrees with the TypeScript one (a corrupted
// file is refused), and the summary names the arrays and their shapes.

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRecording } from './testRecording';
import { decodeRecording, encodeRecording, type Recording } from './snapshot';
import { headCount, neuronsPerLayer } from '../shared/probes';
import { testBit } from './composition';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READER = join(ROOT, 'tools', 'read_recording.py');
// Debian's interpreter (.ci/run installs python3-numpy for it); a pyenv python3 first on PATH may lack NumPy.
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

function py(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(PYTHON, [READER, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** What the Python reader should hold for a recording, from the TypeScript decoder's arrays. */
function expected(rec: Recording) {
  const { nLayer: L, nHead: H } = rec.model;
  const nodes = headCount(rec.model);
  const nn = neuronsPerLayer(rec.model);
  const E = rec.edgeCandidates.strength.length;
  return {
    prompt_ids: rec.promptIds,
    ids: rec.steps.map((s) => s.id),
    ms: rec.steps.map((s) => s.ms),
    head_activity: rec.steps.map((s) => Array.from({ length: L }, (_, l) => Array.from(s.headActivity.subarray(l * H, (l + 1) * H)))),
    head_firing: rec.steps.map((s) => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => testBit(s.headFiring, l * H + h)))),
    neuron_bits: rec.steps.map((s) => Array.from({ length: L }, (_, l) => Array.from({ length: nn }, (_, i) => testBit(s.neuronBits.subarray(l * Math.ceil(nn / 32)), i)))),
    attn_write_norm: rec.steps.map((s) => Array.from(s.attnWriteNorm)),
    mlp_write_norm: rec.steps.map((s) => Array.from(s.mlpWriteNorm)),
    edge_pairs: Array.from({ length: E }, (_, e) => [rec.edgeCandidates.pairs[2 * e], rec.edgeCandidates.pairs[2 * e + 1]]),
    edge_strength: Array.from(rec.edgeCandidates.strength),
    edges: rec.steps.map((s) => {
      const drawn = new Set<string>();
      for (let k = 0; k < s.edges.length; k += 2) drawn.add(`${s.edges[k]},${s.edges[k + 1]}`);
      return Array.from({ length: E }, (_, e) => drawn.has(`${rec.edgeCandidates.pairs[2 * e]},${rec.edgeCandidates.pairs[2 * e + 1]}`));
    }),
    // (N, L, H, k): each head's top positions and weights from the step's row (version 2).
    attn_top_pos: rec.steps.some((s) => !s.attnTop) ? undefined : rec.steps.map((s) => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => Array.from(s.attnTop!.pos.subarray((l * H + h) * s.attnTop!.k, (l * H + h + 1) * s.attnTop!.k))))),
    attn_top_weight: rec.steps.some((s) => !s.attnTop) ? undefined : rec.steps.map((s) => Array.from({ length: L }, (_, l) => Array.from({ length: H }, (_, h) => Array.from(s.attnTop!.weight.subarray((l * H + h) * s.attnTop!.k, (l * H + h + 1) * s.attnTop!.k))))),
    name: rec.name,
    text: rec.steps.map((s) => s.text),
    nodes,
  };
}

describe('tools/read_recording.py reads what the TypeScript decoder reads', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-pyreader-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [steps, seed, thresholds] of [
    [8, 1, undefined],
    [0, 2, undefined],
    // Low thresholds: many heads, neurons and edges fire; thresholds that JSON writes in exponent form.
    [12, 3, { head: 1e-7, neuron: 0.0125, edge: 0.05 }],
  ] as const) {
    it(`${steps} tokens, seed ${seed}${thresholds ? ', low thresholds' : ''}: every named array equals the decoder's`, async () => {
      const file = join(dir, `rec-${seed}.json`);
      await writeFile(file, encodeRecording(await makeRecording(steps, seed, thresholds)));
      const rec = decodeRecording(await import('node:fs/promises').then((f) => f.readFile(file)));
      const r = await py([file, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const got = JSON.parse(r.stdout);
      const want = expected(rec);
      for (const k of ['prompt_ids', 'ids', 'ms', 'head_firing', 'neuron_bits', 'edge_pairs', 'edges', 'name', 'text'] as const) {
        expect(got[k], k).toEqual(want[k]);
      }
      // Floats: f16 activities widened to f32 and f32 norms print as the same doubles in both languages.
      for (const k of ['head_activity', 'attn_write_norm', 'mlp_write_norm', 'edge_strength'] as const) expect(got[k], k).toEqual(want[k]);
      // Version 2's attention rows (a recording with no steps has none: it is written as version 1).
      expect(got.version).toBe(steps > 0 ? 2 : 1);
      if (steps > 0) {
        expect(got.attn_top_pos, 'attn_top_pos').toEqual(want.attn_top_pos);
        expect(got.attn_top_weight, 'attn_top_weight').toEqual(want.attn_top_weight);
      } else {
        expect(got.attn_top_pos).toBeUndefined();
      }
      if (steps > 0) expect(got.head_firing.flat(2).some(Boolean)).toBe(true);
      expect(got.model.nLayer).toBe(rec.model.nLayer);

      const summary = await py([file]);
      expect(summary.code, summary.stderr).toBe(0);
      expect(summary.stdout).toContain(`${steps} tokens after a 5-token prompt`);
      expect(summary.stdout).toMatch(new RegExp(`head_activity +\\(${steps}, 2, 4\\) +float32`));
      expect(summary.stdout).toMatch(new RegExp(`neuron_bits +\\(${steps}, 2, 80\\) +bool`));
      if (steps > 0) expect(summary.stdout).toMatch(/heads firing most often: L\dH\d \d+%/);
      if (steps > 0) expect(summary.stdout).toMatch(new RegExp(`attn_top_pos +\\(${steps}, 2, 4, 8\\) +uint32`));
    });
  }

  it('a version 1 file (written by the version 1 code) reads the same in Python as in TypeScript, without attention rows', async () => {
    const file = fileURLToPath(new URL('./fixtures/v1.recording.json', import.meta.url));
    const rec = decodeRecording(await import('node:fs/promises').then((f) => f.readFile(file)));
    const r = await py([file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = expected(rec);
    expect(got.version).toBe(1);
    for (const k of ['ids', 'head_activity', 'head_firing', 'neuron_bits', 'edges', 'text'] as const) expect(got[k], k).toEqual(want[k]);
    expect(got.attn_top_pos).toBeUndefined();
  });

  it('a file whose contents changed after writing is refused by its checksum, and a non-recording by its format', async () => {
    const text = new TextDecoder().decode(encodeRecording(await makeRecording(4, 1)));
    const edited = join(dir, 'edited.json');
    // The prompt changes, the checksum does not: the TS decoder refuses it too.
    await writeFile(edited, text.replace('"prompt": "def', '"prompt": "xyz'));
    expect(() => decodeRecording(text.replace('"prompt": "def', '"prompt": "xyz'))).toThrow(/checksum/);
    const r = await py([edited]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checksum: SHA-256 of the contents is [0-9a-f]{12}\.\.\., the file says/);
    const other = join(dir, 'other.json');
    await writeFile(other, '{"format": "something-else"}');
    const o = await py([other]);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/must be "sparse-gpt2-recording"/);
  });
});
