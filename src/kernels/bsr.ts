// Block-sparse (BSR) weights on the GPU and the kernels that read only their nonzero blocks
// (shaders/bsr_gemv.wgsl for decode, shaders/bsr_matmul.wgsl for prefill). The CPU reference is
// linearRef on the same matrix with its zeros (./linear): BSR changes the work, not the maths.

import { packWeightPairs, weightCodeFor, type WeightCode } from '../shared/f16';
import type { BufferPool } from '../gpu/buffers';
import { defineUniform, shaderUniforms } from '../gpu/uniform';
import { makeBindGroup, grid1d, ceilDiv, stepUniform, thresholdsUniform, type Dispatch, type KernelContext } from './kernel';
import { EPILOGUE_CODE, gemvEpilogueCode, type Epilogue, type NeuronProbe } from './gelu';
import { gemvLanes, neuronBindings, GEMV_WG, GEMV_ROW_WG, GEMV_ROWS_PER_THREAD, type GemvVariant } from './gemv';
import type { MatmulVariant } from './matmul';

/** shaders/bsr_gemv.wgsl's Params. */
export const bsrGemvParams = defineUniform('Params', [
  { name: 'N', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'yOffset', type: 'u32' },
  { name: 'hasBias', type: 'u32' },
  { name: 'bitsWord', type: 'u32' }, // the neuron probe's first bitset word
  { name: 'wScale', type: 'f32' }, // the weight code's scale (src/shared/f16.ts)
  { name: '_pad1', type: 'u32' },
  { name: '_pad2', type: 'u32' },
]);

/** shaders/bsr_matmul.wgsl's Params. */
export const bsrMatmulParams = defineUniform('Params', [
  { name: 'M', type: 'u32' }, // rows of x; 0: the step's T
  { name: 'N', type: 'u32' },
  { name: 'K', type: 'u32' },
  { name: 'ldy', type: 'u32' },
  { name: 'yOffset', type: 'u32' },
  { name: 'hasBias', type: 'u32' },
  { name: 'wScale', type: 'f32' }, // the weight code's scale (src/shared/f16.ts)
  { name: '_pad1', type: 'u32' },
]);

export const BSR_GEMV_SHADER = shaderUniforms('bsr_gemv', { 0: bsrGemvParams, 7: thresholdsUniform });
export const BSR_MATMUL_SHADER = shaderUniforms('bsr_matmul', { 0: bsrMatmulParams, 1: stepUniform });

export const BSR_BLOCKS = [16, 32, 64] as const;
export type BsrBlock = (typeof BSR_BLOCKS)[number];

/** A matrix in GPU row order (rows = outputs) as BSR with square blocks. */
export interface GpuBsrMatrix {
  label: string;
  rows: number;
  cols: number;
  block: BsrBlock;
  nnzBlocks: number;
  /** Fraction of the ceil(rows/B) x ceil(cols/B) blocks that are stored. */
  density: number;
  rowPtr: GPUBuffer;
  colIdx: GPUBuffer;
  values: GPUBuffer;
  /** The values' weight code: kernels multiply each dot product by code.scale. */
  code: WeightCode;
  /** Bytes of weights (values + indices) a full pass reads. */
  bytes: number;
}

export interface BsrHost {
  rowPtr: Uint32Array;
  colIdx: Uint32Array;
  /** Weight-code pairs (src/shared/f16.ts); block b's row i at u32 (b * B + i) * B / 2. */
  values: Uint32Array;
  code: WeightCode;
  nnzBlocks: number;
  nRowBlocks: number;
  nColBlocks: number;
}

/** Blocks of dense (rows, cols) row-major that hold any nonzero, as BSR with weight-code values. */
export function packBsr(dense: Float32Array, rows: number, cols: number, block: number): BsrHost {
  if (dense.length !== rows * cols) throw new Error(`packBsr: ${dense.length} values for ${rows} x ${cols}`);
  if (!(BSR_BLOCKS as readonly number[]).includes(block)) throw new Error(`packBsr: block ${block} is not one of ${BSR_BLOCKS.join(', ')}`);
  const nRowBlocks = Math.ceil(rows / block);
  const nColBlocks = Math.ceil(cols / block);
  const rowPtr = new Uint32Array(nRowBlocks + 1);
  const cols_: number[] = [];
  for (let rb = 0; rb < nRowBlocks; rb++) {
    for (let cb = 0; cb < nColBlocks; cb++) {
      let nz = false;
      for (let i = rb * block; i < Math.min(rows, (rb + 1) * block) && !nz; i++) {
        const o = i * cols;
        for (let k = cb * block; k < Math.min(cols, (cb + 1) * block); k++) if (dense[o + k] !== 0) { nz = true; break; }
      }
      if (nz) cols_.push(cb);
    }
    rowPtr[rb + 1] = cols_.length;
  }
  const nnz = cols_.length;
  const code = weightCodeFor(dense);
  const values = new Uint32Array(Math.max(1, (nnz * block * block) / 2));
  const row = new Float32Array(block);
  for (let rb = 0; rb < nRowBlocks; rb++) {
    for (let b = rowPtr[rb]; b < rowPtr[rb + 1]; b++) {
      const cb = cols_[b];
      for (let i = 0; i < block; i++) {
        row.fill(0);
        const r = rb * block + i;
        if (r < rows) for (let k = 0; k < block && cb * block + k < cols; k++) row[k] = dense[r * cols + cb * block + k];
        values.set(packWeightPairs(row, code), ((b * block + i) * block) / 2);
      }
    }
  }
  return { rowPtr, colIdx: new Uint32Array(cols_.length ? cols_ : [0]), values, code, nnzBlocks: nnz, nRowBlocks, nColBlocks };
}

