// Block-sparse row (BSR) weight matrices: conversion to and from dense, strict validation, and how they
// sit in model.safetensors (companion tensors <name>.bsr_crow_indices / .bsr_col_indices / .bsr_values
// beside the HF name, block size and logical shape in __metadata__; layout in docs/bsr.md).
// The byte-level converters move raw element bytes, so any dtype converts losslessly, bit for bit.

import { ModelFormatError } from './errors';
import { clipText, previewJson } from '../shared/preview';
import { elementCount, formatShape, LITTLE_ENDIAN, type SafetensorsDtype, type SafetensorsFile, type TensorInfo } from './safetensors';

/** Block sizes a checkpoint may use (the GPU kernels are built for these). */
export const BSR_BLOCK_SIZES = [16, 32, 64] as const;
export type BsrBlockSize = (typeof BSR_BLOCK_SIZES)[number];

/** Suffixes of the companion tensors that replace a dense matrix `<name>`. */
export const BSR_CROW_SUFFIX = '.bsr_crow_indices';
export const BSR_COL_SUFFIX = '.bsr_col_indices';
export const BSR_VALUES_SUFFIX = '.bsr_values';
/** __metadata__ keys: "sparse_format": "bsr", "bsr_block_size": "32", "<name>.shape": "[768,2304]". */
export const SPARSE_FORMAT_KEY = 'sparse_format';
export const BSR_BLOCK_SIZE_KEY = 'bsr_block_size';
export const SHAPE_KEY_SUFFIX = '.shape';

/** Dtypes a BSR values tensor may have (as for dense weights). */
export const BSR_VALUE_DTYPES: ReadonlySet<SafetensorsDtype> = new Set<SafetensorsDtype>(['F32', 'F16', 'BF16']);

/**
 * A rows × cols matrix (the logical shape as stored, HF Conv1D [in, out]) in block × block blocks.
 * Row-block r holds blocks crow[r] .. crow[r+1]-1; block i sits at column-block col[i] and its values are
 * values[i·B² .. (i+1)·B²), row-major inside the block. Edge blocks are zero-padded past rows/cols.
 * This is exactly torch's BSR of the (zero-padded) matrix: crow_indices, col_indices, values.
 */
export interface BsrMatrix {
  rows: number;
  cols: number;
  block: number;
  /** [rowBlocks + 1], starts at 0, ends at the number of stored blocks. */
  crow: Int32Array;
  /** [nnzBlocks], column-block of each stored block, increasing within a row-block. */
  col: Int32Array;
  /** [nnzBlocks · block · block]. */
  values: Float32Array;
}

/** Row and column block counts of a rows × cols matrix (edge blocks partial). */
export function bsrGrid(rows: number, cols: number, block: number): { rowBlocks: number; colBlocks: number } {
  return { rowBlocks: Math.ceil(rows / block), colBlocks: Math.ceil(cols / block) };
}

/** Stored blocks over all blocks of the grid (1 for an empty matrix: nothing is missing). */
export function blockDensity(m: Pick<BsrMatrix, 'rows' | 'cols' | 'block' | 'col'>): number {
  const { rowBlocks, colBlocks } = bsrGrid(m.rows, m.cols, m.block);
  const total = rowBlocks * colBlocks;
  return total === 0 ? 1 : m.col.length / total;
}

/** The raw bytes of a BSR matrix: indices plus values as element bytes of any size. */
export interface BsrBytes {
  crow: Int32Array;
  col: Int32Array;
  /** nnzBlocks · block² elements of elemBytes each, little-endian as in the file. */
  values: Uint8Array<ArrayBuffer>;
}

function checkDims(rows: number, cols: number, block: number): void {
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
    throw new RangeError(`BSR: shape [${rows}, ${cols}] must be non-negative integers`);
  }
  if (!Number.isSafeInteger(block) || block < 1) throw new RangeError(`BSR: block must be a positive integer (got ${block})`);
}

/** True when any byte of rows r0..r1 × columns c0..c1 of the dense byte matrix is set. */
function anyByteSet(dense: Uint8Array, rowBytes: number, r0: number, r1: number, b0: number, b1: number): boolean {
  for (let r = r0; r < r1; r++) {
    const base = r * rowBytes;
    for (let b = base + b0; b < base + b1; b++) if (dense[b] !== 0) return true;
  }
  return false;
}

/**
 * The block mask of a dense matrix given as element bytes: 1 where any element of the block has a bit set.
 * Bit-level on purpose: a block of -0.0 is kept, so dense → BSR → dense returns the same bytes.
 */
