// The GPT-2 engine on WebGPU, dense or block-sparse. Everything (weights, activations, KV cache, uniforms,
// pipelines, bind groups, the readback buffer) is made once in create(); a step writes one 16-byte uniform,
// encodes one plan (src/model/forward.ts: the forward pass, written once) into one command encoder and one
// compute pass, and reads back the sampler's small result.
//
// create() is four named steps: upload the weights and find their sparsity (each matrix packed once),
// make the activation buffers, choose the kernel variants (measured at load), build the plans.

import type { GpuContext } from '../gpu/device';
import { BufferPool, writeView } from '../gpu/buffers';
import type { GPT2Config } from './config';
import type { Gpt2Weights } from './checkpoint';
import type { Engine, GenerateOptions, GenerationSummary, HeadProducts, StepResult, StopReason } from './engineApi';
import { headGram, parseProbes, probeLayout, thresholdData, type ProbeLayout } from '../kernels/probe';
import { DEFAULT_THRESHOLDS } from '../shared/probes';
import { createKernelContext, encodeDispatches, makeBindGroup, writeStep, type Dispatch, type KernelContext } from '../kernels/kernel';
import { StepRing } from './stepRing';
import { blocknormParams, BLOCKNORM_SHADER } from '../kernels/blocknorm';
import { roundToF16 } from '../shared/f16';
import { mulberry32 } from '../shared/random';
import { uploadMatrix, rowChunks } from '../kernels/packed';
import { uploadBsr, packBsr, type BsrBlock } from '../kernels/bsr';
import { BSR_CROSSOVER_DENSITY } from '../kernels/crossover';
import { conv1dToRows } from '../kernels/linear';
import type { MatmulVariant } from '../kernels/matmul';
import { createLayerNorm, type LayerNormVariant } from '../kernels/layernorm';
import { createAttention, type AttentionVariant } from '../kernels/attention';
import { fastestVariant } from '../kernels/autotune';
import { profileDispatches, profileGroups, type OpTiming, type ProfileWait } from '../kernels/timing';
import { DUE_FRACTION } from '../gpu/wait';
import { createSample, samplerParams, SAMPLE_RESULT_WORDS, MAX_TOP, type SampleVariant } from '../kernels/sample';
import {
  ForwardPlans, linearDispatch, type ActivationBuffers, type EmbeddingsGpu, type ForwardMode, type KernelVariants, type LayerGpu, type LinearWeights,
} from './forward';

export type { KernelVariants } from './forward';

/** A token id, prompt or option the engine cannot accept. */
export class EngineInputError extends Error {
  override readonly name = 'EngineInputError';
}

export interface EngineOptions {
  label?: string;
  /** Cap on one binding's bytes (defaults to the device limit); tests lower it to exercise LM-head splitting. */
  maxBindingBytes?: number;
  /** Force kernel variants instead of measuring them at load. */
  variants?: Partial<KernelVariants>;
  /** Block size used to find zero blocks (default: the checkpoint's, else 32). */
  block?: BsrBlock;
  /**
   * A matrix whose block density is at most this runs on the BSR kernels (default: the crossover
   * measured by `cli bench --crossover`, src/kernels/crossover.ts). 0 forces dense, 1 forces BSR.
   */
  crossoverDensity?: number;
  /**
   * Steps kept in flight while decoding (default DEFAULT_IN_FLIGHT): step t+1 is submitted before step
   * t is read back. 1 is the unpipelined path (submit, wait, read, repeat).
   */
  inFlight?: number;
}

/** Steps in flight by default: chosen by `cli bench --in-flight` (tools: the decode columns per k). */
export const DEFAULT_IN_FLIGHT = 3;

export interface MatrixInfo {
  name: string;
  kind: 'dense' | 'bsr';
  /** Fraction of nonzero blocks. */
  blockDensity: number;
  bytes: number;
}

export interface VariantChoice extends KernelVariants {
  /** How each candidate timed at load (ms per pass), when measured; matmul keyed by rows, e.g. "T=8". */
  measured: { gemv?: Record<'coop' | 'row', number>; layernorm?: Record<LayerNormVariant, number>; attention?: Record<AttentionVariant, number>; sample?: Record<SampleVariant, number>; matmul?: Record<string, Record<MatmulVariant, number>> };
}

/** Prompt lengths the prefill matmul variants are timed at (capped at nCtx). */
export const PREFILL_TUNE_ROWS = [8, 64] as const;

/**
 * Rows at which two linear timing models ms(T) = a + b·T cross: the prefill variant that wins at short
 * prompts (tShort, diffShort = its ms minus the other's < 0) loses from the returned T on.
 */
