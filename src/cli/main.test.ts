// The CLI as a person runs it (a child process through tsx): make-test-model then inspect --json, and the
// one-line errors with non-zero exits for bad arguments and bad files.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parameterCount, parseConfig } from '../model/config';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

describe('cli', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('make-test-model writes a model that inspect --json describes', async () => {
    const out = join(dir, 'tiny');
    const made = await cli('make-test-model', '--out', out, '--layers', '2', '--heads', '2', '--embd', '8', '--vocab', '30', '--ctx', '16', '--seed', '4', '--dtype', 'F16');
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain(out);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ n_layer: 2, n_head: 2, n_embd: 8, vocab_size: 30, n_positions: 16 });

    const r = await cli('inspect', '--model', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['model', 'config', 'parameters', 'bytes', 'format', 'tensors', 'sparse']);
    expect(report.format).toBe('dense');
    expect(report.sparse).toBeNull();
    expect(report.model).toBe(out);
    expect(report.config).toEqual({ n_layer: 2, n_head: 2, n_embd: 8, n_positions: 16, vocab_size: 30, layer_norm_epsilon: 1e-5 });
    expect(report.parameters).toBe(parameterCount(parseConfig(config)));
    expect(report.bytes).toBe((await stat(join(out, 'model.safetensors'))).size);
    expect(report.tensors.length).toBe(4 + 12 * 2);
    const wte = report.tensors.find((t: { name: string }) => t.name === 'wte.weight');
    expect(wte).toEqual({ name: 'wte.weight', dtype: 'F16', shape: [30, 8], bytes: 30 * 8 * 2, density: 1 });
    const total = report.tensors.reduce((s: number, t: { shape: number[] }) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    expect(total).toBe(report.parameters);

    const plain = await cli('inspect', '--model', out);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/h\.1\.mlp\.c_proj\.weight\s+F16\s+\[32, 8\]\s+512\s+1\.0000/);
  });

  it('bad arguments: one line on stderr, exit 2', async () => {
    expectOneLineError(await cli('make-test-model', '--out', join(dir, 'x'), '--layers', 'two', '--heads', '2', '--embd', '8', '--vocab', '30', '--ctx', '16'),
      2, /--layers must be a positive integer \(got "two"\)/);
    expectOneLineError(await cli('make-test-model', '--out', join(dir, 'x'), '--layers', '1', '--heads', '1', '--embd', '8', '--vocab', '300', '--ctx', '8', '--tokenizer', 'gpt2'), 2, /--tokenizer gpt2 needs --vocab 50257/);
    expectOneLineError(await cli('inspect', '--model', dir, '--frob'), 2, /--frob/);
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('error: unknown command "frobnicate"');
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('make-test-model');
  });

  it('bad files: one line naming the file, exit 1', async () => {
    expectOneLineError(await cli('inspect', '--model', join(dir, 'missing')), 1, /missing: model directory not found/);
    const out = join(dir, 'cut');
    expect((await cli('make-test-model', '--out', out, '--layers', '1', '--heads', '1', '--embd', '4', '--vocab', '5', '--ctx', '3')).code).toBe(0);
    const file = join(out, 'model.safetensors');
    await truncate(file, (await stat(file)).size - 4);
    expectOneLineError(await cli('inspect', '--model', out), 1, /model\.safetensors \[ln_f\.bias\]: file is truncated/);
  });
}, 60_000);
