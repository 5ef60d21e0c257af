// Reading model files from a directory (Node) and over fetch (browser), with the 'io' errors a person
// sees when a file is missing.
import { mkdtemp, rm, writeFile, unlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from './errors';
import { fetchModelFiles, readModelDir } from './files';
import { makeTestModel, writeModelDir } from './testModel';

const model = makeTestModel({ layers: 1, heads: 2, embd: 8, vocab: 10, ctx: 4, seed: 2 });

async function rejection(p: Promise<unknown>): Promise<ModelFormatError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ModelFormatError);
  return e as ModelFormatError;
}

describe('readModelDir', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a directory without tokenizer.json', async () => {
    await writeModelDir(join(dir, 'ok'), model);
    const files = await readModelDir(join(dir, 'ok'));
    expect(files.config).toEqual(model.config);
    expect(files.tokenizerJson).toBeUndefined();
    expect(files.source).toBe(join(dir, 'ok'));
  });

  it('says which file is missing and how to make a model', async () => {
    await writeModelDir(join(dir, 'noweights'), model);
    await unlink(join(dir, 'noweights', 'model.safetensors'));
    const e = await rejection(readModelDir(join(dir, 'noweights')));
    expect(e.code).toBe('io');
    expect(e.file).toBe(join(dir, 'noweights', 'model.safetensors'));
    expect(e.message).toContain('not found');
    expect(e.message).toContain('make-test-model');
  });

  it('reports a missing directory and a path that is a file', async () => {
    const missing = await rejection(readModelDir(join(dir, 'nope')));
    expect(missing.code).toBe('io');
    expect(missing.problem).toContain('directory not found');
    await writeFile(join(dir, 'plain.txt'), 'x');
    expect((await rejection(readModelDir(join(dir, 'plain.txt')))).problem).toContain('not a directory');
  });

  it('passes format errors through with the file path', async () => {
    await mkdir(join(dir, 'bad'), { recursive: true });
    await writeFile(join(dir, 'bad', 'config.json'), JSON.stringify(model.configJson));
    await writeFile(join(dir, 'bad', 'model.safetensors'), model.safetensors.subarray(0, model.safetensors.length - 10));
    const e = await rejection(readModelDir(join(dir, 'bad')));
    expect(e.code).toBe('truncated');
    expect(e.file).toBe(join(dir, 'bad', 'model.safetensors'));
  });
});

describe('fetchModelFiles', () => {
  /** A fetch over an in-memory site; unknown paths get 404, or an HTML page like a dev server's SPA fallback. */
  function site(files: Record<string, string | Uint8Array<ArrayBuffer>>, fallbackHtml = false): typeof fetch {
    return (async (input: RequestInfo | URL) => {
      const url = String(input);
      const body = files[url];
      if (body === undefined) {
        return fallbackHtml
          ? new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } })
          : new Response('not found', { status: 404, statusText: 'Not Found' });
      }
      return new Response(body, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }) as typeof fetch;
  }
  const config = JSON.stringify(model.configJson);

  it('fetches the files relative to the base URL; tokenizer.json is optional', async () => {
    const fetchImpl = site({ 'weights/tiny/config.json': config, 'weights/tiny/model.safetensors': model.safetensors });
    const files = await fetchModelFiles('weights/tiny/', fetchImpl);
    expect(files.config).toEqual(model.config);
    expect(files.tokenizerJson).toBeUndefined();
    const withTok = site({ 'w/config.json': config, 'w/model.safetensors': model.safetensors, 'w/tokenizer.json': '{"model":{}}' });
    expect((await fetchModelFiles('w', withTok)).tokenizerJson).toEqual({ model: {} });
  });

  it('treats a dev server HTML fallback as a missing file', async () => {
    const fetchImpl = site({ 'w/config.json': config, 'w/model.safetensors': model.safetensors }, true);
    expect((await fetchModelFiles('w', fetchImpl)).tokenizerJson).toBeUndefined();
    const noWeights = site({ 'w/config.json': config }, true);
    const e = await rejection(fetchModelFiles('w', noWeights));
    expect(e.code).toBe('io');
    expect(e.file).toBe('w/model.safetensors');
    expect(e.problem).toContain('HTML');
  });

  it('reports HTTP errors with their status and network failures', async () => {
    const e = await rejection(fetchModelFiles('w', site({ 'w/model.safetensors': model.safetensors })));
    expect(e.code).toBe('io');
    expect(e.file).toBe('w/config.json');
    expect(e.problem).toBe('HTTP 404 Not Found');
    const down = (async () => { throw new TypeError('fetch failed'); }) as typeof fetch;
    expect((await rejection(fetchModelFiles('http://localhost:1/m', down))).problem).toContain('fetch failed');
  });
});
