// The prefill matmuls' (matmul.wgsl, bsr_matmul.wgsl) fused epilogue: y[m, yOffset + n] (op)= acc + bias[n].
// Needs from the including file: p (hasBias, ldy, yOffset, wScale), bias, y, the override EPILOGUE; and lib common
// (gelu), epilogue (EPILOGUE_*).

// The op by EPILOGUE: plain, GELU, or residual add.
fn store(m: u32, n: u32, acc: f32) {
  var v = acc * p.wScale;   // the weight code's scale (lib/common.wgsl, decode8)
  if (p.hasBias == 1u) { v += bias[n]; }
  let o = m * p.ldy + p.yOffset + n;
  if (EPILOGUE == EPILOGUE_GELU) { y[o] = gelu(v); }
  else if (EPILOGUE == EPILOGUE_RESIDUAL) { y[o] = y[o] + v; }
  else { y[o] = v; }
}
