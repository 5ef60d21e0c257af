// The CLI's part of the project's fuzz suite: seeded mutants of command lines (bad values, missing and
// repeated flags, broken model folders, outputs that are files, folders, inputs or links), run in process
// through each command's run() so the error object itself is checked, plus a small sample as a person runs
// it (a child process through tsx, slow: kept to four). The contract: a command either succeeds and leaves
// a complete output, or throws exactly one typed error (CliError, ModelFormatError or OutputError) whose
// message is bounded and names the flag or file, leaves no partial output (no new folder, no temporary file,
// the old output untouched), leaves no empty Hub cache folder, and comes within a time bound.

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from './args';
import { MAX_ERROR_CHARS } from './main';
import { OutputError } from './outputs';
import { ModelFormatError } from '../model/errors';
import { readModelDir } from '../model/files';
import { makeTestModel, writeModelDir } from '../model/testModel';
import { makeByteLevelTokenizerJson } from '../model/tokenizer';
import { mulberry32 } from '../shared/random';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
export const CLI_MUTANTS = 120;
const MAX_MS = 8000;

type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: Rng, n: number) => Math.floor(r() * n);

const COMMANDS = {
  'make-test-model': () => import('./makeTestModel'),
  convert: () => import('./convert'),
  prune: () => import('./prune'),
  inspect: () => import('./inspect'),
  generate: () => import('./generate'),
} as const;

/** Names and sizes of everything under dir (no entry: it does not exist). */
async function listing(dir: string): Promise<string[] | null> {
  const st = await stat(dir).catch(() => null);
  if (!st) return null;
  if (!st.isDirectory()) return [`file ${st.size}`];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(e.isDirectory() ? `${e.name}/` : `${e.name} ${(await stat(join(dir, e.name)).catch(() => ({ size: -1 }))).size}`);
  }
  return out.sort();
}

