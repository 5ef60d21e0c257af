// The "GPT-2 124M (Hugging Face)" choice: downloads config.json, model.safetensors and tokenizer.json of a Hub
// model (with progress, cancelable), validates them, keeps them in the Cache API (a reload reads them from
// there), and makes the block-sparse counterpart in a Web Worker (pruneGpt2 with the user's density, block
// size and method), cached the same way. A ReactiveController: the shell holds it and feeds its state to
// the picker and the two panels; it owns the downloads, the worker and the cache writes.

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { checkWeightValues, parseModelFiles, validateGpt2Tensors } from '../model/checkpoint';
import { ModelFormatError } from '../model/errors';
import { boundedMessage } from '../shared/preview';
import { downloadFile, hubFileUrl, type HubModelRef } from '../model/hub';
import { loadTokenizer } from '../model/tokenizer';
import type { ModelFilesSource } from '../app/engineClient';
import { clearModelCache, deleteCachedModel, readCachedModel, storeModel, StorageError, type RawModelFiles } from '../app/modelCache';
import { DEFAULT_PRUNE_SETTINGS, prunedConfigText, pruneSettingsKey, type PruneProgress, type PruneSettings } from '../app/pruneInPage';
import type { PruneWorkerReply, PruneWorkerRequest } from '../app/pruneProtocol';

/** The Hub model the picker offers. */
export const HUB_GPT2: HubModelRef = { repo: 'openai-community/gpt2', revision: 'main' };

export type DownloadPhase = 'idle' | 'cache' | 'downloading' | 'validating' | 'storing' | 'ready' | 'canceled' | 'error';

/** What the picker shows about the download. */
export interface DownloadView {
  phase: DownloadPhase;
  /** File being downloaded. */
  file?: string;
  /** Bytes received so far (all files), and the total known so far. */
  loaded: number;
  total?: number;
  bytesPerS?: number;
  etaS?: number;
  /** The files came from the Cache API, not the network. */
  fromCache: boolean;
  /** Why it failed (phase error), naming the file, the problem and what to do. */
  error?: string;
  /** Storage trouble that did not stop the model (quota, no Cache API). */
  storageNote?: string;
}

export type PrunePhase = 'idle' | 'cache' | 'running' | 'storing' | 'ready' | 'canceled' | 'error';

export interface PruneView {
  phase: PrunePhase;
  settings: PruneSettings;
  progress?: PruneProgress;
  fromCache: boolean;
  /** "kept 1,296 of 10,368 blocks", when made or read back. */
  summary?: string;
  error?: string;
  storageNote?: string;
}

const PRUNED_ORIGIN = 'https://sparse-gpt2.invalid/pruned';

function messageOf(e: unknown): string {
  return boundedMessage(e);
}

/** A typed model-file error as the page shows it: its type and code, then its (bounded) message. */
export function describeModelError(e: unknown): string {
  if (e instanceof ModelFormatError) return `ModelFormatError (${e.code}): ${boundedMessage(e)}`;
  if (e instanceof StorageError) return boundedMessage(e);
  return e instanceof Error ? `${e.name}: ${boundedMessage(e)}` : boundedMessage(e);
}

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) || (e instanceof DOMException && e.name === 'AbortError');
}

export class HubController implements ReactiveController {
  download: DownloadView = { phase: 'idle', loaded: 0, fromCache: false };
  prune: PruneView = { phase: 'idle', settings: DEFAULT_PRUNE_SETTINGS, fromCache: false };
  /** The downloaded model, for the dense panel (null until loaded and validated). */
  dense: ModelFilesSource | null = null;
  /** The block-sparse model made from it, for the sparse panel. */
  sparse: ModelFilesSource | null = null;
  /** Result of the last "Clear cache". */
  cacheMessage: string | null = null;

