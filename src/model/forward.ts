// The forward pass, written once: for a mode (one row or many, probes on or off, the matmul variant,
// logits of the last row or of all rows) the list of dispatches that computes it, per layer
//     x = x + attn(ln_1(x));   x = x + mlp(ln_2(x))
// Plans and the dispatches they share are built once and memoised; a step only encodes a plan.

import { BufferPool } from '../gpu/buffers';
import { createAttention, type AttentionVariant } from '../kernels/attention';
import { ATTN_TOP_K } from '../shared/probes';
import { createBsrGemv, createBsrMatmul, type GpuBsrMatrix } from '../kernels/bsr';
import { createEmbed } from '../kernels/embed';
import type { Epilogue, NeuronProbe } from '../kernels/gelu';
import { createGemv, type GemvVariant } from '../kernels/gemv';
import type { Dispatch, KernelContext } from '../kernels/kernel';
import { createLayerNorm, type LayerNormVariant } from '../kernels/layernorm';
import { createMatmul, type MatmulVariant } from '../kernels/matmul';
import type { PackedMatrix, RowChunk } from '../kernels/packed';
import { createNeuronProbe, NO_SLOT, type ProbeLayout } from '../kernels/probe';
import { createSample, type SampleVariant } from '../kernels/sample';
import type { GPT2Config } from './config';

/** One weight matrix on the GPU, dense f16 rows or BSR, with the kernels that read it. */
export type LinearWeights = { kind: 'dense'; m: PackedMatrix } | { kind: 'bsr'; m: GpuBsrMatrix };

/** One transformer block's weights and KV cache on the GPU. */
export interface LayerGpu {
  ln1G: GPUBuffer; ln1B: GPUBuffer; ln2G: GPUBuffer; ln2B: GPUBuffer;
  attnW: LinearWeights; attnB: GPUBuffer;
  attnProjW: LinearWeights; attnProjB: GPUBuffer;
  fcW: LinearWeights; fcB: GPUBuffer;
  fcProjW: LinearWeights; fcProjB: GPUBuffer;
  /** (nHead, nCtx, headDim) each. */
  kCache: GPUBuffer; vCache: GPUBuffer;
  /** Heads whose output projection is not all zero (the others contribute nothing and are skipped). */
  activeHeads: number[];
  /** activeHeads as a u32 storage buffer for attention. */
  heads: GPUBuffer;
  /** Probes: G_h = W_O^h W_O^hᵀ per head, (nHead, headDim, headDim). */
  gram: GPUBuffer;
}

/** The activations and per-step buffers every plan reads and writes (sized for a full-context prefill). */
export interface ActivationBuffers {
  tokens: GPUBuffer;
  /** (nCtx, nEmbd) residual stream; xn the LayerNorm output; qkv (nCtx, 3 nEmbd); att (nCtx, nEmbd); h (nCtx, 4 nEmbd). */
  x: GPUBuffer; xn: GPUBuffer; qkv: GPUBuffer; att: GPUBuffer; h: GPUBuffer;
  /** (nEmbd) ln_f of the last row; logits (vocab) of the last row. */
  xLast: GPUBuffer; logits: GPUBuffer;
  /** The sampler's result words, and its parameters uniform. */
  result: GPUBuffer; samplerParams: GPUBuffer;
  /** Probe words, the previous probed row (nEmbd), the thresholds uniform. */
  probe: GPUBuffer; probePrev: GPUBuffer; thresholds: GPUBuffer;
  /** (nLayer, nHead) f32 ablation gates read by attention: 1 keeps a head, 0 zeroes its output. */
  headMask: GPUBuffer;
}

/** The embeddings and the final LayerNorm (the LM head is wte, tied). */
export interface EmbeddingsGpu {
  wte: PackedMatrix;
  /** wte bound in row chunks that respect maxStorageBufferBindingSize. */
  wteChunks: RowChunk[];
  wpe: PackedMatrix;
  lnfG: GPUBuffer; lnfB: GPUBuffer;
}

export interface KernelVariants {
  gemv: GemvVariant;
  /** LayerNorm threads per row (every LayerNorm, decode and prefill). */
  layernorm: LayerNormVariant;
  /** Attention threads per (head, row). */
  attention: AttentionVariant;
  /** Threads of the sampler's one workgroup; 'wide' when not given. */
  sample?: SampleVariant;
  /** Prefill matmul variant (for prompts longer than shortPrefillRows when matmulShort is set). */
  matmul: MatmulVariant;
  /** Prefill matmul variant for prompts of at most shortPrefillRows tokens, where the measurement found one that differs. */
  matmulShort?: MatmulVariant;
  shortPrefillRows?: number;
}

