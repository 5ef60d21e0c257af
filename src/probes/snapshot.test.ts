// Recording files: exact round trips of recordings made from the CPU probes, pointed rejections of
// specific defects, and seeded fuzzing (bit flips, truncation, field deletions, type swaps, huge numbers,
// deep nesting, size mismatches) where every mutant is either rejected with a SnapshotError or still valid,
// each within a time bound.

import { describe, expect, it } from 'vitest';
import { setBit } from './composition';
import {
  base64Decode, base64Encode, decodeRecording, encodeRecording, quantizeActivity, recordStep, RECORDING_LIMITS,
  sha256Hex, SnapshotError, type SnapshotErrorCode,
} from './snapshot';
import { makeRecording } from './testRecording';
import { mulberry32 as rng } from '../shared/random';

function rejects(input: Uint8Array | string, code?: SnapshotErrorCode, path?: string | RegExp): SnapshotError {
  let err: unknown;
  try {
    decodeRecording(input);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SnapshotError);
  const se = err as SnapshotError;
  if (code) expect(se.code, se.message).toBe(code);
  if (path !== undefined) {
    if (typeof path === 'string') expect(se.path, se.message).toBe(path);
    else expect(se.path, se.message).toMatch(path);
  }
  return se;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
/** Parsed JSON trees are walked and mutated freely here: `any` is the honest type. */
type J = any;
const json = (b: Uint8Array) => JSON.parse(text(b)) as Record<string, J>;
const bytesOf = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

describe('recording round trip', () => {
  it('is exact: decode(encode(r)) equals r, and re-encoding gives the same bytes', async () => {
    const rec = await makeRecording(6);
    // The recording is not trivial: heads fire and stay silent, neurons fire, edges are drawn.
    const firing = rec.steps.reduce((n, s) => n + s.headFiring[0].toString(2).replace(/0/g, '').length, 0);
    expect(firing).toBeGreaterThan(0);
    expect(firing).toBeLessThan(6 * 8);
    expect(rec.steps.some((s) => s.edges.length > 0)).toBe(true);
    expect(rec.steps.some((s) => s.neuronBits.some((w) => w !== 0))).toBe(true);

    const bytes = encodeRecording(rec);
    const back = decodeRecording(bytes);
    expect(back).toEqual(rec);
    expect(back.steps[1].text).toBe(rec.steps[1].text); // the lone surrogate survives
    expect(encodeRecording(back)).toEqual(bytes);
    // Text and ArrayBuffer inputs read the same.
    expect(decodeRecording(text(bytes))).toEqual(rec);
    expect(decodeRecording(bytes.slice().buffer)).toEqual(rec);
  });

  it('keeps sampling settings, an empty generation and a full context', async () => {
    const rec = await makeRecording(0);
    rec.settings.sampling = { greedy: false, temperature: 0.7, topK: 40, seed: 123456789 };
    expect(decodeRecording(encodeRecording(rec))).toEqual(rec);

    const full = await makeRecording(20); // 5 prompt tokens + 20 steps: the last frame is row 23 of 24
    full.settings.maxTokens = 20;
    expect(decodeRecording(encodeRecording(full))).toEqual(full);
    full.steps.push(full.steps[19]);
    full.settings.maxTokens = 21;
    expect(() => encodeRecording(full)).toThrow(/do not fit the context/);
  });

  it('encode refuses what decode would reject, naming the field', async () => {
    const rec = await makeRecording(3);
    rec.steps[1].headActivity[2] += 1e-6; // no longer an f16 value
    expect(() => encodeRecording(rec)).toThrow(SnapshotError);
    expect(() => encodeRecording(rec)).toThrow('steps[1].headActivity[2]');
    rec.steps[1].headActivity = quantizeActivity(rec.steps[1].headActivity);
    expect(() => encodeRecording(rec)).not.toThrow();
    rec.steps[2].edges = new Uint16Array(0);
    if (rec.steps[2].headFiring[0] !== 0) expect(() => encodeRecording(rec)).toThrow('steps[2].edges');
  });

  it('sha256Hex is SHA-256', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('base64 is canonical and matches the platform', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 100]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
      const s = base64Encode(b);
      expect(s).toBe(Buffer.from(b).toString('base64'));
      expect(base64Decode('x', s, n)).toEqual(b);
    }
    expect(() => base64Decode('x', 'QR==', 1)).toThrow(/non-canonical/);
    expect(() => base64Decode('x', 'QQ==', 2)).toThrow(SnapshotError);
    expect(() => base64Decode('x', 'Q=Q=', 1)).toThrow(/invalid base64/);
    expect(() => base64Decode('x', 'QUJD', 2)).toThrow(SnapshotError);
  });
});

