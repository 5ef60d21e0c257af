// The project's own strict safetensors reader and writer (format: 8-byte LE header length, JSON header,
// raw little-endian data). Every malformed file is rejected with a ModelFormatError naming the file,
// the tensor and the problem; tensor data is exposed as views, never copied unless converted.

import { ModelFormatError } from './errors';
import { bf16ArrayToF32, f16ArrayToF32 } from '../shared/f16';
import { clipText, previewJson } from '../shared/preview';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** Bytes per element of each dtype this reader knows. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/** Dtypes getF32 converts (F64 is narrowed). */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set<SafetensorsDtype>(['F64', 'F32', 'F16', 'BF16']);

/** Largest JSON header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets into the data section (which starts right after the header). */
  begin: number;
  end: number;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class SafetensorsFile {
  readonly file: string;
  readonly metadata: Record<string, string>;
  /** Tensors in header order. */
  readonly tensors: Map<string, TensorInfo>;
  /** Absolute byte offset of the data section within `raw`. */
  readonly dataStart: number;
  /** The whole file. */
  readonly raw: Uint8Array;

  constructor(file: string, raw: Uint8Array, dataStart: number, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.file = file;
    this.raw = raw;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) {
      throw new ModelFormatError({ file: this.file, tensor: name, problem: 'tensor not in file', code: 'missing-tensor' });
    }
    return t;
  }

  /** The tensor's raw little-endian bytes: a view into the file, no copy. */
  bytes(name: string): Uint8Array {
    const t = this.info(name);
    return this.raw.subarray(this.dataStart + t.begin, this.dataStart + t.end);
  }

  /**
   * The tensor's values as f32: F16/BF16 are widened exactly, F64 is narrowed. For an F32 tensor whose
   * data is 4-byte aligned in memory this is a view into the file bytes (no copy): treat it as read-only.
   */
  getF32(name: string): Float32Array {
    const t = this.info(name);
    if (!FLOAT_DTYPES.has(t.dtype)) {
      throw new ModelFormatError({
        file: this.file, tensor: name, code: 'dtype',
        problem: `dtype ${t.dtype} is not a float type; getF32 reads F32, F16, BF16 or F64`,
      });
    }
    const bytes = this.bytes(name);
    const n = elementCount(t.shape);
    const abs = bytes.byteOffset;
    switch (t.dtype) {
      case 'F32':
        if (LITTLE_ENDIAN && abs % 4 === 0) return new Float32Array(bytes.buffer, abs, n);
        return readViaDataView(bytes, n, 4, (dv, o) => dv.getFloat32(o, true));
      case 'F16':
        if (LITTLE_ENDIAN && abs % 2 === 0) return f16ArrayToF32(new Uint16Array(bytes.buffer, abs, n));
        return f16ArrayToF32(readU16(bytes, n));
      case 'BF16':
        if (LITTLE_ENDIAN && abs % 2 === 0) return bf16ArrayToF32(new Uint16Array(bytes.buffer, abs, n));
        return bf16ArrayToF32(readU16(bytes, n));
      default: // F64
        return readViaDataView(bytes, n, 8, (dv, o) => dv.getFloat64(o, true));
    }
  }
}

function readU16(bytes: Uint8Array, n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  return out;
}

function readViaDataView(bytes: Uint8Array, n: number, size: number, get: (dv: DataView, offset: number) => number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = get(dv, i * size);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Deepest nesting of arrays and objects a header may have (the reference implementation's serde_json stops at 128; a real header has 3). */
export const MAX_HEADER_DEPTH = 64;

/**
 * Scans JSON text (already known to parse) for what JSON.parse hides: a key that appears twice in one object
 * (JSON.parse silently keeps the last) and nesting deeper than maxDepth. Iterative, linear in the text.
 * Returns the first problem, or undefined.
 */
export function scanJsonKeys(text: string, maxDepth: number = MAX_HEADER_DEPTH): { duplicate?: { key: string; path: string[] }; tooDeep?: { path: string[] } } | undefined {
  // One entry per open container: the keys seen so far (objects) or null (arrays); keyOf is the key under
  // which each container sits in its parent (for naming the place of a duplicate).
  const seen: Array<Set<string> | null> = [];
  const keyOf: string[] = [];
  let pendingKey = '';
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j++;
        } else if (d === 0x22) {
          break;
        }
      }
      const start = i;
      i = j;
      const top = seen.length > 0 ? seen[seen.length - 1] : null;
      if (top === null) continue; // a value inside an array (or a top-level string)
      let k = i + 1;
      while (k < n && (text.charCodeAt(k) === 0x20 || text.charCodeAt(k) === 0x09 || text.charCodeAt(k) === 0x0a || text.charCodeAt(k) === 0x0d)) k++;
      if (text.charCodeAt(k) !== 0x3a /* : */) continue; // a string value, not a key
      const key = escaped ? (JSON.parse(text.slice(start, j + 1)) as string) : text.slice(start + 1, j);
      if (top.has(key)) return { duplicate: { key, path: keyOf.slice(1) } };
      top.add(key);
      pendingKey = key;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (seen.length >= maxDepth) return { tooDeep: { path: keyOf.slice(1).filter((k) => k !== '[]').slice(0, 3) } };
      const parent = seen.length > 0 ? seen[seen.length - 1] : null;
      keyOf.push(parent === null ? (seen.length === 0 ? '' : '[]') : pendingKey);
      seen.push(c === 0x7b ? new Set() : null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      seen.pop();
      keyOf.pop();
    }
  }
  return undefined;
}

