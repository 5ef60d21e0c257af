// GPT-2 weights in Hugging Face layout: resolves the tensor names (optional "transformer." prefix), checks
// every tensor against the shapes the config implies before anything is returned, and widens them to f32.
// The four weight matrices of each block may be stored dense or block-sparse (BSR companions, docs/bsr.md);
// either way the loaded weights are dense f32. writeGpt2Checkpoint writes both forms, losslessly.

import {
  BSR_BLOCK_SIZE_KEY, BSR_BLOCK_SIZES, BSR_COL_SUFFIX, BSR_CROW_SUFFIX, BSR_VALUES_SUFFIX, bsrBaseName, bsrBytesToDense,
  bsrToDense, blockDensity, denseBytesToBsr, hasBsrCompanions, readBsrMatrix, readBsrTensorInfo, SHAPE_KEY_SUFFIX,
  SPARSE_FORMAT_KEY, type BsrTensorInfo,
} from './bsr';
import { parseConfig, type GPT2Config } from './config';
import { joinSource, ModelFormatError } from './errors';
import { bf16BitsToF32, f16BitsToF32, f32ArrayToBf16Bits, f32ArrayToF16Bits } from '../shared/f16';
import { clipText, previewJson } from '../shared/preview';
import {
  DTYPE_BYTES, f32Bytes, formatShape, LITTLE_ENDIAN, MAX_HEADER_DEPTH, parseSafetensors, scanJsonKeys, u16Bytes, writeSafetensors, type SafetensorsFile,
  type TensorInfo, type TensorToWrite,
} from './safetensors';

export interface LayerWeights {
  ln1G: Float32Array;
  ln1B: Float32Array;
  /** [nEmbd, 3*nEmbd], HF Conv1D layout (in, out): q | k | v along the output axis. */
  attnW: Float32Array;
  attnB: Float32Array;
  /** [nEmbd, nEmbd] (in, out). */
  attnProjW: Float32Array;
  attnProjB: Float32Array;
  ln2G: Float32Array;
  ln2B: Float32Array;
  /** [nEmbd, 4*nEmbd] (in, out). */
  fcW: Float32Array;
  fcB: Float32Array;
  /** [4*nEmbd, nEmbd] (in, out). */
  fcProjW: Float32Array;
  fcProjB: Float32Array;
}

export interface Gpt2Weights {
  config: GPT2Config;
  /** [vocab, nEmbd]; also the (tied) LM head. */
  wte: Float32Array;
  /** [nCtx, nEmbd]. */
  wpe: Float32Array;
  layers: LayerWeights[];
  lnfG: Float32Array;
  lnfB: Float32Array;
  /**
   * Present when the checkpoint stored some matrices as BSR: the file's block size and, per matrix that came
   * as BSR (unprefixed HF name, e.g. "h.0.mlp.c_fc.weight"), its block density (stored / all blocks). The
   * arrays above are dense either way (zeros filled in); engines find the zero blocks themselves.
   */
  sparse?: { block: number; matrices: Record<string, number> };
}

/** Storage dtypes of weights. */
export type WeightDtype = 'F32' | 'F16' | 'BF16';

/** HF name suffixes (after "h.N.") of the matrices that may be stored as BSR and pruned. */
export const PRUNABLE_MATRIX_SUFFIXES = ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight'] as const;

