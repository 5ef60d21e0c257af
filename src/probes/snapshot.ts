// Recordings of what fired: the in-memory form, and the versioned file format "sparse-gpt2-recording"
// (JSON with little-endian binary arrays in base64; specified in docs/instrumentation.md). Version 2 adds
// each step's attention rows (the head view's top positions); a recording without them is written as
// version 1, which older readers still read, and every version-1 file imports. decodeRecording
// validates strictly and rejects anything else with a SnapshotError naming the field; its work is linear in
// the input, which is capped at 64 MiB, so no file can crash or hang it. encodeRecording runs the same
// validation first, so nothing is ever written that could not be read back. Files carry a SHA-256 `checksum`
// of their canonical payload, checked on import (optional: v1 files written before it still import).

import { f16BitsToF32, f32ToF16Bits } from '../shared/f16';
import { sha256HexSync } from '../shared/sha256';
import { clipText, PREVIEW_CHARS } from '../shared/preview';
import { drawnEdgeBits, drawnEdges, testBit, type EdgeCandidates } from './composition';
import { type ProbeFrame } from './metrics';
import { headCount, headWords, neuronWords, NO_POSITION, thresholdProblem, type AttentionTop, type ProbeShape, type Thresholds } from '../shared/probes';

export const RECORDING_FORMAT = 'sparse-gpt2-recording';
/** The newest version this reader knows (and writes when the steps carry attention rows). */
export const RECORDING_VERSION = 2;
/** Version 1: no attention rows. */
const VERSION_WITHOUT_ATTENTION = 1;

/** Bounds every field is checked against (so that work and memory stay bounded for any input). */
export const RECORDING_LIMITS = {
  fileBytes: 64 * 1024 * 1024,
  nameChars: 200,
  modelIdChars: 200,
  promptChars: 100_000,
  tokenTextChars: 1024,
  nLayer: 256,
  nHead: 256,
  /** nLayer · nHead: node ids are u16. */
  nodes: 65536,
  nEmbd: 65536,
  nCtx: 1 << 20,
  vocabSize: 1 << 24,
  maxTokens: 1 << 20,
  edges: 1 << 22,
  /** Per-step time, ms. */
  ms: 1e9,
  temperature: 100,
  /** Largest composition strength accepted (c ≤ 1 in exact arithmetic; f32 may overshoot by an ulp). */
  strength: 1.0001,
  /** Attention positions kept per head and step (the engine keeps ATTN_TOP_K = 8). */
  attnTopK: 64,
  /** Largest attention weight accepted (a softmax weight is ≤ 1; f32 may overshoot by an ulp). */
  attnWeight: 1.0001,
} as const;

/** Largest finite f16: head activities saturate here when recorded. */
export const F16_MAX = 65504;

export type SnapshotErrorCode =
  | 'too-large' // over RECORDING_LIMITS.fileBytes
  | 'encoding' // not UTF-8
  | 'json' // not JSON
  | 'format' // not a sparse-gpt2-recording
  | 'version' // a version this reader does not know
  | 'missing' // a required field is absent
  | 'unknown-field' // a field the format does not have
  | 'type' // a field of the wrong JSON type
  | 'range' // a value outside its allowed range
  | 'base64' // a binary field that is not canonical base64 of the right length
  | 'inconsistent' // fields that contradict each other
  | 'checksum' // the contents do not match the file's SHA-256 checksum
  | 'internal'; // a bug in this reader (never expected; tests assert it does not happen)

/** A recording that cannot be read or written: which field (a path such as "steps.headActivity") and why. */
export class SnapshotError extends Error {
  constructor(readonly path: string, readonly problem: string, readonly code: SnapshotErrorCode) {
    // Bounded: a path built from a file's keys shows at most PREVIEW_CHARS characters, the problem at most 1000.
    super(`recording${path ? ` ${clipText(path, PREVIEW_CHARS)}` : ''}: ${clipText(problem, 1000)}`);
    this.name = 'SnapshotError';
  }
}

/** The model a recording was made with. */
export interface RecordingModel {
  /** Human-readable name, e.g. "dense" or the model directory. */
  id: string;
  /** SHA-256 of the model's model.safetensors, 64 lower-case hex digits (see sha256Hex). */
  sha256: string;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nCtx: number;
  vocabSize: number;
}

export interface RecordingSampling {
  greedy: boolean;
  temperature?: number;
  topK?: number;
  seed?: number;
}

export interface RecordingSettings {
  thresholds: Thresholds;
  sampling: RecordingSampling;
  maxTokens: number;
}

/**
 * One generated token and the probes of the forward pass that produced it: step i's token sits at position
 * promptIds.length + i; its frame is the row at position promptIds.length + i − 1 (step 0: the prompt's last
 * row in the prefill; step i > 0: the decode step that fed token i − 1).
 */
export interface RecordedStep extends ProbeFrame {
  id: number;
  /** The token's text as shown (a token holding part of a UTF-8 character shows as U+FFFD). */
  text: string;
  /** Wall-clock ms of the step that produced it, StepResult.ms (step 0: the prefill). */
  ms: number;
}