/**
 * Parses and validates a whole safetensors file held in memory, as strictly as the reference implementation
 * (huggingface/safetensors): at least 8 bytes; header length within MAX_HEADER_BYTES and the file; the header
 * is UTF-8 JSON starting with "{", an object, no key twice in any object, nested at most MAX_HEADER_DEPTH
 * deep; `__metadata__` maps strings to strings; every tensor has a known dtype, a non-negative integer shape
 * and data_offsets whose span equals its size; no two tensors overlap; every tensor lies inside the data
 * section; and the tensors cover the data section exactly: the first begins at byte 0, each next one where
 * the previous ends, the last at the end of the file (no holes, no trailing bytes; so a header length that
 * is off by even one byte fails). Values from the file are echoed through previewJson (bounded).
 */
export function parseSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const err = (code: ModelFormatError['code'], problem: string, tensor?: string, hint?: string): never => {
    throw new ModelFormatError({ file, tensor, problem, code, hint });
  };
  if (bytes.byteLength < 8) {
    err('truncated', `file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`, undefined,
      'the file is truncated or not a safetensors file');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const lenLo = dv.getUint32(0, true);
  const lenHi = dv.getUint32(4, true);
  const headerLen = lenHi * 2 ** 32 + lenLo;
  if (headerLen > MAX_HEADER_BYTES) {
    err('header-length', `header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`, undefined, 'not a safetensors file, or a corrupted one');
  }
  if (headerLen > bytes.byteLength - 8) {
    err('header-length', `header length ${headerLen} is longer than the ${bytes.byteLength - 8} bytes after the length field`, undefined,
      'the file is truncated or not a safetensors file');
  }
  if (headerLen < 2) err('header-json', `header length ${headerLen} is too short for a JSON object`);
  if (bytes[8] !== 0x7b) {
    err('header-json', `header must start with "{" (byte 8 is 0x${bytes[8].toString(16).padStart(2, '0')})`, undefined,
      'not a safetensors file, or its header length is wrong');
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return err('header-json', 'header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return err('header-json', `header is not valid JSON (${clipText((e as Error).message)})`, undefined,
      'the file is corrupted, or the header length does not match the JSON');
  }
  if (!isPlainObject(header)) err('header-json', 'header must be a JSON object of tensors');
  const scan = scanJsonKeys(text);
  if (scan?.tooDeep !== undefined) {
    const [entry, ...field] = scan.tooDeep.path;
    const meta = entry === '__metadata__';
    const where = entry === undefined ? 'the header' : meta ? previewJson([entry, ...field].join('.'))
      : field.length > 0 ? `${previewJson(field.join('.'))} of this entry` : 'this entry';
    err('header-json', `${where} nests arrays or objects more than ${MAX_HEADER_DEPTH} levels deep`,
      meta ? undefined : entry, 'a safetensors header is {name: {dtype, shape, data_offsets}, __metadata__: {key: string}}');
  }
  if (scan?.duplicate) {
    const { key, path } = scan.duplicate;
    err('header-json', `key ${previewJson(key)} appears twice in ${path.length === 0 ? 'the header' : `the header entry ${previewJson(path[0])}`}`,
      path.length === 0 && key !== '__metadata__' ? key : undefined,
      'JSON.parse would silently keep the last one; the reference implementation refuses the file: write each tensor once');
  }
  const head = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  if (head.__metadata__ !== undefined) {
    const m = head.__metadata__;
    if (!isPlainObject(m)) err('header-json', `__metadata__ must be an object of strings (got ${previewJson(m)})`);
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') err('header-json', `__metadata__[${previewJson(k)}] must be a string (got ${previewJson(v)})`);
      metadata[k] = v as string;
    }
  }

  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(head)) {
    if (name === '__metadata__') continue;
    if (!isPlainObject(entry)) err('header-json', `entry must be an object with dtype, shape and data_offsets (got ${previewJson(entry)})`, name);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) {
      err('unknown-dtype', `unknown dtype ${previewJson(dtype)}`, name, `known: ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      err('header-json', `shape must be an array of non-negative integers (got ${previewJson(shape)})`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      err('offsets', `data_offsets must be [begin, end] with non-negative integers (got ${previewJson(offsets)})`, name);
    }
    const dt = dtype as SafetensorsDtype;
    const shp = shape as number[];
    const [begin, end] = offsets as number[];
    const nbytes = elementCount(shp) * DTYPE_BYTES[dt];
    if (!Number.isSafeInteger(nbytes)) err('offsets', `shape ${previewJson(shp)} is too large`, name);
    if (end < begin) err('offsets', `data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end - begin !== nbytes) {
      err('offsets', `data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dt} ${previewJson(shp)} needs ${nbytes}`, name);
    }
    tensors.set(name, { name, dtype: dt, shape: shp.slice(), begin, end });
  }

  // Ranges: sorted by start, each must begin at or after the previous end and lie inside the data section.
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let prev: TensorInfo | null = null;
  let tiled = true; // tensors cover [0, maxEnd) without gaps: a file cut short, not a bad header
  let expectedBegin = 0;
  for (const t of sorted) {
    if (t.begin !== expectedBegin) tiled = false;
    expectedBegin = t.end;
    if (prev && t.begin < prev.end && t.end > t.begin && prev.end > prev.begin) {
      err('overlap', `bytes [${t.begin}, ${t.end}) overlap tensor ${previewJson(prev.name)} at [${prev.begin}, ${prev.end})`, t.name);
    }
    if (!prev || t.end > prev.end) prev = t;
  }
  for (const t of sorted) {
    if (t.end > dataLen) {
      if (tiled) {
        const need = sorted[sorted.length - 1].end;
        err('truncated', `file is truncated: the header needs ${need} data bytes, the file has ${dataLen}; this tensor ends at byte ${t.end}`, t.name,
          'download or write the file again');
      }
      err('offsets', `data_offsets [${t.begin}, ${t.end}] lie outside the ${dataLen}-byte data section`, t.name);
    }
  }
  // Exact cover: no byte of the data section belongs to no tensor (the reference implementation's rule).
  let covered = 0;
  let before: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin > covered) {
      err('offsets', `bytes [${covered}, ${t.begin}) of the data section belong to no tensor (${before ? `after ${previewJson(before.name)}, ` : 'before the first tensor, '}before this one)`,
        t.name, 'the tensors must cover the data section exactly, without holes, the first one from byte 0');
    }
    if (t.end > covered) {
      covered = t.end;
      before = t;
    }
  }
  if (covered !== dataLen) {
    err('offsets', `the data section has ${dataLen - covered} byte${dataLen - covered === 1 ? '' : 's'} after the last tensor (the tensors cover ${covered} of ${dataLen} bytes)`,
      undefined, 'the header length field is wrong (even by one byte) or bytes were appended: the file must end where its last tensor does');
  }
  return new SafetensorsFile(file, bytes, dataStart, tensors, metadata);
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

