// The model cache against an in-memory Cache API (Node has none): a model is read back only when its
// manifest was written; a quota refusal (by the estimate, or by the browser's QuotaExceededError) and an
// abort leave nothing stored; Clear cache reports the bytes it held.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedBytes, clearModelCache, MODEL_CACHE_NAME, readCachedModel, storeModel, StorageError, type RawModelFiles } from './modelCache';

/** A Cache API held in memory, with a hook to refuse a put. */
class MemoryCache {
  readonly entries = new Map<string, Response>();
  failPut: ((url: string) => Error | null) | null = null;
  async put(url: string, res: Response): Promise<void> {
    const err = this.failPut?.(url);
    if (err) throw err;
    this.entries.set(url, new Response(await res.arrayBuffer(), { headers: res.headers }));
  }
  async match(url: string | Request): Promise<Response | undefined> {
    return this.entries.get(typeof url === 'string' ? url : url.url)?.clone();
  }
  async delete(url: string): Promise<boolean> {
    return this.entries.delete(url);
  }
  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((u) => new Request(u));
  }
}

let cache: MemoryCache;
let usage = 0;
let quota = 1e9;

beforeEach(() => {
  cache = new MemoryCache();
  usage = 0;
  quota = 1e9;
  const names = new Set<string>();
  vi.stubGlobal('caches', {
    open: async (name: string) => {
      names.add(name);
      return cache;
    },
    has: async (name: string) => names.has(name),
    delete: async (name: string) => {
      cache.entries.clear();
      return names.delete(name);
    },
  });
  vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage, quota }) } });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

const base = 'https://huggingface.co/openai-community/gpt2/resolve/main/';
const files: RawModelFiles = { config: '{"n_layer": 1}', safetensors: new Uint8Array([1, 2, 3, 4, 5]), tokenizer: '{"model": {}}' };

describe('model cache', () => {
  it('stores the files and the manifest, and reads them back', async () => {
    await storeModel(base, files);
    expect([...cache.entries.keys()]).toEqual(['config.json', 'model.safetensors', 'tokenizer.json', '.manifest.json'].map((f) => base + f));
    const back = await readCachedModel(base);
    expect(back?.config).toBe(files.config);
    expect(back?.tokenizer).toBe(files.tokenizer);
    expect([...back!.safetensors]).toEqual([1, 2, 3, 4, 5]);
    expect(await cachedBytes()).toBe(5 + files.config.length + files.tokenizer!.length);
    expect(await readCachedModel('https://huggingface.co/other/model/resolve/main/')).toBeNull();
  });

  it('treats files without their manifest as absent, and removes them', async () => {
    await storeModel(base, files);
    cache.entries.delete(base + '.manifest.json');
    expect(await readCachedModel(base)).toBeNull();
    expect(cache.entries.size).toBe(0);
  });

  it('refuses up front when the storage estimate says it will not fit', async () => {
    usage = 1e9 - 3;
    const err = await storeModel(base, files).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe('quota');
    expect((err as Error).message).toMatch(/^Not enough browser storage to keep this model \(0\.0 MB needed, 0\.0 MB free\).*Clear cache/);
    expect(cache.entries.size).toBe(0);
  });

  it("turns the browser's QuotaExceededError into a quota StorageError and removes what was written", async () => {
    cache.failPut = (url) => (url.endsWith('tokenizer.json') ? new DOMException('quota', 'QuotaExceededError') : null);
    const err = await storeModel(base, files).catch((e: unknown) => e);
    expect((err as StorageError).kind).toBe('quota');
    expect(cache.entries.size).toBe(0);
  });

  it('an abort while storing leaves nothing', async () => {
    const abort = new AbortController();
    cache.failPut = (url) => {
      if (url.endsWith('model.safetensors')) abort.abort();
      return null;
    };
    await expect(storeModel(base, files, abort.signal)).rejects.toThrow();
    expect(cache.entries.size).toBe(0);
  });

  it('Clear cache deletes the named cache and reports the bytes it held', async () => {
    await storeModel(base, files);
    const r = await clearModelCache();
    expect(r.bytes).toBe(5 + files.config.length + files.tokenizer!.length);
    expect(await (globalThis as unknown as { caches: CacheStorage }).caches.has(MODEL_CACHE_NAME)).toBe(false);
    expect(await readCachedModel(base)).toBeNull();
  });
});