export interface Recording {
  name: string;
  /** ISO 8601 UTC with milliseconds, as Date.toISOString writes it. */
  createdAt: string;
  model: RecordingModel;
  settings: RecordingSettings;
  prompt: string;
  promptIds: number[];
  /** The pairs with c ≥ settings.thresholds.edge; every step's edges are the ones among them whose heads both fire. */
  edgeCandidates: EdgeCandidates;
  steps: RecordedStep[];
}

// ---------------------------------------------------------------------------------------------------------
// Helpers for recorders.

/** Head activities as recorded: rounded to the nearest f16, saturating at F16_MAX. */
export function quantizeActivity(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f16BitsToF32(f32ToF16Bits(Math.min(a[i], F16_MAX)));
  return out;
}

/** A step from a probe frame, with its head activities quantized as the file stores them (other arrays copied). */
export function recordStep(frame: ProbeFrame, id: number, text: string, ms: number): RecordedStep {
  const step: RecordedStep = {
    id, text, ms,
    headActivity: quantizeActivity(frame.headActivity),
    headFiring: frame.headFiring.slice(),
    neuronBits: frame.neuronBits.slice(),
    attnWriteNorm: frame.attnWriteNorm.slice(),
    mlpWriteNorm: frame.mlpWriteNorm.slice(),
    edges: frame.edges.slice(),
  };
  if (frame.attnTop) step.attnTop = { k: frame.attnTop.k, pos: frame.attnTop.pos.slice(), weight: frame.attnTop.weight.slice() };
  return step;
}

/** The file version a recording is written as: 2 when its steps carry attention rows, else 1. */
export function recordingVersion(rec: Recording): number {
  return rec.steps.length > 0 && rec.steps[0]!.attnTop ? RECORDING_VERSION : VERSION_WITHOUT_ATTENTION;
}

/** SHA-256 of bytes as 64 lower-case hex digits, through Web Crypto (browsers in secure contexts, Node ≥ 19). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('sha256Hex: Web Crypto (crypto.subtle) is not available; pages need a secure context (https or localhost)');
  // digest wants a BufferSource over an ArrayBuffer: copy views of shared or foreign buffers.
  const data = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const digest = new Uint8Array(await subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------------------------------------------------
// Validation of the in-memory form (shared by encode and decode).

const fail = (path: string, problem: string, code: SnapshotErrorCode): never => {
  throw new SnapshotError(path, problem, code);
};

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'an array' : `a${typeof v === 'object' ? 'n object' : ` ${typeof v}`}`;
};

function checkInt(path: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') fail(path, `must be an integer (got ${show(v)})`, 'type');
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) fail(path, `must be an integer in [${min}, ${max}] (got ${show(v)})`, 'range');
  return v as number;
}

function checkString(path: string, v: unknown, maxChars: number, minChars = 0): string {
  if (typeof v !== 'string') fail(path, `must be a string (got ${show(v)})`, 'type');
  const s = v as string;
  if (s.length < minChars || s.length > maxChars) fail(path, `must be ${minChars}..${maxChars} characters long (got ${s.length})`, 'range');
  return s;
}

/** Finite, ≥ 0, and not −0 (whose sign bit would not survive the file's checks). */
const nonNegative = (x: number): boolean => x >= 0 && x <= Number.MAX_VALUE && !Object.is(x, -0);

function checkArray<T>(path: string, v: unknown, ctor: { new (n: number): T; name: string }, length: number): T {
  if (!(v instanceof (ctor as unknown as new () => object))) fail(path, `must be a ${ctor.name}`, 'type');
  const n = (v as unknown as ArrayLike<number>).length;
  if (n !== length) fail(path, `must hold ${length} values (has ${n})`, 'inconsistent');
  return v as T;
}

