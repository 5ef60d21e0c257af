// Recordings' part of the project's fuzz suite (src/model/fuzz.test.ts has the model formats): seeded
// mutants of a genuine recording file, generated here. The contract for every mutant: decodeRecording either
// returns exactly the recording that was written (the checksum lets nothing else through: a mutant that is
// still well-formed but says something else is refused), or throws exactly one SnapshotError whose message
// names the field, is bounded in length and comes within a time bound. Files without a checksum (version 1
// as first written) still import.

import { describe, expect, it } from 'vitest';
import { decodeRecording, encodeRecording, recordingChecksum, SnapshotError, type Recording } from './snapshot';
import { makeRecording } from './testRecording';
import { mulberry32 } from '../shared/random';

type J = any;
type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const int = (r: Rng, n: number) => Math.floor(r() * n);

const MAX_MESSAGE = 1300;
const MAX_MS = 3000;
export const RECORDING_MUTANTS = 160;

/** Every path (as key lists) to a value in a JSON tree. */
function paths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}

const ODD: unknown[] = [null, true, 0, -1, 1.5, 1e308, 2 ** 53 + 2, '', 'x', 'x'.repeat(200_000), '0', 'AAAA', [], [1, 2], {}, { count: 1 }];

describe('recording fuzzing: the original back, or one bounded SnapshotError', () => {
  it(`${RECORDING_MUTANTS} mutants of a recording with a checksum, and files without one`, async () => {
    const rec: Recording = await makeRecording(4, 2);
    const good = encodeRecording(rec);
    const goodText = new TextDecoder().decode(good);
    const base = JSON.parse(goodText) as Record<string, J>;
    expect(base.checksum).toBe(recordingChecksum(rec));
    // Without the checksum (a v1 file as first written) it imports, and re-encoding adds one.
    const { checksum: _drop, ...bare } = base;
    expect(decodeRecording(JSON.stringify(bare))).toEqual(rec);

    const allPaths = paths(base).filter((p) => p.length > 0);
    const codes: Record<string, number> = {};
    let accepted = 0;
    let worst = 0;
    let longest = 0;
    for (let c = 0; c < RECORDING_MUTANTS; c++) {
      const r = mulberry32(70_000 + c);
      const kind = pick(r, ['bitflip', 'truncate', 'splice', 'text-edit', 'swap', 'delete', 'checksum', 'duplicate', 'deep', 'huge-key'] as const);
      let input: string | Uint8Array;
      if (kind === 'bitflip') {
        const b = good.slice();
        for (let k = 1 + int(r, 4); k > 0; k--) b[int(r, b.length)] ^= 1 << int(r, 8);
        input = b;
      } else if (kind === 'truncate') {
        input = good.slice(0, int(r, good.length));
      } else if (kind === 'splice') {
        const at = int(r, good.length);
        input = new Uint8Array([...good.subarray(0, at), ...Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)), ...good.subarray(at + int(r, 8))]);
      } else if (kind === 'text-edit') {
        // Well-formed edits that change what the recording says: only the checksum can catch them.
        const o = structuredClone(base);
        const edit = pick(r, ['name', 'prompt', 'model.id', 'text', 'createdAt', 'ms'] as const);
        if (edit === 'name') o.name = `${o.name} (edited)`;
        else if (edit === 'prompt') o.prompt = `${o.prompt}!`;
        else if (edit === 'model.id') o.model.id = 'another-model';
        else if (edit === 'text') o.steps.text[int(r, o.steps.text.length)] = 'changed';
        else if (edit === 'createdAt') o.createdAt = '2030-01-01T00:00:00.000Z';
        else {
          const ms = Buffer.from(o.steps.ms, 'base64');
          ms.writeDoubleLE(12.5, 8 * int(r, ms.length / 8));
          o.steps.ms = ms.toString('base64');
        }
        input = JSON.stringify(o);
      } else if (kind === 'swap' || kind === 'delete') {
        const o = structuredClone(base);
        const p = pick(r, allPaths);
        const parent = p.slice(0, -1).reduce((x: J, k) => x[k], o);
        const key = p[p.length - 1];
        if (kind === 'delete') {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key];
        } else {
          parent[key] = pick(r, ODD);
        }
        input = JSON.stringify(o);
      } else if (kind === 'checksum') {
        const o = structuredClone(base);
        const s = o.checksum as string;
        const i = int(r, 64);
        o.checksum = pick(r, [
          s.slice(0, i) + ((parseInt(s[i], 16) + 1) % 16).toString(16) + s.slice(i + 1), s.toUpperCase(), s.slice(1), `${s}0`, 7, null, '', 'z'.repeat(64),
        ]);
        input = JSON.stringify(o);
      } else if (kind === 'duplicate') {
        const key = pick(r, ['"name"', '"checksum"', '"count"', '"prompt"', '"nLayer"']);
        const i = goodText.indexOf(key);
        const end = goodText.indexOf('\n', i);
        input = `${goodText.slice(0, end)} ${key}: ${pick(r, ['5', '"x"', 'null', '[]'])},${goodText.slice(end)}`;
      } else if (kind === 'deep') {
        const n = 100 + int(r, 100_000);
        const o = structuredClone(base);
        const p = pick(r, allPaths);
        const parent = p.slice(0, -1).reduce((x: J, k) => x[k], o);
        parent[p[p.length - 1]] = '__deep__';
        input = JSON.stringify(o).replace('"__deep__"', '['.repeat(n) + ']'.repeat(n));
      } else {
        input = JSON.stringify({ ...base, ['k'.repeat(100_000)]: 1 });
      }
      const t0 = performance.now();
      let outcome: string;
      try {
        const got = decodeRecording(input);
        // Nothing bad gets in: whatever is accepted is exactly what was recorded.
        expect(got, `case ${c} (${kind}) accepted a changed recording`).toEqual(rec);
        accepted++;
        outcome = 'accepted';
      } catch (e) {
        if (!(e instanceof SnapshotError)) throw new Error(`case ${c} (${kind}): expected a SnapshotError, got ${String(e).slice(0, 300)}`);
        expect(e.name).toBe('SnapshotError');
        expect(e.code, `case ${c} (${kind}): ${e.message.slice(0, 300)}`).not.toBe('internal');
        expect(e.message, `case ${c} (${kind})`).toMatch(/^recording/);
        expect(e.message.length, `case ${c} (${kind}): ${e.message.slice(0, 300)}`).toBeLessThanOrEqual(MAX_MESSAGE);
        if (kind === 'text-edit') expect(e.code, `case ${c}: ${e.message}`).toBe('checksum');
        longest = Math.max(longest, e.message.length);
        outcome = e.code;
      }
      const ms = performance.now() - t0;
      worst = Math.max(worst, ms);
      expect(ms, `case ${c} (${kind})`).toBeLessThan(MAX_MS);
      codes[`${kind}:${outcome}`] = (codes[`${kind}:${outcome}`] ?? 0) + 1;
    }
    console.log(`fuzz recordings: ${RECORDING_MUTANTS} mutants, ${accepted} decoded to the original, ${RECORDING_MUTANTS - accepted} rejected with a SnapshotError ` +
      `(longest message ${longest} chars, slowest ${worst.toFixed(1)} ms)`, codes);
    expect(accepted).toBeLessThan(RECORDING_MUTANTS / 5);
  });
});