const PRUNABLE_NAME = /^(?:transformer\.)?h\.\d+\.(?:attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;

/** True for a block's attn.c_attn / attn.c_proj / mlp.c_fc / mlp.c_proj weight (with or without "transformer."). */
export function isPrunableMatrixName(name: string): boolean {
  return PRUNABLE_NAME.test(name);
}

/** One prunable matrix of a model: its HF name, where it sits in Gpt2Weights, and its [in, out] shape. */
export interface PrunableMatrix {
  name: string;
  layer: number;
  key: 'attnW' | 'attnProjW' | 'fcW' | 'fcProjW';
  /** Input features (Conv1D rows). */
  rows: number;
  /** Output features (Conv1D columns). */
  cols: number;
}

/** The 4 · nLayer prunable matrices in checkpoint order. */
export function prunableMatrices(cfg: GPT2Config): PrunableMatrix[] {
  const d = cfg.nEmbd;
  const per: Array<[PrunableMatrix['key'], string, number, number]> = [
    ['attnW', 'attn.c_attn.weight', d, 3 * d],
    ['attnProjW', 'attn.c_proj.weight', d, d],
    ['fcW', 'mlp.c_fc.weight', d, 4 * d],
    ['fcProjW', 'mlp.c_proj.weight', 4 * d, d],
  ];
  const out: PrunableMatrix[] = [];
  for (let layer = 0; layer < cfg.nLayer; layer++) {
    for (const [key, suffix, rows, cols] of per) out.push({ name: `h.${layer}.${suffix}`, layer, key, rows, cols });
  }
  return out;
}

/** Which float dtypes a weight may be stored in. */
const WEIGHT_DTYPES = new Set(['F32', 'F16', 'BF16']);

type LayerKey = keyof LayerWeights;

/** HF name suffix (after "h.N.") and expected shape of each per-layer tensor. */
function layerSpecs(cfg: GPT2Config): Array<[LayerKey, string, number[]]> {
  const d = cfg.nEmbd;
  return [
    ['ln1G', 'ln_1.weight', [d]],
    ['ln1B', 'ln_1.bias', [d]],
    ['attnW', 'attn.c_attn.weight', [d, 3 * d]],
    ['attnB', 'attn.c_attn.bias', [3 * d]],
    ['attnProjW', 'attn.c_proj.weight', [d, d]],
    ['attnProjB', 'attn.c_proj.bias', [d]],
    ['ln2G', 'ln_2.weight', [d]],
    ['ln2B', 'ln_2.bias', [d]],
    ['fcW', 'mlp.c_fc.weight', [d, 4 * d]],
    ['fcB', 'mlp.c_fc.bias', [4 * d]],
    ['fcProjW', 'mlp.c_proj.weight', [4 * d, d]],
    ['fcProjB', 'mlp.c_proj.bias', [d]],
  ];
}

/** Every tensor a GPT-2 checkpoint must hold (unprefixed HF names) with the shape the config implies. */
export function expectedTensors(cfg: GPT2Config): Array<{ name: string; shape: number[] }> {
  const d = cfg.nEmbd;
  const out = [
    { name: 'wte.weight', shape: [cfg.vocabSize, d] },
    { name: 'wpe.weight', shape: [cfg.nCtx, d] },
  ];
  for (let l = 0; l < cfg.nLayer; l++) {
    for (const [, suffix, shape] of layerSpecs(cfg)) out.push({ name: `h.${l}.${suffix}`, shape });
  }
  out.push({ name: 'ln_f.weight', shape: [d] }, { name: 'ln_f.bias', shape: [d] });
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * A resolved checkpoint tensor. For a matrix stored as BSR, name is the matrix name as stored (its
 * companions are name + ".bsr_*"), dtype is the values' dtype, shape the logical [in, out] shape from
 * __metadata__, begin/end the values tensor's bytes, and bsr holds the checked indices: read it with
 * readBsrMatrix, not st.getF32(name) (there is no dense tensor of that name).
 */
export type ResolvedTensor = TensorInfo & { bsr?: BsrTensorInfo };

/**
 * Checks that every required tensor is present (with or without the "transformer." prefix), has a float
 * dtype and exactly the expected shape, and that an lm_head.weight, if stored, equals wte (the head is tied).
 * The four matrices of each block may instead be stored as BSR companions: those are checked strictly
 * (indices, dtypes, block size, logical shape; docs/bsr.md). Returns the file's tensor for each unprefixed
 * HF name. Reads no tensor data except BSR indices (and edge blocks) and that lm_head check.
 */
export function validateGpt2Tensors(st: SafetensorsFile, cfg: GPT2Config, configFile?: string): Map<string, ResolvedTensor> {
  checkConfigAgainstFile(st, cfg, configFile ?? siblingFile(st.file, 'config.json'));
  const resolved = new Map<string, ResolvedTensor>();
  for (const { name, shape } of expectedTensors(cfg)) {
    const stored = [name, `transformer.${name}`];
    let info: ResolvedTensor | undefined = st.tensors.get(name) ?? st.tensors.get(`transformer.${name}`);
    const sparseName = stored.find((n) => hasBsrCompanions(st, n));
    if (sparseName !== undefined) {
      if (!isPrunableMatrixName(name)) {
        throw new ModelFormatError({
          file: st.file, tensor: sparseName, code: 'unsupported',
          problem: 'stored as BSR, but only the attn.c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj weights may be block-sparse',
          hint: 'store embeddings, LayerNorms and biases dense',
        });
      }
      if (info !== undefined) {
        throw new ModelFormatError({
          file: st.file, tensor: info.name, code: 'unsupported',
          problem: `stored both dense and as BSR companions (${sparseName}${BSR_VALUES_SUFFIX})`,
          hint: 'keep one form: drop the dense tensor or the three .bsr_* tensors',
        });
      }
      const bsr = readBsrTensorInfo(st, sparseName);
      info = { name: sparseName, dtype: bsr.valuesInfo.dtype, shape: [bsr.rows, bsr.cols], begin: bsr.valuesInfo.begin, end: bsr.valuesInfo.end, bsr };
    }
    if (!info) {
      throw new ModelFormatError({
        file: st.file, tensor: name, code: 'missing-tensor',
        problem: `tensor missing (expected ${formatShape(shape)}, as "${name}" or "transformer.${name}")`,
        hint: `config says n_layer=${cfg.nLayer}, n_embd=${cfg.nEmbd}; check that config.json belongs to this checkpoint`,
      });
    }
    if (!WEIGHT_DTYPES.has(info.dtype)) {
      throw new ModelFormatError({
        file: st.file, tensor: info.name, code: 'dtype',
        problem: `dtype ${info.dtype} is not supported for weights (F32, F16 or BF16)`,
      });
    }
    if (!sameShape(info.shape, shape)) {
      throw new ModelFormatError({
        file: st.file, tensor: info.name, code: 'shape',
        problem: info.bsr
          ? `BSR logical shape ${formatShape(info.shape)} (__metadata__ "${info.name}${SHAPE_KEY_SUFFIX}") but config.json implies ${formatShape(shape)}`
          : `shape ${formatShape(shape)} expected from config.json, file has ${formatShape(info.shape)}`,
        hint: info.shape.length === 2 && sameShape([info.shape[1], info.shape[0]], shape)
          ? 'the matrix looks transposed: GPT-2 stores Conv1D weights as [in, out]'
          : undefined,
      });
    }
    resolved.set(name, info);
  }
  const head = st.tensors.get('lm_head.weight') ?? st.tensors.get('transformer.lm_head.weight');
  if (head) {
    const wte = resolved.get('wte.weight')!;
    const tied = sameShape(head.shape, wte.shape) &&
      (head.dtype === wte.dtype ? bytesEqual(st.bytes(head.name), st.bytes(wte.name)) : floatsEqual(st.getF32(head.name), st.getF32(wte.name)));
    if (!tied) {
      throw new ModelFormatError({
        file: st.file, tensor: head.name, code: 'unsupported',
        problem: 'lm_head.weight differs from wte.weight',
        hint: 'this engine ties the LM head to wte (as GPT-2 does); untied heads are not supported',
      });
    }
  }
  return resolved;
}

/** The file `name` beside `file` (same directory or URL folder). */
function siblingFile(file: string, name: string): string {
  return /[\\/]/.test(file) ? file.replace(/[^\\/]*$/, name) : name;
}

const BLOCK_NAME = /^(?:transformer\.)?h\.(\d{1,9})\./;

/** The number of transformer blocks a file holds: h.0 … h.(n−1) each present (dense or BSR), the first missing index ends the count. */
export function fileBlockCount(st: SafetensorsFile): number {
  const present = new Set<number>();
  for (const name of st.tensors.keys()) {
    const m = BLOCK_NAME.exec(name);
    if (m) present.add(Number(m[1]));
  }
  let n = 0;
  while (present.has(n)) n++;
  return n;
}

/**
 * The config's sizes against what the file itself holds, before anything is listed or allocated from them:
 * n_layer at most the number of h.N blocks present, and [vocab_size, n_embd] / [n_positions, n_embd] equal
 * to the shapes of wte / wpe when those are stored. So a config.json claiming 10⁸ layers or a vocabulary of
 * 10¹² fails at once, naming the field, its value and the file's limit, instead of building a list of every
 * tensor it would imply. The errors keep the codes the per-tensor checks give (missing-tensor, shape).
 */
export function checkConfigAgainstFile(st: SafetensorsFile, cfg: GPT2Config, configFile: string): void {
  const blocks = fileBlockCount(st);
  if (cfg.nLayer > blocks) {
    const first = `h.${blocks}.ln_1.weight`;
    throw new ModelFormatError({
      file: st.file, tensor: first, code: 'missing-tensor',
      problem: `tensor missing: ${configFile} has "n_layer": ${previewJson(cfg.nLayer)}, but this file holds ${blocks} block${blocks === 1 ? '' : 's'}` +
        `${blocks > 0 ? ` (h.0 … h.${blocks - 1})` : ''}, so n_layer can be at most ${blocks} (expected "${first}" or "transformer.${first}")`,
      hint: `set "n_layer" to ${blocks} in config.json, or use the config.json that belongs to this checkpoint`,
    });
  }
  const d = cfg.nEmbd;
  const table = (name: string, rowsField: string, rows: number): void => {
    const t = st.tensors.get(name) ?? st.tensors.get(`transformer.${name}`);
    if (!t || sameShape(t.shape, [rows, d])) return;
    const fileRows = t.shape.length === 2 ? t.shape[0] : undefined;
    const fileCols = t.shape.length === 2 ? t.shape[1] : undefined;
    const wrong = fileCols !== d ? `"n_embd": ${d} (the file's limit: ${fileCols ?? 'none, the tensor is not 2-D'})` : `"${rowsField}": ${rows} (the file's limit: ${fileRows})`;
    throw new ModelFormatError({
      file: st.file, tensor: t.name, code: 'shape',
      problem: `shape ${formatShape([rows, d])} expected from config.json, file has ${previewJson(t.shape)}: ${configFile} has ${wrong}`,
      hint: fileRows !== undefined && fileCols !== undefined
        ? `config.json must say "${rowsField}": ${fileRows}, "n_embd": ${fileCols} for this file, or use the config.json that belongs to this checkpoint`
        : 'use the config.json that belongs to this checkpoint',
    });
  };
  table('wte.weight', 'vocab_size', cfg.vocabSize);
  table('wpe.weight', 'n_positions', cfg.nCtx);
}

/** Largest magnitude an f16 holds: the engine keeps weights as f16 on the GPU. */
export const F16_MAX_VALUE = 65504;
/** f32 bits of F16_MAX_VALUE: |x| > 65504, ±Inf and NaN are exactly the magnitudes (bits & 0x7fffffff) above it. */
const F16_MAX_F32_BITS = 0x477fe000;

/**
 * Index of the first value that is not finite or whose magnitude exceeds F16_MAX_VALUE, or -1. One pass over
 * the f32 bit patterns (an integer compare per value).
 */
export function firstOutOfF16Range(a: Float32Array): number {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & 0x7fffffff) > F16_MAX_F32_BITS) return i;
  }
  return -1;
}