function checkBitsetPadding(path: string, bits: Uint32Array, wordsPerRow: number, bitsPerRow: number): void {
  const tail = bitsPerRow % 32;
  if (tail === 0) return;
  const mask = (~0 << tail) >>> 0; // unused high bits of each row's last word
  for (let w = wordsPerRow - 1; w < bits.length; w += wordsPerRow) {
    if ((bits[w] & mask) !== 0) fail(path, `bits past the ${bitsPerRow} used in word ${w} are set`, 'range');
  }
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function checkModel(m: RecordingModel): ProbeShape {
  const L = RECORDING_LIMITS;
  checkString('model.id', m.id, L.modelIdChars, 1);
  if (typeof m.sha256 !== 'string') fail('model.sha256', `must be a string (got ${show(m.sha256)})`, 'type');
  if (!/^[0-9a-f]{64}$/.test(m.sha256)) fail('model.sha256', 'must be 64 lower-case hex digits (SHA-256 of model.safetensors)', 'range');
  const nLayer = checkInt('model.nLayer', m.nLayer, 1, L.nLayer);
  const nHead = checkInt('model.nHead', m.nHead, 1, L.nHead);
  const nEmbd = checkInt('model.nEmbd', m.nEmbd, 2, L.nEmbd);
  checkInt('model.nCtx', m.nCtx, 1, L.nCtx);
  checkInt('model.vocabSize', m.vocabSize, 1, L.vocabSize);
  if (nLayer * nHead > L.nodes) fail('model', `nLayer · nHead = ${nLayer * nHead} heads exceed ${L.nodes}`, 'range');
  if (nEmbd % nHead !== 0) fail('model.nEmbd', `${nEmbd} is not divisible by nHead ${nHead}`, 'inconsistent');
  if (nEmbd % 2 !== 0) fail('model.nEmbd', `${nEmbd} must be even (as in every model the engine loads)`, 'range');
  return { nLayer, nHead, nEmbd };
}

function checkSettings(s: RecordingSettings, vocabSize: number): void {
  const p = thresholdProblem(s.thresholds);
  if (p) fail(`settings.thresholds.${p.field}`, p.problem, typeof (s.thresholds as unknown as Record<string, unknown>)[p.field] === 'number' ? 'range' : 'type');
  const sm = s.sampling;
  if (typeof sm.greedy !== 'boolean') fail('settings.sampling.greedy', `must be true or false (got ${show(sm.greedy)})`, 'type');
  if (sm.temperature !== undefined) {
    if (typeof sm.temperature !== 'number') fail('settings.sampling.temperature', `must be a number (got ${show(sm.temperature)})`, 'type');
    if (!(sm.temperature > 0 && sm.temperature <= RECORDING_LIMITS.temperature)) {
      fail('settings.sampling.temperature', `must be in (0, ${RECORDING_LIMITS.temperature}] (got ${sm.temperature})`, 'range');
    }
  }
  if (sm.topK !== undefined) checkInt('settings.sampling.topK', sm.topK, 1, vocabSize);
  if (sm.seed !== undefined) checkInt('settings.sampling.seed', sm.seed, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  checkInt('settings.maxTokens', s.maxTokens, 1, RECORDING_LIMITS.maxTokens);
}

function checkCandidates(c: EdgeCandidates, shape: ProbeShape, tauEdge: number): void {
  if (c === null || typeof c !== 'object') fail('edges', 'must be an object', 'type');
  if (!(c.strength instanceof Float32Array)) fail('edges.strength', 'must be a Float32Array', 'type');
  const E = c.strength.length;
  if (E > RECORDING_LIMITS.edges) fail('edges.count', `${E} edge candidates exceed ${RECORDING_LIMITS.edges}`, 'range');
  checkArray('edges.pairs', c.pairs, Uint16Array, 2 * E);
  const nodes = headCount(shape);
  const tau = Math.fround(tauEdge);
  let prev = -1;
  for (let e = 0; e < E; e++) {
    const src = c.pairs[2 * e];
    const dst = c.pairs[2 * e + 1];
    if (src >= nodes || dst >= nodes) fail(`edges.pairs[${e}]`, `head ${Math.max(src, dst)} is out of range (the model has ${nodes} heads)`, 'range');
    if (Math.floor(src / shape.nHead) >= Math.floor(dst / shape.nHead)) {
      fail(`edges.pairs[${e}]`, `edge ${src} → ${dst} must go from an earlier layer to a later one`, 'range');
    }
    const key = src * nodes + dst;
    if (key <= prev) fail(`edges.pairs[${e}]`, 'pairs must be sorted by (src, dst) without repeats', 'inconsistent');
    prev = key;
    const s = c.strength[e];
    if (!(s >= tau && s <= RECORDING_LIMITS.strength)) {
      fail(`edges.strength[${e}]`, `must be in [τ_edge = ${tauEdge}, 1] (got ${s})`, 'range');
    }
  }
}

function checkStep(step: RecordedStep, i: number, shape: ProbeShape, rec: Recording): void {
  const p = `steps[${i}]`;
  if (step === null || typeof step !== 'object') fail(p, 'must be an object', 'type');
  checkInt(`${p}.id`, step.id, 0, rec.model.vocabSize - 1);
  checkString(`${p}.text`, step.text, RECORDING_LIMITS.tokenTextChars);
  if (typeof step.ms !== 'number') fail(`${p}.ms`, `must be a number (got ${show(step.ms)})`, 'type');
  if (!(nonNegative(step.ms) && step.ms <= RECORDING_LIMITS.ms)) fail(`${p}.ms`, `must be in [0, ${RECORDING_LIMITS.ms}] (got ${step.ms})`, 'range');

  const nodes = headCount(shape);
  const a = checkArray(`${p}.headActivity`, step.headActivity, Float32Array, nodes);
  const firing = checkArray(`${p}.headFiring`, step.headFiring, Uint32Array, headWords(shape));
  checkBitsetPadding(`${p}.headFiring`, firing, headWords(shape), nodes);
  const tq = f16BitsToF32(f32ToF16Bits(Math.min(Math.fround(rec.settings.thresholds.head), F16_MAX)));
  for (let n = 0; n < nodes; n++) {
    const v = a[n];
    if (!(nonNegative(v) && v <= F16_MAX && f16BitsToF32(f32ToF16Bits(v)) === v)) {
      fail(`${p}.headActivity[${n}]`, `must be a finite non-negative f16 value (got ${v})`, 'range');
    }
    // Rounding to f16 is monotonic, so a ≥ τ before rounding implies f16(a) ≥ f16(τ), and a < τ implies f16(a) ≤ f16(τ).
    const fires = testBit(firing, n);
    if (fires ? v < tq : v > tq) {
      fail(`${p}.headFiring`, `head ${n} is marked ${fires ? 'firing' : 'silent'} but its activity ${v} is ${fires ? 'below' : 'above'} τ_head ${rec.settings.thresholds.head}`, 'inconsistent');
    }
  }
  const nb = checkArray(`${p}.neuronBits`, step.neuronBits, Uint32Array, shape.nLayer * neuronWords(shape));
  checkBitsetPadding(`${p}.neuronBits`, nb, neuronWords(shape), 4 * shape.nEmbd);
  for (const key of ['attnWriteNorm', 'mlpWriteNorm'] as const) {
    const v = checkArray(`${p}.${key}`, step[key], Float32Array, shape.nLayer);
    for (let l = 0; l < shape.nLayer; l++) if (!nonNegative(v[l])) fail(`${p}.${key}[${l}]`, `must be finite and ≥ 0 (got ${v[l]})`, 'range');
  }
  if (!(step.edges instanceof Uint16Array)) fail(`${p}.edges`, 'must be a Uint16Array', 'type');
  const want = drawnEdges(rec.edgeCandidates, firing);
  if (want.length !== step.edges.length || want.some((x, k) => x !== step.edges[k])) {
    fail(`${p}.edges`, 'must be exactly the edge candidates whose two heads both fire', 'inconsistent');
  }
  const withTop = rec.steps[0]!.attnTop !== undefined;
  if ((step.attnTop !== undefined) !== withTop) fail(`${p}.attnTop`, 'attention rows must be stored for every step or for none', 'inconsistent');
  if (step.attnTop) checkAttnTop(`${p}.attnTop`, step.attnTop, nodes, rec.promptIds.length + i - 1, rec.steps[0]!.attnTop!.k);
}

/**
 * One step's attention rows: per head, k entries weight-descending; a used entry is a distinct position of
 * the row's context (≤ row) with a weight in [0, 1]; unused entries (NO_POSITION, weight 0) come last.
 */
function checkAttnTop(p: string, top: AttentionTop, nodes: number, row: number, k0: number): void {
  if (top === null || typeof top !== 'object') fail(p, 'must be an object', 'type');
  const k = checkInt(`${p}.k`, top.k, 1, RECORDING_LIMITS.attnTopK);
  if (k !== k0) fail(`${p}.k`, `must be the same in every step (${k0}, got ${k})`, 'inconsistent');
  const pos = checkArray(`${p}.pos`, top.pos, Uint32Array, nodes * k);
  const weight = checkArray(`${p}.weight`, top.weight, Float32Array, nodes * k);
  const seen = new Map<number, number>();
  for (let n = 0; n < nodes; n++) {
    seen.clear();
    let unused = false;
    for (let j = 0; j < k; j++) {
      const at = n * k + j;
      const q = pos[at];
      const w = weight[at];
      if (q === NO_POSITION) {
        if (w !== 0 || Object.is(w, -0)) fail(`${p}.weight[${at}]`, `an unused entry (position none) must have weight 0 (got ${w})`, 'inconsistent');
        unused = true;
        continue;
      }
      if (unused) fail(`${p}.pos[${at}]`, `head ${n}: a used entry follows an unused one`, 'inconsistent');
      if (q > row) fail(`${p}.pos[${at}]`, `head ${n}: position ${q} is past the row's own position ${row}`, 'range');
      if (seen.has(q)) fail(`${p}.pos[${at}]`, `head ${n}: position ${q} is listed twice`, 'inconsistent');
      seen.set(q, j);
      if (!(nonNegative(w) && w <= RECORDING_LIMITS.attnWeight)) fail(`${p}.weight[${at}]`, `must be in [0, 1] (got ${w})`, 'range');
      if (j > 0 && w > weight[at - 1]) fail(`${p}.weight[${at}]`, `head ${n}: weights must not increase (${weight[at - 1]} then ${w})`, 'inconsistent');
    }
  }
}

/** Checks every field of an in-memory recording; throws SnapshotError at the first problem. */
export function validateRecording(rec: Recording): void {
  const L = RECORDING_LIMITS;
  if (rec === null || typeof rec !== 'object') fail('', 'must be an object', 'type');
  checkString('name', rec.name, L.nameChars, 1);
  checkString('createdAt', rec.createdAt, 30);
  if (!ISO_UTC.test(rec.createdAt) || Number.isNaN(Date.parse(rec.createdAt)) || new Date(rec.createdAt).toISOString() !== rec.createdAt) {
    fail('createdAt', `must be an ISO 8601 UTC time like 2025-01-31T12:00:00.000Z (got ${show(rec.createdAt)})`, 'range');
  }
  if (rec.model === null || typeof rec.model !== 'object') fail('model', 'must be an object', 'type');
  const shape = checkModel(rec.model);
  if (rec.settings === null || typeof rec.settings !== 'object') fail('settings', 'must be an object', 'type');
  checkSettings(rec.settings, rec.model.vocabSize);
  checkString('prompt', rec.prompt, L.promptChars);
  if (!Array.isArray(rec.promptIds)) fail('promptIds', 'must be an array', 'type');
  const P = rec.promptIds.length;
  if (P < 1 || P > rec.model.nCtx) fail('promptTokens', `must be in [1, nCtx = ${rec.model.nCtx}] (got ${P})`, 'range');
  for (let i = 0; i < P; i++) checkInt(`promptIds[${i}]`, rec.promptIds[i], 0, rec.model.vocabSize - 1);
  checkCandidates(rec.edgeCandidates, shape, rec.settings.thresholds.edge);
  if (!Array.isArray(rec.steps)) fail('steps', 'must be an array', 'type');
  const N = rec.steps.length;
  if (N > rec.settings.maxTokens) fail('steps.count', `${N} steps exceed settings.maxTokens ${rec.settings.maxTokens}`, 'inconsistent');
  if (N > rec.model.nCtx - P + 1) fail('steps.count', `${P} prompt tokens and ${N} steps do not fit the context of ${rec.model.nCtx}`, 'inconsistent');
  for (let i = 0; i < N; i++) checkStep(rec.steps[i], i, shape, rec);
}

// ---------------------------------------------------------------------------------------------------------
// Base64 (standard alphabet, '=' padding; canonical only) and little-endian arrays.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let o = 0; o < bytes.length; o += CHUNK) {
    const end = Math.min(bytes.length, o + CHUNK);
    let s = '';
    for (let i = o; i < end; i += 3) {
      const n = (bytes[i] << 16) | ((i + 1 < end ? bytes[i + 1] : 0) << 8) | (i + 2 < end ? bytes[i + 2] : 0);
      s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < end ? B64[(n >> 6) & 63] : '=') + (i + 2 < end ? B64[n & 63] : '=');
    }
    parts.push(s);
  }
  return parts.join('');
}

