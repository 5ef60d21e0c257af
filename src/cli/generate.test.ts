// generate and bench as a person runs them (child processes through tsx, Dawn on SwiftShader):
// the --json fields other tools rely on, greedy determinism, bench's per-token facts, and a
// machine with no usable WebGPU driver giving a non-zero exit with the reason.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('cli generate / bench', () => {
  let dir = '';
  let model = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-gen-'));
    model = join(dir, 'm');
    const r = await cli(['make-test-model', '--out', model, '--layers', '2', '--heads', '2', '--embd', '32', '--vocab', '97', '--ctx', '24', '--seed', '5']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generate --json prints one object with the documented fields, deterministic when greedy', async () => {
    const args = ['generate', '--model', model, '--ids', '3,1,4', '--tokens', '6', '--greedy', '--json'];
    const a = await cli(args);
    expect(a.code, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['prompt_ids', 'ids', 'text', 'steps', 'prefill_ms', 'decode_ms', 'decode_tokens_per_s']));
    expect(out.prompt_ids).toEqual([3, 1, 4]);
    expect(out.ids).toHaveLength(6);
    expect(out.decode_ms).toHaveLength(5);
    expect(out.steps).toHaveLength(6);
    for (const [i, st] of out.steps.entries()) {
      expect(st.id).toBe(out.ids[i]);
      expect(st.top).toHaveLength(5);
      expect(st.top[0][0]).toBe(st.id); // greedy: the chosen id is the best logit
      for (let j = 1; j < 5; j++) expect(st.top[j][1]).toBeLessThanOrEqual(st.top[j - 1][1]);
    }
    expect(out.decode_tokens_per_s).toBeGreaterThan(0);
    const b = JSON.parse((await cli(args)).stdout);
    expect(b.ids).toEqual(out.ids);
  });

  it('generate stops cleanly when the context is full', async () => {
    const r = await cli(['generate', '--model', model, '--ids', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20', '--tokens', '40', '--greedy', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.stop_reason).toBe('context-full');
    expect(out.ids).toHaveLength(24 - 20 + 1);
  });

  it('generate --ablate zeroes the named heads: the same JSON shape, other logits, one-line errors', async () => {
    const base = ['generate', '--model', model, '--ids', '3,1,4', '--tokens', '4', '--greedy', '--json'];
    const plain = JSON.parse((await cli(base)).stdout);
    const r = await cli([...base, '--ablate', 'L0H1,L1H0']);
    expect(r.code, r.stderr).toBe(0);
    const ablated = JSON.parse(r.stdout);
    expect(Object.keys(ablated)).toEqual(Object.keys(plain));
    expect(ablated.steps).toHaveLength(4);
    expect(ablated.steps[0].top[0][1]).not.toBe(plain.steps[0].top[0][1]);
    for (const [arg, msg] of [['L2H0', /^error: --ablate: L2H0 is outside the model \(layers L0\.\.L1, heads H0\.\.H1\)$/], ['0.1', /^error: --ablate: '0\.1' is not a head name like L0H1$/]] as const) {
      const bad = await cli([...base, '--ablate', arg]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr.trim()).toMatch(msg);
    }
  });

  it('bench --json reports speed and zero buffers created per decode step', async () => {
    const r = await cli(['bench', '--model', model, '--prompt-tokens', '4', '--tokens', '6', '--runs', '2', '--in-flight', '1,3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.decode_tokens_per_s).toBeGreaterThan(0);
    // Wall and GPU time per decode token, per number of steps in flight; the headline is the default (3).
    expect(out.in_flight).toBe(3);
    expect(out.decode_by_in_flight.map((x: { in_flight: number }) => x.in_flight)).toEqual([1, 3]);
    expect(out.decode_by_in_flight[1].decode_tokens_per_s).toBe(out.decode_tokens_per_s);
    expect(out.decode_wall_ms_per_token).toBeGreaterThan(0);
    if (out.timing_source === 'timestamp-query') {
      expect(out.decode_gpu_ms_per_token).toBeGreaterThan(0);
      expect(out.decode_gap_pct).toBeCloseTo((100 * (out.decode_wall_ms_per_token - out.decode_gpu_ms_per_token)) / out.decode_wall_ms_per_token, 6);
    }
    expect(out.first_token_ms_short).toBeGreaterThan(0);
    expect(out.short_prompt_tokens).toBe(4); // the prompt is shorter than the 8-token short prompt
    // The per-op profile: every decode dispatch counted once, layers folded, and the split's ms add up.
    const ops = out.decode_ops as Array<{ op: string; count: number; ms: number }>;
    expect(ops.reduce((a, o) => a + o.count, 0)).toBe(out.dispatches_per_token);
    expect(ops.map((o) => o.op)).toContain('sample');
    expect(ops.find((o) => o.op.startsWith('h.#.attn.c_attn'))!.count).toBe(out.config.n_layer);
    expect(ops.every((o) => o.ms >= 0)).toBe(true);
    const bad = await cli(['bench', '--model', model, '--in-flight', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--in-flight: '0' is not a number of steps 1\.\.8/);
    expect(out.prefill_tokens_per_s).toBeGreaterThan(0);
    // embed + 7 per layer + ln_f + one LM-head chunk + sample
    expect(out.dispatches_per_token).toBe(1 + 7 * 2 + 1 + 1 + 1);
    expect(out.buffers_created_per_decode_step).toBe(0);
    expect(out.weight_bytes_per_token).toBeGreaterThan(0);
  });

  it('a prompt without tokenizer.json, and a machine without a WebGPU driver, fail with the reason', async () => {
    const noTok = await cli(['generate', '--model', model, '--prompt', 'hello', '--tokens', '2']);
    expect(noTok.code).toBe(2);
    expect(noTok.stderr).toMatch(/no tokenizer\.json; pass token ids with --ids/);
    const noGpu = await cli(['generate', '--model', model, '--ids', '1', '--tokens', '2'], { VK_ICD_FILENAMES: join(dir, 'no-such-driver.json') });
    expect(noGpu.code).toBe(1);
    expect(noGpu.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error: WebGPU is present but no GPU adapter was found/);
  });

  it('generate --record writes a recording that decodes and matches the generation', async () => {
    const { decodeRecording } = await import('../probes/snapshot');
    const file = join(dir, 'run.recording.json');
    const r = await cli(['generate', '--model', model, '--ids', '3,1,4', '--tokens', '5', '--greedy', '--json', '--record', file, '--tau-head', '0.05']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const rec = decodeRecording(await readFile(file));
    expect(rec.promptIds).toEqual([3, 1, 4]);
    expect(rec.steps.map((s) => s.id)).toEqual(out.ids);
    expect(rec.model.nLayer).toBe(2);
    expect(rec.settings.thresholds.head).toBe(0.05);
    expect(rec.steps[0].headActivity.length).toBe(2 * 2);
    expect(rec.model.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
