// The small typed interface the page uses to reach WebGPU and the engine: open the GPU (or say why not),
// load a model from a base URL with progress, turn prompts into token ids and ids into text, generate.
// UI elements never touch GPU objects or engine internals; they go through what this module exports.

import { acquireGpu, NoWebGPUError, type GpuContext } from '../gpu/device';
import { parseModelFiles } from '../model/checkpoint';
import { EngineInputError } from '../model/gpt2';
import { perplexity, perplexityWindows, type PerplexityResult } from '../model/perplexity';
import type { RawModelFiles } from './modelCache';
import type { GPT2Config } from '../model/config';
import { parameterCount } from '../model/config';
import type { Engine, GenerateOptions, GenerationSummary, StepResult } from '../model/engineApi';
import { loadGpt2Weights } from '../model/checkpoint';
import { fetchModelFiles } from '../model/files';
import { Gpt2Engine } from '../model/gpt2';
import { loadTokenizer, type TextTokenizer } from '../model/tokenizer';
import { sha256Hex } from '../probes/snapshot';
import { compositionOnGpu } from '../probes/composition';

export type { GenerationSummary, StepResult, StopReason } from '../model/engineApi';
export type { PerplexityResult } from '../model/perplexity';

/** A perplexity with the GPU time it took (queueing behind other GPU jobs excluded). */
export interface PerplexityMeasurement extends PerplexityResult {
  ms: number;
  /**
   * UTF-8 bytes of the predicted tokens (the text's bytes less each window's unscored first token), so
   * models with different tokenizers compare: bitsPerByte = meanNll · predicted / ln 2 / predictedBytes.
   */
  predictedBytes: number;
  bitsPerByte: number;
}

// ---------------------------------------------------------------------------------------------------
// WebGPU

/**
 * Why the page has no WebGPU, finer than NoWebGPUError's reason: a missing navigator.gpu on a plain-HTTP
 * page is fixed by serving over https/localhost, not by changing browsers.
 */
export type NoWebGpuReason = 'insecure-context' | 'no-api' | 'no-adapter' | 'no-device';

export interface NoWebGpuDiagnosis {
  reason: NoWebGpuReason;
  /** The engine's own explanation (NoWebGPUError.message). */
  message: string;
  /** The page's origin, for the insecure-context explanation. */
  origin: string;
  userAgent: string;
}

/** An acquired GPU, opaque to the UI except for what it may display or subscribe to. */
export interface PageGpu {
  /** Vendor / architecture / description, e.g. "google / swiftshader". */
  readonly adapterDescription: string;
  /** Calls cb once if the device is lost (driver reset, GPU process crash, destroy()). */
  onLost(cb: (reason: string) => void): void;
  /** The engine's handle; only this module reads it. */
  readonly context: GpuContext;
}

export type OpenGpuResult = { ok: true; gpu: PageGpu } | { ok: false; diagnosis: NoWebGpuDiagnosis };