/** Decodes exactly byteLength bytes from canonical base64, or throws SnapshotError at path. */
export function base64Decode(path: string, s: unknown, byteLength: number): Uint8Array {
  if (typeof s !== 'string') fail(path, `must be a base64 string (got ${show(s)})`, 'type');
  const str = s as string;
  const want = 4 * Math.ceil(byteLength / 3);
  if (str.length !== want) {
    fail(path, `must be ${want} base64 characters for ${byteLength} bytes (has ${str.length}); the sizes must match the model shape and counts`, 'base64');
  }
  const out = new Uint8Array(byteLength);
  let o = 0;
  for (let i = 0; i < str.length; i += 4) {
    let n = 0;
    let pad = 0;
    for (let k = 0; k < 4; k++) {
      const c = str.charCodeAt(i + k);
      let v: number;
      if (c === 61 /* = */ && i + 4 === str.length && k >= 2) {
        v = 0;
        pad++;
      } else {
        v = c < 128 ? B64_INDEX[c] : -1;
        if (v < 0 || pad > 0) fail(path, `invalid base64 character at ${i + k}`, 'base64');
      }
      n = (n << 6) | v;
    }
    const have = 3 - pad;
    if (o + have !== Math.min(byteLength, o + 3) || (o + have < byteLength && pad > 0)) fail(path, 'base64 padding does not match the length', 'base64');
    // Canonical: bits of the last group past the data must be zero.
    if ((pad === 1 && (n & 0xff) !== 0) || (pad === 2 && (n & 0xffff) !== 0)) fail(path, 'non-canonical base64 (stray bits in the padding)', 'base64');
    out[o++] = (n >> 16) & 0xff;
    if (have > 1) out[o++] = (n >> 8) & 0xff;
    if (have > 2) out[o++] = n & 0xff;
  }
  return out;
}