describe('recording import rejects', () => {
  it('each specific defect with its field and kind', async () => {
    const good = encodeRecording(await makeRecording(4));
    const base = json(good);
    const edit = (f: (o: Record<string, J>) => void) => {
      const o = structuredClone(base);
      f(o);
      return bytesOf(o);
    };
    rejects(new Uint8Array([0xff, 0xfe, 0x00]), 'encoding');
    rejects('{"format": "sparse-gpt2-recording", ', 'json');
    rejects('[]', 'format');
    rejects(edit((o) => { o.format = 'something-else'; }), 'format', 'format');
    expect(rejects(edit((o) => { o.version = 3; }), 'version', 'version').message).toMatch(/newer than this reader/);
    rejects(edit((o) => { o.version = '1'; }), 'version');
    rejects(edit((o) => { delete o.steps.ms; }), 'missing', 'steps.ms');
    rejects(edit((o) => { o.extra = 1; }), 'unknown-field', 'extra');
    rejects(edit((o) => { o.model.nLayer = '2'; }), 'type', 'model.nLayer');
    rejects(edit((o) => { o.model.nHead = 3; }), 'inconsistent', 'model.nEmbd'); // 20 % 3
    rejects(edit((o) => { o.model.nLayer = 3; }), 'base64', 'steps.headActivity'); // sizes follow the shape
    rejects(edit((o) => { o.model.nEmbd = 40; o.model.nHead = 4; }), 'base64', 'steps.neuronBits');
    rejects(edit((o) => { o.model.nLayer = 1e308; }), 'range', 'model.nLayer');
    rejects(edit((o) => { o.model.sha256 = 'ABC'; }), 'range', 'model.sha256');
    rejects(edit((o) => { o.model.vocabSize = 3; }), 'range', /^promptIds\[\d\]$/);
    rejects(edit((o) => { o.steps.count = 5; }), 'base64', 'steps.ids');
    rejects(edit((o) => { o.steps.text.push('x'); }), 'inconsistent', 'steps.text');
    rejects(edit((o) => { o.steps.text[0] = 7; }), 'type', 'steps[0].text');
    rejects(edit((o) => { o.steps.text[0] = 'x'.repeat(RECORDING_LIMITS.tokenTextChars + 1); }), 'range', 'steps[0].text');
    rejects(edit((o) => { o.name = ''; }), 'range', 'name');
    rejects(edit((o) => { o.createdAt = '2025-02-30T00:00:00.000Z'; }), 'range', 'createdAt');
    rejects(edit((o) => { o.settings.thresholds.head = 0; }), 'range', 'settings.thresholds.head');
    rejects(edit((o) => { o.settings.thresholds.edge = 0.9; }), 'range', /^edges\.strength\[\d+\]$/);
    rejects(edit((o) => { o.settings.thresholds.head = 1e-4; }), 'inconsistent', /^steps\[\d\]\.headFiring$/);
    rejects(edit((o) => { o.settings.sampling.topK = 0; }), 'range', 'settings.sampling.topK');
    rejects(edit((o) => { o.settings.maxTokens = 3; }), 'range', 'steps.count');
    rejects(edit((o) => { o.steps.ms = `${o.steps.ms.slice(0, -4)}AA==`; }), 'base64', 'steps.ms'); // 31 bytes, not 32
  });

  it('binary contents that contradict each other or the shape', async () => {
    const rec = await makeRecording(4);
    const o = json(encodeRecording(rec));
    const patch = (field: string, f: (b: Buffer) => void, count?: number) => {
      const c = structuredClone(o);
      const parts = field.split('.');
      const b = Buffer.from(c[parts[0]][parts[1]], 'base64');
      f(b);
      c[parts[0]][parts[1]] = b.toString('base64');
      if (count !== undefined) c.steps.count = count;
      return bytesOf(c);
    };
    rejects(patch('steps.headActivity', (b) => { b[1] |= 0x80; }), 'range', 'steps.headActivity[0][0]'); // negative
    rejects(patch('steps.headActivity', (b) => { b[3] = 0x7c; b[2] = 0; }), 'range', 'steps.headActivity[0][1]'); // +inf
    rejects(patch('steps.neuronBits', (b) => { b[11] |= 0x80; }), 'range', 'steps[0].neuronBits'); // padding bit of layer 0
    rejects(patch('steps.headFiring', (b) => { b[1] |= 0x01; }), 'range', 'steps[0].headFiring'); // head 8 of 8
    rejects(patch('steps.edgeBits', (b) => { b[0] ^= 0x01; }), 'inconsistent', 'steps.edgeBits[0]');
    rejects(patch('steps.ids', (b) => { b[0] = 97; }), 'range', 'steps[0].id');
    rejects(patch('edges.pairs', (b) => { b[0] = 7; }), 'range', 'edges.pairs[0]'); // layer 1 → layer 1
    rejects(patch('edges.pairs', (b) => { b[1] = 1; }), 'range', 'edges.pairs[0]'); // head 256
    rejects(patch('edges.strength', (b) => { b.writeFloatLE(1.5, 0); }), 'range', 'edges.strength[0]');
    rejects(patch('steps.attnWriteNorm', (b) => { b.writeFloatLE(-1, 4); }), 'range', 'steps[0].attnWriteNorm[1]');
    rejects(patch('steps.ms', (b) => { b.writeDoubleLE(Number.NaN, 8); }), 'range', 'steps[1].ms');
    rejects(patch('steps.ms', (b) => { b.writeDoubleLE(-0, 0); }), 'range', 'steps[0].ms');
  });

  it('a file over the size limit without reading it', () => {
    const huge = new Uint8Array(RECORDING_LIMITS.fileBytes + 1);
    const t0 = performance.now();
    rejects(huge, 'too-large');
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

/** Every path (as key lists) to a value in a JSON tree. */
function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

const DEEP = '__deep__';
const REPLACEMENTS: unknown[] = [
  null, true, false, 0, -1, 1.5, -0.0001, 1e308, -1e308, 2 ** 53 + 2, 2 ** 32, 65536, 1e-320, '', 'x', 'x'.repeat(5000),
  '0', 'AAAA', [], [1, 2, 3], {}, { count: 1 }, DEEP,
];

describe('recording import fuzzing', () => {
  it('rejects every mutant with a SnapshotError (or accepts it only if still valid), each within a second', async () => {
    const rec = await makeRecording(5, 3);
    const good = encodeRecording(rec);
    const goodText = text(good);
    const base = json(good);
    const allPaths = paths(base).filter((p) => p.length > 0);
    const counts: Record<string, number> = {};
    let accepted = 0;
    let worst = 0;
    const CASES = 400;
    for (let c = 0; c < CASES; c++) {
      const r = rng(1000 + c);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
      const kind = pick(['bitflip', 'truncate', 'splice', 'delete', 'swap', 'number', 'base64', 'count', 'deep', 'duplicate'] as const);
      let input: Uint8Array;
      if (kind === 'bitflip') {
        input = good.slice();
        const flips = 1 + Math.floor(r() * 8);
        for (let i = 0; i < flips; i++) input[Math.floor(r() * input.length)] ^= 1 << Math.floor(r() * 8);
      } else if (kind === 'truncate') {
        input = good.slice(0, Math.floor(r() * good.length));
      } else if (kind === 'splice') {
        const at = Math.floor(r() * good.length);
        const junk = Uint8Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256));
        input = new Uint8Array([...good.subarray(0, at), ...junk, ...good.subarray(at + Math.floor(r() * 8))]);
      } else {
        const o = structuredClone(base);
        const path = pick(allPaths);
        const parent = path.slice(0, -1).reduce((x: J, k) => x[k], o);
        const key = path[path.length - 1];
        let deep = 0;
        if (kind === 'delete') {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key];
        } else if (kind === 'swap' || kind === 'deep') {
          const v = kind === 'deep' ? DEEP : pick(REPLACEMENTS);
          parent[key] = v;
          if (v === DEEP) deep = 1000 + Math.floor(r() * 200_000);
        } else if (kind === 'number') {
          const nums = allPaths.filter((p) => typeof p.reduce((x: J, k) => x?.[k], base) === 'number');
          const p = pick(nums);
          const par = p.slice(0, -1).reduce((x: J, k) => x[k], o);
          par[p[p.length - 1]] = pick([0, -1, 1, 2, 3, 1e9, 1e308, 2 ** 31, 2 ** 53, 0.5, -0.5, 4096, 65535, 65536, 1 << 20]);
        } else if (kind === 'base64') {
          const fields = allPaths.filter((p) => { const v = p.reduce((x: J, k) => x?.[k], base); return typeof v === 'string' && v.length > 8 && /^[A-Za-z0-9+/]+=*$/.test(v); });
          const p = pick(fields);
          const par = p.slice(0, -1).reduce((x: J, k) => x[k], o);
          const s: string = par[p[p.length - 1]];
          const i = Math.floor(r() * s.length);
          par[p[p.length - 1]] = pick([
            s.slice(0, i) + pick([...'AZaz09+/=-_ !']) + s.slice(i + 1),
            s.slice(0, i),
            s + 'AAAA',
            pick(fields.map((q) => q.reduce((x: J, k) => x[k], base))),
          ]);
        } else if (kind === 'count') {
          const which = pick([['steps', 'count'], ['edges', 'count'], ['promptTokens']]);
          const par = which.slice(0, -1).reduce((x: J, k) => x[k], o);
          par[which[which.length - 1]] += pick([-1, 1, 2, -2, 1000]);
        } else {
          // duplicate: a key twice in the text; JSON.parse keeps the last, here the bad one.
          const key = pick(['"name"', '"version"', '"count"', '"head"', '"nLayer"', '"ids"']);
          const i = goodText.indexOf(key);
          const end = goodText.indexOf('\n', i);
          input = new TextEncoder().encode(`${goodText.slice(0, end)} ${key}: ${pick(['5', '"x"', 'null', '[]'])},${goodText.slice(end)}`);
        }
        if (kind !== 'duplicate') {
          let s = JSON.stringify(o);
          if (deep > 0) s = s.replace(JSON.stringify(DEEP), '['.repeat(deep) + ']'.repeat(deep));
          input = new TextEncoder().encode(s);
        }
      }
      const t0 = performance.now();
      let outcome: string;
      try {
        const got = decodeRecording(input!);
        // Accepted: it must be a valid recording in every respect, so it re-encodes and reads back the same.
        expect(decodeRecording(encodeRecording(got))).toEqual(got);
        accepted++;
        outcome = 'accepted';
      } catch (e) {
        if (!(e instanceof SnapshotError)) throw new Error(`case ${c} (${kind}): ${String(e)}`);
        expect(e.code, `case ${c} (${kind}): ${e.message}`).not.toBe('internal');
        outcome = e.code;
      }
      const ms = performance.now() - t0;
      worst = Math.max(worst, ms);
      expect(ms, `case ${c} (${kind})`).toBeLessThan(1000);
      counts[`${kind}:${outcome}`] = (counts[`${kind}:${outcome}`] ?? 0) + 1;
    }
    // Most mutants are rejected; the few accepted ones changed a value into another valid one.
    expect(accepted).toBeLessThan(CASES / 4);
    console.log(`fuzz: ${CASES} cases, ${accepted} accepted as still valid, slowest ${worst.toFixed(1)} ms`, counts);
  });

  it('rejects deep nesting at every level quickly', () => {
    for (const n of [10, 10_000, 1_000_000]) {
      const t0 = performance.now();
      rejects('['.repeat(n) + ']'.repeat(n), 'format');
      rejects('['.repeat(n), 'json');
      rejects(`{"format":"sparse-gpt2-recording","version":1,"name":${'['.repeat(n) + ']'.repeat(n)}}`, 'missing');
      expect(performance.now() - t0).toBeLessThan(10_000);
    }
  });
});

describe('recordStep', () => {
  it('quantizes activities to f16, saturating, and copies the rest', () => {
    const frame = {
      headActivity: Float32Array.from([0.1, 1e6, 0, 3.14159]),
      headFiring: new Uint32Array(1), neuronBits: new Uint32Array(2),
      attnWriteNorm: new Float32Array(1), mlpWriteNorm: new Float32Array(1), edges: new Uint16Array(0),
    };
    setBit(frame.headFiring, 1);
    const s = recordStep(frame, 5, 'a', 2);
    expect(Array.from(s.headActivity)).toEqual([0.0999755859375, 65504, 0, 3.140625]);
    frame.headFiring[0] = 0;
    expect(s.headFiring[0]).toBe(2);
  });
});

describe('version 2: the attention rows', () => {
  it('round-trips each step\'s top positions and weights exactly, as the CPU reference computed them', async () => {
    const rec = await makeRecording(5, 2);
    expect(rec.steps[0]!.attnTop?.k).toBe(8);
    const bytes = encodeRecording(rec);
    expect(json(bytes).version).toBe(2);
    const back = decodeRecording(bytes);
    expect(back).toEqual(rec);
    // Step i's row is at position P + i − 1: its first head's best position is within that context.
    back.steps.forEach((s, i) => {
      const top = s.attnTop!;
      expect(top.pos[0]).toBeLessThanOrEqual(rec.promptIds.length + i - 1);
      expect(top.weight[0]).toBeGreaterThan(0);
    });
  });

  it('a recording without attention rows is written as version 1, and a file of the version 1 writer imports', async () => {
    const rec = await makeRecording(3, 1);
    for (const s of rec.steps) delete s.attnTop;
    const bytes = encodeRecording(rec);
    expect(json(bytes).version).toBe(1);
    expect(json(bytes).steps.attnTop).toBeUndefined();
    expect(decodeRecording(bytes)).toEqual(rec);
    // Written by the project's version 1 code (commit 94fd8da), checksum and all.
    const { readFile } = await import('node:fs/promises');
    const old = await readFile(new URL('./fixtures/v1.recording.json', import.meta.url));
    const v1 = decodeRecording(old);
    expect(v1.steps).toHaveLength(5);
    expect(v1.steps.every((s) => s.attnTop === undefined)).toBe(true);
    // Re-encoding it gives the same file: it stays version 1.
    expect(text(encodeRecording(v1))).toBe(text(old));
  });

  it('rejects attention rows that a forward pass could not have produced, naming the entry', async () => {
    const rec = await makeRecording(4, 1);
    const o = json(encodeRecording(rec));
    const k = o.steps.attnTop.k as number;
    const patch = (field: 'pos' | 'weight', f: (b: Buffer) => void) => {
      const c = structuredClone(o);
      const b = Buffer.from(c.steps.attnTop[field], 'base64');
      f(b);
      c.steps.attnTop[field] = b.toString('base64');
      return bytesOf(c);
    };
    const P = rec.promptIds.length;
    // Step 0's row is position P − 1: position P is in its future.
    rejects(patch('pos', (b) => b.writeUInt32LE(P, 0)), 'range', 'steps[0].attnTop.pos[0]');
    rejects(patch('pos', (b) => b.writeUInt32LE(b.readUInt32LE(0), 4)), 'inconsistent', 'steps[0].attnTop.pos[1]');
    rejects(patch('weight', (b) => b.writeFloatLE(2, 0)), 'range', 'steps[0].attnTop.weight[0]');
    rejects(patch('weight', (b) => b.writeFloatLE(b.readFloatLE(0) + 0.5, 4)), 'inconsistent', 'steps[0].attnTop.weight[1]');
    // An unused entry (the prompt has P keys, fewer than k) must have weight 0.
    expect(P).toBeLessThan(k);
    rejects(patch('weight', (b) => b.writeFloatLE(0.01, 4 * (k - 1))), 'inconsistent', `steps[0].attnTop.weight[${k - 1}]`);
    rejects(bytesOf({ ...o, version: 1 }), 'unknown-field', 'steps.attnTop');
    const without = structuredClone(o);
    delete without.steps.attnTop;
    rejects(bytesOf(without), 'missing', 'steps.attnTop');
    rejects(bytesOf({ ...o, steps: { ...o.steps, attnTop: { ...o.steps.attnTop, k: 0 } } }), 'range', 'steps.attnTop.k');
    rejects(bytesOf({ ...o, steps: { ...o.steps, attnTop: { ...o.steps.attnTop, k: 4 } } }), 'base64', 'steps.attnTop.pos');
  });
});
