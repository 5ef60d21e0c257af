// Weight matrices on the GPU: the f16 weight code (src/shared/f16.ts: f16 values, exponent shifted per
// matrix), two per u32, one row per output feature, rows padded to a multiple of 8 halves so kernels
// read a row as vec4<u32>. Matrices can be bound in row chunks to
// respect maxStorageBufferBindingSize (GPT-2's tied LM head is 77 MB even in f16).

import { packWeightPairs, weightCodeFor, type WeightCode } from '../shared/f16';
import type { BufferPool } from '../gpu/buffers';

export interface PackedMatrix {
  buffer: GPUBuffer;
  label: string;
  /** Output features (rows on the GPU). */
  rows: number;
  /** Input features (logical row length). */
  cols: number;
  /** Halves per row on the GPU (cols rounded up to a multiple of 8). */
  kStride: number;
  bytes: number;
  /** The matrix's weight code: kernels multiply each dot product by code.scale. */
  code: WeightCode;
}

export interface RowChunk {
  rowStart: number;
  rowCount: number;
  binding: GPUBufferBinding;
}

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Packs a matrix to GPU layout (rows, kStride) in the weight code `code` (from weightCodeFor over src).
 * layout 'rows-cols': src[r * cols + c] (e.g. wte: (vocab, nEmbd)).
 * layout 'cols-rows': src[c * rows + r] (HF Conv1D weights: (in, out) = (cols, rows)), transposed here.
 */
export function packMatrix(src: Float32Array, rows: number, cols: number, layout: 'rows-cols' | 'cols-rows', code: WeightCode): Uint32Array {
  if (src.length !== rows * cols) throw new Error(`packMatrix: ${src.length} values for a ${rows} x ${cols} matrix`);
  const kStride = roundUp(cols, 8);
  const out = new Uint32Array((rows * kStride) / 2);
  const row = new Float32Array(kStride);
  for (let r = 0; r < rows; r++) {
    if (layout === 'rows-cols') row.set(src.subarray(r * cols, (r + 1) * cols));
    else for (let c = 0; c < cols; c++) row[c] = src[c * rows + r];
    out.set(packWeightPairs(row, code), (r * kStride) / 2);
  }
  return out;
}

export function uploadMatrix(
  pool: BufferPool,
  label: string,
  src: Float32Array,
  rows: number,
  cols: number,
  layout: 'rows-cols' | 'cols-rows',
): PackedMatrix {
  const code = weightCodeFor(src);
  const data = packMatrix(src, rows, cols, layout, code);
  const buffer = pool.upload(label, data);
  return { buffer, label, rows, cols, kStride: roundUp(cols, 8), bytes: data.byteLength, code };
}

/**
 * Row chunks of m, each binding at most maxBindingBytes and starting at a multiple of `align`
 * bytes (minStorageBufferOffsetAlignment). One chunk when the whole matrix fits.
 */
export function rowChunks(m: PackedMatrix, maxBindingBytes: number, align = 256): RowChunk[] {
  const rowBytes = m.kStride * 2;
  if (rowBytes * m.rows <= maxBindingBytes) {
    return [{ rowStart: 0, rowCount: m.rows, binding: { buffer: m.buffer, offset: 0, size: roundUp(rowBytes * m.rows, 4) } }];
  }
  // Rows per chunk: as many as fit, rounded down so each chunk's start stays aligned.
  let unit = 1;
  while ((unit * rowBytes) % align !== 0) unit++;
  const perChunk = Math.floor(maxBindingBytes / rowBytes / unit) * unit;
  if (perChunk === 0) throw new Error(`${m.label}: one aligned group of ${unit} rows (${unit * rowBytes} bytes) exceeds the binding limit ${maxBindingBytes}`);
  const chunks: RowChunk[] = [];
  for (let r = 0; r < m.rows; r += perChunk) {
    const n = Math.min(perChunk, m.rows - r);
    chunks.push({ rowStart: r, rowCount: n, binding: { buffer: m.buffer, offset: r * rowBytes, size: n * rowBytes } });
  }
  return chunks;
}
