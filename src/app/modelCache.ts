// Model files kept in the browser's Cache API (one named cache), so a reload does not download or prune
// again. A model is stored as its files under a base URL plus a manifest written last: a model without
// its manifest (a cancel, a quota error, a crash mid-write) is treated as absent and its files removed.
// Quota is checked with navigator.storage.estimate before writing; a full store is a StorageError.

export const MODEL_CACHE_NAME = 'sparse-gpt2-models-v1';

/** A model's files in memory, as read from the network, the cache or the prune worker. */
export interface RawModelFiles {
  config: string;
  safetensors: Uint8Array;
  /** tokenizer.json's text, when the model has one. */
  tokenizer?: string;
}

/** What went wrong with browser storage; the message says what to do. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly kind: 'quota' | 'unavailable' | 'io',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MANIFEST = '.manifest.json';

interface Manifest {
  files: string[];
  bytes: number;
  storedAt: string;
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Joins a base URL (ending in '/') and a file name. */
function entryUrl(base: string, file: string): string {
  return `${base.replace(/\/+$/, '')}/${file}`;
}

function hasCacheApi(): boolean {
  return typeof caches !== 'undefined';
}

async function open(): Promise<Cache> {
  if (!hasCacheApi()) {
    throw new StorageError('unavailable', 'This browser gives the page no Cache API (a private window or an insecure origin?): the model runs, but is downloaded again on every visit.');
  }
  try {
    return await caches.open(MODEL_CACHE_NAME);
  } catch (e) {
    throw new StorageError('unavailable', `Could not open the browser cache (${(e as Error).message}): the model runs, but is downloaded again on every visit.`, { cause: e });
  }
}

function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);
}

function quotaMessage(need: number, free?: number): string {
  return (
    `Not enough browser storage to keep this model (${mb(need)} needed${free !== undefined ? `, ${mb(Math.max(0, free))} free` : ''}). ` +
    'It runs from memory this time; free space with “Clear cache” (or in the browser’s site settings) to keep it across reloads.'
  );
}

/** Bytes of storage the page may still use, or undefined where the browser does not say. */
export async function freeStorageBytes(): Promise<number | undefined> {
  const est = await navigator.storage?.estimate?.().catch(() => undefined);
  if (!est || est.quota === undefined || est.usage === undefined) return undefined;
  return est.quota - est.usage;
}

/** The model under base, or null when it is not (completely) stored. */
export async function readCachedModel(base: string): Promise<RawModelFiles | null> {
  if (!hasCacheApi()) return null;
  const cache = await open();
  const m = await cache.match(entryUrl(base, MANIFEST));
  if (!m) {
    // Files without a manifest are a write that never finished (a crash, a closed tab): free their space.
    await deleteCachedModel(base);
    return null;
  }
  const manifest = (await m.json().catch(() => null)) as Manifest | null;
  const files = new Map<string, Response>();
  for (const f of manifest?.files ?? []) {
    const r = await cache.match(entryUrl(base, f));
    if (!r) break;
    files.set(f, r);
  }
  if (!manifest || files.size !== manifest.files.length || !files.has('config.json') || !files.has('model.safetensors')) {
    await deleteCachedModel(base);
    return null;
  }
  return {
    config: await files.get('config.json')!.text(),
    safetensors: new Uint8Array(await files.get('model.safetensors')!.arrayBuffer()),
    tokenizer: files.has('tokenizer.json') ? await files.get('tokenizer.json')!.text() : undefined,
  };
}

/** Removes a model's entries (files and manifest); missing ones are fine. */
export async function deleteCachedModel(base: string): Promise<void> {
  if (!hasCacheApi()) return;
  const cache = await open();
  await Promise.all(['config.json', 'model.safetensors', 'tokenizer.json', MANIFEST].map((f) => cache.delete(entryUrl(base, f))));
}

/**
 * Stores a model's files under base, manifest last. Throws StorageError ('quota' when the estimate says it
 * will not fit or the browser refuses for quota) after removing whatever was written; an abort also removes it.
 */
export async function storeModel(base: string, files: RawModelFiles, signal?: AbortSignal): Promise<void> {
  const cache = await open();
  const entries: Array<[string, BodyInit, string]> = [
    ['config.json', files.config, 'application/json'],
    ['model.safetensors', files.safetensors as Uint8Array<ArrayBuffer>, 'application/octet-stream'],
  ];
  if (files.tokenizer !== undefined) entries.push(['tokenizer.json', files.tokenizer, 'application/json']);
  const bytes = files.safetensors.byteLength + files.config.length + (files.tokenizer?.length ?? 0);
  const free = await freeStorageBytes();
  if (free !== undefined && free < bytes) throw new StorageError('quota', quotaMessage(bytes, free));
  try {
    for (const [name, body, type] of entries) {
      signal?.throwIfAborted();
      await cache.put(entryUrl(base, name), new Response(body, { headers: { 'content-type': type, 'content-length': String(typeof body === 'string' ? new Blob([body]).size : (body as Uint8Array).byteLength) } }));
    }
    signal?.throwIfAborted();
    const manifest: Manifest = { files: entries.map(([n]) => n), bytes, storedAt: new Date().toISOString() };
    await cache.put(entryUrl(base, MANIFEST), new Response(JSON.stringify(manifest), { headers: { 'content-type': 'application/json' } }));
  } catch (e) {
    await deleteCachedModel(base).catch(() => undefined);
    if (signal?.aborted) throw e;
    if (isQuotaError(e)) throw new StorageError('quota', quotaMessage(bytes, free), { cause: e });
    throw new StorageError(
      'io',
      `Could not store the model in the browser cache (${(e as Error).message}); it runs from memory this time. ` +
        'A private window keeps storage in memory and may refuse files this large: use a normal window to keep it across reloads.',
      { cause: e },
    );
  }
}

/** Bytes held by complete models in the cache (from their manifests). */
export async function cachedBytes(): Promise<number> {
  if (!hasCacheApi() || !(await caches.has(MODEL_CACHE_NAME))) return 0;
  const cache = await open();
  let total = 0;
  for (const req of await cache.keys()) {
    if (!req.url.endsWith(MANIFEST)) continue;
    const m = (await (await cache.match(req))?.json().catch(() => null)) as Manifest | null;
    total += m?.bytes ?? 0;
  }
  return total;
}

/** Deletes the whole model cache; returns the bytes it held (manifests' count, and the storage estimate's drop where known). */
export async function clearModelCache(): Promise<{ bytes: number; usageDrop?: number }> {
  if (!hasCacheApi()) return { bytes: 0 };
  const before = await navigator.storage?.estimate?.().catch(() => undefined);
  const bytes = await cachedBytes();
  await caches.delete(MODEL_CACHE_NAME);
  const after = await navigator.storage?.estimate?.().catch(() => undefined);
  const usageDrop = before?.usage !== undefined && after?.usage !== undefined ? Math.max(0, before.usage - after.usage) : undefined;
  return { bytes, usageDrop };
}
