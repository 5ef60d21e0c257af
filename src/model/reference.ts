// The CPU reference forward pass of GPT-2: plain TypeScript, built from the kernels' CPU references,
// with weights rounded through f16 exactly as the GPU holds them. Tests compare the engine against it.
// An optional probe sink sees each block's intermediate values (the instrumentation's CPU reference,
// src/probes/metrics.ts); without one the forward pass is exactly what it was.
//
//   x = wte[ids] + wpe[pos]
//   for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
//   logits = ln_f(x) · wteᵀ

import type { Gpt2Weights } from './checkpoint';
import { roundToF16 } from '../shared/f16';
import { embedRef } from '../kernels/embed';
import { layerNormRef } from '../kernels/layernorm';
import { linearRef, conv1dToRows } from '../kernels/linear';
import { ATTN_TOP_K } from '../shared/probes';
import { attentionRef, newKvCacheRef, type KvCacheRef } from '../kernels/attention';

/**
 * What one transformer block computed for rows pos0..pos0+T-1, handed to a ProbeSink. All arrays are
 * row-major (T, ·), fresh for this call and owned by the sink afterwards.
 */
export interface LayerTrace {
  layer: number;
  /** Context position of the first row. */
  pos0: number;
  T: number;
  /** x_l: the residual stream entering the block (ln_1's input), (T, nEmbd). */
  resid: Float32Array;
  /** Attention output before c_proj, heads side by side: z_h of row t is [t·nEmbd + h·headDim, +headDim). */
  attnHeads: Float32Array;
  /** What attention adds to the residual stream: attnHeads · c_proj + c_proj bias, (T, nEmbd). */
  attnWrite: Float32Array;
  /** Post-GELU MLP activations, (T, 4·nEmbd). */
  mlpAct: Float32Array;
  /** What the MLP adds to the residual stream: mlpAct · c_proj + c_proj bias, (T, nEmbd). */
  mlpWrite: Float32Array;
  /** Each row's attention top ATTN_TOP_K (position, weight) per head, (T, nHead, k). */
  attnTop: { pos: Uint32Array; weight: Float32Array };
}

/** Receives every block's trace, in layer order, during CpuGpt2.forward. */
export type ProbeSink = (trace: LayerTrace) => void;

interface RefLayer {
  ln1G: Float32Array; ln1B: Float32Array; ln2G: Float32Array; ln2B: Float32Array;
  attnW: Float32Array; attnB: Float32Array; attnProjW: Float32Array; attnProjB: Float32Array;
  fcW: Float32Array; fcB: Float32Array; fcProjW: Float32Array; fcProjB: Float32Array;
  cache: KvCacheRef;
}

export class CpuGpt2 {
  private readonly layers: RefLayer[];
  private readonly wte: Float32Array;
  private readonly wpe: Float32Array;
  /** Next free position in the KV cache. */
  pos = 0;
  /** Per layer, each head's gate: 1, or 0 when ablated (setAblatedHeads). */
  private gates: Float32Array[];

  constructor(private readonly w: Gpt2Weights) {
    const { nEmbd: D, nHead, nCtx, headDim } = w.config;
    this.wte = roundToF16(w.wte);
    this.wpe = roundToF16(w.wpe);
    // Matrices to GPU row order (out, in), f16-rounded; LayerNorm and bias vectors stay f32 as on the GPU.
    const rows = (a: Float32Array, K: number, N: number) => roundToF16(conv1dToRows(a, K, N));
    this.layers = w.layers.map((l) => ({
      ln1G: l.ln1G, ln1B: l.ln1B, ln2G: l.ln2G, ln2B: l.ln2B,
      attnW: rows(l.attnW, D, 3 * D), attnB: l.attnB,
      attnProjW: rows(l.attnProjW, D, D), attnProjB: l.attnProjB,
      fcW: rows(l.fcW, D, 4 * D), fcB: l.fcB,
      fcProjW: rows(l.fcProjW, 4 * D, D), fcProjB: l.fcProjB,
      cache: newKvCacheRef(nHead, nCtx, headDim),
    }));
    this.gates = w.layers.map(() => new Float32Array(nHead).fill(1));
  }

  /** Zero-ablates heads (ids layer · nHead + head) from the next forward on, as the engine's head mask does. */
  setAblatedHeads(heads: readonly number[]): void {
    const H = this.w.config.nHead;
    for (const g of this.gates) g.fill(1);
    for (const n of heads) this.gates[Math.floor(n / H)][n % H] = 0;
  }

  reset(): void {
    this.pos = 0;
  }

  /**
   * Runs ids at positions pos.. and returns the logits of every row, (T, vocab) as T arrays. With a probe,
   * each block's trace goes to it; the writes are computed separately for it (the residual update itself
   * is untouched), so the logits are bit-identical with and without a probe.
   */
  forward(ids: number[], probe?: ProbeSink): Float32Array[] {
    const { nEmbd: D, nHead, nCtx, headDim, vocabSize: V, layerNormEps: eps } = this.w.config;
    const T = ids.length;
    if (this.pos + T > nCtx) throw new Error(`reference: ${this.pos + T} positions exceed the context ${nCtx}`);
    const x = embedRef(this.wte, this.wpe, D, ids, this.pos); // (T, nEmbd)
    this.layers.forEach((l, layer) => {
      const resid = probe ? x.slice() : undefined;
      const a = layerNormRef(x, T, D, l.ln1G, l.ln1B, eps);
      const qkv = linearRef({ x: a, w: l.attnW, bias: l.attnB, M: T, N: 3 * D, K: D, epilogue: 'none' }); // (T, 3 nEmbd)
      const attnTop = probe ? { pos: new Uint32Array(T * nHead * ATTN_TOP_K), weight: new Float32Array(T * nHead * ATTN_TOP_K) } : undefined;
      const att = attentionRef(qkv, T, this.pos, l.cache, nHead, headDim, nCtx, this.gates[layer], attnTop); // (T, nEmbd)
      linearRef({ x: att, w: l.attnProjW, bias: l.attnProjB, M: T, N: D, K: D, epilogue: 'residual', y: x });
      const m = layerNormRef(x, T, D, l.ln2G, l.ln2B, eps);
      const h = linearRef({ x: m, w: l.fcW, bias: l.fcB, M: T, N: 4 * D, K: D, epilogue: 'gelu' }); // (T, 4 nEmbd)
      linearRef({ x: h, w: l.fcProjW, bias: l.fcProjB, M: T, N: D, K: 4 * D, epilogue: 'residual', y: x });
      if (probe && resid) {
        probe({
          layer, pos0: this.pos, T, resid,
          attnHeads: att,
          attnWrite: linearRef({ x: att, w: l.attnProjW, bias: l.attnProjB, M: T, N: D, K: D, epilogue: 'none' }),
          mlpAct: h,
          mlpWrite: linearRef({ x: h, w: l.fcProjW, bias: l.fcProjB, M: T, N: D, K: 4 * D, epilogue: 'none' }),
          attnTop: attnTop!,
        });
      }
    });
    const f = layerNormRef(x, T, D, this.w.lnfG, this.w.lnfB, eps);
    const logits = linearRef({ x: f, w: this.wte, M: T, N: V, K: D, epilogue: 'none' }); // (T, vocab)
    this.pos += T;
    return Array.from({ length: T }, (_, t) => logits.subarray(t * V, (t + 1) * V));
  }
}
