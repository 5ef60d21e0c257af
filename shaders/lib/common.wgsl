// The linear kernels' arithmetic helpers, kept once: GPT-2's GELU and the weight code's decode (8 weights
// per vec4<u32>) and dot product.
// Needs from the including file: nothing.

// GPT-2's tanh-approximated GELU; the argument is clamped so tanh never sees an overflowing input.
fn gelu(v: f32) -> f32 {
  let u = clamp(0.7978845608028654 * (v + 0.044715 * v * v * v), -15.0, 15.0);
  return 0.5 * v * (1.0 + tanh(u));
}

// Eight weights in order: a = elements 0..3, b = 4..7.
struct W8 { a: vec4<f32>, b: vec4<f32> }

// The weight code (src/shared/f16.ts, packWeightPairs): each u32 holds elements 2i (low 16 bits) and 2i + 1
// (high), f16 bit layouts whose exponents the host shifted so that moving the 15 magnitude bits to bits
// 13..27 and the sign to bit 31 gives a normal f32: the weight times 2^(shift - 112), exactly. Callers
// multiply each finished dot product by the matrix's scale (p.wScale). The move is an arithmetic shift right by
// 3 of the half standing at bits 16..31 (the high one as it is, the low one shifted up 16 first), which brings the
// magnitude to 13..27 and copies the sign into 28..31, then one mask keeping 31 and 13..27: five vector ops for
// eight weights (masking each part apart took nine; unpack2x16float costs a CPU-emulated adapter about thirty).
const CODE_MASK = 0x8fffe000u;

fn decode8(w4: vec4<u32>) -> W8 {
  let lo = bitcast<vec4<f32>>(bitcast<vec4<u32>>(bitcast<vec4<i32>>(w4 << vec4<u32>(16u)) >> vec4<u32>(3u)) & vec4<u32>(CODE_MASK));
  let hi = bitcast<vec4<f32>>(bitcast<vec4<u32>>(bitcast<vec4<i32>>(w4) >> vec4<u32>(3u)) & vec4<u32>(CODE_MASK));
  return W8(vec4<f32>(lo.x, hi.x, lo.y, hi.y), vec4<f32>(lo.z, hi.z, lo.w, hi.w));
}

// One u32 of the weight code: (element 2i, element 2i + 1), unscaled as decode8.
fn decode2(v: u32) -> vec2<f32> {
  let pair = bitcast<vec2<i32>>(vec2<u32>(v << 16u, v)) >> vec2<u32>(3u);
  return bitcast<vec2<f32>>(bitcast<vec2<u32>>(pair) & vec2<u32>(CODE_MASK));
}

// Dot product of 8 coded weights with 8 f32 activations, unscaled.
fn dot8(w4: vec4<u32>, xa: vec4<f32>, xb: vec4<f32>) -> f32 {
  let d = decode8(w4);
  return dot(d.a, xa) + dot(d.b, xb);
}