export interface ForwardMode {
  /** 'one': a decode step (matrix-vector kernels); 'many': a prefill of T rows (matrix-matrix). */
  rows: 'one' | 'many';
  /** The probed twins of ln_1, attention, ln_2 and c_fc (what fired is written into the probe buffer). */
  probes: boolean;
  /** Matmul variant for rows 'many' (ignored for 'one'). */
  matmul?: MatmulVariant;
  /** 'last': ln_f and the LM head on the last row, then the sampler; 'all': logits of every row into `allLogits`. */
  logits: 'last' | 'all';
}

/** A linear layer's dispatch: dense or BSR, matrix-vector (decode) or matrix-matrix (prefill). */
export function linearDispatch(
  ctx: KernelContext,
  kind: 'gemv' | 'matmul',
  o: { label: string; w: LinearWeights; bias?: GPUBuffer; x: GPUBuffer; y: GPUBuffer; epilogue: Epilogue; M?: number; neurons?: NeuronProbe },
  variants: { gemv: GemvVariant; matmul: MatmulVariant },
): Dispatch {
  const { w } = o;
  if (w.kind === 'bsr') {
    return kind === 'gemv'
      ? createBsrGemv(ctx, { label: o.label, w: w.m, bias: o.bias, x: o.x, y: o.y, epilogue: o.epilogue, variant: variants.gemv, neurons: o.neurons })
      : createBsrMatmul(ctx, { label: o.label, x: o.x, w: w.m, M: o.M, bias: o.bias, y: o.y, epilogue: o.epilogue, variant: variants.matmul });
  }
  const m = w.m;
  return kind === 'gemv'
    ? createGemv(ctx, { label: o.label, w: m.buffer, wScale: m.code.scale, N: m.rows, K: m.cols, kStride: m.kStride, bias: o.bias, x: o.x, y: o.y, epilogue: o.epilogue, variant: variants.gemv, neurons: o.neurons })
    : createMatmul(ctx, { label: o.label, x: o.x, w: m.buffer, wScale: m.code.scale, M: o.M, N: m.rows, K: m.cols, kStride: m.kStride, bias: o.bias, y: o.y, epilogue: o.epilogue, variant: variants.matmul });
}

type LinearName = 'attn.c_attn' | 'attn.c_proj' | 'mlp.c_fc' | 'mlp.c_proj';

export interface ForwardInputs {
  label: string;
  ctx: KernelContext;
  config: GPT2Config;
  emb: EmbeddingsGpu;
  layers: LayerGpu[];
  bufs: ActivationBuffers;
  layout: ProbeLayout;
  variants: KernelVariants;
}

/** The plans of one engine: every mode's dispatch list, and the dispatches they share, built once. */
export class ForwardPlans {
  private readonly ops = new Map<string, unknown>();
  private readonly plans = new Map<string, readonly Dispatch[]>();
  /** Rows of the (rows, vocab) all-rows logits buffer the 'all' plans write; grown on demand. */
  private allRows = 0;
  private allPool: BufferPool | null = null;
  private allLogitsBuffer: GPUBuffer | null = null;

  constructor(private readonly s: ForwardInputs) {}

  /** The dispatch list for a mode (memoised: the same array for the same mode). */
  plan(mode: ForwardMode): readonly Dispatch[] {
    const matmul = mode.rows === 'many' ? (mode.matmul ?? this.s.variants.matmul) : undefined;
    const key = `${mode.rows}|${mode.probes ? 'probed' : 'plain'}|${matmul ?? '-'}|${mode.logits}`;
    let p = this.plans.get(key);
    if (!p) {
      p = this.build({ ...mode, matmul });
      this.plans.set(key, p);
    }
    return p;
  }

  /** The prefill variant for a prompt of T tokens: the short-prompt one up to its measured crossover. */
  prefillMatmul(T: number): MatmulVariant {
    const v = this.s.variants;
    return v.matmulShort && T <= (v.shortPrefillRows ?? 0) ? v.matmulShort : v.matmul;
  }