export function crossoverRows(tShort: number, diffShort: number, tLong: number, diffLong: number): number {
  if (!(diffShort < 0 && diffLong > 0)) throw new RangeError('crossoverRows: the short winner must lose at the long length');
  return Math.max(tShort, Math.floor(tShort + ((tLong - tShort) * -diffShort) / (diffLong - diffShort)));
}

/** Bytes of one layer's f32 vectors: ln_1 and ln_2 gain and bias (4 D) and the biases (3 D + D + 4 D + D). */
const layerVectorBytes = (D: number) => (4 * D + 3 * D + D + 4 * D + D) * 4;

/** What uploadWeights() made: the weights on the GPU and what the loader learned about them. */
interface UploadedWeights {
  emb: EmbeddingsGpu;
  layers: LayerGpu[];
  matrices: MatrixInfo[];
  /** Bytes of the attention and MLP matrices as held (dense f16 rows or BSR). */
  matBytes: number;
}

/** Step 1: every matrix as f16 rows (out, in), or BSR when its block density is at most the crossover (packed once). */
function uploadWeights(pool: BufferPool, device: GPUDevice, w: Gpt2Weights, label: string, opts: EngineOptions): UploadedWeights {
  const { nHead, nEmbd: D, nCtx, vocabSize: V, headDim } = w.config;
  const maxBinding = Math.min(opts.maxBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize);
  const f32 = (name: string, a: Float32Array) => pool.upload(`${label}.${name}`, a);
  // LayerNorm gains and biases stay f32 (tiny, and exact).
  const wte = uploadMatrix(pool, `${label}.wte`, w.wte, V, D, 'rows-cols');
  const wpe = uploadMatrix(pool, `${label}.wpe`, w.wpe, nCtx, D, 'rows-cols');
  const wteChunks = rowChunks(wte, maxBinding, device.limits.minStorageBufferOffsetAlignment);
  if (wpe.bytes > maxBinding) throw new EngineInputError(`${label}: wpe (${wpe.bytes} bytes) exceeds the binding limit ${maxBinding}`);
  const block: BsrBlock = opts.block ?? (w.sparse?.block as BsrBlock | undefined) ?? 32;
  const crossover = opts.crossoverDensity ?? BSR_CROSSOVER_DENSITY;
  const matrices: MatrixInfo[] = [];
  const layers = w.layers.map((l, i): LayerGpu => {
    const n = `${label}.h.${i}`;
    // HF Conv1D (in = K, out = N) -> GPU rows (N, K).
    const mat = (name: string, a: Float32Array, K: number, N: number): LinearWeights => {
      const rows = conv1dToRows(a, K, N);
      const host = packBsr(rows, N, K, block);
      const density = host.nnzBlocks / (host.nRowBlocks * host.nColBlocks);
      const lw: LinearWeights = density <= crossover
        ? { kind: 'bsr', m: uploadBsr(pool, `${n}.${name}`, rows, N, K, block, host) }
        : { kind: 'dense', m: uploadMatrix(pool, `${n}.${name}`, rows, N, K, 'rows-cols') };
      if (lw.kind === 'dense' && lw.m.bytes > maxBinding) throw new EngineInputError(`${n}.${name}: ${lw.m.bytes} bytes exceeds the binding limit ${maxBinding}`);
      matrices.push({ name: `h.${i}.${name}`, kind: lw.kind, blockDensity: density, bytes: lw.m.bytes });
      return lw;
    };
    // A head whose rows of the output projection are all zero writes nothing: attention skips it.
    const activeHeads: number[] = [];
    for (let h = 0; h < nHead; h++) {
      if (l.attnProjW.subarray(h * headDim * D, (h + 1) * headDim * D).some((v) => v !== 0)) activeHeads.push(h);
    }
    return {
      ln1G: f32(`h.${i}.ln_1.weight`, l.ln1G), ln1B: f32(`h.${i}.ln_1.bias`, l.ln1B),
      ln2G: f32(`h.${i}.ln_2.weight`, l.ln2G), ln2B: f32(`h.${i}.ln_2.bias`, l.ln2B),
      attnW: mat('attn.c_attn.weight', l.attnW, D, 3 * D), attnB: f32(`h.${i}.attn.c_attn.bias`, l.attnB),
      attnProjW: mat('attn.c_proj.weight', l.attnProjW, D, D), attnProjB: f32(`h.${i}.attn.c_proj.bias`, l.attnProjB),
      fcW: mat('mlp.c_fc.weight', l.fcW, D, 4 * D), fcB: f32(`h.${i}.mlp.c_fc.bias`, l.fcB),
      fcProjW: mat('mlp.c_proj.weight', l.fcProjW, 4 * D, D), fcProjB: f32(`h.${i}.mlp.c_proj.bias`, l.fcProjB),
      kCache: pool.storage(`${n}.kCache (nHead, nCtx, headDim)`, nHead * nCtx * headDim * 4),
      vCache: pool.storage(`${n}.vCache (nHead, nCtx, headDim)`, nHead * nCtx * headDim * 4),
      activeHeads,
      heads: pool.upload(`${n}.activeHeads`, new Uint32Array(activeHeads.length ? activeHeads : [0])),
      gram: pool.upload(`${n}.headGram (nHead, headDim, headDim)`, headGram(l.attnProjW, nHead, headDim)),
    };
  });
  const emb: EmbeddingsGpu = { wte, wteChunks, wpe, lnfG: f32('ln_f.weight', w.lnfG), lnfB: f32('ln_f.bias', w.lnfB) };
  const matBytes = layers.reduce((t, l) => t + l.attnW.m.bytes + l.attnProjW.m.bytes + l.fcW.m.bytes + l.fcProjW.m.bytes, 0);
  return { emb, layers, matrices, matBytes };
}

