// The dense GPT-2 engine on WebGPU. Everything (weights, activations, KV cache, uniforms, pipelines,
// bind groups, the readback buffer) is made once in create(); a step writes one 16-byte uniform,
// encodes one compute pass into one command encoder, and reads back the sampler's small result.
//
// Per layer, as in the maths:   x = x + attn(ln_1(x));   x = x + mlp(ln_2(x))
// Decode runs matrix-vector kernels, prefill matrix-matrix kernels; biases, GELU and the residual
// adds are fused into their epilogues. The LM head (tied to wte) is bound in row chunks that
// respect maxStorageBufferBindingSize.

import type { GpuContext } from '../gpu/device';
import { BufferPool, writeView } from '../gpu/buffers';
import { PipelineCache } from '../gpu/pipelines';
import type { GPT2Config } from './config';
import type { Gpt2Weights } from './checkpoint';
import type { Engine, GenerateOptions, GenerationSummary, StepResult, StopReason } from './engineApi';
import type { Thresholds } from '../shared/probes';
import { createNeuronProbe, headGram, parseProbes, probeLayout, thresholdData, NO_SLOT, THRESHOLD_BYTES, type ProbeLayout } from '../kernels/probe';
import { DEFAULT_THRESHOLDS } from '../shared/probes';
import { encodeDispatches, makeBindGroup, writeStep, STEP_BYTES, type Dispatch, type KernelContext, type StepParams } from '../kernels/kernel';
import { roundToF16 } from '../shared/f16';
import { mulberry32 } from '../shared/random';
import { uploadMatrix, rowChunks, type PackedMatrix, type RowChunk } from '../kernels/packed';
import { createEmbed } from '../kernels/embed';
import { createLayerNorm } from '../kernels/layernorm';
import { createGemv, type GemvVariant } from '../kernels/gemv';
import { createMatmul, type MatmulVariant } from '../kernels/matmul';
import { uploadBsr, createBsrGemv, createBsrMatmul, packBsr, type BsrBlock, type GpuBsrMatrix } from '../kernels/bsr';
import { BSR_CROSSOVER_DENSITY } from '../kernels/crossover';
import { conv1dToRows } from '../kernels/linear';
import type { Epilogue, NeuronProbe } from '../kernels/gelu';
import { fastestVariant } from '../kernels/autotune';
import { profileDispatches, type OpTiming } from '../kernels/timing';
import { createAttention } from '../kernels/attention';
import { createSample, samplerParams, SAMPLE_RESULT_WORDS, MAX_TOP } from '../kernels/sample';

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
}

/** One weight matrix on the GPU, dense f16 rows or BSR, with the kernels that read it. */
type LinearWeights = { kind: 'dense'; m: PackedMatrix } | { kind: 'bsr'; m: GpuBsrMatrix };

export interface MatrixInfo {
  name: string;
  kind: 'dense' | 'bsr';
  /** Fraction of nonzero blocks. */
  blockDensity: number;
  bytes: number;
}

export interface KernelVariants {
  gemv: GemvVariant;
  /** Prefill matmul variant (for prompts longer than shortPrefillRows when matmulShort is set). */
  matmul: MatmulVariant;
  /** Prefill matmul variant for prompts of at most shortPrefillRows tokens, where the measurement found one that differs. */
  matmulShort?: MatmulVariant;
  shortPrefillRows?: number;
}

