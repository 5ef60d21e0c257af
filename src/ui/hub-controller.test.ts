// The Hub download's outcomes in Node (fetch replaced, no Cache API): the three files become the dense model
// with a note that they could not be stored; offline, an HTTP error and a file that fails validation each give
// a message saying what failed and what to do, and no model.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ReactiveControllerHost } from 'lit';
import { makeTestModel } from '../model/testModel';
import { makeByteLevelTokenizerJson } from '../model/tokenizer';
import { HUB_GPT2, HubController } from './hub-controller';

const host: ReactiveControllerHost = {
  addController: () => undefined,
  removeController: () => undefined,
  requestUpdate: () => undefined,
  updateComplete: Promise.resolve(true),
};

const model = makeTestModel({ layers: 1, heads: 2, embd: 32, vocab: 257, ctx: 16, seed: 3 });
const good: Record<string, Uint8Array> = {
  'config.json': new TextEncoder().encode(JSON.stringify(model.configJson)),
  'tokenizer.json': new TextEncoder().encode(JSON.stringify(makeByteLevelTokenizerJson())),
  'model.safetensors': model.safetensors,
};

function serve(files: Record<string, Uint8Array>, status = 200): string[] {
  const urls: string[] = [];
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url);
    const body = files[url.split('/').pop()!];
    if (status !== 200 || !body) return new Response('nope', { status: status === 200 ? 404 : status, statusText: status === 503 ? 'Service Unavailable' : 'Not Found' });
    return new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(body.byteLength) } });
  });
  return urls;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('HubController download', () => {
  it('downloads the three files from resolve/main and hands them to the dense panel', async () => {
    const urls = serve(good);
    const hub = new HubController(host, HUB_GPT2, () => 'https://mirror.example/');
    await hub.start();
    expect(urls).toEqual(['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => `https://mirror.example/openai-community/gpt2/resolve/main/${f}`));
    expect(hub.download.phase).toBe('ready');
    expect(hub.download.fromCache).toBe(false);
    expect(hub.download.storageNote).toMatch(/no Cache API/); // Node has none: it runs from memory
    expect(hub.dense?.name).toBe('openai-community/gpt2');
    expect(hub.dense?.files.safetensors.byteLength).toBe(model.safetensors.byteLength);
    expect(hub.prune.phase).toBe('idle');
  });

  it('offline: says it could not reach the Hub and to retry', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch');
    });
    const hub = new HubController(host, HUB_GPT2, () => 'https://huggingface.co');
    await hub.start();
    expect(hub.download.phase).toBe('error');
    expect(hub.download.error).toMatch(/^Could not reach huggingface\.co: check the network, then retry\./);
    expect(hub.dense).toBeNull();
  });

  it('an HTTP error names the URL and the status', async () => {
    serve(good, 503);
    const hub = new HubController(host, HUB_GPT2, () => 'https://huggingface.co');
    await hub.start();
    expect(hub.download.error).toContain('https://huggingface.co/openai-community/gpt2/resolve/main/config.json: HTTP 503 Service Unavailable');
    expect(hub.dense).toBeNull();
  });

  it('a truncated model.safetensors is refused with its typed error', async () => {
    serve({ ...good, 'model.safetensors': model.safetensors.subarray(0, model.safetensors.byteLength - 100) });
    const hub = new HubController(host, HUB_GPT2, () => 'https://huggingface.co');
    await hub.start();
    expect(hub.download.phase).toBe('error');
    expect(hub.download.error).toMatch(/^ModelFormatError \(truncated\): https:\/\/huggingface\.co\/openai-community\/gpt2\/resolve\/main\/model\.safetensors/);
    expect(hub.dense).toBeNull();
  });

  it('a config that does not match the tensors is refused (shape)', async () => {
    const config = new TextEncoder().encode(JSON.stringify({ ...model.configJson, n_positions: 32, n_ctx: 32 }));
    serve({ ...good, 'config.json': config });
    const hub = new HubController(host, HUB_GPT2, () => 'https://huggingface.co');
    await hub.start();
    expect(hub.download.error).toMatch(/^ModelFormatError \(shape\): .*wpe\.weight/);
  });
});