/** Acquires WebGPU for the page. "No WebGPU" is a normal result with a diagnosis; anything else throws. */
export async function openGpu(): Promise<OpenGpuResult> {
  try {
    const context = await acquireGpu(navigator.gpu, { label: 'sparse-gpt2 demo' });
    return {
      ok: true,
      gpu: { adapterDescription: context.adapterDescription, onLost: (cb) => context.onLost(cb), context },
    };
  } catch (e) {
    if (!(e instanceof NoWebGPUError)) throw e;
    const reason: NoWebGpuReason = e.reason === 'no-api' && !globalThis.isSecureContext ? 'insecure-context' : e.reason;
    return {
      ok: false,
      diagnosis: { reason, message: e.message, origin: location.origin, userAgent: navigator.userAgent },
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Models

const gpuQueues = new WeakMap<GpuContext, Promise<unknown>>();

/**
 * Runs the page's GPU jobs on one device one at a time: engine creation measures kernel variants by timing
 * (another model loading meanwhile would skew the choice), and perplexity, composition and generation are
 * timed or heavy. Two panels loading at once thus queue instead of sharing the GPU.
 */
export function exclusiveGpu<T>(gpu: GpuContext, job: () => Promise<T>): Promise<T> {
  const prev = gpuQueues.get(gpu) ?? Promise.resolve();
  const next = prev.then(job, job);
  gpuQueues.set(gpu, next.catch(() => undefined));
  return next;
}

/** How sparse a model's block matrices are (the four per layer; embeddings and LM head excluded). */
export interface WeightDensity {
  /** Nonzero blocks over all blocks, weighted by each matrix's element count (1 for a dense model). */
  blockDensity: number;
  /** Matrices the engine runs on the block-sparse (BSR) kernels, and all of them. */
  bsrMatrices: number;
  matrices: number;
  /** Heads whose output projection is not all zero, and all heads. */
  activeHeads: number;
  heads: number;
}

/** What the page shows about a loaded model. */
export interface ModelInfo {
  /** Short name: the config's _name_or_path when present, else the last folder of the base URL. */
  name: string;
  /** Where it was loaded from (the base URL as given). */
  baseUrl: string;
  config: GPT2Config;
  parameterCount: number;
  /** Bytes of weights held on the GPU. */
  weightBytes: number;
  density: WeightDensity;
  /** False when the model folder has no tokenizer.json: prompts are then comma-separated token ids. */
  hasTokenizer: boolean;
  adapterDescription: string;
}

export type LoadPhase = 'fetch' | 'parse' | 'upload' | 'tokenizer';

export interface LoadProgress {
  phase: LoadPhase;
  /** Human-readable step, e.g. "Fetching model files". */
  label: string;
}

/** A prompt the model cannot take (bad ids, too long for the context, empty); the message says what to fix. */
export class PromptError extends Error {
  override readonly name = 'PromptError';
}

/** A failed model load, naming the model's base URL; the cause is the loader's typed error. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly baseUrl: string,
    readonly phase: LoadPhase,
    cause: unknown,
  ) {
    super(`${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Turns generated ids into display text as they stream, one piece per token. */
export interface TokenTextStream {
  /**
   * Text contributed by this token. Byte-level BPE can split one character over several tokens;
   * such a token yields '' and the token that completes the character carries it.
   */
  push(id: number): string;
  /** Text still held back (an unfinished character) at the end of a generation. */
  flush(): string;
}

export interface LoadedModel {
  readonly info: ModelInfo;
  /** Prompt text (or, without a tokenizer, comma-separated ids) to token ids; throws PromptError. */
  encodePrompt(prompt: string): number[];
  /** Display text of the prompt ids (the ids themselves without a tokenizer). */
  promptText(ids: number[]): string;
  createTextStream(): TokenTextStream;
  /** One token's own text, decoded alone (a piece of a UTF-8 character shows as U+FFFD); the id without a tokenizer. */
  tokenText(id: number): string;
  /** The tokenizer's end-of-text id (a generation stops there), when it has one. */
  readonly eosId: number | undefined;
  /**
   * Zero-ablates these heads (ids layer · nHead + head) in every later generate and perplexity, until called
   * again ([] runs the model as it is). Throws for an engine without a head mask.
   */
  setAblatedHeads(heads: readonly number[]): void;
  /** Composition strengths between heads ((nLayer·nHead)², see Engine.composition), or null when the engine has none. */
  composition(): Promise<Float32Array | null>;
  /** SHA-256 of model.safetensors as 64 hex digits (hashed in the background from load; recordings name it). */
  sha256(): Promise<string>;
  generate(promptIds: number[], opts: GenerateOptions, onStep: (step: StepResult) => void): Promise<GenerationSummary>;
  /**
   * Perplexity of text under the model (all-positions logits on the GPU, windows of at most nCtx tokens).
   * Needs the GPU to itself, like generate; throws PromptError when the model has no tokenizer.
   */
  perplexity(text: string, signal?: AbortSignal): Promise<PerplexityMeasurement>;
  destroy(): void;
}

/** A model already in memory (downloaded, read from the cache, or made by the prune worker). */
export interface ModelFilesSource {
  /** Name shown for it, e.g. "openai-community/gpt2". */
  name: string;
  /** Where it came from, shown beside the name (e.g. "hf:openai-community/gpt2, from cache"). */
  location: string;
  files: RawModelFiles;
}

/** What a panel loads: a base URL (config.json, model.safetensors, tokenizer.json under it) or files in memory. */
export type ModelSource = string | ModelFilesSource;

/** Where a source comes from, for messages: the base URL, or the in-memory model's location. */
export function sourceLocation(source: ModelSource): string {
  return typeof source === 'string' ? source : source.location;
}

/** The name shown for a model: config.json's _name_or_path if set, else the base URL's last folder. */
function modelName(baseUrl: string, configJson: unknown): string {
  const named = (configJson as { _name_or_path?: unknown } | null)?._name_or_path;
  if (typeof named === 'string' && named.trim() !== '') return named.trim();
  const parts = baseUrl.split(/[?#]/)[0]!.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? baseUrl;
}

/** Parses "464, 2068 ,7586" into ids, each checked against the vocabulary. */
export function parseIdList(prompt: string, vocabSize: number): number[] {
  const parts = prompt.split(',').map((s) => s.trim());
  if (parts.length === 1 && parts[0] === '') throw new PromptError('Enter at least one token id, e.g. 464, 2068, 7586.');
  return parts.map((part, i) => {
    if (!/^\d+$/.test(part)) {
      throw new PromptError(
        `This model has no tokenizer.json, so the prompt is comma-separated token ids; item ${i + 1} ("${part}") is not a whole number.`,
      );
    }
    const id = Number(part);
    if (id >= vocabSize) throw new PromptError(`Token id ${id} (item ${i + 1}) is outside the vocabulary (0 … ${vocabSize - 1}).`);
    return id;
  });
}

/**
 * Streams decoded text token by token without ever showing a different text than decoding the whole
 * sequence would. Ids are decoded from the last clean character boundary; trailing U+FFFD (an unfinished
 * UTF-8 character, or invalid bytes) is held back until a later token resolves it or the stream ends.
 */
class TokenizerTextStream implements TokenTextStream {
  /** Ids since the last point where the decoded text ended on a complete character. */
  private pending: number[] = [];
  /** How much of decode(pending) has been handed out already. */
  private emitted = 0;
  constructor(private readonly tokenizer: TextTokenizer) {}
  push(id: number): string {
    this.pending.push(id);
    const text = this.tokenizer.decode(this.pending);
    const stable = text.replace(/\uFFFD+$/, '');
    const piece = stable.slice(this.emitted);
    if (stable.length === text.length) {
      this.pending = [];
      this.emitted = 0;
    } else {
      this.emitted = stable.length;
    }
    return piece;
  }
  flush(): string {
    const rest = this.pending.length ? this.tokenizer.decode(this.pending).slice(this.emitted) : '';
    this.pending = [];
    this.emitted = 0;
    return rest;
  }
}

class IdTextStream implements TokenTextStream {
  push(id: number): string {
    return String(id);
  }
  flush(): string {
    return '';
  }
}

/** Text stream for a model: decoded text with a tokenizer, the ids themselves without one. */
export function createTokenTextStream(tokenizer: TextTokenizer | null): TokenTextStream {
  return tokenizer ? new TokenizerTextStream(tokenizer) : new IdTextStream();
}

class PageModel implements LoadedModel {
  private compositionPromise: Promise<Float32Array | null> | null = null;
  constructor(
    readonly info: ModelInfo,
    private readonly engine: Engine,
    private readonly tokenizer: TextTokenizer | null,
    private readonly hash: Promise<string>,
    private readonly gpu: GpuContext,
  ) {}

  tokenText(id: number): string {
    return this.tokenizer ? this.tokenizer.decode([id]) : String(id);
  }

  get eosId(): number | undefined {
    return this.tokenizer?.eosId;
  }

  setAblatedHeads(heads: readonly number[]): void {
    if (!this.engine.setAblatedHeads) throw new Error(`${this.info.name}: this engine cannot ablate heads`);
    this.engine.setAblatedHeads(heads);
  }

  composition(): Promise<Float32Array | null> {
    // Computed once on the GPU at the first call; every later caller shares the result.
    this.compositionPromise ??= this.engine.headProducts ? exclusiveGpu(this.gpu, () => compositionOnGpu(this.engine)!) : Promise.resolve(null);
    return this.compositionPromise;
  }

  sha256(): Promise<string> {
    return this.hash;
  }

  encodePrompt(prompt: string): number[] {
    const { nCtx, vocabSize } = this.info.config;
    let ids: number[];
    if (this.tokenizer) {
      if (prompt.trim() === '') throw new PromptError('Type a prompt first.');
      ids = this.tokenizer.encode(prompt);
      if (ids.length === 0) throw new PromptError('The prompt encodes to no tokens.');
    } else {
      ids = parseIdList(prompt, vocabSize);
    }
    if (ids.length >= nCtx) {
      throw new PromptError(
        `The prompt is ${ids.length} tokens; this model's context is ${nCtx}, so leave room for at least one new token.`,
      );
    }
    return ids;
  }

  promptText(ids: number[]): string {
    return this.tokenizer ? this.tokenizer.decode(ids) : ids.join(', ');
  }

  createTextStream(): TokenTextStream {
    return createTokenTextStream(this.tokenizer);
  }

  generate(promptIds: number[], opts: GenerateOptions, onStep: (step: StepResult) => void): Promise<GenerationSummary> {
    return exclusiveGpu(this.gpu, () => this.engine.generate(promptIds, opts, onStep));
  }

  perplexity(text: string, signal?: AbortSignal): Promise<PerplexityMeasurement> {
    if (!this.tokenizer) return Promise.reject(new PromptError('This model has no tokenizer.json, so it cannot read the passage.'));
    const ids = this.tokenizer.encode(text);
    return exclusiveGpu(this.gpu, async () => {
      const t0 = performance.now();
      const r = await perplexity((w) => this.engine.prefillLogits(w), ids, this.info.config.nCtx, signal);
      const ms = performance.now() - t0;
      const utf8 = (t: string) => new TextEncoder().encode(t).length;
      const unscored = perplexityWindows(ids, this.info.config.nCtx).reduce((n, w) => n + utf8(this.tokenizer!.decode([w[0]!])), 0);
      const predictedBytes = utf8(text) - unscored;
      return { ...r, ms, predictedBytes, bitsPerByte: (r.meanNll * r.predicted) / Math.LN2 / predictedBytes };
    });
  }

  destroy(): void {
    this.engine.destroy();
  }
}

/** Elements of each per-layer matrix, by the name suffix the engine reports (HF Conv1D shapes). */
function matrixElements(name: string, nEmbd: number): number {
  if (name.endsWith('attn.c_attn.weight')) return 3 * nEmbd * nEmbd;
  if (name.endsWith('attn.c_proj.weight')) return nEmbd * nEmbd;
  if (name.endsWith('mlp.c_fc.weight') || name.endsWith('mlp.c_proj.weight')) return 4 * nEmbd * nEmbd;
  throw new Error(`unknown matrix ${name}: the density summary does not know its shape`);
}

export function weightDensity(engine: Pick<Gpt2Engine, 'config' | 'matrices' | 'activeHeads'>): WeightDensity {
  const { nEmbd, nLayer, nHead } = engine.config;
  let kept = 0;
  let total = 0;
  for (const m of engine.matrices) {
    const n = matrixElements(m.name, nEmbd);
    kept += m.blockDensity * n;
    total += n;
  }
  return {
    blockDensity: total > 0 ? kept / total : 1,
    bsrMatrices: engine.matrices.filter((m) => m.kind === 'bsr').length,
    matrices: engine.matrices.length,
    activeHeads: engine.activeHeads.reduce((n, heads) => n + heads.length, 0),
    heads: nLayer * nHead,
  };
}

/** Adds what to do when the model does not fit the adapter's limits or memory. */
function explainGpuLimits(gpu: PageGpu, e: unknown): unknown {
  const msg = e instanceof Error ? e.message : String(e);
  const tooBig = (e instanceof EngineInputError && /binding limit|exceeds/.test(msg)) || /out of memory|OutOfMemory|exceeds the max buffer size|maxBufferSize/i.test(msg);
  if (!tooBig) return e;
  const l = gpu.context.device.limits;
  const mib = (n: number) => `${Math.floor(n / 2 ** 20)} MiB`;
  return new Error(
    `${msg} — this GPU adapter is too small for this model (it offers buffers of at most ${mib(l.maxBufferSize)} and storage bindings of ` +
    `${mib(l.maxStorageBufferBindingSize)}; the page already asked for its largest limits). Use a browser or GPU with larger WebGPU limits, or a smaller model.`,
    { cause: e },
  );
}

/**
 * Loads a model onto gpu: config.json, model.safetensors and (if present) tokenizer.json fetched from a base
 * URL, or files already in memory. Throws ModelLoadError naming the source and the phase that failed;
 * nothing is half-loaded: an engine created before a later failure is destroyed.
 */
export async function loadModel(
  gpu: PageGpu,
  source: ModelSource,
  onProgress: (p: LoadProgress) => void,
  signal?: AbortSignal,
): Promise<LoadedModel> {
  let phase: LoadPhase = 'fetch';
  let engine: Gpt2Engine | null = null;
  const baseUrl = sourceLocation(source);
  const step = (p: LoadPhase, label: string) => {
    signal?.throwIfAborted();
    phase = p;
    onProgress({ phase: p, label });
  };
  try {
    let files;
    if (typeof source === 'string') {
      step('fetch', 'Fetching config.json, model.safetensors and tokenizer.json');
      files = await fetchModelFiles(source);
      step('parse', 'Checking model.safetensors against config.json');
    } else {
      step('parse', 'Checking model.safetensors against config.json');
      files = parseModelFiles(source.location, source.files);
    }
    const name = typeof source === 'string' ? modelName(source, files.configJson) : source.name;
    const weights = loadGpt2Weights(files.safetensors, files.config);
    step('upload', 'Uploading weights to the GPU and building pipelines');
    try {
      engine = await exclusiveGpu(gpu.context, () => Gpt2Engine.create(gpu.context, weights, { label: name }));
    } catch (e) {
      throw explainGpuLimits(gpu, e);
    }
    let tokenizer: TextTokenizer | null = null;
    if (files.tokenizerJson !== undefined) {
      step('tokenizer', 'Loading tokenizer.json');
      tokenizer = await loadTokenizer(files.tokenizerJson, {
        file: `${baseUrl.replace(/\/+$/, '')}/tokenizer.json`,
        vocabSize: engine.config.vocabSize,
      });
    }
    signal?.throwIfAborted();
    // Hashed off the critical path: only recordings need it, and 500 MB of weights take a moment.
    const raw = files.safetensors.raw;
    const hash = sha256Hex(raw);
    hash.catch(() => undefined); // reported when a recording asks for it, not as an unhandled rejection
    const info: ModelInfo = {
      name,
      baseUrl,
      config: engine.config,
      parameterCount: parameterCount(engine.config),
      weightBytes: engine.weightBytes,
      density: weightDensity(engine),
      hasTokenizer: tokenizer !== null,
      adapterDescription: gpu.adapterDescription,
    };
    return new PageModel(info, engine, tokenizer, hash, gpu.context);
  } catch (e) {
    engine?.destroy();
    if (signal?.aborted) throw e;
    throw new ModelLoadError(baseUrl, phase, e);
  }
}