export interface VariantChoice extends KernelVariants {
  /** How each candidate timed at load (ms per pass), when measured; matmul keyed by rows, e.g. "T=8". */
  measured: { gemv?: Record<GemvVariant, number>; matmul?: Record<string, Record<MatmulVariant, number>> };
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

interface LayerGpu {
  ln1G: GPUBuffer; ln1B: GPUBuffer; ln2G: GPUBuffer; ln2B: GPUBuffer;
  attnW: LinearWeights; attnB: GPUBuffer;
  attnProjW: LinearWeights; attnProjB: GPUBuffer;
  fcW: LinearWeights; fcB: GPUBuffer;
  fcProjW: LinearWeights; fcProjB: GPUBuffer;
  kCache: GPUBuffer; vCache: GPUBuffer;
  /** Heads whose output projection is not all zero (the others contribute nothing and are skipped). */
  activeHeads: number[];
  heads: GPUBuffer;
}

const linearBytes = (l: LinearWeights) => l.m.bytes;

function linearDispatch(
  ctx: KernelContext,
  kind: 'gemv' | 'matmul',
  o: { label: string; w: LinearWeights; bias?: GPUBuffer; x: GPUBuffer; y: GPUBuffer; epilogue: Epilogue; M?: number; neurons?: NeuronProbe },
  variants: KernelVariants,
): Dispatch {
  const { w } = o;
  if (w.kind === 'bsr') {
    return kind === 'gemv'
      ? createBsrGemv(ctx, { label: o.label, w: w.m, bias: o.bias, x: o.x, y: o.y, epilogue: o.epilogue, variant: variants.gemv, neurons: o.neurons })
      : createBsrMatmul(ctx, { label: o.label, x: o.x, w: w.m, M: o.M, bias: o.bias, y: o.y, epilogue: o.epilogue, variant: variants.matmul });
  }
  const m = w.m;
  return kind === 'gemv'
    ? createGemv(ctx, { label: o.label, w: m.buffer, N: m.rows, K: m.cols, kStride: m.kStride, bias: o.bias, x: o.x, y: o.y, epilogue: o.epilogue, variant: variants.gemv, neurons: o.neurons })
    : createMatmul(ctx, { label: o.label, x: o.x, w: m.buffer, M: o.M, N: m.rows, K: m.cols, kStride: m.kStride, bias: o.bias, y: o.y, epilogue: o.epilogue, variant: variants.matmul });
}

export class Gpt2Engine implements Engine {
  readonly config: GPT2Config;
  readonly weightBytes: number;
  /** Dispatches encoded per decode step. */
  readonly decodeDispatches: readonly Dispatch[];
  readonly prefillDispatches: readonly Dispatch[];
  /** The same steps with the instrumentation dispatches (probes on). */
  readonly decodeProbeDispatches: readonly Dispatch[];
  readonly prefillProbeDispatches: readonly Dispatch[];
  /** Prefill lists built with variants.matmulShort, used for prompts of at most variants.shortPrefillRows. */
  private prefillShort: { plain: readonly Dispatch[]; probed: readonly Dispatch[] } | null = null;
  readonly probeLayout: ProbeLayout;
  /** Bytes of weights a decode step reads (all matrices, the LM head, one wte and one wpe row, LN/bias vectors). */
  readonly weightBytesPerToken: number;
  readonly lmHeadChunks: number;
  /** Kernel variants in use and, when measured at load, their timings. */
  variants!: VariantChoice;
  /** Per weight matrix: dense or BSR kernels, block density, bytes. */
  matrices!: MatrixInfo[];
  /** Active (not skipped) attention heads per layer. */
  activeHeads!: number[][];
  /** Bytes of weights a decode step reads in the transformer blocks (LM head excluded). */
  blockBytesPerToken!: number;
  /** Kept for composition(): f16-rounded c_proj per layer (HF layout) and per-head Frobenius norms. */
  private wOForComposition!: Float32Array[];
  private oNorms!: Float64Array[];
  private qkvNorms!: Float64Array[];
  private busy = false;
  private destroyed = false;

  private constructor(
    readonly gpu: GpuContext,
    private readonly ctx: KernelContext,
    private readonly pool: BufferPool,
    private readonly bufs: {
      tokens: GPUBuffer; x: GPUBuffer; xn: GPUBuffer; qkv: GPUBuffer; att: GPUBuffer; h: GPUBuffer;
      xLast: GPUBuffer; logits: GPUBuffer; result: GPUBuffer; staging: GPUBuffer; samplerParams: GPUBuffer;
      lnfG: GPUBuffer; lnfB: GPUBuffer; probe: GPUBuffer; thresholds: GPUBuffer;
    },
    private readonly wte: PackedMatrix,
    private readonly wteChunks: RowChunk[],
    private readonly layers: LayerGpu[],
    config: GPT2Config,
    decode: Dispatch[],
    prefill: Dispatch[],
    decodeProbe: Dispatch[],
    prefillProbe: Dispatch[],
    layout: ProbeLayout,
    weightBytes: number,
    weightBytesPerToken: number,
    private readonly label: string,
  ) {
    this.config = config;
    this.decodeDispatches = decode;
    this.prefillDispatches = prefill;
    this.decodeProbeDispatches = decodeProbe;
    this.prefillProbeDispatches = prefillProbe;
    this.probeLayout = layout;
    this.weightBytes = weightBytes;
    this.weightBytesPerToken = weightBytesPerToken;
    this.lmHeadChunks = wteChunks.length;
  }