export function nonzeroBlockMask(dense: Uint8Array, rows: number, cols: number, block: number, elemBytes: number): Uint8Array {
  checkDims(rows, cols, block);
  if (dense.byteLength !== rows * cols * elemBytes) {
    throw new RangeError(`BSR: dense [${rows}, ${cols}] of ${elemBytes}-byte elements needs ${rows * cols * elemBytes} bytes, got ${dense.byteLength}`);
  }
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  const mask = new Uint8Array(rowBlocks * colBlocks);
  const rowBytes = cols * elemBytes;
  for (let rb = 0; rb < rowBlocks; rb++) {
    const r0 = rb * block;
    const r1 = Math.min(rows, r0 + block);
    for (let cb = 0; cb < colBlocks; cb++) {
      const b0 = cb * block * elemBytes;
      const b1 = Math.min(cols, (cb + 1) * block) * elemBytes;
      if (anyByteSet(dense, rowBytes, r0, r1, b0, b1)) mask[rb * colBlocks + cb] = 1;
    }
  }
  return mask;
}

/**
 * Dense element bytes → BSR keeping exactly the blocks where keep[rb·colBlocks + cb] is 1 (default: the
 * blocks with any bit set). Values of dropped blocks must be zero for the conversion to be lossless;
 * callers that pass their own mask are pruning on purpose.
 */
export function denseBytesToBsr(
  dense: Uint8Array, rows: number, cols: number, block: number, elemBytes: number,
  keep: Uint8Array = nonzeroBlockMask(dense, rows, cols, block, elemBytes),
): BsrBytes {
  checkDims(rows, cols, block);
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  if (keep.length !== rowBlocks * colBlocks) throw new RangeError(`BSR: keep mask has ${keep.length} entries, the grid ${rowBlocks * colBlocks}`);
  let nnz = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i]) nnz++;
  const crow = new Int32Array(rowBlocks + 1);
  const col = new Int32Array(nnz);
  const blockBytes = block * block * elemBytes;
  const values = new Uint8Array(nnz * blockBytes);
  const rowBytes = cols * elemBytes;
  let i = 0;
  for (let rb = 0; rb < rowBlocks; rb++) {
    crow[rb] = i;
    const r0 = rb * block;
    const r1 = Math.min(rows, r0 + block);
    for (let cb = 0; cb < colBlocks; cb++) {
      if (!keep[rb * colBlocks + cb]) continue;
      col[i] = cb;
      const c0 = cb * block;
      const width = (Math.min(cols, c0 + block) - c0) * elemBytes;
      const dst = i * blockBytes;
      for (let r = r0; r < r1; r++) {
        const src = r * rowBytes + c0 * elemBytes;
        values.set(dense.subarray(src, src + width), dst + (r - r0) * block * elemBytes);
      }
      i++;
    }
  }
  crow[rowBlocks] = nnz;
  return { crow, col, values };
}

/** BSR element bytes → dense element bytes (missing blocks and padding become zero bytes). Indices must be valid. */
export function bsrBytesToDense(m: BsrBytes, rows: number, cols: number, block: number, elemBytes: number): Uint8Array<ArrayBuffer> {
  checkDims(rows, cols, block);
  const { rowBlocks } = bsrGrid(rows, cols, block);
  const dense = new Uint8Array(rows * cols * elemBytes);
  const blockBytes = block * block * elemBytes;
  const rowBytes = cols * elemBytes;
  for (let rb = 0; rb < rowBlocks; rb++) {
    const r0 = rb * block;
    const r1 = Math.min(rows, r0 + block);
    for (let i = m.crow[rb]; i < m.crow[rb + 1]; i++) {
      const c0 = m.col[i] * block;
      const width = (Math.min(cols, c0 + block) - c0) * elemBytes;
      const src = i * blockBytes;
      for (let r = r0; r < r1; r++) {
        const s = src + (r - r0) * block * elemBytes;
        dense.set(m.values.subarray(s, s + width), r * rowBytes + c0 * elemBytes);
      }
    }
  }
  return dense;
}