/**
 * The same on a tensor's stored little-endian bytes, without converting anything: F32 as above; F16 values
 * are out of range exactly when their exponent bits are all ones (±Inf, NaN); BF16 when their magnitude bits
 * exceed 0x477f (65504 < 0x4780 = 65536 as BF16, and BF16 holds no value in between).
 */
export function firstOutOfF16RangeBytes(bytes: Uint8Array, dtype: WeightDtype): number {
  const aligned = LITTLE_ENDIAN && bytes.byteOffset % (dtype === 'F32' ? 4 : 2) === 0;
  if (dtype === 'F32') {
    if (aligned) return firstOutOfF16Range(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2));
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < bytes.byteLength >> 2; i++) if ((dv.getUint32(4 * i, true) & 0x7fffffff) > F16_MAX_F32_BITS) return i;
    return -1;
  }
  const n = bytes.byteLength >> 1;
  const u16 = aligned ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : Uint16Array.from({ length: n }, (_, i) => bytes[2 * i] | (bytes[2 * i + 1] << 8));
  if (dtype === 'F16') {
    for (let i = 0; i < n; i++) if ((u16[i] & 0x7c00) === 0x7c00) return i;
  } else {
    for (let i = 0; i < n; i++) if ((u16[i] & 0x7fff) > 0x477f) return i;
  }
  return -1;
}