/** Uploads dense (rows, cols) as BSR; pass `packed` when the caller already ran packBsr (the engine measures density with it). */
export function uploadBsr(pool: BufferPool, label: string, dense: Float32Array, rows: number, cols: number, block: BsrBlock, packed?: BsrHost): GpuBsrMatrix {
  const h = packed ?? packBsr(dense, rows, cols, block);
  return {
    label, rows, cols, block,
    nnzBlocks: h.nnzBlocks,
    density: h.nnzBlocks / (h.nRowBlocks * h.nColBlocks),
    rowPtr: pool.upload(`${label}.rowPtr`, h.rowPtr),
    colIdx: pool.upload(`${label}.colIdx`, h.colIdx),
    values: pool.upload(`${label}.values`, h.values),
    code: h.code,
    bytes: h.nnzBlocks * block * block * 2 + h.rowPtr.byteLength + h.nnzBlocks * 4,
  };
}

export function createBsrGemv(
  ctx: KernelContext,
  o: { label: string; w: GpuBsrMatrix; bias?: GPUBuffer; x: GPUBuffer; y: GPUBuffer; yOffset?: number; epilogue: Epilogue; variant?: GemvVariant; neurons?: NeuronProbe },
): Dispatch {
  const variant = o.variant ?? 'coop';
  const lanes = Math.min(gemvLanes(o.w.cols), 32);
  const common = { EPILOGUE: gemvEpilogueCode(o.label, o.epilogue, o.neurons), BLOCK: o.w.block };
  const pipeline = variant === 'coop'
    ? ctx.pipelines.get(BSR_GEMV_SHADER.shader, { ...common, WG: GEMV_WG, LANES: lanes })
    : ctx.pipelines.get(BSR_GEMV_SHADER.shader, { ...common, WG: GEMV_ROW_WG }, 'main_row');
  const params = ctx.pool.uniform(
    `${o.label} params`,
    bsrGemvParams.pack({ N: o.w.rows, K: o.w.cols, yOffset: o.yOffset ?? 0, hasBias: o.bias ? 1 : 0, bitsWord: o.neurons?.word ?? 0, wScale: o.w.code.scale }),
  );
  const wgCount = variant === 'coop' ? ceilDiv(o.w.rows, GEMV_WG / lanes) : ceilDiv(o.w.rows, GEMV_ROW_WG * GEMV_ROWS_PER_THREAD);
  return {
    label: `${o.label} [bsr ${variant}]`,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, o.w.rowPtr, o.w.colIdx, o.w.values, o.bias ?? ctx.zeros, o.x, o.y, ...neuronBindings(ctx, o.neurons)]),
    grid: () => grid1d(wgCount),
  };
}

export function createBsrMatmul(
  ctx: KernelContext,
  o: { label: string; x: GPUBuffer; w: GpuBsrMatrix; M?: number; bias?: GPUBuffer; y: GPUBuffer; ldy?: number; yOffset?: number; epilogue: Epilogue; variant?: MatmulVariant },
): Dispatch {
  const variant = o.variant ?? 'tiled';
  const pipeline = ctx.pipelines.get(BSR_MATMUL_SHADER.shader, { EPILOGUE: EPILOGUE_CODE[o.epilogue], BLOCK: o.w.block }, variant === 'tiled' ? 'main' : 'main_row');
  const params = ctx.pool.uniform(
    `${o.label} params`,
    bsrMatmulParams.pack({ M: o.M ?? 0, N: o.w.rows, K: o.w.cols, ldy: o.ldy ?? o.w.rows, yOffset: o.yOffset ?? 0, hasBias: o.bias ? 1 : 0, wScale: o.w.code.scale }),
  );
  const nRowBlocks = Math.ceil(o.w.rows / o.w.block);
  return {
    label: `${o.label} [bsr ${variant}]`,
    pipeline,
    bindGroup: makeBindGroup(ctx.device, pipeline, o.label, [params, ctx.step, o.w.rowPtr, o.w.colIdx, o.w.values, o.bias ?? ctx.zeros, o.x, o.y, ...(variant === 'row' ? [o.x] : [])]),
    grid: variant === 'tiled'
      ? (T: number) => [nRowBlocks, ceilDiv(o.M || T, 64), 1]
      : (T: number) => [ceilDiv(o.w.rows, 64), ceilDiv(o.M || T, 8), 1],
  };
}