/** Step 2: activations sized for a full-context prefill; vectors padded so vec4 reads stay in bounds. */
function makeActivations(pool: BufferPool, cfg: GPT2Config, layout: ProbeLayout, label: string): ActivationBuffers {
  const { nEmbd: D, nCtx, vocabSize: V } = cfg;
  const act = (name: string, width: number) => pool.storage(`${label}.${name} (nCtx, ${width})`, Math.max(nCtx * width, width + 72) * 4);
  return {
    tokens: pool.storage(`${label}.tokens`, (nCtx + 1) * 4),
    x: act('x', D), xn: act('xn', D), qkv: act('qkv', 3 * D), att: act('att', D), h: act('h', 4 * D),
    xLast: pool.storage(`${label}.xLast (nEmbd)`, (D + 8) * 4),
    logits: pool.storage(`${label}.logits (vocab)`, V * 4),
    result: pool.storage(`${label}.result`, SAMPLE_RESULT_WORDS * 4),
    samplerParams: pool.uniform(`${label}.sampler params`, samplerParams(V, { greedy: true, topK: 1, temperature: 1, nTop: 0 })),
    probe: pool.storage(`${label}.probe (words)`, layout.totalWords * 4),
    probePrev: pool.storage(`${label}.probe prev row (nEmbd)`, D * 4),
    thresholds: pool.uniform(`${label}.thresholds`, thresholdData(DEFAULT_THRESHOLDS)),
    headMask: pool.upload(`${label}.head mask (nLayer, nHead)`, new Float32Array(cfg.nLayer * cfg.nHead).fill(1)),
  };
}

/**
 * Step 3: kernel variants, timed unless forced: gemv and matmul on layer 0's MLP matrices (the largest per
 * layer), LayerNorm on 16 decode rows, attention on 8 decode dispatches of the layer running most heads, the sampler
 * 4 times greedy over the vocabulary. Prefill is
 * timed at a short and a longer prompt; where the winners differ (a barrier-free variant can win short
 * prompts and lose long ones) both are kept and the prompt length picks one where the two measured linear
 * costs cross.
 */