  /** Uploads the weights (f16) and builds every pipeline, buffer and bind group the engine will use. */
  static async create(gpu: GpuContext, w: Gpt2Weights, opts: EngineOptions = {}): Promise<Gpt2Engine> {
    const cfg = w.config;
    const { nLayer, nHead, nEmbd: D, nCtx, vocabSize: V, headDim } = cfg;
    const label = opts.label ?? 'gpt2';
    const device = gpu.device;
    const pool = new BufferPool(device);
    const pipelines = new PipelineCache(device);
    const f32 = (name: string, a: Float32Array) => pool.upload(`${label}.${name}`, a);
    const step = pool.create(`${label}.step`, STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const zeros = pool.storage(`${label}.zeros`, 64);
    const ctx: KernelContext = { device, pipelines, pool, step, zeros, scratch: pool.storage(`${label}.scratch`, 64) };
    const maxBinding = Math.min(opts.maxBindingBytes ?? Infinity, device.limits.maxStorageBufferBindingSize);

    // Weights: matrices as f16 rows (out, in); LayerNorm gains and biases stay f32 (tiny, and exact).
    const wte = uploadMatrix(pool, `${label}.wte`, w.wte, V, D, 'rows-cols');
    const wpe = uploadMatrix(pool, `${label}.wpe`, w.wpe, nCtx, D, 'rows-cols');
    const wteChunks = rowChunks(wte, maxBinding, device.limits.minStorageBufferOffsetAlignment);
    if (wpe.bytes > maxBinding) throw new EngineInputError(`${label}: wpe (${wpe.bytes} bytes) exceeds the binding limit ${maxBinding}`);
    const block: BsrBlock = opts.block ?? (w.sparse?.block as BsrBlock | undefined) ?? 32;
    const crossover = opts.crossoverDensity ?? BSR_CROSSOVER_DENSITY;
    const matrices: MatrixInfo[] = [];
    const layers: LayerGpu[] = w.layers.map((l, i) => {
      const n = `${label}.h.${i}`;
      // HF Conv1D (in = K, out = N) -> GPU rows (N, K); BSR when its block density is below the crossover.
      const mat = (name: string, a: Float32Array, K: number, N: number): LinearWeights => {
        const rows = conv1dToRows(a, K, N);
        const host = packBsr(rows, N, K, block);
        const density = host.nnzBlocks / (host.nRowBlocks * host.nColBlocks);
        const lw: LinearWeights = density <= crossover
          ? { kind: 'bsr', m: uploadBsr(pool, `${n}.${name}`, rows, N, K, block) }
          : { kind: 'dense', m: uploadMatrix(pool, `${n}.${name}`, rows, N, K, 'rows-cols') };
        if (lw.kind === 'dense' && lw.m.bytes > maxBinding) throw new EngineInputError(`${n}.${name}: ${lw.m.bytes} bytes exceeds the binding limit ${maxBinding}`);
        matrices.push({ name: `h.${i}.${name}`, kind: lw.kind, blockDensity: density, bytes: lw.m.bytes });
        return lw;
      };
      // A head whose rows of the output projection are all zero writes nothing: skip it in attention.
      const activeHeads: number[] = [];
      for (let h = 0; h < nHead; h++) {
        const slice = l.attnProjW.subarray(h * headDim * D, (h + 1) * headDim * D);
        if (slice.some((v) => v !== 0)) activeHeads.push(h);
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
      };
    });
    const lnfG = f32('ln_f.weight', w.lnfG);
    const lnfB = f32('ln_f.bias', w.lnfB);
    const vecBytes = (layers.length * (4 * D + 3 * D + D + 4 * D + D) + 2 * D) * 4;
    const matBytes = layers.reduce((t, l) => t + linearBytes(l.attnW) + linearBytes(l.attnProjW) + linearBytes(l.fcW) + linearBytes(l.fcProjW), 0);
    const weightBytes = matBytes + wte.bytes + wpe.bytes + vecBytes;

    const layout = probeLayout(cfg);
    const probePrev = pool.storage(`${label}.probe prev row (nEmbd)`, D * 4);
    const grams = w.layers.map((l, i) => pool.upload(`${label}.h.${i}.headGram (nHead, headDim, headDim)`, headGram(l.attnProjW, nHead, headDim)));
    // Activations, sized for a full-context prefill; vectors padded so vec4 reads stay in bounds.
    const act = (name: string, width: number) => pool.storage(`${label}.${name} (nCtx, ${width})`, Math.max(nCtx * width, width + 72) * 4);
    const bufs = {
      tokens: pool.storage(`${label}.tokens`, (nCtx + 1) * 4),
      x: act('x', D),
      xn: act('xn', D),
      qkv: act('qkv', 3 * D),
      att: act('att', D),
      h: act('h', 4 * D),
      xLast: pool.storage(`${label}.xLast (nEmbd)`, (D + 8) * 4),
      logits: pool.storage(`${label}.logits (vocab)`, V * 4),
      result: pool.storage(`${label}.result`, SAMPLE_RESULT_WORDS * 4),
      // One readback per step: the sampler's result, then (probes on) the probe words.
      staging: pool.create(`${label}.result + probe staging`, (SAMPLE_RESULT_WORDS + layout.totalWords) * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
      probe: pool.storage(`${label}.probe (words)`, layout.totalWords * 4),
      thresholds: pool.uniform(`${label}.thresholds`, thresholdData(DEFAULT_THRESHOLDS)),
      samplerParams: pool.uniform(`${label}.sampler params`, samplerParams(V, { greedy: true, topK: 1, temperature: 1, nTop: 0 })),
      lnfG,
      lnfB,
    };

    // Variant choice, measured on layer 0's MLP matrices (the largest per layer) unless forced.
    const l0 = layers[0];
    const mlp0 = [
      { label: 'tune mlp.c_fc', w: l0.fcW, bias: l0.fcB, x: bufs.xn, y: bufs.h, epilogue: 'gelu' as const },
      { label: 'tune mlp.c_proj', w: l0.fcProjW, bias: l0.fcProjB, x: bufs.h, y: bufs.x, epilogue: 'residual' as const },
    ];
    const measured: VariantChoice['measured'] = {};
    let gemvVariant = opts.variants?.gemv;
    if (!gemvVariant) {
      const r = await fastestVariant(ctx, (['coop', 'row'] as const).map((variant) => ({
        variant,
        list: mlp0.map((m) => linearDispatch(ctx, 'gemv', m, { gemv: variant, matmul: 'tiled' })),
      })), 1);
      gemvVariant = r.variant;
      measured.gemv = r.ms;
    }
    // Prefill: timed at a short and a longer prompt. Where the winners differ (a barrier-free variant
    // can win short prompts and lose long ones), both prefill lists are built and the prompt length
    // picks one, switching where the two measured linear costs cross.
    let matmulVariant = opts.variants?.matmul;
    let matmulShort = opts.variants?.matmulShort;
    let shortPrefillRows = opts.variants?.shortPrefillRows;
    if (matmulShort && !(matmulVariant && Number.isInteger(shortPrefillRows) && shortPrefillRows! >= 1)) {
      throw new EngineInputError(`${label}: variants.matmulShort needs variants.matmul and an integer variants.shortPrefillRows >= 1`);
    }
    if (!matmulVariant) {
      const rows = [...new Set(PREFILL_TUNE_ROWS.map((t) => Math.min(nCtx, t)))];
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
      matmulVariant = long.variant;
      if (short.variant !== long.variant) {
        matmulShort = short.variant;
        const diff = (r: (typeof runs)[number]) => r.ms[short.variant] - r.ms[long.variant];
        shortPrefillRows = crossoverRows(short.T, diff(short), long.T, diff(long));
      }
    }
    const chosen: KernelVariants = { gemv: gemvVariant, matmul: matmulVariant, matmulShort, shortPrefillRows };

    const embed = createEmbed(ctx, { wte, wteChunks, wpe, tokens: bufs.tokens, x: bufs.x });
    const decode: Dispatch[] = [...embed];
    const prefill: Dispatch[] = [...embed];
    const decodeProbe: Dispatch[] = [...embed];
    const prefillProbe: Dispatch[] = [...embed];
    const shortPlain: Dispatch[] = [...embed];
    const shortProbe: Dispatch[] = [...embed];
    const eps = cfg.layerNormEps;
    layers.forEach((l, i) => {
      const n = `h.${i}`;
      const ln1Args = { label: `${n}.ln_1`, nEmbd: D, eps, x: bufs.x, g: l.ln1G, b: l.ln1B, y: bufs.xn };
      const ln2Args = { label: `${n}.ln_2`, nEmbd: D, eps, x: bufs.x, g: l.ln2G, b: l.ln2B, y: bufs.xn };
      const ln1 = createLayerNorm(ctx, ln1Args);
      const ln2 = createLayerNorm(ctx, ln2Args);
      // Probed twins: ln_1 records ‖x_l‖ and the previous MLP's write, ln_2 attention's write.
      const ln1P = createLayerNorm(ctx, { ...ln1Args, probe: { buffer: bufs.probe, prev: probePrev, normSlot: layout.xNorm + i, diffSlot: i > 0 ? layout.mlpWrite + i - 1 : NO_SLOT } });
      // ln_2 also clears the layer's neuron bitset for c_fc's epilogue (decode) or the neuron probe (prefill).
      const bitsWord = layout.bits + i * layout.words;
      const ln2P = createLayerNorm(ctx, { ...ln2Args, probe: { buffer: bufs.probe, prev: probePrev, normSlot: NO_SLOT, diffSlot: layout.attnWrite + i, clearBits: { word: bitsWord, words: layout.words } } });
      const neuronProbe = createNeuronProbe(ctx, { label: `${n}.neuron probe`, cfg, layer: i, layout, thresholds: bufs.thresholds, h: bufs.h, probe: bufs.probe });
      const attnArgs = {
        label: `${n}.attn`, nHead, headDim, nCtx, qkv: bufs.qkv, kCache: l.kCache, vCache: l.vCache, out: bufs.att,
        heads: l.heads, nActive: l.activeHeads.length,
      };
      const attn = createAttention(ctx, attnArgs);
      const attnP = createAttention(ctx, { ...attnArgs, label: `${n}.attn (probed)`, probe: { buffer: bufs.probe, gram: grams[i], xNormWord: layout.xNorm + i, headWord: layout.head + i * nHead } });
      // (T, nEmbd) -> (T, 3 nEmbd) -> attention -> (T, nEmbd), added into x; then the MLP the same way.
      const lin = [
        { label: `${n}.attn.c_attn`, w: l.attnW, bias: l.attnB, x: bufs.xn, y: bufs.qkv, epilogue: 'none' as const },
        { label: `${n}.attn.c_proj`, w: l.attnProjW, bias: l.attnProjB, x: bufs.att, y: bufs.x, epilogue: 'residual' as const },
        { label: `${n}.mlp.c_fc`, w: l.fcW, bias: l.fcB, x: bufs.xn, y: bufs.h, epilogue: 'gelu' as const },
        { label: `${n}.mlp.c_proj`, w: l.fcProjW, bias: l.fcProjB, x: bufs.h, y: bufs.x, epilogue: 'residual' as const },
      ];
      const [qkvV, projV, fcV, fcProjV] = lin.map((m) => linearDispatch(ctx, 'gemv', m, chosen));
      const matmuls = (v: MatmulVariant) => lin.map((m) => linearDispatch(ctx, 'matmul', m, { ...chosen, matmul: v }));
      const [qkvM, projM, fcM, fcProjM] = matmuls(matmulVariant);
      const fcVP = linearDispatch(ctx, 'gemv', { ...lin[2], label: `${n}.mlp.c_fc (probed)`, neurons: { thresholds: bufs.thresholds, bits: bufs.probe, word: bitsWord } }, chosen);
      decode.push(ln1, qkvV, attn, projV, ln2, fcV, fcProjV);
      prefill.push(ln1, qkvM, attn, projM, ln2, fcM, fcProjM);
      // Probes on, decode: the same dispatches, probed twins of ln_1, attention, ln_2 and c_fc.
      decodeProbe.push(ln1P, qkvV, attnP, projV, ln2P, fcVP, fcProjV);
      prefillProbe.push(ln1P, qkvM, attnP, projM, ln2P, fcM, neuronProbe, fcProjM);
      if (matmulShort) {
        const [qkvS, projS, fcS, fcProjS] = matmuls(matmulShort);
        shortPlain.push(ln1, qkvS, attn, projS, ln2, fcS, fcProjS);
        shortProbe.push(ln1P, qkvS, attnP, projS, ln2P, fcS, neuronProbe, fcProjS);
      }
    });
    // Final LayerNorm of the last row only, the tied LM head over wte's row chunks, then the sampler.
    const lnf = createLayerNorm(ctx, { label: 'ln_f (last row)', nEmbd: D, eps, x: bufs.x, g: lnfG, b: lnfB, y: bufs.xLast, lastRowOnly: true });
    const head = wteChunks.map((c, i) =>
      createGemv(ctx, { label: `lm_head[${i}]`, w: c.binding, N: c.rowCount, K: D, kStride: wte.kStride, x: bufs.xLast, y: bufs.logits, yOffset: c.rowStart, epilogue: 'none', variant: gemvVariant }),
    );
    const sample = createSample(ctx, { label: 'sample', vocab: V, logits: bufs.logits, result: bufs.result, tokens: bufs.tokens, params: bufs.samplerParams });
    const lnfP = createLayerNorm(ctx, { label: 'ln_f (last row, probed)', nEmbd: D, eps, x: bufs.x, g: lnfG, b: lnfB, y: bufs.xLast, lastRowOnly: true,
      probe: { buffer: bufs.probe, prev: probePrev, normSlot: NO_SLOT, diffSlot: layout.mlpWrite + nLayer - 1 } });
    decode.push(lnf, ...head, sample);
    prefill.push(lnf, ...head, sample);
    decodeProbe.push(lnfP, ...head, sample);
    prefillProbe.push(lnfP, ...head, sample);
    shortPlain.push(lnf, ...head, sample);
    shortProbe.push(lnfP, ...head, sample);

    const weightBytesPerToken = matBytes + wte.bytes + 2 * wte.kStride * 2 + vecBytes;

    await device.queue.onSubmittedWorkDone();
    const engine = new Gpt2Engine(gpu, ctx, pool, bufs, wte, wteChunks, layers, cfg, decode, prefill, decodeProbe, prefillProbe, layout, weightBytes, weightBytesPerToken, label);
    engine.variants = { ...chosen, measured };
    if (matmulShort) engine.prefillShort = { plain: shortPlain, probed: shortProbe };
    // For composition(): f16-rounded copies of c_proj (W_O rows) and the per-head norms of W_O and W_q|k|v.
    engine.wOForComposition = w.layers.map((l) => roundToF16(l.attnProjW));
    engine.oNorms = engine.wOForComposition.map((r) =>
      Float64Array.from({ length: nHead }, (_, h) => Math.sqrt(r.subarray(h * headDim * D, (h + 1) * headDim * D).reduce((t, v) => t + v * v, 0))));
    engine.qkvNorms = w.layers.map((l) => {
      const r = roundToF16(l.attnW);
      const n = new Float64Array(3 * nHead); // index x · nHead + h
      for (let k = 0; k < D; k++) for (let c = 0; c < 3 * D; c++) n[Math.floor(c / headDim)] += r[k * 3 * D + c] ** 2;
      return n.map(Math.sqrt);
    });
    engine.matrices = matrices;
    engine.activeHeads = layers.map((l) => l.activeHeads);
    engine.blockBytesPerToken = matBytes + (layers.length * (4 * D + 3 * D + D + 4 * D + D)) * 4 + 2 * wte.kStride * 2;
    return engine;
  }

  /** Number of GPU buffers this engine created (all at load). */
  get buffersCreated(): number {
    return this.pool.created;
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

  /** Encodes one step (one encoder, one pass), submits it and reads back the sampler result. */
  /** The prefill dispatches for a prompt of T tokens: the short-prompt variant's list up to its measured crossover. */
  prefillList(T: number, probes: boolean): readonly Dispatch[] {
    const short = this.prefillShort && T <= (this.variants.shortPrefillRows ?? 0);
    if (short) return probes ? this.prefillShort!.probed : this.prefillShort!.plain;
    return probes ? this.prefillProbeDispatches : this.prefillDispatches;
  }

  private async runStep(list: readonly Dispatch[], step: StepParams, probes: boolean): Promise<{ result: Uint32Array; probe?: Uint32Array }> {
    const { device } = this.gpu;
    writeStep(device, this.ctx.step, step);
    const enc = device.createCommandEncoder({ label: `${this.label} step @${step.pos0}` });
    const pass = enc.beginComputePass({ label: `${this.label} forward` });
    encodeDispatches(pass, list, step.T);
    pass.end();
    const resultBytes = SAMPLE_RESULT_WORDS * 4;
    const probeBytes = probes ? this.probeLayout.totalWords * 4 : 0;
    enc.copyBufferToBuffer(this.bufs.result, 0, this.bufs.staging, 0, resultBytes);
    if (probes) enc.copyBufferToBuffer(this.bufs.probe, 0, this.bufs.staging, resultBytes, probeBytes);
    device.queue.submit([enc.finish()]);
    await this.bufs.staging.mapAsync(GPUMapMode.READ, 0, resultBytes + probeBytes);
    const words = new Uint32Array(this.bufs.staging.getMappedRange(0, resultBytes + probeBytes).slice(0));
    this.bufs.staging.unmap();
    return { result: words.subarray(0, SAMPLE_RESULT_WORDS), probe: probes ? words.subarray(SAMPLE_RESULT_WORDS) : undefined };
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
    if (this.destroyed) throw new EngineInputError(`${this.label}: engine was destroyed`);
    if (this.busy) throw new EngineInputError(`${this.label}: a generation is already running on this engine`);
    this.checkIds(promptIds, 'generate');
    if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 0) throw new EngineInputError(`maxTokens must be a non-negative integer (got ${opts.maxTokens})`);
    const topK = opts.topK ?? 40;
    const temperature = opts.temperature ?? 1;
    if (!opts.greedy && !(temperature > 0)) throw new EngineInputError(`temperature must be > 0 (got ${temperature})`);
    if (!opts.greedy && (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP)) throw new EngineInputError(`topK must be 1..${MAX_TOP} (got ${topK})`);
    const nTop = opts.topLogits ?? 0;
    if (!Number.isInteger(nTop) || nTop < 0 || nTop > MAX_TOP) throw new EngineInputError(`topLogits must be 0..${MAX_TOP} (got ${nTop})`);

    this.busy = true;
    try {
      const { device } = this.gpu;
      const { nCtx } = this.config;
      writeView(device, this.bufs.samplerParams, 0, samplerParams(this.config.vocabSize, { greedy: opts.greedy, topK, temperature, nTop }));
      const probes = opts.probes ?? false;
      if (probes) writeView(device, this.bufs.thresholds, 0, thresholdData(opts.thresholds ?? DEFAULT_THRESHOLDS));
      const prefillList = this.prefillList(promptIds.length, probes);
      const decodeList = probes ? this.decodeProbeDispatches : this.decodeDispatches;
      writeView(device, this.bufs.tokens, 0, new Uint32Array(promptIds));
      const rand = mulberry32(opts.seed ?? 0x5eed);
      const ids: number[] = [];
      const steps: StepResult[] = [];
      const decodeMs: number[] = [];
      let prefillMs = 0;
      let stopReason: StopReason = 'max-tokens';
      const T = promptIds.length;
      let pos = T; // position of the next token to be fed
      for (let i = 0; i < opts.maxTokens; i++) {
        if (opts.signal?.aborted) { stopReason = 'aborted'; break; }
        if (i > 0 && pos >= nCtx) { stopReason = 'context-full'; break; }
        const t0 = performance.now();
        const { result: r, probe } = i === 0
          ? await this.runStep(prefillList, { pos0: 0, T, rand: rand(), writePos: T }, probes)
          : await this.runStep(decodeList, { pos0: pos, T: 1, rand: rand(), writePos: pos + 1 }, probes);
        const ms = performance.now() - t0;
        if (i === 0) prefillMs = ms;
        else { decodeMs.push(ms); pos++; }
        const s: StepResult = { index: i, pos: i === 0 ? T : pos, id: r[0], ms, top: Gpt2Engine.decodeTop(r) };
        if (probe) s.probes = parseProbes(probe, this.probeLayout, this.config.nEmbd);
        ids.push(s.id);
        steps.push(s);
        onStep?.(s);
      }
      const decodeTotal = decodeMs.reduce((a, b) => a + b, 0);
      return {
        promptIds: [...promptIds], ids, steps, prefillMs, decodeMs,
        decodeTokensPerS: decodeMs.length ? (decodeMs.length * 1000) / decodeTotal : 0,
        stopReason,
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
    const { nEmbd: D, vocabSize: V, layerNormEps: eps } = this.config;
    const T = ids.length;
    const all = device.createBuffer({ label: `${this.label}.logits (T, vocab)`, size: T * V * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const tmpPool = new BufferPool(device);
    const ctx = { ...this.ctx, pool: tmpPool };
    const lnf = createLayerNorm(ctx, { label: 'ln_f (all rows)', nEmbd: D, eps, x: this.bufs.x, g: this.bufs.lnfG, b: this.bufs.lnfB, y: this.bufs.xn });
    const short = this.prefillShort && T <= (this.variants.shortPrefillRows ?? 0);
    const variant = short ? this.variants.matmulShort! : this.variants.matmul;
    const heads = this.wteChunks.map((c, i) =>
      createMatmul(ctx, { label: `lm_head[${i}] (all rows)`, x: this.bufs.xn, w: c.binding, N: c.rowCount, K: D, kStride: this.wte.kStride, y: all, ldy: V, yOffset: c.rowStart, epilogue: 'none', variant }),
    );
    const blocks = this.prefillList(T, false);
    const nBlocks = blocks.length - (2 + this.wteChunks.length); // minus ln_f, heads, sample
    const list = [...blocks.slice(0, nBlocks), lnf, ...heads];
    writeView(device, this.bufs.tokens, 0, new Uint32Array(ids));
    writeStep(device, this.ctx.step, { pos0: 0, T, rand: 0, writePos: T });
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
    all.destroy();
    tmpPool.destroy();
    return Array.from({ length: T }, (_, t) => flat.subarray(t * V, (t + 1) * V));
  }

  private compositionCache: Promise<Float32Array> | null = null;

  /**
   * Composition strength between heads of different layers (the instrumentation's edges):
   * c[(l1,h1) -> (l2,h2)] = max over Q, K, V of ‖W_O^{h1} W_X^{h2}‖_F / (‖W_O^{h1}‖_F ‖W_X^{h2}‖_F), l1 < l2,
   * as a (nLayer·nHead)² row-major matrix. The products run on the GPU (one matmul of l1's c_proj
   * rows against l2's c_attn as the engine holds it, dense or BSR, then block norms), once per engine.
   */
  composition(): Promise<Float32Array> {
    this.compositionCache ??= this.computeComposition();
    return this.compositionCache;
  }

  private async computeComposition(): Promise<Float32Array> {
    const { device } = this.gpu;
    const { nLayer: L, nHead: H, nEmbd: D, headDim: hd } = this.config;
    const nodes = L * H;
    const strength = new Float32Array(nodes * nodes);
    if (L < 2) return strength;
    const tmp = new BufferPool(device);
    const ctx = { ...this.ctx, pool: tmp };
    const pairs: Array<[number, number]> = [];
    for (let l1 = 0; l1 < L - 1; l1++) for (let l2 = l1 + 1; l2 < L; l2++) pairs.push([l1, l2]);
    const sq = tmp.storage('composition |W_O W_X|^2', pairs.length * H * 3 * H * 4);
    const y = tmp.storage('composition W_O(l1) W_QKV(l2) (nEmbd, 3 nEmbd)', D * 3 * D * 4);
    // c_proj rows of every layer but the last, f16-rounded as the GPU holds them: (nEmbd in, nEmbd out).
    const wO = this.wOForComposition.map((a, l) => (l < L - 1 ? tmp.upload(`composition W_O(${l})`, a) : null));
    const blockPipeline = ctx.pipelines.get('blocknorm', { WG: 64 });
    const list: Dispatch[] = [];
    pairs.forEach(([l1, l2], i) => {
      list.push(linearDispatch(ctx, 'matmul', { label: `composition ${l1}->${l2}`, w: this.layers[l2].attnW, x: wO[l1]!, y, epilogue: 'none', M: D }, { ...this.variants, matmul: 'tiled' }));
      const params = tmp.uniform(`blocknorm ${l1}->${l2}`, new Uint32Array([H, hd, D, i * H * 3 * H]));
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
    const oNorm = this.oNorms;
    const xNorm = this.qkvNorms;
    pairs.forEach(([l1, l2], i) => {
      for (let h1 = 0; h1 < H; h1++) {
        for (let h2 = 0; h2 < H; h2++) {
          let c = 0;
          for (let x = 0; x < 3; x++) {
            const den = oNorm[l1][h1] * xNorm[l2][x * H + h2];
            if (den > 0) c = Math.max(c, Math.sqrt(Math.max(0, num[i * H * 3 * H + (h1 * 3 + x) * H + h2])) / den);
          }
          strength[(l1 * H + h1) * nodes + l2 * H + h2] = c;
        }
      }
    });
    return strength;
  }

  /**
   * GPU time of each op of one decode step at position pos (one pass per op, timestamp queries where
   * the adapter has them): for benchmarks. Uses the KV cache as the last generation left it.
   */
  async profileDecodeStep(pos: number): Promise<OpTiming[]> {
    if (pos < 0 || pos >= this.config.nCtx) throw new EngineInputError(`profileDecodeStep: position ${pos} outside the context`);
    writeStep(this.gpu.device, this.ctx.step, { pos0: pos, T: 1, rand: 0, writePos: pos + 1 });
    return profileDispatches(this.gpu.device, this.decodeDispatches, 1, 1);
  }

  destroy(): void {
    this.destroyed = true;
    this.pool.destroy();
  }
}