export interface SafetensorsLayout {
  /** Length field + JSON header (space padded to 8-byte alignment). */
  headerBytes: Uint8Array;
  /** Absolute offset of each tensor's data in the file, in input order. */
  offsets: number[];
  totalBytes: number;
}

/**
 * Lays out a file for tensors given only their dtype and shape, so a producer can fill the data in place
 * (makeTestModel writes 500 MB models without a second copy). Tensors are stored in the given order.
 */
export function planSafetensors(
  specs: ReadonlyArray<{ name: string; dtype: SafetensorsDtype; shape: readonly number[] }>,
  metadata?: Record<string, string>,
): SafetensorsLayout {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let pos = 0;
  const rel: number[] = [];
  for (const s of specs) {
    if (!isSafetensorsDtype(s.dtype)) throw new RangeError(`${s.name}: unknown dtype ${String(s.dtype)}`);
    if (s.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, s.name)) {
      throw new RangeError(`${s.name}: duplicate or reserved tensor name`);
    }
    const nbytes = elementCount(s.shape) * DTYPE_BYTES[s.dtype];
    header[s.name] = { dtype: s.dtype, shape: [...s.shape], data_offsets: [pos, pos + nbytes] };
    rel.push(pos);
    pos += nbytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const headerBytes = new Uint8Array(8 + padded).fill(0x20, 8);
  headerBytes.set(json, 8);
  new DataView(headerBytes.buffer).setUint32(0, padded, true); // high word stays 0: headers are < 4 GiB
  return { headerBytes, offsets: rel.map((r) => headerBytes.length + r), totalBytes: headerBytes.length + pos };
}

/** Serializes tensors into a safetensors file (header space-padded to 8 bytes like the Python library). */
export function writeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  const layout = planSafetensors(tensors, metadata);
  const out = new Uint8Array(layout.totalBytes);
  out.set(layout.headerBytes, 0);
  tensors.forEach((t, i) => {
    const want = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== want) {
      throw new RangeError(`${t.name}: ${t.dtype} ${formatShape(t.shape)} needs ${want} bytes, got ${t.data.byteLength}`);
    }
    out.set(t.data, layout.offsets[i]);
  });
  return out;
}

/** Little-endian bytes of an f32 array (a view when the platform is little-endian, as all WebGPU platforms are). */
export function f32Bytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  a.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return out;
}

/** Little-endian bytes of a 16-bit array (f16/bf16 bit patterns). */
export function u16Bytes(a: Uint16Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  a.forEach((v, i) => dv.setUint16(2 * i, v, true));
  return out;
}