async function chooseVariants(ctx: KernelContext, layers: readonly LayerGpu[], bufs: ActivationBuffers, config: GPT2Config, label: string, forced: Partial<KernelVariants> = {}): Promise<VariantChoice> {
  const l0 = layers[0];
  const mlp0 = [
    { label: 'tune mlp.c_fc', w: l0.fcW, bias: l0.fcB, x: bufs.xn, y: bufs.h, epilogue: 'gelu' as const },
    { label: 'tune mlp.c_proj', w: l0.fcProjW, bias: l0.fcProjB, x: bufs.h, y: bufs.x, epilogue: 'residual' as const },
  ];
  const measured: VariantChoice['measured'] = {};
  let gemv = forced.gemv;
  if (!gemv) {
    const r = await fastestVariant(ctx, (['coop', 'row'] as const).map((variant) => ({
      variant,
      list: mlp0.map((m) => linearDispatch(ctx, 'gemv', m, { gemv: variant, matmul: 'tiled' })),
    })), 1);
    gemv = r.variant;
    measured.gemv = r.ms;
  }
  let layernorm = forced.layernorm;
  if (!layernorm) {
    // A decode LayerNorm is tens of microseconds: time 16 of them per pass, as many as a step runs.
    const r = await fastestVariant(ctx, (['coop', 'narrow'] as const).map((variant) => ({
      variant,
      list: Array.from({ length: 16 }, () => createLayerNorm(ctx, {
        label: `tune ln_1 ${variant}`, nEmbd: config.nEmbd, eps: config.layerNormEps, x: bufs.x, g: l0.ln1G, b: l0.ln1B, y: bufs.xn, variant,
      })),
    })), 1);
    layernorm = r.variant;
    measured.layernorm = r.ms;
  }
  let attention = forced.attention;
  const busiest = layers.reduce((a, b) => (b.activeHeads.length > a.activeHeads.length ? b : a));
  if (!attention && busiest.activeHeads.length === 0) attention = 'coop'; // no head runs: nothing to time
  if (!attention) {
    // Decode rows at position nCtx / 2 (capped at 128) of the layer running the most heads; the KV cache
    // it reads and writes is overwritten by the first prefill.
    const pos0 = Math.min(config.nCtx - 1, 128);
    const r = await fastestVariant(ctx, (['coop', 'narrow'] as const).map((variant) => ({
      variant,
      list: Array.from({ length: 8 }, () => createAttention(ctx, {
        label: `tune attn ${variant}`, nHead: config.nHead, headDim: config.headDim, nCtx: config.nCtx,
        qkv: bufs.qkv, kCache: busiest.kCache, vCache: busiest.vCache, out: bufs.att, heads: busiest.heads,
        nActive: busiest.activeHeads.length, headMask: bufs.headMask, maskBase: 0, variant,
      })),
    })), 1, 3, pos0);
    attention = r.variant;
    measured.attention = r.ms;
  }
  let sample = forced.sample;
  if (!sample) {
    // Greedy over the model's vocabulary (the load-time sampler params), 4 per pass: a sampler is a fraction
    // of a millisecond. It writes tokens[0], which the first generation overwrites.
    const r = await fastestVariant(ctx, (['wide', 'narrow'] as const).map((variant) => ({
      variant,
      list: Array<Dispatch>(4).fill(createSample(ctx, {
        label: `tune sample ${variant}`, vocab: config.vocabSize, logits: bufs.logits, result: bufs.result, tokens: bufs.tokens, params: bufs.samplerParams, variant,
      })),
    })), 1);
    sample = r.variant;
    measured.sample = r.ms;
  }
  let { matmul, matmulShort, shortPrefillRows } = forced;
  if (matmulShort && !(matmul && Number.isInteger(shortPrefillRows) && shortPrefillRows! >= 1)) {
    throw new EngineInputError(`${label}: variants.matmulShort needs variants.matmul and an integer variants.shortPrefillRows >= 1`);
  }
  if (!matmul) {
    const rows = [...new Set(PREFILL_TUNE_ROWS.map((t) => Math.min(config.nCtx, t)))];
    const runs: Array<{ T: number; variant: MatmulVariant; ms: Record<MatmulVariant, number> }> = [];
    measured.matmul = {};
    for (const T of rows) {
      const r = await fastestVariant(ctx, (['tiled', 'row'] as const).map((variant) => ({
        variant,
        list: mlp0.map((m) => linearDispatch(ctx, 'matmul', { ...m, label: `${m.label} T=${T}` }, { gemv: 'coop', matmul: variant })),
      })), T);
      runs.push({ T, ...r });
      measured.matmul[`T=${T}`] = r.ms;
    }
    const short = runs[0];
    const long = runs[runs.length - 1];
    matmul = long.variant;
    if (short.variant !== long.variant) {
      matmulShort = short.variant;
      const diff = (r: (typeof runs)[number]) => r.ms[short.variant] - r.ms[long.variant];
      shortPrefillRows = crossoverRows(short.T, diff(short), long.T, diff(long));
    }
  }
  return { gemv, layernorm, attention, sample, matmul, matmulShort, shortPrefillRows, measured };
}

/** What the engine holds once create() is done. */
interface EngineParts {
  gpu: GpuContext;
  ctx: KernelContext;
  pool: BufferPool;
  label: string;
  config: GPT2Config;
  weights: UploadedWeights;
  bufs: ActivationBuffers;
  /** The in-flight steps' readback slots. */
  ring: StepRing;
  layout: ProbeLayout;
  variants: VariantChoice;
  plans: ForwardPlans;
  /** For composition(): f16-rounded c_proj per layer (HF layout). */
  wO: Float32Array[];
  /** f16-rounded c_attn per layer (HF layout), for the per-head norms of W_Q, W_K, W_V. */
  wQkv: Float32Array[];
}

export class Gpt2Engine implements Engine {
  readonly gpu: GpuContext;
  readonly config: GPT2Config;
  /** Bytes of weights held on the GPU. */
  readonly weightBytes: number;
  /** Bytes of weights a decode step reads (all matrices, the LM head, one wte and one wpe row, LN/bias vectors). */
  readonly weightBytesPerToken: number;
  /** Bytes of weights a decode step reads in the transformer blocks (LM head excluded). */
  readonly blockBytesPerToken: number;
  readonly lmHeadChunks: number;
  readonly probeLayout: ProbeLayout;
  /** Kernel variants in use and, when measured at load, their timings. */
  readonly variants: VariantChoice;
  /** Per weight matrix: dense or BSR kernels, block density, bytes. */
  readonly matrices: MatrixInfo[];
  /** Active (not skipped) attention heads per layer. */
  readonly activeHeads: number[][];
  private readonly p: EngineParts;
  private busy = false;
  private destroyed = false;
  private ablated: readonly number[] = [];
  private readonly maskData: Float32Array;