/** The element at index i of stored bytes, as a number (for messages). */
function elementAt(bytes: Uint8Array, dtype: WeightDtype, i: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') return dv.getFloat32(4 * i, true);
  const h = dv.getUint16(2 * i, true);
  return dtype === 'F16' ? f16BitsToF32(h) : bf16BitsToF32(h);
}

/** ModelFormatError 'value' for the value x at index i of a tensor (shape used to name row and column). */
function valueError(file: string, tensor: string, shape: readonly number[], i: number, x: number): ModelFormatError {
  const at = shape.length === 2 ? ` (row ${Math.floor(i / shape[1])}, column ${i % shape[1]})` : shape.length === 3 ? ` (block ${Math.floor(i / (shape[1] * shape[2]))})` : '';
  return new ModelFormatError({
    file, tensor, code: 'value',
    problem: `value ${Number.isNaN(x) ? 'NaN' : String(x)} at index ${i}${at} ${Number.isFinite(x) ? `is outside the f16 range (|x| ≤ ${F16_MAX_VALUE})` : 'is not finite'}`,
    hint: 'the engine keeps weights as f16 on the GPU; the checkpoint is corrupted or was trained into overflow: fix or re-export it',
  });
}

/** Throws ModelFormatError 'value' naming the tensor and the first value an f16 cannot hold (NaN, ±Inf, |x| > 65504). */
export function checkF16Range(a: Float32Array, file: string, tensor: string, shape: readonly number[]): void {
  const i = firstOutOfF16Range(a);
  if (i >= 0) throw valueError(file, tensor, shape, i, a[i]);
}

