// Bounded previews for error messages, and the synchronous SHA-256 recordings' checksums use.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundedMessage, clipText, previewJson, PREVIEW_CHARS } from './preview';
import { sha256HexSync } from './sha256';

describe('previewJson', () => {
  it('shows small values as JSON (NaN, Infinity and -0 as JavaScript prints them)', () => {
    expect(previewJson({ a: [1, 'x', null, true], b: {} })).toBe('{"a":[1,"x",null,true],"b":{}}');
    expect(previewJson('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect([NaN, Infinity, -0, undefined].map((v) => previewJson(v))).toEqual(['NaN', 'Infinity', '-0', 'undefined']);
    expect(previewJson(Float32Array.from([1, 2]))).toBe('[1,2]');
  });

  it('is bounded for huge strings, arrays and objects, and never recurses on deep nesting', () => {
    const deep = JSON.parse('['.repeat(1_000_000) + ']'.repeat(1_000_000));
    const cases: unknown[] = ['x'.repeat(10_000_000), Array.from({ length: 1_000_000 }, (_, i) => i), Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])), deep, { ['k'.repeat(100_000)]: 1 }];
    for (const v of cases) {
      const t0 = performance.now();
      const s = previewJson(v);
      expect(s.length).toBeLessThanOrEqual(PREVIEW_CHARS + 1);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    expect(previewJson(deep)).toMatch(/^\[\[\[\[\[\[\[\[\[\.\.\.\]\]\]\]\]\]\]\]\]$/);
    expect(previewJson('x'.repeat(1000))).toMatch(/^"x+…"$/);
    expect(previewJson(Array.from({ length: 1000 }, (_, i) => i), 20)).toBe('[0,1,2,3,4,5,6,7,8,9…');
  });

  it('clipText keeps surrogate pairs whole; boundedMessage bounds any error', () => {
    expect(clipText('ab😀cd', 3)).toBe('ab…');
    expect(clipText('short')).toBe('short');
    expect(boundedMessage(new Error('e'.repeat(10_000))).length).toBe(1001);
    expect(boundedMessage({ x: 1 })).toBe('{"x":1}');
  });
});

describe('sha256HexSync', () => {
  it('matches node:crypto on every padding boundary', () => {
    expect(sha256HexSync(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 65_537]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
      expect(sha256HexSync(b), String(n)).toBe(createHash('sha256').update(b).digest('hex'));
    }
  });
});