  /** The (rows, vocab) buffer the 'all' plans write, with room for at least T rows (plans rebuilt when it grows). */
  allLogits(T: number): GPUBuffer {
    if (T > this.allRows || !this.allLogitsBuffer) {
      const { ctx, config } = this.s;
      this.dropAllRowsPlans();
      this.allRows = Math.min(config.nCtx, Math.ceil(T / 32) * 32);
      // A pool of its own: the head's uniforms for this capacity go with the buffer when it is regrown.
      this.allPool = new BufferPool(ctx.device);
      this.allLogitsBuffer = this.allPool.create(`${this.s.label}.logits (rows, vocab)`, this.allRows * config.vocabSize * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    }
    return this.allLogitsBuffer;
  }

  destroy(): void {
    this.dropAllRowsPlans();
  }

  private dropAllRowsPlans(): void {
    for (const k of [...this.plans.keys()]) if (k.endsWith('|all')) this.plans.delete(k);
    for (const k of [...this.ops.keys()]) if (k.startsWith('lm_head all')) this.ops.delete(k);
    this.allPool?.destroy();
    this.allPool = null;
    this.allLogitsBuffer = null;
    this.allRows = 0;
  }

  private op<T>(key: string, make: () => T): T {
    if (!this.ops.has(key)) this.ops.set(key, make());
    return this.ops.get(key) as T;
  }

  private build(mode: ForwardMode): Dispatch[] {
    const list: Dispatch[] = [...this.embed()];
    this.s.layers.forEach((_, i) => {
      // x = x + attn(ln_1(x)):  (T, nEmbd) -> (T, 3 nEmbd) -> attention -> (T, nEmbd), c_proj adds into x
      list.push(this.ln(i, 1, mode.probes), this.linear(i, 'attn.c_attn', mode), this.attention(i, mode.probes), this.linear(i, 'attn.c_proj', mode));
      // x = x + mlp(ln_2(x)):   (T, nEmbd) -> gelu (T, 4 nEmbd) -> (T, nEmbd), c_proj adds into x
      list.push(this.ln(i, 2, mode.probes), this.linear(i, 'mlp.c_fc', mode));
      // Prefill's neuron bits come from one small dispatch over h (decode sets them in c_fc's epilogue).
      if (mode.probes && mode.rows === 'many') list.push(this.neuronProbe(i));
      list.push(this.linear(i, 'mlp.c_proj', mode));
    });
    list.push(...(mode.logits === 'last' ? this.lastRowHead(mode.probes) : this.allRowsHead(mode.matmul!)));
    return list;
  }

  private embed(): Dispatch[] {
    const { ctx, emb, bufs } = this.s;
    return this.op('embed', () => createEmbed(ctx, { wte: emb.wte, wteChunks: emb.wteChunks, wpe: emb.wpe, tokens: bufs.tokens, x: bufs.x }));
  }

  /** ln_1 or ln_2 of layer i. Probed: ln_1 records ‖x_l‖ and the previous MLP's write, ln_2 attention's write and clears the layer's neuron bits. */
  private ln(i: number, which: 1 | 2, probes: boolean): Dispatch {
    return this.op(`ln_${which} ${i} ${probes}`, () => {
      const { ctx, config, layers, bufs, layout } = this.s;
      const l = layers[i];
      const args = {
        label: `h.${i}.ln_${which}`, nEmbd: config.nEmbd, eps: config.layerNormEps, x: bufs.x,
        g: which === 1 ? l.ln1G : l.ln2G, b: which === 1 ? l.ln1B : l.ln2B, y: bufs.xn,
        variant: this.s.variants.layernorm,
      };
      if (!probes) return createLayerNorm(ctx, args);
      const probe = which === 1
        ? { buffer: bufs.probe, prev: bufs.probePrev, normSlot: layout.xNorm + i, diffSlot: i > 0 ? layout.mlpWrite + i - 1 : NO_SLOT }
        : { buffer: bufs.probe, prev: bufs.probePrev, normSlot: NO_SLOT, diffSlot: layout.attnWrite + i, clearBits: { word: this.bitsWord(i), words: layout.words } };
      return createLayerNorm(ctx, { ...args, probe });
    });
  }

  private bitsWord(i: number): number {
    return this.s.layout.bits + i * this.s.layout.words;
  }

  private attention(i: number, probes: boolean): Dispatch {
    return this.op(`attn ${i} ${probes}`, () => {
      const { ctx, config, layers, bufs, layout } = this.s;
      const l = layers[i];
      const args = {
        label: `h.${i}.attn${probes ? ' (probed)' : ''}`, nHead: config.nHead, headDim: config.headDim, nCtx: config.nCtx,
        qkv: bufs.qkv, kCache: l.kCache, vCache: l.vCache, out: bufs.att, heads: l.heads, nActive: l.activeHeads.length,
        headMask: bufs.headMask, maskBase: i * config.nHead, variant: this.s.variants.attention,
      };
      return createAttention(ctx, probes
        ? { ...args, probe: { buffer: bufs.probe, gram: l.gram, xNormWord: layout.xNorm + i, headWord: layout.head + i * config.nHead, topWord: layout.attnTop + i * config.nHead * 2 * ATTN_TOP_K } }
        : args);
    });
  }

  private linear(i: number, name: LinearName, mode: ForwardMode): Dispatch {
    const kind = mode.rows === 'one' ? 'gemv' : 'matmul';
    const neurons = name === 'mlp.c_fc' && mode.probes && kind === 'gemv';
    const variant = kind === 'gemv' ? this.s.variants.gemv : mode.matmul!;
    return this.op(`linear ${i} ${name} ${kind} ${variant} ${neurons}`, () => {
      const { ctx, layers, bufs, variants } = this.s;
      const l = layers[i];
      const spec = {
        'attn.c_attn': { w: l.attnW, bias: l.attnB, x: bufs.xn, y: bufs.qkv, epilogue: 'none' as const },
        'attn.c_proj': { w: l.attnProjW, bias: l.attnProjB, x: bufs.att, y: bufs.x, epilogue: 'residual' as const },
        'mlp.c_fc': { w: l.fcW, bias: l.fcB, x: bufs.xn, y: bufs.h, epilogue: 'gelu' as const },
        'mlp.c_proj': { w: l.fcProjW, bias: l.fcProjB, x: bufs.h, y: bufs.x, epilogue: 'residual' as const },
      }[name];
      return linearDispatch(ctx, kind, {
        ...spec,
        label: `h.${i}.${name}${neurons ? ' (probed)' : ''}`,
        neurons: neurons ? { thresholds: bufs.thresholds, bits: bufs.probe, word: this.bitsWord(i) } : undefined,
      }, { ...variants, matmul: kind === 'matmul' ? variant as MatmulVariant : variants.matmul });
    });
  }

  private neuronProbe(i: number): Dispatch {
    return this.op(`neuron probe ${i}`, () => {
      const { ctx, config, bufs, layout } = this.s;
      return createNeuronProbe(ctx, { label: `h.${i}.neuron probe`, cfg: config, layer: i, layout, thresholds: bufs.thresholds, h: bufs.h, probe: bufs.probe });
    });
  }

  /** ln_f of the last row only, the tied LM head over wte's row chunks, then the sampler. */
  private lastRowHead(probes: boolean): Dispatch[] {
    return this.op(`lm_head last ${probes}`, () => {
      const { ctx, config, emb, bufs, layout, variants } = this.s;
      const lnArgs = { nEmbd: config.nEmbd, eps: config.layerNormEps, x: bufs.x, g: emb.lnfG, b: emb.lnfB, y: bufs.xLast, lastRowOnly: true, variant: this.s.variants.layernorm };
      const lnf = this.op(`ln_f last ${probes}`, () => probes
        ? createLayerNorm(ctx, { ...lnArgs, label: 'ln_f (last row, probed)', probe: { buffer: bufs.probe, prev: bufs.probePrev, normSlot: NO_SLOT, diffSlot: layout.mlpWrite + config.nLayer - 1 } })
        : createLayerNorm(ctx, { ...lnArgs, label: 'ln_f (last row)' }));
      const head = this.op('lm_head gemv', () => emb.wteChunks.map((c, i) =>
        createGemv(ctx, { label: `lm_head[${i}]`, w: c.binding, wScale: emb.wte.code.scale, N: c.rowCount, K: config.nEmbd, kStride: emb.wte.kStride, x: bufs.xLast, y: bufs.logits, yOffset: c.rowStart, epilogue: 'none', variant: variants.gemv })));
      const sample = this.op('sample', () => createSample(ctx, { label: 'sample', vocab: config.vocabSize, logits: bufs.logits, result: bufs.result, tokens: bufs.tokens, params: bufs.samplerParams, variant: this.s.variants.sample }));
      return [lnf, ...head, sample];
    });
  }

  /** ln_f of every row, then the LM head as a matmul into the (rows, vocab) logits buffer (tests, perplexity). */
  private allRowsHead(matmul: MatmulVariant): Dispatch[] {
    const { ctx, config, emb, bufs } = this.s;
    const all = this.allLogits(1);
    const lnf = this.op('ln_f all', () => createLayerNorm(ctx, { label: 'ln_f (all rows)', nEmbd: config.nEmbd, eps: config.layerNormEps, x: bufs.x, g: emb.lnfG, b: emb.lnfB, y: bufs.xn, variant: this.s.variants.layernorm }));
    const head = this.op(`lm_head all ${matmul}`, () => {
      const hctx = { ...ctx, pool: this.allPool! };
      return emb.wteChunks.map((c, i) =>
        createMatmul(hctx, { label: `lm_head[${i}] (all rows)`, x: bufs.xn, w: c.binding, wScale: emb.wte.code.scale, N: c.rowCount, K: config.nEmbd, kStride: emb.wte.kStride, y: all, ldy: config.vocabSize, yOffset: c.rowStart, epilogue: 'none', variant: matmul }));
    });
    return [lnf, ...head];
  }
}