  private abort: AbortController | null = null;
  private worker: Worker | null = null;
  /** Ends the running prune's promise when it is canceled (a terminated worker never answers). */
  private rejectPrune: ((e: unknown) => void) | null = null;
  /** Aborts the running prune's cache write (the worker itself is terminated). */
  private pruneAbort: AbortController | null = null;
  /** Bumped by every start/stop, so late results of an old run are dropped. */
  private seq = 0;
  private pruneSeq = 0;
  /** Whether the downloaded files are in the cache (the worker then reads them from there). */
  private stored = false;
  private lastPaint = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    readonly ref: HubModelRef,
    private readonly endpoint: () => string,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.stop();
  }

  /** Base URL of the model's files on the Hub (also their key in the cache). */
  get base(): string {
    return hubFileUrl(this.ref, '', this.endpoint());
  }

  get busy(): boolean {
    return ['cache', 'downloading', 'validating', 'storing'].includes(this.download.phase);
  }

  private prunedBase(s: PruneSettings): string {
    return `${PRUNED_ORIGIN}/${encodeURIComponent(this.base)}/${pruneSettingsKey(s)}/`;
  }

  private paint(force = true): void {
    const now = performance.now();
    if (!force && now - this.lastPaint < 100) return;
    this.lastPaint = now;
    this.host.requestUpdate();
  }

  /** Cancels everything and forgets the models (switching back to the embedded pair). */
  stop(): void {
    this.seq++;
    this.abort?.abort();
    this.abort = null;
    this.cancelPrune();
    this.dense = null;
    this.sparse = null;
    this.download = { phase: 'idle', loaded: 0, fromCache: false };
    this.prune = { phase: 'idle', settings: this.prune.settings, fromCache: false };
  }

  /** Loads the model from the cache, or downloads, validates and stores it; then looks for a cached pruned model. */
  async start(): Promise<void> {
    this.stop();
    const seq = this.seq;
    const abort = new AbortController();
    this.abort = abort;
    const signal = abort.signal;
    const base = this.base;
    let files: RawModelFiles | null = null;
    this.download = { phase: 'cache', loaded: 0, fromCache: false };
    this.paint();
    try {
      try {
        files = await readCachedModel(base);
        if (files) this.validate(files);
      } catch (e) {
        // A stored copy that no longer validates (or a cache that cannot be read) is downloaded again.
        if (files) await deleteCachedModel(base).catch(() => undefined);
        files = null;
        if (!(e instanceof ModelFormatError)) this.download.storageNote = messageOf(e);
      }
      if (seq !== this.seq) return;
      let storageNote: string | undefined;
      const fromCache = files !== null;
      if (!files) {
        files = await this.fetchAll(signal, seq);
        this.download = { ...this.download, phase: 'validating' };
        this.paint();
        this.validate(files);
        await this.validateTokenizer(files);
        signal.throwIfAborted();
        this.download = { ...this.download, phase: 'storing' };
        this.paint();
        try {
          await storeModel(base, files, signal);
          this.stored = true;
        } catch (e) {
          if (isAbort(e, signal)) throw e;
          storageNote = messageOf(e);
          this.stored = false;
        }
      } else {
        this.stored = true;
      }
      if (seq !== this.seq) return;
      this.abort = null;
      const total = files.safetensors.byteLength;
      this.download = { phase: 'ready', loaded: total, total, fromCache, storageNote };
      this.dense = {
        name: this.ref.repo,
        location: `hf:${this.ref.repo}${fromCache ? ', from cache' : ''}`,
        files,
      };
      this.paint();
      await this.loadCachedPrune(seq);
    } catch (e) {
      if (seq !== this.seq) return;
      this.abort = null;
      if (isAbort(e, signal)) {
        this.download = { phase: 'canceled', loaded: this.download.loaded, total: this.download.total, fromCache: false };
      } else {
        this.download = { ...this.download, phase: 'error', error: this.describeDownloadError(e) };
      }
      this.paint();
    }
  }

  cancelDownload(): void {
    this.abort?.abort();
  }

  /** Strict parse, and every weight within f16's range: nothing bad is cached. */
  private validate(files: RawModelFiles): void {
    const parsed = parseModelFiles(this.base, files);
    checkWeightValues(parsed.safetensors, validateGpt2Tensors(parsed.safetensors, parsed.config));
  }

  private async validateTokenizer(files: RawModelFiles): Promise<void> {
    if (files.tokenizer === undefined) return;
    const parsed = parseModelFiles(this.base, files);
    await loadTokenizer(parsed.tokenizerJson, { file: `${this.base}tokenizer.json`, vocabSize: parsed.config.vocabSize });
  }

  private describeDownloadError(e: unknown): string {
    if (e instanceof ModelFormatError && e.code === 'io' && e.problem.startsWith('download failed')) {
      const host = new URL(this.endpoint()).host;
      return `Could not reach ${host}: check the network, then retry. (${e.file}: ${e.problem})`;
    }
    return describeModelError(e);
  }

  /** config.json, tokenizer.json, then model.safetensors, with overall progress. */
  private async fetchAll(signal: AbortSignal, seq: number): Promise<RawModelFiles> {
    const t0 = performance.now();
    let done = 0;
    let doneTotal = 0;
    const get = async (file: string): Promise<Uint8Array> => {
      const bytes = await downloadFile(hubFileUrl(this.ref, file, this.endpoint()), file, {
        signal,
        onProgress: (p) => {
          if (seq !== this.seq) return;
          const loaded = done + p.loaded;
          const total = p.total !== undefined ? doneTotal + p.total : undefined;
          const s = (performance.now() - t0) / 1000;
          const bytesPerS = s > 0.2 ? loaded / s : undefined;
          const etaS = total !== undefined && bytesPerS ? (total - loaded) / bytesPerS : undefined;
          this.download = { phase: 'downloading', file, loaded, total, bytesPerS, etaS, fromCache: false };
          this.paint(false);
        },
      });
      done += bytes!.byteLength;
      doneTotal += bytes!.byteLength;
      return bytes!;
    };
    this.download = { phase: 'downloading', file: 'config.json', loaded: 0, fromCache: false };
    this.paint();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    const config = text(await get('config.json'));
    const tokenizer = text(await get('tokenizer.json'));
    const safetensors = await get('model.safetensors');
    return { config, tokenizer, safetensors };
  }

  /** Chosen settings for the next Prune; a cached result for them is loaded at once. */
  setPruneSettings(s: PruneSettings): void {
    if (pruneSettingsKey(s) === pruneSettingsKey(this.prune.settings)) return;
    this.cancelPrune();
    this.prune = { phase: 'idle', settings: s, fromCache: false };
    this.sparse = null;
    this.paint();
    if (this.dense) void this.loadCachedPrune(this.seq);
  }

  private sparseSource(files: RawModelFiles, s: PruneSettings, fromCache: boolean): ModelFilesSource {
    return {
      name: `${this.ref.repo}, block-sparse (${pruneSettingsKey(s)})`,
      location: `pruned in this page from hf:${this.ref.repo}${fromCache ? ', from cache' : ''}`,
      files,
    };
  }

  private async loadCachedPrune(seq: number): Promise<void> {
    const s = this.prune.settings;
    const pseq = ++this.pruneSeq;
    this.prune = { phase: 'cache', settings: s, fromCache: false };
    this.paint();
    let files: RawModelFiles | null = null;
    try {
      files = await readCachedModel(this.prunedBase(s));
      if (files) this.validate(files);
    } catch {
      if (files) await deleteCachedModel(this.prunedBase(s)).catch(() => undefined);
      files = null;
    }
    if (seq !== this.seq || pseq !== this.pruneSeq) return;
    if (files) {
      this.prune = { phase: 'ready', settings: s, fromCache: true, summary: 'read back from the browser cache' };
      this.sparse = this.sparseSource(files, s, true);
    } else {
      this.prune = { phase: 'idle', settings: s, fromCache: false };
    }
    this.paint();
  }

  /** Makes the block-sparse model in a worker, validates it, stores it and hands it to the sparse panel. */
  async runPrune(s: PruneSettings): Promise<void> {
    const dense = this.dense;
    if (!dense) return;
    this.cancelPrune();
    const seq = this.seq;
    const pseq = ++this.pruneSeq;
    this.sparse = null;
    this.prune = { phase: 'running', settings: s, fromCache: false, progress: { phase: 'reading', done: 0, total: 0, label: 'Starting the worker' } };
    this.paint();
    const worker = new Worker(new URL('../app/prune-worker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    const abort = new AbortController();
    this.pruneAbort = abort;
    const live = () => seq === this.seq && pseq === this.pruneSeq;
    try {
      const done = await new Promise<Extract<PruneWorkerReply, { kind: 'done' }>>((resolve, reject) => {
        this.rejectPrune = reject;
        worker.onmessage = (ev: MessageEvent<PruneWorkerReply>) => {
          const m = ev.data;
          if (m.kind === 'progress') {
            if (!live()) return;
            this.prune = { ...this.prune, progress: m.progress };
            this.paint();
          } else if (m.kind === 'done') {
            resolve(m);
          } else {
            reject(new Error(`${m.name}${m.code ? ` (${m.code})` : ''}: ${m.message}`));
          }
        };
        worker.onerror = (ev) => reject(new Error(`the prune worker failed: ${ev.message || 'could not start it'}`));
        const req: PruneWorkerRequest = { source: this.base, settings: s };
        if (this.stored) {
          req.cacheBase = this.base;
          worker.postMessage(req);
        } else {
          // Not in the cache: the worker gets its own copy of the weights, transferred (not cloned again).
          const copy = dense.files.safetensors.slice();
          req.files = { ...dense.files, safetensors: copy };
          worker.postMessage(req, [copy.buffer]);
        }
      });
      worker.terminate();
      if (!live()) return;
      const files: RawModelFiles = {
        config: prunedConfigText(dense.files.config, this.ref.repo, s),
        tokenizer: dense.files.tokenizer,
        safetensors: new Uint8Array(done.safetensors),
      };
      this.validate(files);
      this.prune = { ...this.prune, phase: 'storing' };
      this.paint();
      let storageNote: string | undefined;
      try {
        await storeModel(this.prunedBase(s), files, abort.signal);
      } catch (e) {
        if (abort.signal.aborted) return; // canceled while storing: storeModel removed what it wrote
        storageNote = messageOf(e);
      }
      if (!live()) return;
      const num = (n: number) => n.toLocaleString('en-US');
      this.worker = null;
      this.pruneAbort = null;
      this.prune = {
        phase: 'ready', settings: s, fromCache: false, storageNote,
        summary: `kept ${num(done.keptBlocks)} of ${num(done.totalBlocks)} blocks${done.calibrationTokens ? ` (${done.calibrationTokens} calibration tokens)` : ''}`,
      };
      this.sparse = this.sparseSource(files, s, false);
      this.paint();
    } catch (e) {
      worker.terminate();
      if (!live()) return;
      this.worker = null;
      this.pruneAbort = null;
      this.prune = { ...this.prune, phase: 'error', error: `Pruning failed: ${e instanceof ModelFormatError ? describeModelError(e) : messageOf(e)}` };
      this.paint();
    }
  }

  /** Stops the worker; nothing it made is stored. */
  cancelPrune(): void {
    if (!this.pruneAbort) return;
    this.pruneAbort.abort();
    this.pruneAbort = null;
    this.worker?.terminate();
    this.worker = null;
    this.rejectPrune?.(new DOMException('pruning canceled', 'AbortError'));
    this.rejectPrune = null;
    this.pruneSeq++;
    this.prune = { ...this.prune, phase: 'canceled', progress: undefined };
    this.paint();
  }

  /** Deletes the model cache; the models in memory stay loaded. */
  async clearCache(): Promise<void> {
    try {
      const { bytes, usageDrop } = await clearModelCache();
      this.stored = false;
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
      this.cacheMessage = `Cleared the model cache: freed ${mb(usageDrop !== undefined && usageDrop > 0 ? usageDrop : bytes)}` +
        `${usageDrop !== undefined ? ' (storage estimate)' : ''}. The next load downloads again.`;
    } catch (e) {
      this.cacheMessage = `Could not clear the model cache: ${messageOf(e)}`;
    }
    this.paint();
  }
}
