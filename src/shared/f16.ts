// IEEE half (f16) and bfloat16 conversions on the CPU: f32 -> f16 with round-to-nearest-even, f16/bf16 -> f32
// for loading, and the GPU weight code (f16 values with a per-matrix exponent shift, two per u32).

// Shared scratch views for the scalar functions: no allocation per call.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** f16 bits for the f32 whose bits are b, rounded to nearest, ties to even. NaN stays NaN (quiet), overflow gives ±inf. */
function f32BitsToF16Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is an f16 subnormal (or zero): value / 2^-24 = (1.mant) * 2^(e + 9), so drop 14 - e bits.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const kept = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    // A carry out of the subnormal mantissa lands on 0x400, the smallest normal: the encoding stays right.
    return sign | (rest > half || (rest === half && (kept & 1) !== 0) ? kept + 1 : kept);
  }
  const h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry into the exponent is correct too, including rounding up to inf.
  return sign | (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0) ? h + 1 : h);
}

/** f32 bits of the f16 whose bits are h (exact: every f16 is an f32). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0;
    // Subnormal: shift the leading 1 up into the implicit position.
    let e = 113; // 127 - 14
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
}

/** f16 bit pattern (0..0xffff) nearest to x, ties to even. */
export function f32ToF16Bits(x: number): number {
  scratchF32[0] = x;
  return f32BitsToF16Bits(scratchU32[0]);
}

let f16Table: Float32Array | null = null;
/** All 65536 halves widened, built once on first use (256 KiB): bulk conversion is one lookup per element. */
function f16ToF32Table(): Float32Array {
  if (f16Table === null) {
    const bits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) bits[h] = f16BitsToF32Bits(h);
    f16Table = new Float32Array(bits.buffer);
  }
  return f16Table;
}

export function f16BitsToF32(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h & 0xffff);
  return scratchF32[0];
}

export function bf16BitsToF32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0];
}

/** bfloat16 bits nearest to x (ties to even); NaN stays NaN. */
export function f32ToBf16Bits(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Widens an array of f16 bit patterns. */
export function f16ArrayToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const table = f16ToF32Table();
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

/** Widens an array of bf16 bit patterns. */
export function bf16ArrayToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) outBits[i] = src[i] << 16;
  return out;
}

function bitsOf(src: Float32Array): Uint32Array {
  return new Uint32Array(src.buffer, src.byteOffset, src.length);
}