  private constructor(p: EngineParts) {
    this.p = p;
    this.maskData = new Float32Array(p.config.nLayer * p.config.nHead).fill(1);
    this.gpu = p.gpu;
    this.config = p.config;
    this.variants = p.variants;
    this.probeLayout = p.layout;
    this.matrices = p.weights.matrices;
    this.activeHeads = p.weights.layers.map((l) => l.activeHeads);
    this.lmHeadChunks = p.weights.emb.wteChunks.length;
    const { matBytes, emb, layers } = p.weights;
    const D = p.config.nEmbd;
    const vectors = layers.length * layerVectorBytes(D);
    const oneRow = 2 * emb.wte.kStride * 2; // one wte row and one wpe row (f16)
    this.weightBytes = matBytes + emb.wte.bytes + emb.wpe.bytes + vectors + 2 * D * 4;
    this.weightBytesPerToken = matBytes + emb.wte.bytes + oneRow + vectors + 2 * D * 4;
    this.blockBytesPerToken = matBytes + vectors + oneRow;
  }

  /** Uploads the weights (f16) and builds every pipeline, buffer and bind group the engine will use. */
  static async create(gpu: GpuContext, w: Gpt2Weights, opts: EngineOptions = {}): Promise<Gpt2Engine> {
    const config = w.config;
    const label = opts.label ?? 'gpt2';
    const { device } = gpu;
    const pool = new BufferPool(device);
    const ctx = createKernelContext(device, pool, label);
    const weights = uploadWeights(pool, device, w, label, opts);
    const layout = probeLayout(config);
    const bufs = makeActivations(pool, config, layout, label);
    // One small readback per step, into one of the ring's slots: the sampler's result, then (probes on)
    // the probe words, then the pass's GPU timestamps.
    const ring = new StepRing(device, pool, { label, slots: opts.inFlight ?? DEFAULT_IN_FLIGHT, resultWords: SAMPLE_RESULT_WORDS, probeWords: layout.totalWords, hostPollSpins: gpu.hostPollSpins });
    const variants = await chooseVariants(ctx, weights.layers, bufs, config, label, opts.variants);
    const plans = new ForwardPlans({ label, ctx, config, emb: weights.emb, layers: weights.layers, bufs, layout, variants });
    const engine = new Gpt2Engine({
      gpu, ctx, pool, label, config, weights, bufs, ring, layout, variants, plans,
      wO: w.layers.map((l) => roundToF16(l.attnProjW)),
      wQkv: w.layers.map((l) => roundToF16(l.attnW)),
    });
    // Every plan a generation can ask for, built now: no pipeline, buffer or bind group is made per token.
    for (const probes of [false, true]) {
      engine.plan({ rows: 'one', probes, logits: 'last' });
      for (const matmul of new Set([variants.matmul, variants.matmulShort ?? variants.matmul])) engine.plan({ rows: 'many', probes, matmul, logits: 'last' });
    }
    await device.queue.onSubmittedWorkDone();
    return engine;
  }

  /** The dispatch list of a forward mode (memoised). */
  plan(mode: ForwardMode): readonly Dispatch[] {
    return this.p.plans.plan(mode);
  }

  /** Dispatches encoded per decode step (probes off). */
  get decodeDispatches(): readonly Dispatch[] {
    return this.plan({ rows: 'one', probes: false, logits: 'last' });
  }

  /** The zero-ablated heads (ids layer · nHead + head), ascending; [] when the model runs as it is. */
  get ablatedHeads(): readonly number[] {
    return this.ablated;
  }

  setAblatedHeads(heads: readonly number[]): void {
    const n = this.config.nLayer * this.config.nHead;
    for (const h of heads) {
      if (!Number.isInteger(h) || h < 0 || h >= n) throw new EngineInputError(`setAblatedHeads: head ${h} outside 0..${n - 1} (layer · nHead + head)`);
    }
    if (this.busy) throw new EngineInputError(`${this.p.label}: heads cannot be ablated while a generation runs`);
    this.ablated = [...new Set(heads)].sort((a, b) => a - b);
    this.maskData.fill(1);
    for (const h of this.ablated) this.maskData[h] = 0;
    // Ordered before any later submit on this queue: the next step sees the new gates.
    writeView(this.gpu.device, this.p.bufs.headMask, 0, this.maskData);
  }

  /** Number of GPU buffers this engine created (all at load). */
  get buffersCreated(): number {
    return this.p.pool.created;
  }