type NumArray = Uint16Array | Uint32Array | Float32Array | Float64Array;

function toLeBytes(a: NumArray): Uint8Array {
  const out = new Uint8Array(a.length * a.BYTES_PER_ELEMENT);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Uint16Array) dv.setUint16(2 * i, a[i], true);
    else if (a instanceof Uint32Array) dv.setUint32(4 * i, a[i], true);
    else if (a instanceof Float32Array) dv.setFloat32(4 * i, a[i], true);
    else dv.setFloat64(8 * i, a[i], true);
  }
  return out;
}

function readLe<T extends NumArray>(bytes: Uint8Array, ctor: { new (n: number): T; BYTES_PER_ELEMENT: number }): T {
  const n = bytes.length / ctor.BYTES_PER_ELEMENT;
  const out = new ctor(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = ctor.BYTES_PER_ELEMENT;
  for (let i = 0; i < n; i++) {
    out[i] = w === 2 ? dv.getUint16(2 * i, true)
      : out instanceof Uint32Array ? dv.getUint32(4 * i, true)
        : out instanceof Float32Array ? dv.getFloat32(4 * i, true) : dv.getFloat64(8 * i, true);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Encode.

/** Concatenates per-step arrays into one. */
function gather<T extends NumArray>(steps: RecordedStep[], ctor: { new (n: number): T }, per: number, get: (s: RecordedStep) => ArrayLike<number>): T {
  const out = new ctor(steps.length * per);
  steps.forEach((s, i) => out.set(get(s), i * per));
  return out;
}

/**
 * The file's fields in their documented order, without `checksum`: the canonical payload is this object as
 * compact JSON (JSON.stringify, no spaces), UTF-8 encoded. rec must be valid.
 */
function payloadObject(rec: Recording): Record<string, unknown> {
  const shape: ProbeShape = rec.model;
  const nodes = headCount(shape);
  const E = rec.edgeCandidates.strength.length;
  const steps = rec.steps;
  const headBits = new Uint16Array(steps.length * nodes);
  steps.forEach((s, i) => { for (let n = 0; n < nodes; n++) headBits[i * nodes + n] = f32ToF16Bits(s.headActivity[n]); });
  const edgeWords = Math.ceil(E / 32);
  const b64 = (a: NumArray) => base64Encode(toLeBytes(a));
  const sampling: Record<string, unknown> = { greedy: rec.settings.sampling.greedy };
  for (const k of ['temperature', 'topK', 'seed'] as const) if (rec.settings.sampling[k] !== undefined) sampling[k] = rec.settings.sampling[k];
  const file = {
    format: RECORDING_FORMAT,
    version: recordingVersion(rec),
    name: rec.name,
    createdAt: rec.createdAt,
    model: {
      id: rec.model.id, sha256: rec.model.sha256,
      nLayer: rec.model.nLayer, nHead: rec.model.nHead, nEmbd: rec.model.nEmbd, nCtx: rec.model.nCtx, vocabSize: rec.model.vocabSize,
    },
    settings: {
      thresholds: { head: rec.settings.thresholds.head, neuron: rec.settings.thresholds.neuron, edge: rec.settings.thresholds.edge },
      sampling,
      maxTokens: rec.settings.maxTokens,
    },
    prompt: rec.prompt,
    promptTokens: rec.promptIds.length,
    promptIds: b64(Uint32Array.from(rec.promptIds)),
    edges: { count: E, pairs: b64(rec.edgeCandidates.pairs), strength: b64(rec.edgeCandidates.strength) },
    steps: {
      count: steps.length,
      ids: b64(Uint32Array.from(steps, (s) => s.id)),
      text: steps.map((s) => s.text),
      ms: b64(Float64Array.from(steps, (s) => s.ms)),
      headActivity: b64(headBits),
      headFiring: b64(gather(steps, Uint32Array, headWords(shape), (s) => s.headFiring)),
      neuronBits: b64(gather(steps, Uint32Array, shape.nLayer * neuronWords(shape), (s) => s.neuronBits)),
      attnWriteNorm: b64(gather(steps, Float32Array, shape.nLayer, (s) => s.attnWriteNorm)),
      mlpWriteNorm: b64(gather(steps, Float32Array, shape.nLayer, (s) => s.mlpWriteNorm)),
      edgeBits: b64(gather(steps, Uint32Array, edgeWords, (s) => drawnEdgeBits(rec.edgeCandidates, s.headFiring))),
    } as Record<string, unknown>,
  };
  const k = steps[0]?.attnTop?.k;
  if (k !== undefined) {
    file.steps.attnTop = {
      k,
      pos: b64(gather(steps, Uint32Array, nodes * k, (s) => s.attnTop!.pos)),
      weight: b64(gather(steps, Float32Array, nodes * k, (s) => s.attnTop!.weight)),
    };
  }
  return file;
}

/** SHA-256 (64 lower-case hex digits) of a valid recording's canonical payload: what the file's `checksum` holds. */
export function recordingChecksum(rec: Recording): string {
  return sha256HexSync(new TextEncoder().encode(JSON.stringify(payloadObject(rec))));
}

/**
 * The file's bytes (UTF-8 JSON, one space of indent, the fields in documented order, `checksum` last).
 * Validates first: throws SnapshotError for a recording decode would reject.
 */
export function encodeRecording(rec: Recording): Uint8Array {
  validateRecording(rec);
  const payload = payloadObject(rec);
  const file = { ...payload, checksum: sha256HexSync(new TextEncoder().encode(JSON.stringify(payload))) };
  const bytes = new TextEncoder().encode(`${JSON.stringify(file, null, 1)}\n`);
  if (bytes.length > RECORDING_LIMITS.fileBytes) {
    fail('', `encodes to ${bytes.length} bytes, over the ${RECORDING_LIMITS.fileBytes}-byte limit; record fewer tokens`, 'too-large');
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------
// Decode.

type Obj = Record<string, unknown>;

/** v as an object with exactly the given required keys (and optional ones), else SnapshotError. */
function object(path: string, v: unknown, required: readonly string[], optional: readonly string[] = []): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path || 'file', `must be a JSON object (got ${show(v)})`, 'type');
  const o = v as Obj;
  const at = (k: string) => (path ? `${path}.${k}` : k);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) fail(at(k), 'is not a field of this format', 'unknown-field');
  }
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) fail(at(k), 'is missing', 'missing');
  return o;
}

