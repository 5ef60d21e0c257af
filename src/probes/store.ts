// The browser's store of recordings (IndexedDB): a small summary per recording for listing, and the
// recording's file bytes (snapshot.ts format) kept apart so that listing never loads a payload. Everything
// written is validated first, and each change is one transaction, so a rejected import or a failed write
// leaves what was stored before untouched.

import { decodeRecording, encodeRecording, RECORDING_LIMITS, SnapshotError, type Recording } from './snapshot';

export const RECORDINGS_DB = 'sparse-gpt2-recordings';
const DB_VERSION = 1;
const SUMMARIES = 'summaries';
const PAYLOADS = 'payloads';

/** What the list shows of a recording, without loading it. */
export interface RecordingSummary {
  /** Key in this store (assigned on put/import, never reused). */
  id: number;
  name: string;
  /** The recording's createdAt (ISO 8601 UTC). */
  createdAt: string;
  modelId: string;
  modelSha256: string;
  promptTokens: number;
  generatedTokens: number;
  /** Size of the stored file. */
  bytes: number;
}

export type RecordingStoreErrorCode = 'unavailable' | 'not-found' | 'io';

/** IndexedDB missing or failing, or an id that is not stored. Invalid recordings raise SnapshotError instead. */
export class RecordingStoreError extends Error {
  constructor(readonly code: RecordingStoreErrorCode, message: string) {
    super(message);
    this.name = 'RecordingStoreError';
  }
}

function request<T>(r: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(new RecordingStoreError('io', `${what}: ${r.error?.message ?? 'IndexedDB request failed'}`));
  });
}

function finished(tx: IDBTransaction, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    const failed = () => reject(new RecordingStoreError('io', `${what}: ${tx.error?.message ?? 'IndexedDB transaction aborted'}`));
    tx.onerror = failed;
    tx.onabort = failed;
  });
}

function summarize(rec: Recording, bytes: number): Omit<RecordingSummary, 'id'> {
  return {
    name: rec.name,
    createdAt: rec.createdAt,
    modelId: rec.model.id,
    modelSha256: rec.model.sha256,
    promptTokens: rec.promptIds.length,
    generatedTokens: rec.steps.length,
    bytes,
  };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > RECORDING_LIMITS.nameChars) {
    throw new SnapshotError('name', `must be a string of 1..${RECORDING_LIMITS.nameChars} characters`, typeof name === 'string' ? 'range' : 'type');
  }
  return name;
}