  private checkIds(ids: number[], what: string): void {
    if (ids.length === 0) throw new EngineInputError(`${what}: empty prompt: give at least one token`);
    if (ids.length > this.config.nCtx) {
      throw new EngineInputError(`${what}: prompt of ${ids.length} tokens exceeds the context of ${this.config.nCtx}`);
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
        throw new EngineInputError(`${what}: token id ${id} outside the vocabulary 0..${this.config.vocabSize - 1}`);
      }
    }
  }

  /** The prefill plan for a prompt of T tokens: the short-prompt variant's up to its measured crossover. */
  prefillList(T: number, probes: boolean): readonly Dispatch[] {
    return this.plan({ rows: 'many', probes, matmul: this.p.plans.prefillMatmul(T), logits: 'last' });
  }

  private static decodeTop(r: Uint32Array): Array<[number, number]> | undefined {
    const n = r[1];
    if (n === 0) return undefined;
    const f = new Float32Array(r.buffer, r.byteOffset, r.length);
    const top: Array<[number, number]> = [];
    for (let j = 0; j < n; j++) top.push([r[2 + 2 * j], f[3 + 2 * j]]);
    return top;
  }

  async generate(promptIds: number[], opts: GenerateOptions, onStep?: (s: StepResult) => void): Promise<GenerationSummary> {
    if (this.destroyed) throw new EngineInputError(`${this.p.label}: engine was destroyed`);
    if (this.busy) throw new EngineInputError(`${this.p.label}: a generation is already running on this engine`);
    this.checkIds(promptIds, 'generate');
    if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0) throw new EngineInputError(`maxTokens must be a non-negative integer (got ${opts.maxTokens})`);
    const topK = opts.topK ?? 40;
    const temperature = opts.temperature ?? 1;
    if (!opts.greedy && !(temperature > 0)) throw new EngineInputError(`temperature must be > 0 (got ${temperature})`);
    if (!opts.greedy && (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP)) throw new EngineInputError(`topK must be 1..${MAX_TOP} (got ${topK})`);
    const nTop = opts.topLogits ?? 0;
    if (!Number.isInteger(nTop) || nTop < 0 || nTop > MAX_TOP) throw new EngineInputError(`topLogits must be 0..${MAX_TOP} (got ${nTop})`);
    const slots = opts.inFlight ?? this.p.ring.slots;
    if (!Number.isInteger(slots) || slots < 1 || slots > this.p.ring.slots) throw new EngineInputError(`inFlight must be 1..${this.p.ring.slots}, the slots this engine was made with (got ${slots})`);

    this.busy = true;
    try {
      const { device } = this.gpu;
      const { nCtx, vocabSize } = this.config;
      const { bufs, ring, label } = this.p;
      writeView(device, bufs.samplerParams, 0, samplerParams(vocabSize, { greedy: opts.greedy, topK, temperature, nTop }));
      const probes = opts.probes ?? false;
      if (probes) writeView(device, bufs.thresholds, 0, thresholdData(opts.thresholds ?? DEFAULT_THRESHOLDS));
      const prefillList = this.prefillList(promptIds.length, probes);
      const decodeList = this.plan({ rows: 'one', probes, logits: 'last' });
      writeView(device, bufs.tokens, 0, new Uint32Array(promptIds));
      const rand = mulberry32(opts.seed ?? 0x5eed);
      const stopIds = new Set(opts.stopIds ?? []);
      const T = promptIds.length;
      // Step 0 is the prefill (it samples the token at position T); step i > 0 feeds position T + i - 1,
      // so the context holds nCtx - T + 1 steps.
      const planned = Math.min(opts.maxTokens, nCtx - T + 1);
      const ids: number[] = [];
      const steps: StepResult[] = [];
      const decodeMs: number[] = [];
      let prefillMs = 0;
      let stopReason: StopReason | null = null;
      let error: string | undefined;

      // Up to `slots` steps are in flight: each step's uniform write is a queue operation, ordered after
      // the steps submitted before it, and its sampler writes the next id where the next step's embed reads
      // it. Results are handled in order as they arrive; once a stop is known, the steps already submitted
      // are read and dropped (their KV rows lie past the last kept token and are rewritten before any read).
      const inFlight: Array<{ i: number; slot: number }> = [];
      let next = 0;
      const submitUpTo = (): void => {
        while (next < planned && inFlight.length < slots && stopReason === null) {
          const i = next++;
          const step = i === 0 ? { pos0: 0, T, rand: rand(), writePos: T } : { pos0: T + i - 1, T: 1, rand: rand(), writePos: T + i };
          writeStep(device, this.p.ctx.step, step);
          const slot = i % slots;
          ring.submit(slot, i === 0 ? prefillList : decodeList, step.T, bufs, probes, `${label} @${step.pos0}`);
          inFlight.push({ i, slot });
        }
      };
      const t0 = performance.now();
      let tPrev = t0;
      // The adapter runs the queued steps back to back, so the next is due about one step's GPU time after the
      // last arrived: a running estimate (timestamps; the arrival interval without them) tells the ring when, and
      // DUE_FRACTION of it so a sleep ends before the step does. A wait that woke late reads the next without sleeping, so
      // the host never falls behind the adapter (its own lateness never enters the estimate).
      let stepMs = 0;
      let wokeLate = false;
      if (opts.signal?.aborted) stopReason = 'aborted';
      submitUpTo();
      while (inFlight.length > 0) {
        const head = inFlight.shift()!;
        const due: number | undefined = head.i > 1 && stepMs > 0 && !wokeLate ? tPrev + DUE_FRACTION * stepMs : undefined;
        wokeLate = (await ring.map(head.slot, due)).wokeLate;
        const got = ring.read(head.slot, probes);
        const now = performance.now();
        // With steps in flight a token's wall time is the interval between two arrivals: what it adds.
        const ms = now - tPrev;
        tPrev = now;
        if (stopReason !== null) continue; // submitted before the stop was known: dropped
        if (opts.signal?.aborted) { stopReason = 'aborted'; continue; }
        const r = got.result;
        const i = head.i;
        const pos = i === 0 ? T : T + i;
        // The sampler answers an id outside the vocabulary only when the logits were not finite (NaN or
        // ±Inf): the weights or the arithmetic broke. Never hand such an id on as a token.
        if (!(r[0] < vocabSize)) {
          stopReason = 'non-finite-logits';
          error = `${label}: the logits at position ${pos - 1} are not finite (NaN or Infinity), so no token can be sampled; the model's weights or its arithmetic are broken`;
          continue;
        }
        if (i === 0) prefillMs = ms;
        else {
          decodeMs.push(ms);
          const sample = got.gpuMs ?? ms;
          stepMs = stepMs === 0 ? sample : 0.8 * stepMs + 0.2 * sample;
        }
        const s: StepResult = { index: i, pos, id: r[0], ms, top: Gpt2Engine.decodeTop(r) };
        if (got.gpuMs !== undefined) s.gpuMs = got.gpuMs;
        if (got.probe) s.probes = parseProbes(got.probe, this.probeLayout, this.config.nEmbd);
        ids.push(s.id);
        steps.push(s);
        onStep?.(s);
        if (stopIds.has(s.id)) stopReason = 'end-of-text';
        else if (i === planned - 1) stopReason = planned < opts.maxTokens ? 'context-full' : 'max-tokens';
        submitUpTo();
      }
      const decodeTotal = decodeMs.reduce((a, b) => a + b, 0);
      return {
        promptIds: [...promptIds], ids, steps, prefillMs, decodeMs,
        decodeTokensPerS: decodeMs.length ? (decodeMs.length * 1000) / decodeTotal : 0,
        stopReason: stopReason ?? (planned < opts.maxTokens ? 'context-full' : 'max-tokens'),
        ...(error ? { error } : {}),
      };
    } finally {
      this.busy = false;
    }
  }

  /**
   * Logits of every prompt position (tests and perplexity): prefill from position 0, then the final
   * LayerNorm and the LM head over all rows. Builds its own (T, vocab) buffer: not a per-token path.
   */
  async prefillLogits(ids: number[]): Promise<Float32Array[]> {
    this.checkIds(ids, 'prefillLogits');
    const { device } = this.gpu;
    const V = this.config.vocabSize;
    const T = ids.length;
    const { plans, bufs, ctx } = this.p;
    const all = plans.allLogits(T);
    const list = this.plan({ rows: 'many', probes: false, matmul: plans.prefillMatmul(T), logits: 'all' });
    writeView(device, bufs.tokens, 0, new Uint32Array(ids));
    writeStep(device, ctx.step, { pos0: 0, T, rand: 0, writePos: T });
    const staging = device.createBuffer({ label: 'logits readback', size: T * V * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'prefillLogits' });
    const pass = enc.beginComputePass({ label: 'prefillLogits' });
    encodeDispatches(pass, list, T);
    pass.end();
    enc.copyBufferToBuffer(all, 0, staging, 0, T * V * 4);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const flat = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return Array.from({ length: T }, (_, t) => flat.subarray(t * V, (t + 1) * V));
  }

  /**
   * The products the head composition needs, on the GPU: for every layer pair l1 < l2, the squared
   * Frobenius norms ‖W_O^{h1} W_X^{h2}‖² (X = Q, K, V) of l1's c_proj rows (f16-rounded, as the GPU holds
   * them) against l2's c_attn as the engine holds it (dense or BSR), one matmul and one block-norm pass per
   * pair. The strengths themselves are worked out in src/probes/composition.ts (compositionOnGpu).
   */
  async headProducts(): Promise<HeadProducts> {
    const { device } = this.gpu;
    const { nLayer: L, nHead: H, nEmbd: D, headDim: hd } = this.config;
    const pairs: Array<[number, number]> = [];
    for (let l1 = 0; l1 < L - 1; l1++) for (let l2 = l1 + 1; l2 < L; l2++) pairs.push([l1, l2]);
    const out = { pairs, wO: this.p.wO, wQkv: this.p.wQkv };
    if (pairs.length === 0) return { ...out, sq: new Float32Array(0) };
    const tmp = new BufferPool(device);
    const ctx = { ...this.p.ctx, pool: tmp };
    const sq = tmp.storage('composition |W_O W_X|^2 (pairs, nHead, 3, nHead)', pairs.length * H * 3 * H * 4);
    const y = tmp.storage('composition W_O(l1) W_QKV(l2) (nEmbd, 3 nEmbd)', D * 3 * D * 4);
    // c_proj rows of every layer but the last: (nEmbd in, nEmbd out).
    const wO = this.p.wO.map((a, l) => (l < L - 1 ? tmp.upload(`composition W_O(${l})`, a) : null));
    const blockPipeline = ctx.pipelines.get(BLOCKNORM_SHADER.shader, { WG: 64 });
    const list: Dispatch[] = [];
    pairs.forEach(([l1, l2], i) => {
      list.push(linearDispatch(ctx, 'matmul', { label: `composition ${l1}->${l2}`, w: this.p.weights.layers[l2].attnW, x: wO[l1]!, y, epilogue: 'none', M: D }, { ...this.variants, matmul: 'tiled' }));
      const params = tmp.uniform(`blocknorm ${l1}->${l2}`, blocknormParams.pack({ nHead: H, headDim: hd, nEmbd: D, outBase: i * H * 3 * H }));
      list.push({ label: `blocknorm ${l1}->${l2}`, pipeline: blockPipeline, bindGroup: makeBindGroup(device, blockPipeline, 'blocknorm', [params, y, sq]), grid: () => [H, 3 * H, 1] });
    });
    const staging = device.createBuffer({ label: 'composition readback', size: sq.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'composition' });
    const pass = enc.beginComputePass({ label: 'composition' });
    encodeDispatches(pass, list, D);
    pass.end();
    enc.copyBufferToBuffer(sq, 0, staging, 0, sq.size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const num = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    tmp.destroy();
    return { ...out, sq: num };
  }

  /**
   * GPU time of each op of one decode step at position pos (one pass per op, timestamp queries where
   * the adapter has them): for benchmarks. Uses the KV cache as the last generation left it. `expectMs`, about
   * how long the step's passes take, lets a host whose wait spins (GpuContext.hostPollSpins) sleep through most of it.
   */
  async profileDecodeStep(pos: number, expectMs = 0): Promise<OpTiming[]> {
    return profileDispatches(this.gpu.device, this.decodeDispatches, 1, 1, this.profileAt('profileDecodeStep', pos, expectMs));
  }

  /**
   * GPU time of one decode step at position pos split in two passes, the transformer blocks (embedding and
   * layers) and the head (ln_f, LM head, sampler), each timed whole, so neither sums per-op passes and their
   * overheads: for benchmarks. `expectMs` as profileDecodeStep.
   */
  async profileDecodeSplit(pos: number, expectMs = 0): Promise<{ blocksMs: number; headMs: number }> {
    const { blocks, head } = this.decodeParts;
    const wait = this.profileAt('profileDecodeSplit', pos, expectMs);
    const [b, h] = await profileGroups(this.gpu.device, [{ label: 'decode blocks', list: blocks }, { label: 'decode head', list: head }], 1, 1, wait);
    return { blocksMs: b.ms, headMs: h.ms };
  }

  /** Checks pos, writes the step uniform for a decode step there, and says how the profile waits. */
  private profileAt(what: string, pos: number, expectMs: number): ProfileWait {
    if (pos < 0 || pos >= this.config.nCtx) throw new EngineInputError(`${what}: position ${pos} outside the context`);
    writeStep(this.gpu.device, this.p.ctx.step, { pos0: pos, T: 1, rand: 0, writePos: pos + 1 });
    return { hostPollSpins: this.gpu.hostPollSpins, expectMs };
  }

  /** The decode step's dispatches in two parts: embedding and layers, then ln_f, the LM head's row chunks and the sampler. */
  get decodeParts(): { blocks: readonly Dispatch[]; head: readonly Dispatch[] } {
    const list = this.decodeDispatches;
    const nHead = 2 + this.lmHeadChunks;
    return { blocks: list.slice(0, list.length - nHead), head: list.slice(list.length - nHead) };
  }

  destroy(): void {
    this.destroyed = true;
    this.p.ring.destroy();
    this.p.plans.destroy();
    this.p.pool.destroy();
  }
}
