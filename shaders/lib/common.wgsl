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
// multiply each finished dot product by the matrix's scale (p.wScale). The move, without a left shift: a
// CPU-emulated adapter (SwiftShader's Subzero) runs every vector shift lane by lane, but a multiply and a mask
// as one vector op. The high half: an arithmetic shift right by 3 brings its magnitude to 13..27 and copies the
// sign into 28..31, and CODE_MASK keeps 31 and 13..27. The low half: times 2^13 puts its magnitude at 13..27,
// times 2^16 its sign at 31 (wrapping u32 products, the same bits as shifts). One shift where there were three:
// LM head 4096 x 256, in-process A/B, best of 12 alternating rounds, same bits: 2644-2680 -> 2218-2268 us
// (unpack2x16float costs about as much as three shifts).
const CODE_MASK = 0x8fffe000u;
const CODE_MAG = 0x0fffe000u;   // bits 13..27
const CODE_SIGN = 0x80000000u;

fn decode8(w4: vec4<u32>) -> W8 {
  let lo = bitcast<vec4<f32>>(((w4 * vec4<u32>(8192u)) & vec4<u32>(CODE_MAG)) | ((w4 * vec4<u32>(65536u)) & vec4<u32>(CODE_SIGN)));
  let hi = bitcast<vec4<f32>>(bitcast<vec4<u32>>(bitcast<vec4<i32>>(w4) >> vec4<u32>(3u)) & vec4<u32>(CODE_MASK));
  return W8(vec4<f32>(lo.x, hi.x, lo.y, hi.y), vec4<f32>(lo.z, hi.z, lo.w, hi.w));
}

// One u32 of the weight code: (element 2i, element 2i + 1), unscaled as decode8.
fn decode2(v: u32) -> vec2<f32> {
  let lo = ((v * 8192u) & CODE_MAG) | ((v * 65536u) & CODE_SIGN);
  let hi = bitcast<u32>(bitcast<i32>(v) >> 3u) & CODE_MASK;
  return bitcast<vec2<f32>>(vec2<u32>(lo, hi));
}

// Dot product of 8 coded weights with 8 f32 activations, unscaled.
fn dot8(w4: vec4<u32>, xa: vec4<f32>, xb: vec4<f32>) -> f32 {
  let d = decode8(w4);
  return dot(d.a, xa) + dot(d.b, xb);
}
