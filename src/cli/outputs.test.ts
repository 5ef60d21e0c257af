// Atomic outputs: a failure leaves nothing half-written (a new folder is not created at all, an existing one
// keeps its old files), an output never replaces an input, --record refuses a file that is not a recording
// unless forced, and an unreachable Hub leaves no empty cache folder. In process: fast.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelArg } from './hubCache';
import { checkRecordTarget, isRecordingFile, OutputError, refuseInputTarget, writeFileAtomic, writeOutputDir } from './outputs';
import { readOptions } from './makeTestModel';
import { CliError } from './args';

const exists = (p: string) => stat(p).then(() => true, () => false);

describe('outputs', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-outputs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a new folder appears whole or not at all', async () => {
    const out = join(dir, 'a', 'b', 'new');
    await writeOutputDir(out, [{ name: 'config.json', data: '{}' }, { name: 'model.safetensors', data: new Uint8Array(8) }]);
    expect((await readdir(out)).sort()).toEqual(['config.json', 'model.safetensors']);
    // A write that fails part-way (the second file cannot be created) leaves no folder, not even its parents.
    const failing = join(dir, 'c', 'd', 'new');
    await expect(writeOutputDir(failing, [{ name: 'config.json', data: '{}' }, { name: 'no/such/sub', data: 'x' }])).rejects.toThrow(OutputError);
    expect(await exists(join(dir, 'c'))).toBe(false);
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('an existing folder keeps its old files when a write fails, and gets all new ones when it succeeds', async () => {
    const out = join(dir, 'existing');
    await mkdir(out);
    await writeFile(join(out, 'config.json'), 'old config');
    await writeFile(join(out, 'keep.txt'), 'unrelated');
    await expect(writeOutputDir(out, [{ name: 'config.json', data: 'new config' }, { name: 'no/such/sub', data: 'x' }])).rejects.toThrow(/the folder was left as it was/);
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe('old config');
    expect((await readdir(out)).sort()).toEqual(['config.json', 'keep.txt']);
    await writeOutputDir(out, [{ name: 'config.json', data: 'new config' }, { name: 'model.safetensors', data: 'w' }]);
    expect(await readFile(join(out, 'config.json'), 'utf8')).toBe('new config');
    expect((await readdir(out)).sort()).toEqual(['config.json', 'keep.txt', 'model.safetensors']);
  });

  it('refuses before writing: a folder where a file goes, a file where the folder goes, an input as output', async () => {
    const out = join(dir, 'blocked');
    await mkdir(join(out, 'model.safetensors'), { recursive: true });
    await expect(writeOutputDir(out, [{ name: 'config.json', data: '{}' }, { name: 'model.safetensors', data: 'x' }]))
      .rejects.toThrow(`${join(out, 'model.safetensors')}: is a folder, so model.safetensors cannot be written there`);
    expect(await readdir(out)).toEqual(['model.safetensors']);
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    await expect(writeOutputDir(file, [{ name: 'config.json', data: '{}' }])).rejects.toThrow(/exists and is not a folder/);

    const input = join(dir, 'input');
    await mkdir(input);
    await writeFile(join(input, 'model.safetensors'), 'weights');
    const link = join(dir, 'link-to-input');
    await symlink(input, link);
    await expect(writeOutputDir(link, [{ name: 'model.safetensors', data: 'x' }], [join(input, 'model.safetensors')]))
      .rejects.toThrow(/is the input file .*an output never replaces an input/);
    await expect(refuseInputTarget(join(input, '.', 'model.safetensors'), [join(input, 'model.safetensors')])).rejects.toThrow(OutputError);
    expect(await readFile(join(input, 'model.safetensors'), 'utf8')).toBe('weights');
  });

  it('--record: a recording may be replaced, another file only with --force, an input never', async () => {
    const rec = join(dir, 'run.json');
    await writeFile(rec, '{\n "format": "sparse-gpt2-recording",\n "version": 1}');
    expect(await isRecordingFile(rec)).toBe(true);
    await expect(checkRecordTarget(rec, false, [])).resolves.toBeUndefined();
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'mine');
    expect(await isRecordingFile(notes)).toBe(false);
    await expect(checkRecordTarget(notes, false, [])).rejects.toThrow(`--record ${notes}: exists and is not a sparse-gpt2-recording file`);
    await expect(checkRecordTarget(notes, true, [])).resolves.toBeUndefined();
    await expect(checkRecordTarget(notes, true, [notes])).rejects.toThrow(/an output never replaces an input/);
    await expect(checkRecordTarget(join(dir, 'nowhere', 'x.json'), false, [])).rejects.toThrow(/does not exist/);
    await expect(checkRecordTarget(dir, true, [])).rejects.toThrow(/is a folder/);
    await writeFileAtomic(notes, 'replaced');
    expect(await readFile(notes, 'utf8')).toBe('replaced');
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('an unreachable Hub leaves no cache folder', async () => {
    const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.SPARSE_GPT2_CACHE };
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9';
    process.env.SPARSE_GPT2_CACHE = join(dir, 'cache');
    try {
      await expect(resolveModelArg('hf:nobody/nothing')).rejects.toThrow(/config\.json: download failed/);
      expect(await exists(join(dir, 'cache'))).toBe(false);
    } finally {
      if (saved.endpoint === undefined) delete process.env.HF_ENDPOINT; else process.env.HF_ENDPOINT = saved.endpoint;
      if (saved.cache === undefined) delete process.env.SPARSE_GPT2_CACHE; else process.env.SPARSE_GPT2_CACHE = saved.cache;
    }
  });

  it('make-test-model refuses sizes it could not build, with the bound, before allocating', () => {
    const opts = { out: 'x', layers: '200000', heads: '2', embd: '64', vocab: '256', ctx: '128' };
    expect(() => readOptions(opts)).toThrow(CliError);
    expect(() => readOptions(opts)).toThrow(/make-test-model: 200,000 layers × 64, vocab 256, ctx 128 makes 9,996,824,704 parameters.*2 GiB.*at most 10,638 layers fit/);
  });
});
