// prune, convert and inspect on block-sparse models, as a person runs them (child processes through tsx):
// pruned BSR checkpoints that load, byte-exact convert round trips, copied config/tokenizer, and one-line
// errors with exit 2 for bad arguments and exit 1 for bad files.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGpt2Weights } from '../model/checkpoint';
import { readModelDir } from '../model/files';
import { makeTestModel, writeModelDir } from '../model/testModel';
import { makeByteLevelTokenizerJson } from '../model/tokenizer';
import { parseSafetensors, writeSafetensors } from '../model/safetensors';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

type Result = { code: number; stdout: string; stderr: string };

function cli(...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(TSX, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function expectOneLineError(r: Result, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

const read = (dir: string, file: string) => readFile(join(dir, file));

describe('cli prune / convert', () => {
  let dir = '';
  let src = '';
  let bare = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-sparse-'));
    src = join(dir, 'src');
    // A byte-level tokenizer (256 bytes + <|endoftext|>) so --method activation can encode calibration text.
    await writeModelDir(src, makeTestModel({ layers: 2, heads: 2, embd: 64, vocab: 257, ctx: 32, seed: 3, dtype: 'F16' }), makeByteLevelTokenizerJson());
    bare = join(dir, 'bare');
    await writeModelDir(bare, makeTestModel({ layers: 1, heads: 2, embd: 32, vocab: 20, ctx: 8, seed: 1 }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prune writes a loadable BSR checkpoint; convert round-trips it byte-exactly; inspect shows block densities', async () => {
    const pruned = join(dir, 'pruned');
    const r = await cli('prune', '--model', src, '--density', '0.25', '--block', '16', '--out', pruned);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/magnitude pruning to density 0\.25 in 16×16 blocks: kept 96 of 384 blocks in 8 matrices/);
    expect((await read(pruned, 'config.json')).equals(await read(src, 'config.json'))).toBe(true);
    expect((await read(pruned, 'tokenizer.json')).equals(await read(src, 'tokenizer.json'))).toBe(true);

    const files = await readModelDir(pruned);
    const st = files.safetensors;
    expect(st.metadata).toMatchObject({ prune_method: 'magnitude', prune_density: '0.25', prune_block_size: '16', sparse_format: 'bsr', bsr_block_size: '16' });
    expect(st.info('h.0.mlp.c_fc.weight.bsr_values').dtype).toBe('F16');
    expect(st.has('h.0.mlp.c_fc.weight')).toBe(false);
    const w = loadGpt2Weights(st, files.config);
    expect(Object.values(w.sparse!.matrices)).toEqual(Array(8).fill(0.25));
    expect(st.raw.byteLength / (await read(src, 'model.safetensors')).byteLength).toBeLessThan(0.45);

    const [inspect, dense] = await Promise.all([
      cli('inspect', '--model', pruned, '--json'),
      cli('convert', '--model', pruned, '--to', 'dense', '--out', join(dir, 'dense')),
    ]);
    expect(inspect.code, inspect.stderr).toBe(0);
    const report = JSON.parse(inspect.stdout);
    expect(report.format).toBe('bsr');
    expect(report.sparse.block).toBe(16);
    expect(report.sparse.matrices.length).toBe(8);
    expect(report.sparse.matrices[0]).toEqual({ name: 'h.0.attn.c_attn.weight', shape: [64, 192], blocks: 12, total_blocks: 48, block_density: 0.25 });
    expect(dense.code, dense.stderr).toBe(0);
    expect(dense.stdout).toMatch(/8 matrices dense/);

    // Back to BSR (block from the prune metadata), and once more to dense: the same bytes each time.
    const [bsr2, plain] = await Promise.all([
      cli('convert', '--model', join(dir, 'dense'), '--to', 'bsr', '--out', join(dir, 'bsr2')),
      cli('inspect', '--model', join(dir, 'dense')),
    ]);
    expect(bsr2.code, bsr2.stderr).toBe(0);
    expect(bsr2.stdout).toMatch(/8 matrices bsr \(block 16, block density 0\.2500\)/);
    expect((await read(join(dir, 'bsr2'), 'model.safetensors')).equals(await read(pruned, 'model.safetensors'))).toBe(true);
    expect(plain.stdout).toMatch(/^format\s+dense$/m);
    expect(plain.stdout).toMatch(/h\.0\.mlp\.c_fc\.weight\s+F16\s+\[64, 256\]\s+32,768\s+0\.2500/);
    const dense2 = await cli('convert', '--model', join(dir, 'bsr2'), '--to', 'dense', '--out', join(dir, 'dense2'));
    expect(dense2.code, dense2.stderr).toBe(0);
    expect((await read(join(dir, 'dense2'), 'model.safetensors')).equals(await read(join(dir, 'dense'), 'model.safetensors'))).toBe(true);
    const [dw, sw] = [await readModelDir(join(dir, 'dense')), files].map((f) => loadGpt2Weights(f.safetensors, f.config));
    expect([...dw.layers[1].fcProjW]).toEqual([...sw.layers[1].fcProjW]);
  });

  it('prune --method activation encodes the calibration file with tokenizer.json and records it', async () => {
    const text = join(dir, 'calibration.txt');
    await writeFile(text, 'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n'.repeat(2));
    const [act, builtin] = await Promise.all([
      cli('prune', '--model', src, '--density', '0.125', '--block', '32', '--method', 'activation', '--calibration', text, '--out', join(dir, 'act')),
      cli('prune', '--model', src, '--density', '0.125', '--block', '32', '--method', 'activation', '--out', join(dir, 'act-builtin')),
    ]);
    expect(act.code, act.stderr).toBe(0);
    expect(builtin.code, builtin.stderr).toBe(0);
    const tokens = Buffer.byteLength(await readFile(text, 'utf8')); // byte-level tokenizer without merges: one id per byte
    expect(act.stdout).toContain(`(${tokens} calibration tokens)`);
    const st = (await readModelDir(join(dir, 'act'))).safetensors;
    expect(st.metadata).toMatchObject({ prune_method: 'activation', prune_density: '0.125', prune_block_size: '32', prune_calibration_tokens: String(tokens), bsr_block_size: '32' });
    // 64 × 256 in 32-blocks: 2 × 8, round(16 / 8) = 2 kept.
    expect(st.info('h.1.mlp.c_fc.weight.bsr_col_indices').shape).toEqual([2]);
  });

  it('bad arguments: one line on stderr, exit 2', async () => {
    const out = join(dir, 'never');
    const results = await Promise.all([
      cli('prune', '--model', src, '--density', '0', '--block', '32', '--out', out),
      cli('prune', '--model', src, '--density', '1.5', '--block', '32', '--out', out),
      cli('prune', '--model', src, '--density', 'half', '--block', '32', '--out', out),
      cli('prune', '--model', src, '--block', '32', '--out', out),
      cli('prune', '--model', src, '--density', '0.5', '--block', '8', '--out', out),
      cli('prune', '--model', src, '--density', '0.5', '--block', '32', '--method', 'random', '--out', out),
      cli('prune', '--model', src, '--density', '0.5', '--block', '32', '--calibration', 'x.txt', '--out', out),
      cli('prune', '--model', src, '--density', '0.5', '--block', '32', '--out', src),
      cli('convert', '--model', src, '--to', 'sparse', '--out', out),
      cli('convert', '--model', src, '--to', 'dense', '--block', '32', '--out', out),
      cli('convert', '--model', src, '--to', 'bsr', '--block', '48', '--out', out),
    ]);
    const patterns = [
      /--density must be a number > 0 and ≤ 1 \(got "0"\)/,
      /--density must be a number > 0 and ≤ 1 \(got "1\.5"\)/,
      /--density must be a number > 0 and ≤ 1 \(got "half"\)/,
      /--density is required/,
      /--block must be one of 16, 32, 64 \(got "8"\)/,
      /--method must be one of magnitude, activation \(got "random"\)/,
      /--calibration applies only to --method activation/,
      /--out must differ from --model/,
      /--to must be one of dense, bsr \(got "sparse"\)/,
      /--block applies only to --to bsr/,
      /--block must be one of 16, 32, 64 \(got "48"\)/,
    ];
    results.forEach((r, i) => expectOneLineError(r, 2, patterns[i]));
    const help = await cli('--help');
    expect(help.stdout).toContain('prune            --model DIR --density 0.125 --block 32 [--method magnitude|activation] [--calibration FILE] --out DIR');
    expect(help.stdout).toContain('convert          --model DIR --to dense|bsr [--block B] --out DIR');
  });

  it('bad files: one line naming the file, exit 1, nothing written', async () => {
    // A BSR checkpoint whose metadata lost its block size.
    const pruned = join(dir, 'broken');
    expect((await cli('prune', '--model', bare, '--density', '0.5', '--block', '16', '--out', pruned)).code).toBe(0);
    const st = parseSafetensors(new Uint8Array(await read(pruned, 'model.safetensors')), 'x');
    const meta = { ...st.metadata };
    delete meta.bsr_block_size;
    await writeFile(join(pruned, 'model.safetensors'),
      writeSafetensors([...st.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: st.bytes(t.name) })), meta));
    const results = await Promise.all([
      cli('prune', '--model', bare, '--density', '0.5', '--block', '16', '--method', 'activation', '--out', join(dir, 'never1')),
      cli('prune', '--model', src, '--density', '0.5', '--block', '16', '--method', 'activation', '--calibration', join(dir, 'missing.txt'), '--out', join(dir, 'never2')),
      cli('convert', '--model', pruned, '--to', 'dense', '--out', join(dir, 'never3')),
      cli('inspect', '--model', pruned),
    ]);
    expectOneLineError(results[0], 1, /bare\/tokenizer\.json: file not found — --method activation encodes the calibration text/);
    expectOneLineError(results[1], 1, /missing\.txt: calibration file not found/);
    expectOneLineError(results[2], 1, /broken\/model\.safetensors \[h\.0\.attn\.c_attn\.weight\]: __metadata__ has no "bsr_block_size" \(one of 16, 32, 64\)/);
    expectOneLineError(results[3], 1, /broken\/model\.safetensors \[h\.0\.attn\.c_attn\.weight\]/);
    for (const d of ['never1', 'never2', 'never3']) await expect(readFile(join(dir, d, 'model.safetensors'))).rejects.toThrow(/ENOENT/);
  });
}, 120_000);