/**
 * Every weight of a validated checkpoint finite and within f16's range: one pass over the stored bytes of each
 * tensor loadGpt2Weights reads (a BSR matrix's values tensor for a block-sparse one), converting nothing. The
 * first bad value is a ModelFormatError 'value' naming the tensor and its index. About 0.2 s for GPT-2 124M
 * on this 2-core machine (`npx tsx src/model/measureValueCheck.ts DIR`).
 */
export function checkWeightValues(st: SafetensorsFile, resolved: ReadonlyMap<string, ResolvedTensor>): void {
  for (const info of resolved.values()) {
    const t = info.bsr ? info.bsr.valuesInfo : info;
    const bytes = st.bytes(t.name);
    const dtype = t.dtype as WeightDtype;
    const i = firstOutOfF16RangeBytes(bytes, dtype);
    if (i >= 0) throw valueError(st.file, t.name, t.shape, i, elementAt(bytes, dtype, i));
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function floatsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * All GPT-2 weights as f32, exactly as stored (F16/BF16 widened; BSR matrices expanded to dense with zeros).
 * Validation of every tensor happens first, so a bad file throws before any conversion. Extra tensors (HF's
 * h.N.attn.bias mask buffers, a tied lm_head.weight) are ignored. F32 tensors may be views into the file
 * bytes: treat as read-only.
 */
export function loadGpt2Weights(st: SafetensorsFile, config: GPT2Config): Gpt2Weights {
  const resolved = validateGpt2Tensors(st, config);
  // Every value checked once, on the stored bytes, before anything is converted: NaN, ±Inf or |x| > 65504
  // (what the engine's f16 weights cannot hold) is refused, naming the tensor and the index.
  checkWeightValues(st, resolved);
  const sparse: NonNullable<Gpt2Weights['sparse']> = { block: 0, matrices: {} };
  const get = (name: string): Float32Array => {
    const info = resolved.get(name)!;
    if (!info.bsr) return st.getF32(info.name);
    const m = readBsrMatrix(st, info.bsr);
    sparse.block = info.bsr.block;
    sparse.matrices[name] = blockDensity(m);
    return bsrToDense(m);
  };
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const layer = {} as LayerWeights;
    for (const [key, suffix] of layerSpecs(config)) layer[key] = get(`h.${l}.${suffix}`);
    layers.push(layer);
  }
  const weights: Gpt2Weights = {
    config,
    wte: get('wte.weight'),
    wpe: get('wpe.weight'),
    layers,
    lnfG: get('ln_f.weight'),
    lnfB: get('ln_f.bias'),
  };
  if (sparse.block !== 0) weights.sparse = sparse;
  return weights;
}

export interface WriteCheckpointOptions {
  /** 'bsr' stores every prunable matrix (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj weights) as BSR. */
  format: 'dense' | 'bsr';
  /** BSR block size (16, 32 or 64); required for 'bsr'. */
  block?: number;
  /**
   * Storage dtype, for a Gpt2Weights source only (default F32): one for all tensors or per unprefixed HF
   * name. A SafetensorsFile source always keeps each tensor's own dtype.
   */
  dtype?: WeightDtype | ((name: string) => WeightDtype);
  /**
   * __metadata__ to write. Default: a file source's own metadata; {"format": "pt"} for weights. Sparse keys
   * (sparse_format, bsr_block_size, "<matrix>.shape") are removed from it and, for 'bsr', appended anew.
   */
  metadata?: Record<string, string>;
}

/** Dense tensors in output order: HF name (as it will be written), dtype, shape, little-endian bytes. */
type DenseEntry = TensorToWrite;

/** Little-endian bytes of an I32 array. */
function i32Bytes(a: Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  a.forEach((v, i) => dv.setInt32(4 * i, v, true));
  return out;
}

function encodeF32(a: Float32Array, dtype: WeightDtype): Uint8Array {
  if (dtype === 'F32') return f32Bytes(a);
  return u16Bytes(dtype === 'F16' ? f32ArrayToF16Bits(a) : f32ArrayToBf16Bits(a));
}

/** The tensors of weights in expectedTensors order, encoded. */
function entriesOfWeights(w: Gpt2Weights, dtypeOf: (name: string) => WeightDtype): DenseEntry[] {
  const cfg = w.config;
  const arrays = new Map<string, Float32Array>([['wte.weight', w.wte], ['wpe.weight', w.wpe], ['ln_f.weight', w.lnfG], ['ln_f.bias', w.lnfB]]);
  w.layers.forEach((layer, l) => {
    for (const [key, suffix] of layerSpecs(cfg)) arrays.set(`h.${l}.${suffix}`, layer[key]);
  });
  return expectedTensors(cfg).map(({ name, shape }) => {
    const a = arrays.get(name);
    const n = shape.reduce((x, y) => x * y, 1);
    if (!a || a.length !== n) throw new RangeError(`writeGpt2Checkpoint: ${name} needs ${n} values (${formatShape(shape)}), got ${a?.length}`);
    const dtype = dtypeOf(name);
    if (!WEIGHT_DTYPES.has(dtype)) throw new RangeError(`writeGpt2Checkpoint: dtype must be F32, F16 or BF16 (got ${String(dtype)} for ${name})`);
    return { name, dtype, shape, data: encodeF32(a, dtype) };
  });
}

/**
 * The tensors of a file in header order with every BSR matrix reassembled to dense bytes (bit for bit, in
 * the values' dtype) at the place of its first companion. Returns also the names that were BSR.
 */
function entriesOfFile(st: SafetensorsFile): { entries: DenseEntry[]; wasBsr: string[] } {
  const entries: DenseEntry[] = [];
  const wasBsr: string[] = [];
  const done = new Set<string>();
  for (const t of st.tensors.values()) {
    const base = bsrBaseName(t.name);
    if (base === undefined) {
      entries.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: st.bytes(t.name) });
      continue;
    }
    if (done.has(base)) continue;
    done.add(base);
    const info = readBsrTensorInfo(st, base);
    const size = DTYPE_BYTES[info.valuesInfo.dtype];
    const data = bsrBytesToDense({ crow: info.crow, col: info.col, values: st.bytes(info.valuesInfo.name).slice() }, info.rows, info.cols, info.block, size);
    entries.push({ name: base, dtype: info.valuesInfo.dtype, shape: [info.rows, info.cols], data });
    wasBsr.push(base);
  }
  return { entries, wasBsr };
}

