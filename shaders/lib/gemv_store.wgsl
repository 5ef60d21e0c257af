// The decode gemv kernels' (gemv.wgsl, bsr_gemv.wgsl) fused epilogue: bias, then plain / GELU / residual add,
// or GELU plus the neuron probe (the firing neuron's bit set with atomicOr).
// Needs from the including file: p (N, hasBias, yOffset, bitsWord, wScale), bias, y, th: Thresholds, bits, the override
// EPILOGUE; and lib common (gelu), epilogue (EPILOGUE_*), thresholds (struct Thresholds).

// MLP neuron `row` has post-GELU activation `a`: set its bit when it fires (a >= τ_neuron).
fn markNeuron(row: u32, a: f32) {
  if (a >= th.neuron) { atomicOr(&bits[p.bitsWord + row / 32u], 1u << (row % 32u)); }
}

fn store(row: u32, acc: f32) {
  var v = acc * p.wScale;   // the weight code's scale (lib/common.wgsl, decode8)
  if (p.hasBias == 1u) { v += bias[row]; }
  let o = p.yOffset + row;
  if (EPILOGUE == EPILOGUE_GELU) { y[o] = gelu(v); }
  else if (EPILOGUE == EPILOGUE_GELU_NEURON_PROBE) { let a = gelu(v); y[o] = a; markNeuron(row, a); }
  else if (EPILOGUE == EPILOGUE_RESIDUAL) { y[o] = y[o] + v; }
  else { y[o] = v; }
}

// The row kernels (main_row) compute ROWS4 consecutive rows per thread; rows past N are not stored.
const ROWS4 = 4u;

fn store4(row: u32, acc: vec4<f32>) {
  store(row, acc.x);
  if (row + 1u < p.N) { store(row + 1u, acc.y); }
  if (row + 2u < p.N) { store(row + 2u, acc.z); }
  if (row + 3u < p.N) { store(row + 3u, acc.w); }
}
