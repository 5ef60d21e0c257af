// `inspect`: what a model directory holds: config, parameter count, bytes, and for every tensor its
// dtype, shape, size and density (fraction of nonzero elements; block-sparse models show below 1), plus
// for BSR checkpoints the block size and each BSR matrix's block density.

import { validateGpt2Tensors } from '../model/checkpoint';
import { parameterCount, type GPT2Config } from '../model/config';
import { readModelDir } from '../model/files';
import { resolveModelArg } from './hubCache';
import { DTYPE_BYTES, elementCount, formatShape, LITTLE_ENDIAN, type SafetensorsFile, type TensorInfo } from '../model/safetensors';
import { flag, parseOptions, requireString } from './args';

export const HELP = `usage: npm run -s cli -- inspect --model DIR [--json]

Validates DIR (config.json, model.safetensors, optional tokenizer.json) and prints the config, parameter
count, file size, and each tensor's dtype, shape, bytes and density (fraction of nonzero elements). For a
block-sparse (BSR) checkpoint it also lists each BSR matrix's logical shape and block density.

  --model DIR   model directory
  --json        one JSON object: {"model", "config", "parameters", "bytes", "format": "dense"|"bsr",
                "tensors": [{"name", "dtype", "shape", "bytes", "density"}],
                "sparse": null | {"block", "matrices": [{"name", "shape", "blocks", "total_blocks", "block_density"}]}}`;

const OPTIONS = {
  model: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Float dtypes: their sign bit is ignored when counting nonzeros, so -0 counts as zero. */
const FLOAT_SIGN_MASKED = new Set(['F64', 'F32', 'F16', 'BF16']);

/** Number of nonzero elements of a tensor (floats: ±0 is zero; NaN counts as nonzero). */
export function countNonzero(st: SafetensorsFile, t: TensorInfo): number {
  const bytes = st.bytes(t.name);
  const size = DTYPE_BYTES[t.dtype];
  const n = elementCount(t.shape);
  const isFloat = FLOAT_SIGN_MASKED.has(t.dtype);
  let count = 0;
  if (LITTLE_ENDIAN && size === 4 && bytes.byteOffset % 4 === 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
    const mask = isFloat ? 0x7fffffff : 0xffffffff;
    for (let i = 0; i < n; i++) if ((w[i] & mask) !== 0) count++;
    return count;
  }
  if (LITTLE_ENDIAN && size === 2 && bytes.byteOffset % 2 === 0) {
    const w = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    const mask = isFloat ? 0x7fff : 0xffff;
    for (let i = 0; i < n; i++) if ((w[i] & mask) !== 0) count++;
    return count;
  }
  // Generic: any byte set, the float sign bit (top bit of the last, most significant byte) excluded.
  for (let i = 0; i < n; i++) {
    const base = i * size;
    let nz = 0;
    for (let b = 0; b < size; b++) nz |= bytes[base + b] & (isFloat && b === size - 1 ? 0x7f : 0xff);
    if (nz !== 0) count++;
  }
  return count;
}

export interface InspectTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** Nonzero fraction; null for a tensor with no elements. */
  density: number | null;
}

/** One matrix stored as BSR. */
export interface InspectSparseMatrix {
  /** Matrix name as stored (its companions are name + ".bsr_*"). */
  name: string;
  /** Logical [in, out] shape. */
  shape: number[];
  /** Stored blocks. */
  blocks: number;
  total_blocks: number;
  /** blocks / total_blocks. */
  block_density: number;
}

export interface InspectReport {
  model: string;
  config: Record<string, number>;
  parameters: number;
  bytes: number;
  /** "bsr" when any matrix is stored block-sparse (always set by inspectModel). */
  format?: 'dense' | 'bsr';
  tensors: InspectTensor[];
  /** BSR checkpoints: block size and per-matrix block density; null for dense (always set by inspectModel). */
  sparse?: { block: number; matrices: InspectSparseMatrix[] } | null;
}

function hfConfigFields(cfg: GPT2Config): Record<string, number> {
  return {
    n_layer: cfg.nLayer,
    n_head: cfg.nHead,
    n_embd: cfg.nEmbd,
    n_positions: cfg.nCtx,
    vocab_size: cfg.vocabSize,
    layer_norm_epsilon: cfg.layerNormEps,
  };
}

/** Reads and validates the model directory and builds the report. */
export async function inspectModel(dir: string): Promise<InspectReport> {
  const files = await readModelDir(dir);
  const st = files.safetensors;
  const tensors = [...st.tensors.values()].map((t): InspectTensor => {
    const n = elementCount(t.shape);
    return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.end - t.begin, density: n === 0 ? null : countNonzero(st, t) / n };
  });
  const matrices: InspectSparseMatrix[] = [];
  let block = 0;
  for (const info of validateGpt2Tensors(st, files.config).values()) {
    if (!info.bsr) continue;
    block = info.bsr.block;
    const total = Math.ceil(info.bsr.rows / block) * Math.ceil(info.bsr.cols / block);
    const blocks = info.bsr.col.length;
    matrices.push({ name: info.name, shape: info.shape, blocks, total_blocks: total, block_density: total === 0 ? 1 : blocks / total });
  }
  return {
    model: dir,
    config: hfConfigFields(files.config),
    parameters: parameterCount(files.config),
    bytes: st.raw.byteLength,
    format: matrices.length > 0 ? 'bsr' : 'dense',
    tensors,
    sparse: matrices.length > 0 ? { block, matrices } : null,
  };
}

function table(rows: string[][], rightAligned: boolean[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd())
    .join('\n');
}

export function formatReport(r: InspectReport): string {
  const num = (n: number) => n.toLocaleString('en-US');
  const head = table(
    [
      ['model', r.model],
      ['config', Object.entries(r.config).map(([k, v]) => `${k}=${v}`).join(' ')],
      ['parameters', num(r.parameters)],
      ['bytes', `${num(r.bytes)} (model.safetensors)`],
      ...(r.format ? [['format', r.sparse ? `bsr (${r.sparse.block}×${r.sparse.block} blocks)` : r.format]] : []),
    ],
    [false, false],
  );
  const rows = [['name', 'dtype', 'shape', 'bytes', 'density']];
  for (const t of r.tensors) {
    rows.push([t.name, t.dtype, formatShape(t.shape), num(t.bytes), t.density === null ? '-' : t.density.toFixed(4)]);
  }
  let out = `${head}\n\n${table(rows, [false, false, false, true, true])}`;
  if (r.sparse) {
    const sparse = [['bsr matrix', 'shape', 'blocks', 'block density']];
    for (const m of r.sparse.matrices) {
      sparse.push([m.name, formatShape(m.shape), `${num(m.blocks)}/${num(m.total_blocks)}`, m.block_density.toFixed(4)]);
    }
    out += `\n\n${table(sparse, [false, false, true, true])}`;
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const values = parseOptions(args, OPTIONS, 'inspect');
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const report = await inspectModel(await resolveModelArg(requireString(values, 'model'), (line) => process.stderr.write(`${line}\n`)));
  process.stdout.write(flag(values, 'json') ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
}