/** Every path under dir whose name marks a temporary file of outputs.ts. */
async function temporaries(dir: string, depth = 3): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.name.includes('.tmp-')) out.push(join(dir, e.name));
    if (e.isDirectory() && !e.isSymbolicLink() && depth > 0) out.push(...(await temporaries(join(dir, e.name), depth - 1)));
  }
  return out;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('cli fuzzing', () => {
  let root = '';
  let model = '';
  const broken: string[] = [];
  let notes = '';
  let modelListing: string[] | null = null;
  const env: Record<string, string | undefined> = {};

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sparse-gpt2-cli-fuzz-'));
    const tok = makeByteLevelTokenizerJson([['h', 'e']]);
    const m = makeTestModel({ layers: 1, heads: 1, embd: 16, vocab: 258, ctx: 8, seed: 2 });
    model = join(root, 'model');
    await writeModelDir(model, m, tok);
    modelListing = await listing(model);
    notes = join(root, 'notes.txt');
    await writeFile(notes, 'my notes, not a recording');
    const variant = async (name: string, edit: (dir: string) => Promise<void>) => {
      const d = join(root, name);
      await writeModelDir(d, m, tok);
      await edit(d);
      broken.push(d);
    };
    const config = (f: (c: Record<string, unknown>) => void) => async (d: string) => {
      const c = JSON.parse(await readFile(join(d, 'config.json'), 'utf8'));
      f(c);
      await writeFile(join(d, 'config.json'), JSON.stringify(c));
    };
    await variant('layers-1e8', config((c) => { c.n_layer = 100_000_000; }));
    await variant('deep-config', async (d) => writeFile(join(d, 'config.json'), `{"n_layer": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`));
    await variant('cut', async (d) => writeFile(join(d, 'model.safetensors'), m.safetensors.subarray(0, m.safetensors.length - 5)));
    await variant('nan', async (d) => {
      const b = m.safetensors.slice();
      new DataView(b.buffer).setFloat32(b.length - 4, Number.NaN, true);
      await writeFile(join(d, 'model.safetensors'), b);
    });
    await variant('bad-tokenizer', async (d) => {
      const t = structuredClone(tok) as { model: { vocab: Record<string, unknown> } };
      t.model.vocab.a = -1;
      await writeFile(join(d, 'tokenizer.json'), JSON.stringify(t));
    });
    await variant('weights-folder', async (d) => {
      await rm(join(d, 'model.safetensors'));
      await mkdir(join(d, 'model.safetensors'));
    });
    for (const k of ['HF_ENDPOINT', 'SPARSE_GPT2_CACHE']) env[k] = process.env[k];
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9'; // nothing listens: refused at once
    process.env.SPARSE_GPT2_CACHE = join(root, 'cache');
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(root, { recursive: true, force: true });
  });

  it(`${CLI_MUTANTS} mutated command lines in process: success with a complete output, or one typed error and nothing left behind`, async () => {
    const codes: Record<string, number> = {};
    let worst = 0;
    let longest = 0;
    for (let c = 0; c < CLI_MUTANTS; c++) {
      const r = mulberry32(90_000 + c);
      const caseDir = join(root, `case-${c}`);
      await mkdir(caseDir);
      // Output targets, made fresh per case.
      const outChoices = async (): Promise<string> => {
        const v = pick(r, ['fresh', 'fresh', 'file', 'weights-folder', 'empty', 'model', 'link', 'under-file', 'existing-model'] as const);
        const p = join(caseDir, 'out');
        if (v === 'file') await writeFile(p, 'x');
        else if (v === 'weights-folder') await mkdir(join(p, 'model.safetensors'), { recursive: true });
        else if (v === 'empty') await mkdir(p);
        else if (v === 'model') return model;
        else if (v === 'link') { await symlink(model, p); return p; }
        else if (v === 'under-file') { await writeFile(p, 'x'); return join(p, 'sub'); }
        else if (v === 'existing-model') await writeModelDir(p, makeTestModel({ layers: 1, heads: 1, embd: 4, vocab: 5, ctx: 3, seed: 9 }));
        return p;
      };
      const template = pick(r, ['make-test-model', 'convert', 'prune', 'prune-activation', 'inspect', 'generate'] as const);
      let out = await outChoices();
      // make-test-model has no input: writing over the shared model folder (or a link to it) is its right, but would
      // change the other cases' input.
      if (template === 'make-test-model' && (out === model || (await realpath(out).catch(() => out)) === (await realpath(model)))) out = join(caseDir, 'fresh');
      const modelArg = (forGenerate: boolean) => pick(r, [
        ...(forGenerate ? [] : [model, model, model]), ...broken, join(root, 'missing'), notes, caseDir, 'hf:nobody/nothing', 'hf:bad ref',
      ]);
      let args: string[];
      if (template === 'make-test-model') args = ['make-test-model', '--out', out, '--layers', '1', '--heads', '1', '--embd', '4', '--vocab', '5', '--ctx', '3', '--seed', '1'];
      else if (template === 'convert') args = ['convert', '--model', modelArg(false), '--to', 'bsr', '--block', '16', '--out', out];
      else if (template === 'prune') args = ['prune', '--model', modelArg(false), '--density', '0.5', '--block', '16', '--out', out];
      else if (template === 'prune-activation') {
        args = ['prune', '--model', modelArg(false), '--density', '0.5', '--block', '16', '--method', 'activation',
          '--calibration', pick(r, [notes, join(root, 'missing.txt'), join(out, 'config.json'), caseDir]), '--out', out];
      } else if (template === 'inspect') args = ['inspect', '--model', modelArg(false)];
      else {
        args = ['generate', '--model', modelArg(true), '--ids', '1,2', '--tokens', '1',
          '--record', pick(r, [notes, join(model, 'model.safetensors'), caseDir, join(root, 'no-folder', 'x.json'), join(caseDir, 'rec.json')])];
        if (r() < 0.3) args.push('--force');
      }
      // Argument mutations, one or two.
      for (let k = 1 + int(r, 2); k > 0; k--) {
        const m = pick(r, ['value', 'drop', 'repeat', 'unknown', 'none', 'none'] as const);
        const flags = args.map((a, i) => (a.startsWith('--') && i + 1 < args.length && !args[i + 1].startsWith('--') ? i : -1)).filter((i) => i >= 0);
        if (m === 'value' && flags.length > 0) {
          const i = pick(r, flags);
          args[i + 1] = pick(r, ['', '-1', '0', '1.5', 'NaN', '1e309', '99999999999999999999', '200000', 'x'.repeat(5000), ' 1', 'F8', 'bsr', '64']);
        } else if (m === 'drop' && flags.length > 0) {
          const i = pick(r, flags);
          args.splice(i, 2);
        } else if (m === 'repeat' && flags.length > 0) {
          const i = pick(r, flags);
          args.push(args[i], args[i + 1]);
        } else if (m === 'unknown') {
          args.push(pick(r, ['--frob', '-x', 'extra', `--${'y'.repeat(3000)}`, '--out']));
        }
      }
      const before = await listing(out);
      const command = args[0] as keyof typeof COMMANDS;
      const label = `case ${c}: ${args.join(' ').slice(0, 200)}`;
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const t0 = performance.now();
      let outcome: string;
      try {
        await (await COMMANDS[command]()).run(args.slice(1));
        outcome = 'ok';
      } catch (e) {
        outcome = (e as Error)?.name ?? 'thrown';
        write.mockRestore();
        writeErr.mockRestore();
        if (!(e instanceof CliError || e instanceof ModelFormatError || e instanceof OutputError)) {
          throw new Error(`${label}: expected a CliError, ModelFormatError or OutputError, got ${(e as Error)?.name}: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
        }
        expect(e.message.length, `${label}: ${e.message.slice(0, 200)}`).toBeLessThanOrEqual(MAX_ERROR_CHARS);
        // It names the flag or file: a flag, a command, a path, or the start of one of the arguments.
        const named = /--|\/|\.json|\.safetensors|hf:|make-test-model|convert|prune|inspect|generate/.test(e.message) ||
          args.some((a) => a.length > 0 && e.message.includes(a.slice(0, 40)));
        expect(named, `${label}: ${e.message.slice(0, 300)}`).toBe(true);
        longest = Math.max(longest, e.message.length);
        // Nothing half-written: the output is as it was.
        if (out !== model && !out.endsWith('sub')) expect(await listing(out), `${label}: ${e.message}`).toEqual(before);
      } finally {
        write.mockRestore();
        writeErr.mockRestore();
      }
      const ms = performance.now() - t0;
      worst = Math.max(worst, ms);
      expect(ms, label).toBeLessThan(MAX_MS);
      if (outcome === 'ok' && ['make-test-model', 'convert', 'prune'].includes(command) && !args.includes('--help')) {
        // A success leaves a complete model in --out.
        const outArg = args[args.lastIndexOf('--out') + 1];
        await readModelDir(outArg);
      }
      expect(await temporaries(root), label).toEqual([]);
      expect(await stat(join(root, 'cache')).then(() => true, () => false), `${label}: an empty Hub cache folder was left`).toBe(false);
      // An input is never changed. (When the shared model was not this case's input, a link to it may be an output.)
      if (args.includes(model)) expect(await listing(model), `${label}: an input changed`).toEqual(modelListing);
      else modelListing = await listing(model);
      codes[`${template}:${outcome}`] = (codes[`${template}:${outcome}`] ?? 0) + 1;
    }
    console.log(`fuzz cli: ${CLI_MUTANTS} command lines in process (longest message ${longest} chars, slowest ${worst.toFixed(0)} ms)`, codes);
  });

  it('4 command lines as a person runs them: one line on stderr, the exit code, nothing left behind', async () => {
    const weightsFolder = join(root, 'sample-out');
    await mkdir(join(weightsFolder, 'model.safetensors'), { recursive: true });
    const sample = await Promise.all([
      cli(['inspect', '--model', broken[0]]),
      cli(['make-test-model', '--out', join(root, 'huge'), '--layers', '200000', '--heads', '2', '--embd', '64', '--vocab', '256', '--ctx', '128']),
      cli(['convert', '--model', model, '--to', 'bsr', '--out', weightsFolder]),
      cli(['generate', '--model', model, '--ids', '1,2', '--tokens', '1', '--record', notes]),
    ]);
    const expected: Array<[number, RegExp]> = [
      [1, /config\.json has "n_layer": 100000000, but this file holds 1 block .*at most 1/],
      [2, /--layers.*2 GiB|at most [\d,]+ layers/],
      [1, /sample-out\/model\.safetensors: is a folder/],
      [1, /notes\.txt: exists and is not a sparse-gpt2-recording file.*--force/],
    ];
    sample.forEach((res, i) => {
      expect(res.code, res.stderr).toBe(expected[i][0]);
      const lines = res.stderr.trimEnd().split('\n');
      expect(lines.length, res.stderr).toBe(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(expected[i][1]);
      expect(lines[0]).not.toMatch(/RangeError|TypeError|Maximum call stack/);
    });
    expect(await stat(join(root, 'huge')).then(() => true, () => false)).toBe(false);
    expect(await listing(weightsFolder)).toEqual(['model.safetensors/']);
    expect(await readFile(notes, 'utf8')).toBe('my notes, not a recording');
  }, 120_000);
});
