// The decode floor: the least time a decode step can take on an adapter, from what the step must
// read (bytes) and compute (flops) and what the adapter achieves (src/kernels/roofline.ts):
// floor = max(bytes / bandwidth, flops / arithmetic rate). An engine's pct_of_floor is floor / its
// measured ms per token: 100% would be a step that only streams its weights at the measured bandwidth.

import type { GPT2Config } from '../model/config';

export interface DecodeCost {
  /** Bytes a decode step reads: weights as this engine stores them, plus the KV cache. */
  bytesPerToken: number;
  /** Floating-point operations of a decode step (a multiply-add counts 2). */
  flopsPerToken: number;
}

export interface Rates {
  bytesPerS: number;
  flopsPerS: number;
}

/** (rows, cols) of a block's matrix by its name's suffix, GPU row order (out, in). */
export function matrixShape(matrixName: string, nEmbd: number): [number, number] {
  const name = matrixName.replace(/\.weight$/, '');
  if (name.endsWith('attn.c_attn')) return [3 * nEmbd, nEmbd];
  if (name.endsWith('attn.c_proj')) return [nEmbd, nEmbd];
  if (name.endsWith('mlp.c_fc')) return [4 * nEmbd, nEmbd];
  if (name.endsWith('mlp.c_proj')) return [nEmbd, 4 * nEmbd];
  throw new Error(`matrixShape: unknown matrix ${matrixName}`);
}

/** Attention's share at a position: q·K and p·V over pos + 1 keys per run head. */
function attentionCost(cfg: GPT2Config, heads: number, pos: number, kvBytesPerValue: number): DecodeCost {
  const keys = pos + 1;
  return { bytesPerToken: 2 * heads * keys * cfg.headDim * kvBytesPerValue, flopsPerToken: 4 * heads * keys * cfg.headDim };
}

/**
 * This project's engine: the weight bytes it reads per token (its own count: f16 dense rows or BSR
 * blocks, the LM head, one embedding row, vectors), flops over the blocks its kernels multiply
 * (dense matrices in full, BSR matrices by block density), and attention over its run heads.
 */
export function engineDecodeCost(
  cfg: GPT2Config,
  e: { weightBytesPerToken: number; matrices: ReadonlyArray<{ name: string; kind: 'dense' | 'bsr'; blockDensity: number }>; activeHeads: readonly number[][] },
  pos: number,
): DecodeCost {
  let macs = cfg.vocabSize * cfg.nEmbd; // LM head
  for (const m of e.matrices) {
    const [r, c] = matrixShape(m.name, cfg.nEmbd);
    macs += r * c * (m.kind === 'bsr' ? m.blockDensity : 1);
  }
  const heads = e.activeHeads.reduce((n, h) => n + h.length, 0);
  const att = attentionCost(cfg, heads, pos, 4);
  return { bytesPerToken: e.weightBytesPerToken + att.bytesPerToken, flopsPerToken: 2 * macs + att.flopsPerToken };
}

/**
 * A dense GPT-2 held with `bytesPerWeight` per weight (4 for the f32 ONNX export): every matrix, the tied
 * LM head, one wte and one wpe row, LayerNorm and bias vectors, and attention over every head.
 */
export function denseDecodeCost(cfg: GPT2Config, bytesPerWeight: number, pos: number): DecodeCost {
  const D = cfg.nEmbd;
  const blockWeights = cfg.nLayer * 12 * D * D;
  const vectors = cfg.nLayer * (4 * D + 3 * D + D + 4 * D + D) + 2 * D;
  const weights = blockWeights + cfg.vocabSize * D + 2 * D + vectors;
  const att = attentionCost(cfg, cfg.nLayer * cfg.nHead, pos, 4);
  return { bytesPerToken: weights * bytesPerWeight + att.bytesPerToken, flopsPerToken: 2 * (blockWeights + cfg.vocabSize * D) + att.flopsPerToken };
}

/** The floor in ms per token: whichever of memory and arithmetic takes longer. */
export function decodeFloorMs(c: DecodeCost, r: Rates): number {
  return 1e3 * Math.max(c.bytesPerToken / r.bytesPerS, c.flopsPerToken / r.flopsPerS);
}

/** How close a measured decode speed comes to the floor, in percent (100 = at the floor). */
export function pctOfFloor(floorMs: number, decodeTokensPerS: number): number {
  return decodeTokensPerS > 0 ? (100 * floorMs * decodeTokensPerS) / 1e3 : 0;
}
