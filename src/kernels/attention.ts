// Causal multi-head attention over the KV cache (shaders/attention.wgsl) and its CPU reference.

import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, stepUniform, type Dispatch, type KernelContext } from './kernel';
import { ATTN_TOP_K, NO_POSITION } from '../shared/probes';

/** shaders/attention.wgsl's Params. */
export const attentionParams = defineUniform('Params', [
  { name: 'nHead', type: 'u32' },
  { name: 'headDim', type: 'u32' },
  { name: 'nEmbd', type: 'u32' },
  { name: 'nCtx', type: 'u32' },
  { name: 'scale', type: 'f32' }, // 1 / sqrt(headDim)
  { name: 'xNormWord', type: 'u32' }, // PROBE: probe word holding ‖x_l‖₂
  { name: 'headWord', type: 'u32' }, // PROBE: probe word of head 0's activity
  { name: 'maskBase', type: 'u32' }, // this layer's first entry in the head mask (layer · nHead)
  { name: 'topWord', type: 'u32' }, // PROBE: probe word of head 0's top-k (position, weight) pairs
  { name: '_pad0', type: 'u32' },
  { name: '_pad1', type: 'u32' },
  { name: '_pad2', type: 'u32' },
]);

export const ATTENTION_SHADER = shaderUniforms('attention', { 0: attentionParams, 1: stepUniform });

/**
 * Threads per (head, row) workgroup. Every loop strides by WG, so any size is correct; the cost is the
 * kernel's barriers (max, sum, output, probe), which a software adapter pays per thread. 'coop': 32, one
 * warp on real GPUs, where a decode row's at most nCtx keys still give each thread nCtx / 32. 'narrow': 8,
 * for adapters that pay per invocation at a barrier (SwiftShader, the dense embedded model's 8 layers at
 * decode, two alternating pairs: 10.6 and 9.0 ms -> 5.0 and 3.8 ms; 32 had already beaten 64 there).
 * Chosen by measurement at load, like the gemv and LayerNorm variants.
 */
export type AttentionVariant = 'coop' | 'narrow';
export const ATTENTION_WG: Record<AttentionVariant, number> = { coop: 32, narrow: 8 };

export function createAttention(
  ctx: KernelContext,
  o: {
    label: string; nHead: number; headDim: number; nCtx: number; qkv: GPUBuffer; kCache: GPUBuffer; vCache: GPUBuffer; out: GPUBuffer;
    /** Indices of the heads to run (u32); the others are skipped and their output slice left untouched. */
    heads: GPUBuffer;
    nActive: number;
    /** (nLayer, nHead) f32 gates, 1 to keep a head and 0 to ablate it; this layer's start at maskBase. */
    headMask: GPUBuffer;
    maskBase: number;
    /**
     * Instrumentation: write each run head's activity for the last row into the probe buffer, at word
     * headWord + h, dividing by the ‖x_l‖ at word xNormWord, and its ATTN_TOP_K largest attention weights
     * with their positions at topWord + 2·ATTN_TOP_K·h. Heads not run keep their words (zero).
     */
    probe?: { buffer: GPUBuffer; gram: GPUBuffer; xNormWord: number; headWord: number; topWord: number };
    variant?: AttentionVariant;
  },
): Dispatch {
  const WG = ATTENTION_WG[o.variant ?? 'coop'];
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  const maxHeadDim = Math.max(32, o.headDim);
  const need = (o.nCtx + maxHeadDim + WG) * 4;
  if (need > limit) {
    throw new Error(`${o.label}: context ${o.nCtx} needs ${need} bytes of workgroup memory; this adapter allows ${limit}`);
  }
  const pipeline = ctx.pipelines.get(ATTENTION_SHADER.shader, { WG, MAX_CTX: o.nCtx, MAX_HEAD_DIM: maxHeadDim, PROBE: o.probe ? 1 : 0 });
  const params = ctx.pool.uniform(`${o.label} params`, attentionParams.pack({
    nHead: o.nHead,
    headDim: o.headDim,
    nEmbd: o.nHead * o.headDim,
    nCtx: o.nCtx,
    scale: 1 / Math.sqrt(o.headDim),
    xNormWord: o.probe?.xNormWord ?? 0,
    headWord: o.probe?.headWord ?? 0,
    maskBase: o.maskBase,
    topWord: o.probe?.topWord ?? 0,
  }));
  return {
    label: o.label,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, ctx.step, o.qkv, o.kCache, o.vCache, o.out, o.heads, o.probe?.gram ?? ctx.zeros, o.probe?.buffer ?? ctx.scratch, o.headMask]),
    grid: (T: number) => [o.nActive, T, 1],
  };
}

/** A CPU KV cache with the GPU's layout: (nHead, nCtx, headDim) for K and for V. */
export interface KvCacheRef {
  k: Float32Array;
  v: Float32Array;
}

export function newKvCacheRef(nHead: number, nCtx: number, headDim: number): KvCacheRef {
  return { k: new Float32Array(nHead * nCtx * headDim), v: new Float32Array(nHead * nCtx * headDim) };
}

/**
 * out (T, nEmbd) = causal softmax(q kᵀ / sqrt(headDim)) v, writing this chunk's K/V into cache; head h's
 * output scaled by gate[h] when given (0 ablates it, as the GPU's head mask does).
 */
export function attentionRef(
  qkv: Float32Array,
  T: number,
  pos0: number,
  cache: KvCacheRef,
  nHead: number,
  headDim: number,
  nCtx: number,
  gate?: ArrayLike<number>,
  /** Receives each row's ATTN_TOP_K largest weights and their positions, (T, nHead, k), as the probed kernel writes them. */
  top?: { pos: Uint32Array; weight: Float32Array },
): Float32Array {
  const D = nHead * headDim;
  const out = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nHead; h++) {
      const c = (h * nCtx + pos0 + t) * headDim;
      for (let d = 0; d < headDim; d++) {
        cache.k[c + d] = qkv[t * 3 * D + D + h * headDim + d];
        cache.v[c + d] = qkv[t * 3 * D + 2 * D + h * headDim + d];
      }
    }
  }
  const scale = 1 / Math.sqrt(headDim);
  const scores = new Float64Array(nCtx);
  for (let t = 0; t < T; t++) {
    const n = pos0 + t + 1;
    for (let h = 0; h < nHead; h++) {
      const q = t * 3 * D + h * headDim;
      let mx = -Infinity;
      for (let j = 0; j < n; j++) {
        let s = 0;
        const kb = (h * nCtx + j) * headDim;
        for (let d = 0; d < headDim; d++) s += qkv[q + d] * scale * cache.k[kb + d];
        scores[j] = s;
        if (s > mx) mx = s;
      }
      let sum = 0;
      for (let j = 0; j < n; j++) {
        scores[j] = Math.exp(scores[j] - mx);
        sum += scores[j];
      }
      if (top) {
        // Weight-descending, ties to the lower position (a stable sort of the positions).
        const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => scores[b] - scores[a]);
        for (let k = 0; k < ATTN_TOP_K; k++) {
          const at = (t * nHead + h) * ATTN_TOP_K + k;
          top.pos[at] = k < n ? order[k] : NO_POSITION;
          top.weight[at] = k < n ? scores[order[k]] / sum : 0;
        }
      }
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += scores[j] * cache.v[(h * nCtx + j) * headDim + d];
        out[t * D + h * headDim + d] = (acc / sum) * (gate ? gate[h] : 1);
      }
    }
  }
  return out;
}