export class RecordingStore {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creating when needed) the store; `indexedDB` defaults to the global one (tests pass fake-indexeddb's). */
  static async open(opts: { indexedDB?: IDBFactory; dbName?: string } = {}): Promise<RecordingStore> {
    const factory = opts.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new RecordingStoreError('unavailable', 'IndexedDB is not available here (a private window may disable it), so recordings cannot be saved');
    let open: IDBOpenDBRequest;
    try {
      open = factory.open(opts.dbName ?? RECORDINGS_DB, DB_VERSION);
    } catch (e) {
      throw new RecordingStoreError('unavailable', `cannot open IndexedDB (${(e as Error).message})`);
    }
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(SUMMARIES)) db.createObjectStore(SUMMARIES, { keyPath: 'id', autoIncrement: true });
      if (!db.objectStoreNames.contains(PAYLOADS)) db.createObjectStore(PAYLOADS);
    };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(new RecordingStoreError('unavailable', `cannot open IndexedDB (${open.error?.message ?? 'unknown error'})`));
      open.onblocked = () => reject(new RecordingStoreError('unavailable', 'IndexedDB is blocked by another tab holding an older version; close it and reload'));
    });
    // Another tab upgrading the schema: let it, this connection is done.
    db.onversionchange = () => db.close();
    return new RecordingStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Every recording's summary, newest first; no payload is read. */
  async list(): Promise<RecordingSummary[]> {
    const tx = this.db.transaction(SUMMARIES, 'readonly');
    const all = await request(tx.objectStore(SUMMARIES).getAll() as IDBRequest<RecordingSummary[]>, 'list recordings');
    return all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id - a.id));
  }

  async summary(id: number): Promise<RecordingSummary | undefined> {
    const tx = this.db.transaction(SUMMARIES, 'readonly');
    return request(tx.objectStore(SUMMARIES).get(id) as IDBRequest<RecordingSummary | undefined>, `read recording ${id}`);
  }

  /** The recording (validated as on import; its name is the current one), or undefined when id is not stored. */
  async get(id: number): Promise<Recording | undefined> {
    const tx = this.db.transaction([SUMMARIES, PAYLOADS], 'readonly');
    const [meta, bytes] = await Promise.all([
      request(tx.objectStore(SUMMARIES).get(id) as IDBRequest<RecordingSummary | undefined>, `read recording ${id}`),
      request(tx.objectStore(PAYLOADS).get(id) as IDBRequest<Uint8Array | undefined>, `read recording ${id}`),
    ]);
    if (!meta || !bytes) return undefined;
    const rec = decodeRecording(bytes);
    rec.name = meta.name;
    return rec;
  }

  /** Stores a recording (validated first: SnapshotError if invalid, and nothing is written). */
  async put(rec: Recording): Promise<RecordingSummary> {
    const bytes = encodeRecording(rec);
    return this.write(summarize(rec, bytes.length), bytes);
  }

  /** Stores a recording file after validating it completely; an invalid file throws SnapshotError and writes nothing. */
  async import(file: Uint8Array | ArrayBuffer | string): Promise<RecordingSummary> {
    const rec = decodeRecording(file);
    // Stored as this build writes it (byte-identical for files this format wrote).
    const bytes = encodeRecording(rec);
    return this.write(summarize(rec, bytes.length), bytes);
  }

  /** The recording's file (snapshot.ts format), under its current name. */
  async export(id: number): Promise<Uint8Array> {
    const rec = await this.get(id);
    if (!rec) throw new RecordingStoreError('not-found', `no recording with id ${id}`);
    return encodeRecording(rec);
  }

  async rename(id: number, name: string): Promise<RecordingSummary> {
    checkName(name);
    const tx = this.db.transaction(SUMMARIES, 'readwrite');
    const done = finished(tx, `rename recording ${id}`);
    const store = tx.objectStore(SUMMARIES);
    const meta = await request(store.get(id) as IDBRequest<RecordingSummary | undefined>, `read recording ${id}`);
    if (!meta) {
      tx.abort();
      await done.catch(() => undefined);
      throw new RecordingStoreError('not-found', `no recording with id ${id}`);
    }
    const next = { ...meta, name };
    store.put(next);
    await done;
    return next;
  }

  async delete(id: number): Promise<void> {
    const tx = this.db.transaction([SUMMARIES, PAYLOADS], 'readwrite');
    const done = finished(tx, `delete recording ${id}`);
    const meta = await request(tx.objectStore(SUMMARIES).get(id) as IDBRequest<RecordingSummary | undefined>, `read recording ${id}`);
    if (!meta) {
      tx.abort();
      await done.catch(() => undefined);
      throw new RecordingStoreError('not-found', `no recording with id ${id}`);
    }
    tx.objectStore(SUMMARIES).delete(id);
    tx.objectStore(PAYLOADS).delete(id);
    await done;
  }

  /** Summary and payload in one transaction: both land or neither does. */
  private async write(summary: Omit<RecordingSummary, 'id'>, bytes: Uint8Array): Promise<RecordingSummary> {
    const tx = this.db.transaction([SUMMARIES, PAYLOADS], 'readwrite');
    const done = finished(tx, 'save recording');
    // autoIncrement with key path "id": the new key is written into the stored summary.
    const id = (await request(tx.objectStore(SUMMARIES).add(summary), 'save recording')) as number;
    tx.objectStore(PAYLOADS).put(bytes, id);
    await done;
    return { ...summary, id };
  }
}