/** True for a metadata key this writer manages for BSR matrices. */
function isSparseKey(key: string, matrices: ReadonlySet<string>): boolean {
  if (key === SPARSE_FORMAT_KEY || key === BSR_BLOCK_SIZE_KEY) return true;
  return key.endsWith(SHAPE_KEY_SUFFIX) && matrices.has(key.slice(0, -SHAPE_KEY_SUFFIX.length));
}

/**
 * A complete model.safetensors for GPT-2 weights or for an existing checkpoint file, dense or with every
 * prunable matrix as BSR. From a file the conversion is lossless and deterministic: dtypes, tensor order
 * and metadata are kept, a BSR matrix's companions (crow, col, values) take the place of its dense tensor
 * and vice versa, and the sparse metadata keys are removed and appended in tensor order; so dense → bsr →
 * dense and bsr → dense → bsr reproduce this writer's bytes exactly. A BSR block is stored iff any of its
 * elements has a nonzero bit pattern.
 */
export function writeGpt2Checkpoint(source: Gpt2Weights | SafetensorsFile, opts: WriteCheckpointOptions): Uint8Array<ArrayBuffer> {
  if (opts.format !== 'dense' && opts.format !== 'bsr') throw new RangeError(`writeGpt2Checkpoint: format must be dense or bsr (got ${String(opts.format)})`);
  const block = opts.block;
  if (opts.format === 'bsr' && !(BSR_BLOCK_SIZES as readonly unknown[]).includes(block)) {
    throw new RangeError(`writeGpt2Checkpoint: block must be one of ${BSR_BLOCK_SIZES.join(', ')} for bsr (got ${String(block)})`);
  }
  let entries: DenseEntry[];
  let wasBsr: string[] = [];
  let metadata: Record<string, string>;
  if ('tensors' in source) {
    if (opts.dtype !== undefined) throw new RangeError('writeGpt2Checkpoint: dtype applies to Gpt2Weights sources; a file keeps its own dtypes');
    ({ entries, wasBsr } = entriesOfFile(source));
    metadata = opts.metadata ?? source.metadata;
  } else {
    const dtype = opts.dtype ?? 'F32';
    entries = entriesOfWeights(source, typeof dtype === 'function' ? dtype : () => dtype);
    metadata = opts.metadata ?? { format: 'pt' };
  }
  const toBsr = (e: DenseEntry): boolean =>
    opts.format === 'bsr' && isPrunableMatrixName(e.name) && e.shape.length === 2 && WEIGHT_DTYPES.has(e.dtype);
  const matrices = new Set<string>([...wasBsr, ...entries.filter((e) => isPrunableMatrixName(e.name)).map((e) => e.name)]);
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!isSparseKey(k, matrices)) meta[k] = v;

  const out: TensorToWrite[] = [];
  const shapes: Array<[string, string]> = [];
  for (const e of entries) {
    if (!toBsr(e)) {
      out.push(e);
      continue;
    }
    const [rows, cols] = e.shape;
    const b = denseBytesToBsr(e.data, rows, cols, block!, DTYPE_BYTES[e.dtype]);
    out.push(
      { name: e.name + BSR_CROW_SUFFIX, dtype: 'I32', shape: [b.crow.length], data: i32Bytes(b.crow) },
      { name: e.name + BSR_COL_SUFFIX, dtype: 'I32', shape: [b.col.length], data: i32Bytes(b.col) },
      { name: e.name + BSR_VALUES_SUFFIX, dtype: e.dtype, shape: [b.col.length, block!, block!], data: b.values },
    );
    shapes.push([e.name + SHAPE_KEY_SUFFIX, JSON.stringify([rows, cols])]);
  }
  if (shapes.length > 0) {
    meta[SPARSE_FORMAT_KEY] = 'bsr';
    meta[BSR_BLOCK_SIZE_KEY] = String(block);
    for (const [k, v] of shapes) meta[k] = v;
  }
  return writeSafetensors(out, meta);
}

