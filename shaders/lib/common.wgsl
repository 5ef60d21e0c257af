// The linear kernels' arithmetic helpers, kept once: GPT-2's GELU and the f16 x f32 dot product of 8 values.
// Needs from the including file: nothing.

// GPT-2's tanh-approximated GELU; the argument is clamped so tanh never sees an overflowing input.
fn gelu(v: f32) -> f32 {
  let u = clamp(0.7978845608028654 * (v + 0.044715 * v * v * v), -15.0, 15.0);
  return 0.5 * v * (1.0 + tanh(u));
}

// Dot product of 8 f16 weights (two per u32) with 8 f32 activations.
fn dot8(w4: vec4<u32>, xa: vec4<f32>, xb: vec4<f32>) -> f32 {
  return dot(vec4<f32>(unpack2x16float(w4.x), unpack2x16float(w4.y)), xa) +
         dot(vec4<f32>(unpack2x16float(w4.z), unpack2x16float(w4.w)), xb);
}