/** f16 bit patterns of src (round to nearest even). */
export function f32ArrayToF16Bits(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = bitsOf(src);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

/** bf16 bit patterns of src (round to nearest even). */
export function f32ArrayToBf16Bits(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = bitsOf(src);
  for (let i = 0; i < src.length; i++) {
    const b = bits[i];
    out[i] = (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0
      ? ((b >>> 16) | 0x40) & 0xffff
      : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** src with every value rounded through f16 (what the GPU sees): CPU references use this to match the kernels. */
export function roundToF16(src: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(src.length);
  const inBits = bitsOf(src);
  const outBits = bitsOf(out);
  for (let i = 0; i < src.length; i++) outBits[i] = f16BitsToF32Bits(f32BitsToF16Bits(inBits[i]));
  return out;
}

/**
 * The GPU weight code. An f16 whose 5-bit exponent is moved up by a per-matrix `shift`, so that every
 * nonzero weight (f16 subnormals included, renormalised) is a *normal* f32 once its 15 magnitude bits
 * sit at bits 13..27 and its sign at bit 31: the kernels decode with masks, two multiplies and one shift
 * (shaders/lib/common.wgsl, decode8) instead of unpack2x16float, which CPU-emulated adapters run as a
 * ~15-instruction sequence per half. The decoded f32 is the weight times 2^(shift - 112), exactly; the
 * kernels multiply each dot product once by `weightScale(shift)` = 2^(112 - shift). Why not plain f16
 * bits with that scale: an f16 subnormal would land as an f32 subnormal, which adapters may flush to 0.
 * What such an adapter still drops: raw products and partial sums under 2^-126, i.e. true ones under
 * max|w| * 2^-30, at most 2K * max|w| * 2^-30 per output: far below f16's own rounding of the weights.
 */
export interface WeightCode {
  /** Added to each weight's f16 exponent: 31 - the largest exponent in the matrix (so it tops out at 31). */
  shift: number;
  /** 2^(112 - shift): the factor that turns a decoded dot product into the true one. */
  scale: number;
}

/** f16 exponent (unbiased + 15, subnormals renormalised: -9 .. 30) of the f16 bits h, which must be nonzero and finite. */
function f16Exponent(h: number): number {
  const exp = (h >>> 10) & 0x1f;
  return exp !== 0 ? exp : 31 - Math.clz32(h & 0x3ff) - 9;
}

/**
 * The code for the values of src (rounded to f16, as the GPU sees them). Exact for every value when the
 * matrix's largest |w| is below 128 (its exponent span fits 5 bits); beyond that, values under
 * max|w| * 2^-30 (f16 subnormals only) encode as 0; `weightCodeLoss` counts them.
 */
export function weightCodeFor(src: Float32Array): WeightCode {
  // Rounding to f16 is monotonic, so the largest f16 magnitude is the f16 of the largest |w|: one f32 scan,
  // one conversion (packWeightPairs converts every value anyway).
  let max = 0;
  let at = -1;
  for (let i = 0; i < src.length; i++) {
    const a = Math.abs(src[i]);
    if (a > max) { max = a; at = i; }
    else if (a !== a) throw new RangeError(`weight ${i} is NaN: the GPU weight code holds finite f16 values only`);
  }
  const h = f32ToF16Bits(max) & 0x7fff;
  if (h >= 0x7c00) throw new RangeError(`weight ${at} is ${src[at]}: the GPU weight code holds finite f16 values only`);
  const shift = h === 0 ? 16 : 31 - f16Exponent(h);
  return { shift, scale: 2 ** (112 - shift) };
}

/** The code of one f16 (bits h) under `shift`: same sign and mantissa, exponent + shift; 0 below the code's range. */
function f16ToCode(h: number, shift: number): number {
  const sign = h & 0x8000;
  const mag = h & 0x7fff;
  if (mag === 0) return sign;
  const exp = (h >>> 10) & 0x1f;
  let e: number;
  let mant: number;
  if (exp !== 0) {
    e = exp;
    mant = mag & 0x3ff;
  } else {
    // Subnormal m * 2^-24 = 1.f * 2^(p - 24) with p the leading bit of m: exponent p - 9 in f16 terms.
    const p = 31 - Math.clz32(mag);
    e = p - 9;
    mant = (mag << (10 - p)) & 0x3ff;
  }
  const ec = e + shift;
  if (ec < 1) return sign; // below max|w| * 2^-30: only reachable when max|w| >= 128
  if (ec > 31) throw new RangeError(`f16 0x${h.toString(16)} is above the code's range for shift ${shift}`);
  return sign | (ec << 10) | mant;
}

/** The value a code decodes to (what the kernels compute, then scale): for tests and read-backs. */
export function weightCodeValue(c: number, code: WeightCode): number {
  const mag = c & 0x7fff;
  scratchU32[0] = ((mag << 13) | ((c & 0x8000) << 16)) >>> 0;
  return scratchF32[0] * code.scale;
}

/** Values of src the code cannot hold (encoded as 0 though their f16 is not): 0 for any matrix with max|w| < 128. */
export function weightCodeLoss(src: Float32Array, code: WeightCode): number {
  const bits = bitsOf(src);
  let lost = 0;
  for (let i = 0; i < src.length; i++) {
    const h = f32BitsToF16Bits(bits[i]);
    if ((h & 0x7fff) !== 0 && (f16ToCode(h, code.shift) & 0x7fff) === 0) lost++;
  }
  return lost;
}

/** src in the GPU weight code, two per u32: element 2i in the low 16 bits, 2i+1 in the high; an odd tail is padded with +0. */
export function packWeightPairs(src: Float32Array, code: WeightCode): Uint32Array<ArrayBuffer> {
  const n = src.length;
  const out = new Uint32Array((n + 1) >>> 1);
  const bits = bitsOf(src);
  const pairs = n >>> 1;
  const s = code.shift;
  for (let i = 0; i < pairs; i++) {
    out[i] = (f16ToCode(f32BitsToF16Bits(bits[2 * i]), s) | (f16ToCode(f32BitsToF16Bits(bits[2 * i + 1]), s) << 16)) >>> 0;
  }
  if (n & 1) out[pairs] = f16ToCode(f32BitsToF16Bits(bits[n - 1]), s);
  return out;
}