/** A key twice in one object (JSON.parse keeps the last one silently) or nesting deeper than 64 levels is refused. */
function refuseDuplicateKeys(text: string, file: string, code: 'config' | 'tokenizer'): void {
  const scan = scanJsonKeys(text);
  if (scan?.tooDeep !== undefined) {
    const where = scan.tooDeep.path.length > 0 ? `${previewJson(scan.tooDeep.path.join('.'))} ` : '';
    throw new ModelFormatError({ file, code, problem: `${where}nests arrays or objects more than ${MAX_HEADER_DEPTH} levels deep`, hint: 'no field of this file nests that deep: it is corrupted' });
  }
  if (scan?.duplicate) {
    const { key, path } = scan.duplicate;
    throw new ModelFormatError({
      file, code,
      problem: `key ${previewJson(key)} appears twice in ${path.length === 0 ? 'the top-level object' : previewJson(path.join('.'))}`,
      hint: 'JSON.parse would silently keep the last one: write each key once',
    });
  }
}

export interface ModelFiles {
  config: GPT2Config;
  /** config.json as parsed (all fields, including ones the engine ignores). */
  configJson: Record<string, unknown>;
  /** Validated against config: every required tensor present with the right shape. */
  safetensors: SafetensorsFile;
  /** tokenizer.json parsed, when the model has one; otherwise drive the model by token ids. */
  tokenizerJson?: unknown;
  /** Directory or base URL the files came from. */
  source: string;
}