function f32View(bytes: Uint8Array): Float32Array {
  // bytes is always a fresh, aligned buffer here (denseBytesToBsr allocates it).
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function bytesOfF32(a: Float32Array): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('BSR conversion needs a little-endian host');
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Dense row-major rows × cols f32 matrix → BSR keeping every block with a nonzero element. "Nonzero" is
 * by bit pattern: a block holding only -0.0 is kept, so bsrToDense(denseToBsr(x)) is bit-identical to x.
 */
export function denseToBsr(dense: Float32Array, rows: number, cols: number, block: number): BsrMatrix {
  if (dense.length !== rows * cols) throw new RangeError(`denseToBsr: [${rows}, ${cols}] needs ${rows * cols} values, got ${dense.length}`);
  const b = denseBytesToBsr(bytesOfF32(dense), rows, cols, block, 4);
  return { rows, cols, block, crow: b.crow, col: b.col, values: f32View(b.values) };
}

/** Dense rows × cols f32 matrix of a BSR matrix (zeros where no block is stored). */
export function bsrToDense(m: BsrMatrix): Float32Array {
  const bytes = bsrBytesToDense({ crow: m.crow, col: m.col, values: new Uint8Array(bytesOfF32(m.values)) }, m.rows, m.cols, m.block, 4);
  return f32View(bytes);
}

/** Number of blocks of a dense f32 matrix with any nonzero (bit-level) element. */
export function bsrNonzeroBlocksOfDense(dense: Float32Array, rows: number, cols: number, block: number): number {
  const mask = nonzeroBlockMask(bytesOfF32(dense), rows, cols, block, 4);
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/** Block density of a dense f32 matrix: the fraction of blocks its BSR form stores. */
export function blockDensityOfDense(dense: Float32Array, rows: number, cols: number, block: number): number {
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  const total = rowBlocks * colBlocks;
  return total === 0 ? 1 : bsrNonzeroBlocksOfDense(dense, rows, cols, block) / total;
}

/**
 * Checks BSR indices against the grid: crow has rowBlocks + 1 entries, starts at 0, never decreases and ends
 * at col.length; every column index lies in [0, colBlocks) and they strictly increase within a row-block;
 * the values hold col.length blocks of valuesPerBlock. Throws ModelFormatError naming file and tensor.
 */
export function validateBsrIndices(
  crow: Int32Array, col: Int32Array, valuesLength: number,
  shape: { rows: number; cols: number; block: number },
  file: string, name: string,
): void {
  const fail = (code: 'shape' | 'offsets', tensor: string, problem: string, hint?: string): never => {
    throw new ModelFormatError({ file, tensor, code, problem, hint });
  };
  const { rows, cols, block } = shape;
  if (!Number.isSafeInteger(block) || block < 1) fail('shape', name, `block size ${block} must be a positive integer`);
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  const crowName = name + BSR_CROW_SUFFIX;
  const colName = name + BSR_COL_SUFFIX;
  if (crow.length !== rowBlocks + 1) {
    fail('shape', crowName, `has ${crow.length} entries; a [${rows}, ${cols}] matrix in ${block}×${block} blocks has ${rowBlocks} row-blocks, so it needs ${rowBlocks + 1}`);
  }
  if (crow[0] !== 0) fail('offsets', crowName, `must start at 0 (got ${crow[0]})`);
  for (let r = 0; r < rowBlocks; r++) {
    if (crow[r + 1] < crow[r]) fail('offsets', crowName, `decreases at row-block ${r} (${crow[r]} then ${crow[r + 1]}); row pointers must not decrease`);
  }
  if (crow[rowBlocks] !== col.length) {
    fail('offsets', crowName, `ends at ${crow[rowBlocks]} but ${clipText(colName)} holds ${col.length} blocks`);
  }
  for (let r = 0; r < rowBlocks; r++) {
    for (let i = crow[r]; i < crow[r + 1]; i++) {
      const c = col[i];
      if (c < 0 || c >= colBlocks) {
        fail('offsets', colName, `block ${i} (row-block ${r}) has column-block ${c}, outside [0, ${colBlocks}) for ${cols} columns in blocks of ${block}`);
      }
      if (i > crow[r] && c <= col[i - 1]) {
        fail('offsets', colName, `row-block ${r}: column-blocks must strictly increase (block ${i - 1} has ${col[i - 1]}, block ${i} has ${c})`,
          'write blocks of a row-block in increasing column order, without duplicates (torch BSR is)');
      }
    }
  }
  const want = col.length * block * block;
  if (valuesLength !== want) {
    fail('shape', name + BSR_VALUES_SUFFIX, `holds ${valuesLength} values; ${col.length} blocks of ${block}×${block} need ${want}`);
  }
}

/** Strict validation of an in-memory BSR matrix (see validateBsrIndices); ModelFormatError on any problem. */
export function validateBsr(m: BsrMatrix, file: string, name: string): void {
  if (!Number.isSafeInteger(m.rows) || m.rows < 0 || !Number.isSafeInteger(m.cols) || m.cols < 0) {
    throw new ModelFormatError({ file, tensor: name, code: 'shape', problem: `logical shape [${m.rows}, ${m.cols}] must be non-negative integers` });
  }
  validateBsrIndices(m.crow, m.col, m.values.length, m, file, name);
}

/** The three companion tensors and the metadata entries of one BSR matrix in a file. */
export interface BsrTensorInfo {
  block: number;
  rows: number;
  cols: number;
  crow: Int32Array;
  col: Int32Array;
  crowInfo: TensorInfo;
  colInfo: TensorInfo;
  valuesInfo: TensorInfo;
}

/** True when the file stores `<name>` through BSR companions (any of the three present). */
export function hasBsrCompanions(st: SafetensorsFile, name: string): boolean {
  return st.has(name + BSR_CROW_SUFFIX) || st.has(name + BSR_COL_SUFFIX) || st.has(name + BSR_VALUES_SUFFIX);
}

/** The matrix name whose companion this tensor is, or undefined for an ordinary tensor. */
export function bsrBaseName(tensorName: string): string | undefined {
  for (const s of [BSR_CROW_SUFFIX, BSR_COL_SUFFIX, BSR_VALUES_SUFFIX]) {
    if (tensorName.endsWith(s) && tensorName.length > s.length) return tensorName.slice(0, -s.length);
  }
  return undefined;
}

/** The file's BSR block size from __metadata__ (sparse_format must be "bsr"), validated. */
export function fileBsrBlockSize(st: SafetensorsFile, forTensor: string): BsrBlockSize {
  const fail = (problem: string, hint?: string): never => {
    throw new ModelFormatError({ file: st.file, tensor: forTensor, code: 'header-json', problem, hint });
  };
  const format = st.metadata[SPARSE_FORMAT_KEY];
  if (format !== 'bsr') {
    fail(format === undefined
      ? `BSR companion tensors present but __metadata__ has no "${SPARSE_FORMAT_KEY}"`
      : `__metadata__ "${SPARSE_FORMAT_KEY}" is ${previewJson(format)}, only "bsr" is supported`,
    `set __metadata__ {"${SPARSE_FORMAT_KEY}": "bsr", "${BSR_BLOCK_SIZE_KEY}": "32", ...} (docs/bsr.md)`);
  }
  const raw = st.metadata[BSR_BLOCK_SIZE_KEY];
  const block = Number(raw);
  if (raw === undefined) fail(`__metadata__ has no "${BSR_BLOCK_SIZE_KEY}" (one of ${BSR_BLOCK_SIZES.join(', ')})`);
  if (!/^[0-9]+$/.test(raw) || !(BSR_BLOCK_SIZES as readonly number[]).includes(block)) {
    fail(`__metadata__ "${BSR_BLOCK_SIZE_KEY}" must be one of ${BSR_BLOCK_SIZES.join(', ')} (got ${previewJson(raw)})`);
  }
  return block as BsrBlockSize;
}

/** Logical [rows, cols] of a BSR matrix from __metadata__["<name>.shape"]. */
function metadataShape(st: SafetensorsFile, name: string): [number, number] {
  const key = name + SHAPE_KEY_SUFFIX;
  const raw = st.metadata[key];
  let parsed: unknown;
  try {
    parsed = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !parsed.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ModelFormatError({
      file: st.file, tensor: name, code: 'header-json',
      problem: raw === undefined
        ? `__metadata__ has no ${previewJson(key)} giving the matrix's logical shape`
        : `__metadata__ ${previewJson(key)} must be a JSON array [rows, cols] of non-negative integers (got ${previewJson(raw)})`,
      hint: `e.g. ${previewJson(key)}: "[768,2304]"`,
    });
  }
  return [parsed[0] as number, parsed[1] as number];
}

/** An I32 tensor's values (copied: file offsets need not be 4-byte aligned). */
function readI32(st: SafetensorsFile, t: TensorInfo): Int32Array {
  const bytes = st.bytes(t.name);
  const n = elementCount(t.shape);
  if (LITTLE_ENDIAN) return new Int32Array(bytes.slice().buffer, 0, n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
}

/**
 * Finds, checks and reads the indices of the BSR matrix `<name>` in a file: all three companions present,
 * crow/col I32 1-D, values F32/F16/BF16 [nnz, B, B], metadata block size and logical shape, the indices
 * (validateBsrIndices), and zero padding past the logical shape in edge blocks (anything else would be
 * lost on conversion). Reads only the index tensors and the edge blocks.
 */
export function readBsrTensorInfo(st: SafetensorsFile, name: string): BsrTensorInfo {
  const file = st.file;
  const need = (suffix: string): TensorInfo => {
    const t = st.tensors.get(name + suffix);
    if (!t) {
      throw new ModelFormatError({
        file, tensor: name + suffix, code: 'missing-tensor',
        problem: `BSR companion missing: a block-sparse ${previewJson(name)} needs ${BSR_CROW_SUFFIX}, ${BSR_COL_SUFFIX} and ${BSR_VALUES_SUFFIX} companions`,
      });
    }
    return t;
  };
  const crowInfo = need(BSR_CROW_SUFFIX);
  const colInfo = need(BSR_COL_SUFFIX);
  const valuesInfo = need(BSR_VALUES_SUFFIX);
  if (st.has(name)) {
    throw new ModelFormatError({
      file, tensor: name, code: 'unsupported',
      problem: 'stored both dense and as BSR companions', hint: 'keep one form: drop the dense tensor or the three .bsr_* tensors',
    });
  }
  const block = fileBsrBlockSize(st, name);
  const [rows, cols] = metadataShape(st, name);
  for (const t of [crowInfo, colInfo]) {
    if (t.dtype !== 'I32') {
      throw new ModelFormatError({ file, tensor: t.name, code: 'dtype', problem: `dtype ${t.dtype}, BSR indices must be I32`, hint: 'convert with .to(torch.int32)' });
    }
    if (t.shape.length !== 1) {
      throw new ModelFormatError({ file, tensor: t.name, code: 'shape', problem: `shape ${formatShape(t.shape)}, BSR indices must be 1-D` });
    }
  }
  if (!BSR_VALUE_DTYPES.has(valuesInfo.dtype)) {
    throw new ModelFormatError({ file, tensor: valuesInfo.name, code: 'dtype', problem: `dtype ${valuesInfo.dtype} is not supported for weights (F32, F16 or BF16)` });
  }
  const crow = readI32(st, crowInfo);
  const col = readI32(st, colInfo);
  const vs = valuesInfo.shape;
  if (vs.length !== 3 || vs[0] !== col.length || vs[1] !== block || vs[2] !== block) {
    throw new ModelFormatError({
      file, tensor: valuesInfo.name, code: 'shape',
      problem: `shape ${formatShape(vs)}; ${col.length} blocks of ${block}×${block} need [${col.length}, ${block}, ${block}]`,
    });
  }
  validateBsrIndices(crow, col, elementCount(vs), { rows, cols, block }, file, name);
  checkZeroPadding(st, valuesInfo, crow, col, rows, cols, block, name);
  return { block, rows, cols, crow, col, crowInfo, colInfo, valuesInfo };
}

/** Edge blocks must hold zeros past the logical shape: a dense copy could not keep anything else. */
function checkZeroPadding(st: SafetensorsFile, v: TensorInfo, crow: Int32Array, col: Int32Array, rows: number, cols: number, block: number, name: string): void {
  if (rows % block === 0 && cols % block === 0) return;
  const bytes = st.bytes(v.name);
  const size = v.dtype === 'F32' ? 4 : 2;
  const { rowBlocks, colBlocks } = bsrGrid(rows, cols, block);
  for (let rb = 0; rb < rowBlocks; rb++) {
    const rValid = Math.min(block, rows - rb * block);
    for (let i = crow[rb]; i < crow[rb + 1]; i++) {
      const cValid = col[i] === colBlocks - 1 ? cols - col[i] * block : block;
      if (rValid === block && cValid === block) continue;
      const base = i * block * block * size;
      for (let r = 0; r < block; r++) {
        for (let c = r < rValid ? cValid : 0; c < block; c++) {
          for (let b = 0; b < size; b++) {
            if (bytes[base + (r * block + c) * size + b] !== 0) {
              throw new ModelFormatError({
                file: st.file, tensor: v.name, code: 'shape',
                problem: `block ${i} has a nonzero value at (${r}, ${c}), past the logical shape [${rows}, ${cols}]; edge blocks must be zero-padded`,
                hint: `check ${previewJson(name + SHAPE_KEY_SUFFIX)} in __metadata__`,
              });
            }
          }
        }
      }
    }
  }
}

/** The values of a checked BSR matrix as f32 (F16/BF16 widened exactly). */
export function readBsrMatrix(st: SafetensorsFile, info: BsrTensorInfo): BsrMatrix {
  const values = st.getF32(info.valuesInfo.name);
  return { rows: info.rows, cols: info.cols, block: info.block, crow: info.crow, col: info.col, values };
}