function decodeInner(input: Uint8Array | ArrayBuffer | string): Recording {
  const L = RECORDING_LIMITS;
  let text: string;
  if (typeof input === 'string') {
    if (input.length > L.fileBytes) fail('', `file is ${input.length} characters, over the ${L.fileBytes}-byte limit`, 'too-large');
    text = input;
  } else {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    if (bytes.length > L.fileBytes) fail('', `file is ${bytes.length} bytes, over the ${L.fileBytes}-byte limit`, 'too-large');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail('', 'is not UTF-8 text (a recording is a JSON file)', 'encoding');
    }
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    return fail('', `is not valid JSON (${clipText(String((e as Error).message), PREVIEW_CHARS)})`, 'json');
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root)) fail('', `must be a JSON object (got ${show(root)})`, 'format');
  const r0 = root as Obj;
  if (r0.format !== RECORDING_FORMAT) fail('format', `must be "${RECORDING_FORMAT}" (got ${show(r0.format)}): not a recording of this project`, 'format');
  if (r0.version !== RECORDING_VERSION && r0.version !== VERSION_WITHOUT_ATTENTION) {
    fail('version', typeof r0.version === 'number' && Number.isInteger(r0.version) && r0.version > RECORDING_VERSION
      ? `${r0.version} is newer than this reader (${RECORDING_VERSION}); update the page`
      : `must be ${VERSION_WITHOUT_ATTENTION} or ${RECORDING_VERSION} (got ${show(r0.version)})`, 'version');
  }
  const withAttention = r0.version === RECORDING_VERSION;
  const r = object('', root, ['format', 'version', 'name', 'createdAt', 'model', 'settings', 'prompt', 'promptTokens', 'promptIds', 'edges', 'steps'], ['checksum']);
  // Optional in version 1 (files written before it existed import without one); checked last, below.
  let checksum: string | undefined;
  if (r.checksum !== undefined) {
    if (typeof r.checksum !== 'string') fail('checksum', `must be a string of 64 hex digits (got ${show(r.checksum)})`, 'type');
    if (!/^[0-9a-f]{64}$/.test(r.checksum as string)) fail('checksum', `must be 64 lower-case hex digits (got ${show(r.checksum)})`, 'range');
    checksum = r.checksum as string;
  }
  const m = object('model', r.model, ['id', 'sha256', 'nLayer', 'nHead', 'nEmbd', 'nCtx', 'vocabSize']);
  const model = m as unknown as RecordingModel;
  const shape = checkModel(model);
  const s = object('settings', r.settings, ['thresholds', 'sampling', 'maxTokens']);
  const th = object('settings.thresholds', s.thresholds, ['head', 'neuron', 'edge']);
  const sm = object('settings.sampling', s.sampling, ['greedy'], ['temperature', 'topK', 'seed']);
  const settings: RecordingSettings = {
    thresholds: { head: th.head as number, neuron: th.neuron as number, edge: th.edge as number },
    sampling: { greedy: sm.greedy as boolean },
    maxTokens: s.maxTokens as number,
  };
  for (const k of ['temperature', 'topK', 'seed'] as const) if (sm[k] !== undefined) settings.sampling[k] = sm[k] as number;
  checkSettings(settings, model.vocabSize);

  const P = checkInt('promptTokens', r.promptTokens, 1, model.nCtx);
  const promptIds = Array.from(readLe(base64Decode('promptIds', r.promptIds, 4 * P), Uint32Array));

  const e = object('edges', r.edges, ['count', 'pairs', 'strength']);
  const E = checkInt('edges.count', e.count, 0, L.edges);
  const edgeCandidates: EdgeCandidates = {
    pairs: readLe(base64Decode('edges.pairs', e.pairs, 4 * E), Uint16Array),
    strength: readLe(base64Decode('edges.strength', e.strength, 4 * E), Float32Array),
  };

  const stepFields = ['count', 'ids', 'text', 'ms', 'headActivity', 'headFiring', 'neuronBits', 'attnWriteNorm', 'mlpWriteNorm', 'edgeBits'];
  // Version 2 is version 1 plus the attention rows: required there, unknown in version 1.
  const st = object('steps', r.steps, withAttention ? [...stepFields, 'attnTop'] : stepFields);
  // A step's frame is the row before its token, so the last one is at position ≤ nCtx − 1.
  const N = checkInt('steps.count', st.count, 0, Math.min(settings.maxTokens, model.nCtx - P + 1));
  const nodes = headCount(shape);
  const hw = headWords(shape);
  const nw = shape.nLayer * neuronWords(shape);
  const ew = Math.ceil(E / 32);
  const ids = readLe(base64Decode('steps.ids', st.ids, 4 * N), Uint32Array);
  if (!Array.isArray(st.text)) fail('steps.text', `must be an array of strings (got ${show(st.text)})`, 'type');
  const texts = st.text as unknown[];
  if (texts.length !== N) fail('steps.text', `must hold steps.count = ${N} strings (has ${texts.length})`, 'inconsistent');
  const ms = readLe(base64Decode('steps.ms', st.ms, 8 * N), Float64Array);
  const act = readLe(base64Decode('steps.headActivity', st.headActivity, 2 * N * nodes), Uint16Array);
  const firing = readLe(base64Decode('steps.headFiring', st.headFiring, 4 * N * hw), Uint32Array);
  const neurons = readLe(base64Decode('steps.neuronBits', st.neuronBits, 4 * N * nw), Uint32Array);
  const attn = readLe(base64Decode('steps.attnWriteNorm', st.attnWriteNorm, 4 * N * shape.nLayer), Float32Array);
  const mlp = readLe(base64Decode('steps.mlpWriteNorm', st.mlpWriteNorm, 4 * N * shape.nLayer), Float32Array);
  const edgeBits = readLe(base64Decode('steps.edgeBits', st.edgeBits, 4 * N * ew), Uint32Array);
  let top: { k: number; pos: Uint32Array; weight: Float32Array } | null = null;
  if (withAttention) {
    const a = object('steps.attnTop', st.attnTop, ['k', 'pos', 'weight']);
    const k = checkInt('steps.attnTop.k', a.k, 1, L.attnTopK);
    top = {
      k,
      pos: readLe(base64Decode('steps.attnTop.pos', a.pos, 4 * N * nodes * k), Uint32Array),
      weight: readLe(base64Decode('steps.attnTop.weight', a.weight, 4 * N * nodes * k), Float32Array),
    };
    if (N === 0) fail('version', 'a recording without steps has no attention rows: it is written as version 1', 'inconsistent');
  }

  const rec: Recording = {
    name: r.name as string,
    createdAt: r.createdAt as string,
    model: { id: model.id, sha256: model.sha256, nLayer: model.nLayer, nHead: model.nHead, nEmbd: model.nEmbd, nCtx: model.nCtx, vocabSize: model.vocabSize },
    settings,
    prompt: r.prompt as string,
    promptIds,
    edgeCandidates,
    steps: [],
  };
  // Scalars and candidates first, so that a step's checks can trust them.
  validateRecording(rec);
  for (let i = 0; i < N; i++) {
    for (let n = 0; n < nodes; n++) {
      const h = act[i * nodes + n];
      if (h >= 0x7c00) fail(`steps.headActivity[${i}][${n}]`, `f16 0x${h.toString(16)} is negative, infinite or NaN`, 'range');
    }
    const headFiring = firing.slice(i * hw, (i + 1) * hw);
    const bits = edgeBits.subarray(i * ew, (i + 1) * ew);
    const want = drawnEdgeBits(edgeCandidates, headFiring);
    for (let w = 0; w < ew; w++) {
      if (bits[w] !== want[w]) fail(`steps.edgeBits[${i}]`, 'drawn edges must be exactly the candidates whose two heads both fire', 'inconsistent');
    }
    const step: RecordedStep = {
      id: ids[i],
      text: texts[i] as string,
      ms: ms[i],
      headActivity: Float32Array.from(act.subarray(i * nodes, (i + 1) * nodes), f16BitsToF32),
      headFiring,
      neuronBits: neurons.slice(i * nw, (i + 1) * nw),
      attnWriteNorm: attn.slice(i * shape.nLayer, (i + 1) * shape.nLayer),
      mlpWriteNorm: mlp.slice(i * shape.nLayer, (i + 1) * shape.nLayer),
      edges: drawnEdges(edgeCandidates, headFiring),
    };
    if (top) {
      const per = nodes * top.k;
      step.attnTop = { k: top.k, pos: top.pos.slice(i * per, (i + 1) * per), weight: top.weight.slice(i * per, (i + 1) * per) };
    }
    rec.steps.push(step);
    checkStep(step, i, shape, rec);
  }
  // Last, so that a field that is wrong in itself is reported as such: the contents must be what was written.
  if (checksum !== undefined) {
    const actual = recordingChecksum(rec);
    if (actual !== checksum) {
      fail('checksum', `SHA-256 of the contents is ${actual.slice(0, 12)}…, the file says ${checksum.slice(0, 12)}…: the file is corrupted or was edited`, 'checksum');
    }
  }
  return rec;
}

/**
 * Reads a recording file (bytes or text). Throws SnapshotError, and only SnapshotError, for anything that is
 * not a valid sparse-gpt2-recording (version 1 or 2): the error's path names the field and its code the kind of problem.
 */
export function decodeRecording(input: Uint8Array | ArrayBuffer | string): Recording {
  try {
    return decodeInner(input);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    // Not expected for any input (the fuzz tests check); reported as a rejection rather than a crash.
    throw new SnapshotError('', `cannot be read (${clipText(String((e as Error)?.message ?? e), PREVIEW_CHARS)})`, 'internal');
  }
}
