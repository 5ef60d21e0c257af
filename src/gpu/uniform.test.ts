// defineUniform's packing and checks: values land at their fields' offsets with typed-array conversions, padding
// is zero and never passed, and a missing or extra field is a type error (the @ts-expect-error lines fail tsc otherwise).

import { describe, expect, it } from 'vitest';
import { defineUniform } from './uniform';

const layout = defineUniform('Params', [
  { name: 'n', type: 'u32' },
  { name: 'eps', type: 'f32' },
  { name: 'delta', type: 'i32' },
  { name: '_pad0', type: 'u32' },
]);

describe('defineUniform', () => {
  it('packs each field at its offset, converting as typed arrays do', () => {
    expect(layout.bytes).toBe(16);
    expect(layout.fields.map((f) => [f.name, f.type, f.offset])).toEqual([['n', 'u32', 0], ['eps', 'f32', 4], ['delta', 'i32', 8], ['_pad0', 'u32', 12]]);
    for (const [n, eps, delta] of [[7, 1e-5, -3], [0xffffffff, 0.1, 2 ** 31], [-1, -0, 1.9], [2.7, 3.4e38, -1.5]]) {
      const buf = layout.pack({ n, eps, delta });
      const u = new Uint32Array(buf);
      const expected = new Uint32Array(4);
      expected[0] = n; // the conversions the hand-written arrays used: ToUint32, f32 rounding, ToInt32
      new Float32Array(expected.buffer)[1] = eps;
      new Int32Array(expected.buffer)[2] = delta;
      expect([...u]).toEqual([...expected]);
    }
  });

  it('writes into a given buffer (no allocation per step) and zeroes the padding there', () => {
    const into = new ArrayBuffer(16);
    new Uint32Array(into).fill(0xdeadbeef);
    expect(layout.pack({ n: 1, eps: 2, delta: 3 }, into)).toBe(into);
    expect(new Uint32Array(into)[3]).toBe(0);
    expect(() => layout.pack({ n: 1, eps: 2, delta: 3 }, new ArrayBuffer(8))).toThrow(/needs 16/);
  });

  it('refuses a missing field, an undeclared one, a duplicate and implied padding', () => {
    // @ts-expect-error: a missing field is a type error (and, untyped, a runtime error)
    expect(() => layout.pack({ n: 1, eps: 2 })).toThrow(/no value for 'delta'/);
    // @ts-expect-error: an undeclared field is a type error
    layout.pack({ n: 1, eps: 2, delta: 3, extra: 4 });
    // @ts-expect-error: padding is not passed
    layout.pack({ n: 1, eps: 2, delta: 3, _pad0: 0 });
    expect(() => defineUniform('S', [{ name: 'a', type: 'u32' }, { name: 'a', type: 'u32' }, { name: 'b', type: 'u32' }, { name: 'c', type: 'u32' }])).toThrow(/twice/);
    expect(() => defineUniform('S', [{ name: 'a', type: 'u32' }, { name: 'b', type: 'f32' }])).toThrow(/8 bytes; declare padding/);
  });
});
