// Token + position embedding (shaders/embed.wgsl) and its CPU reference.

import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, ceilDiv, stepUniform, type Dispatch, type KernelContext } from './kernel';
import type { PackedMatrix, RowChunk } from './packed';

/** shaders/embed.wgsl's Params. */
export const embedParams = defineUniform('Params', [
  { name: 'nEmbd', type: 'u32' },
  { name: 'rowStride2', type: 'u32' }, // u32 words (weight-code pairs) per wte / wpe row
  { name: 'rowStart', type: 'u32' }, // first vocab row held by this chunk
  { name: 'rowCount', type: 'u32' },
  { name: 'wteScale', type: 'f32' }, // the weight codes' scales (src/shared/f16.ts)
  { name: 'wpeScale', type: 'f32' },
  { name: '_pad0', type: 'u32' },
  { name: '_pad1', type: 'u32' },
]);

export const EMBED_SHADER = shaderUniforms('embed', { 0: embedParams, 1: stepUniform });

const WG = 64;

/** One dispatch per wte row chunk; each writes the rows of x whose token falls in its chunk. */
export function createEmbed(
  ctx: KernelContext,
  o: { wte: PackedMatrix; wteChunks: RowChunk[]; wpe: PackedMatrix; tokens: GPUBuffer; x: GPUBuffer },
): Dispatch[] {
  if (o.wte.cols !== o.wpe.cols) throw new Error(`embed: wte has ${o.wte.cols} columns, wpe ${o.wpe.cols}`);
  const nEmbd = o.wte.cols;
  const pipeline = ctx.pipelines.get(EMBED_SHADER.shader, { WG });
  return o.wteChunks.map((c, i) => {
    const params = ctx.pool.uniform(
      `embed[${i}] params`,
      embedParams.pack({ nEmbd, rowStride2: o.wte.kStride / 2, rowStart: c.rowStart, rowCount: c.rowCount, wteScale: o.wte.code.scale, wpeScale: o.wpe.code.scale }),
    );
    return {
      label: `embed[${i}]`,
      pipeline,
      bindGroup: makeBindGroup(ctx.device, pipeline, `embed[${i}]`, [params, ctx.step, o.tokens, c.binding, o.wpe.buffer, o.x]),
      grid: (T: number) => [ceilDiv(ceilDiv(nEmbd, 2), WG), T, 1],
    };
  });
}

/** x (T, nEmbd) = wte[ids[t]] + wpe[pos0 + t]. */
export function embedRef(wte: Float32Array, wpe: Float32Array, nEmbd: number, ids: ArrayLike<number>, pos0: number): Float32Array {
  const T = ids.length;
  const x = new Float32Array(T * nEmbd);
  for (let t = 0; t < T; t++) {
    const e = ids[t] * nEmbd;
    const q = (pos0 + t) * nEmbd;
    for (let d = 0; d < nEmbd; d++) x[t * nEmbd + d] = wte[e + d] + wpe[q + d];
  }
  return x;
}