/**
 * Parses and validates a model's files (already read into memory). Shapes are checked eagerly against the
 * config, but weights are not converted: call loadGpt2Weights(files.safetensors, files.config) for f32 data.
 */
export function parseModelFiles(source: string, files: { config: string; safetensors: Uint8Array; tokenizer?: string }): ModelFiles {
  const configFile = joinSource(source, 'config.json');
  let configJson: unknown;
  try {
    configJson = JSON.parse(files.config);
  } catch (e) {
    throw new ModelFormatError({ file: configFile, code: 'config', problem: `not valid JSON (${clipText((e as Error).message)})` });
  }
  refuseDuplicateKeys(files.config, configFile, 'config');
  const config = parseConfig(configJson, configFile);
  let tokenizerJson: unknown;
  if (files.tokenizer !== undefined) {
    const tokenizerFile = joinSource(source, 'tokenizer.json');
    try {
      tokenizerJson = JSON.parse(files.tokenizer);
    } catch (e) {
      throw new ModelFormatError({ file: tokenizerFile, code: 'tokenizer', problem: `not valid JSON (${clipText((e as Error).message)})` });
    }
    refuseDuplicateKeys(files.tokenizer, tokenizerFile, 'tokenizer');
  }
  const safetensors = parseSafetensors(files.safetensors, joinSource(source, 'model.safetensors'));
  validateGpt2Tensors(safetensors, config, configFile);
  return { config, configJson: configJson as Record<string, unknown>, safetensors, tokenizerJson, source };
}
