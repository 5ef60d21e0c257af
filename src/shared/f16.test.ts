// f16/bf16 conversions against known IEEE bit patterns and against the definition of round-to-nearest-even.
import { describe, expect, it } from 'vitest';
import {
  bf16ArrayToF32, bf16BitsToF32, f16ArrayToF32, f16BitsToF32, f32ArrayToBf16Bits, f32ArrayToF16Bits,
  f32ToBf16Bits, f32ToF16Bits, packWeightPairs, roundToF16, weightCodeFor, weightCodeLoss, weightCodeValue,
} from './f16';

const isF16NaN = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe('f32ToF16Bits', () => {
  it('encodes exact values to their IEEE half bit patterns', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [-(2 ** -24), 0x8001],
    ];
    for (const [x, h] of cases) expect(f32ToF16Bits(x), `f16(${x})`).toBe(h);
  });

  it('rounds to nearest, ties to even, in normal and subnormal ranges', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway 1 .. 1+2^-10: even is 0x3c00
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway 0x3c01 .. 0x3c02: even is 0x3c02
    expect(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // just above halfway rounds up
    expect(f32ToF16Bits(0.1)).toBe(0x2e66);
    expect(f32ToF16Bits(1 / 3)).toBe(0x3555);
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // halfway 0 .. min subnormal: even is 0
    expect(f32ToF16Bits(2 ** -25 * 1.5)).toBe(0x0001);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // halfway 1 .. 2 (subnormal units): even is 2
    expect(f32ToF16Bits(2 ** -26)).toBe(0x0000);
    expect(f32ToF16Bits(-(2 ** -30))).toBe(0x8000); // underflow keeps the sign
    expect(f32ToF16Bits(1023.5 * 2 ** -24)).toBe(0x0400); // tie between 0x03ff and 0x0400: the even one is the first normal
    expect(f32ToF16Bits(1022.5 * 2 ** -24)).toBe(0x03fe);
  });

  it('overflows to infinity and keeps inf and NaN', () => {
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // halfway to 65536: ties to even = inf
    expect(f32ToF16Bits(1e10)).toBe(0x7c00);
    expect(f32ToF16Bits(-1e10)).toBe(0xfc00);
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(isF16NaN(f32ToF16Bits(NaN))).toBe(true);
  });

  it('always picks a nearest half, and the even one on ties (random f32 values)', () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    let state = 12345;
    const bad: string[] = [];
    // IEEE rounds as if the exponent were unbounded, then overflows: infinity stands for 2^16 when comparing.
    const valueOf = (h: number) => ((h & 0x7fff) === 0x7c00 ? (h & 0x8000 ? -65536 : 65536) : f16BitsToF32(h));
    for (let i = 0; i < 20000; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      // Random sign and mantissa; exponents 2^-30 .. 2^16 cover underflow, subnormals, normals and overflow.
      u32[0] = (state & 0x807fffff) | (((state >>> 23) % 47 + 97) << 23);
      const x = f32[0];
      const h = f32ToF16Bits(x);
      const err = Math.abs(valueOf(h) - x);
      for (const other of [h - 1, h + 1]) {
        if ((other & 0x7fff) > 0x7c00 || other < 0 || ((other ^ h) & 0x8000) !== 0) continue;
        const otherErr = Math.abs(valueOf(other) - x);
        if (otherErr < err) bad.push(`f16(${x}) = ${h.toString(16)} but ${other.toString(16)} is nearer`);
        if (otherErr === err && (h & 1) !== 0) bad.push(`tie for ${x} went to odd ${h.toString(16)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('f16BitsToF32', () => {
  it('decodes normals, subnormals, zeros, infinities and NaN', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x0400)).toBe(2 ** -14);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
  });

  it('round-trips every non-NaN half exactly, in scalar and bulk form', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const widened = f16ArrayToF32(all);
    const back = f32ArrayToF16Bits(widened);
    const mismatches: string[] = [];
    for (let h = 0; h < 65536; h++) {
      if (isF16NaN(h)) {
        if (!Number.isNaN(widened[h]) || !isF16NaN(back[h])) mismatches.push(`NaN ${h.toString(16)}`);
        continue;
      }
      if (!Object.is(widened[h], f16BitsToF32(h))) mismatches.push(`bulk/scalar ${h.toString(16)}`);
      if (f32ToF16Bits(widened[h]) !== h || back[h] !== h) mismatches.push(`round trip ${h.toString(16)}`);
    }
    expect(mismatches).toEqual([]);
  });
});

describe('bfloat16', () => {
  it('decodes and encodes with round-to-nearest-even', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc000)).toBe(-2);
    expect(bf16BitsToF32(0x7f80)).toBe(Infinity);
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie: even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie: even
    expect(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -12)).toBe(0x3f81);
    expect(f32ToBf16Bits(-Infinity)).toBe(0xff80);
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
  });

  it('bulk conversions agree with the scalar ones', () => {
    const src = new Float32Array([0, -0, 1.00390625, -3.14159, 1e-40, 3e38, Infinity]);
    const bits = f32ArrayToBf16Bits(src);
    expect([...bits]).toEqual([...src].map(f32ToBf16Bits));
    const wide = bf16ArrayToF32(bits);
    expect([...wide]).toEqual([...bits].map(bf16BitsToF32));
  });
});

describe('roundToF16 and the GPU weight code', () => {
  it('roundToF16 equals decoding the encoded half, elementwise', () => {
    const src = new Float32Array([0.1, -1e-6, 70000, 1 / 3, 2 ** -25, -7.25]);
    const out = roundToF16(src);
    expect(out).not.toBe(src);
    expect([...out]).toEqual([...src].map((x) => f16BitsToF32(f32ToF16Bits(x))));
    expect(out[2]).toBe(Infinity);
  });

  it('packs element 2i in the low half, shifts exponents so the largest is 31, and pads an odd tail with zero', () => {
    const src = new Float32Array([1, 2, 3]);
    const code = weightCodeFor(src);
    expect(code.shift).toBe(15); // 3 has f16 exponent 16
    expect(code.scale).toBe(2 ** 97);
    const packed = packWeightPairs(src, code);
    expect(packed.length).toBe(2);
    expect(packed[0]).toBe(((0x7c00 << 16) | 0x7800) >>> 0); // 2 -> exponent 31, 1 -> 30
    expect(packed[1]).toBe(0x7e00);
    const even = new Float32Array([-1, 0.5, 65504, -0]);
    const evenCode = weightCodeFor(even);
    expect(evenCode.shift).toBe(1);
    expect([...packWeightPairs(even, evenCode)]).toEqual([0x3800bc00 + 0x04000400, 0x80007fff]);
  });

  it('decodes every finite f16 exactly, subnormals and signed zeros included, next to 1.0 or 65504', () => {
    for (const partner of [1, 65504, 2 ** -20]) {
      for (let h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) === 0x7c00) continue; // inf / NaN: refused by weightCodeFor
        const v = f16BitsToF32(h);
        const src = new Float32Array([v, partner]);
        const code = weightCodeFor(src);
        if (partner === 65504 && Math.abs(v) < 2 ** -15 && v !== 0) {
          // A matrix holding 65504 spans 2^15 .. 2^-24: the code's 31 exponents cannot hold the smallest subnormals.
          continue;
        }
        const got = weightCodeValue(packWeightPairs(src, code)[0] & 0xffff, code);
        if (!Object.is(got, v)) throw new Error(`f16 0x${h.toString(16)} (${v}) next to ${partner} decodes to ${got}`);
      }
    }
  });

  it('counts what the code cannot hold: subnormals in a matrix whose largest |w| is 128 or more', () => {
    const src = new Float32Array([65504, 2 ** -24, -(2 ** -20), 2 ** -14, 0.5]);
    const code = weightCodeFor(src);
    expect(weightCodeLoss(src, code)).toBe(2); // 2^-24 and -2^-20 are below 65504 * 2^-30
    const packed = packWeightPairs(src, code);
    expect(weightCodeValue(packed[0] >>> 16, code)).toBe(0);
    expect(weightCodeValue(packed[2] & 0xffff, code)).toBe(0.5);
    expect(weightCodeLoss(new Float32Array([100, 2 ** -24, -(2 ** -20)]), weightCodeFor(new Float32Array([100, 2 ** -24])))).toBe(0);
    expect(() => weightCodeFor(new Float32Array([1, Infinity]))).toThrow(/finite/);
    // NaN anywhere (not only as the largest value), and a finite f32 past f16's range, are refused by index.
    expect(() => weightCodeFor(new Float32Array([3, NaN, 1]))).toThrow(/weight 1 is NaN/);
    expect(() => weightCodeFor(new Float32Array([NaN, 3]))).toThrow(/weight 0 is NaN/);
    expect(() => weightCodeFor(new Float32Array([1, -70000, 2]))).toThrow(/weight 1 is -70000/);
    // The largest magnitude sets the shift whatever its sign: -3.5 (f16 exponent 16) gives 31 - 16.
    expect(weightCodeFor(new Float32Array([0.25, -3.5, 1])).shift).toBe(15);
    expect(weightCodeFor(new Float32Array(4)).shift).toBe(16);
  });

  it('works on views with a byte offset', () => {
    const base = new Float32Array([9, 1, 2]);
    const view = base.subarray(1);
    const code = weightCodeFor(view);
    expect(code.shift).toBe(15);
    expect([...packWeightPairs(view, code)]).toEqual([0x7c007800]);
    expect([...roundToF16(view)]).toEqual([1, 2]);
  });
});
