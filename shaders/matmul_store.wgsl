// The prefill matmuls' fused epilogue (matmul.wgsl, bsr_matmul.wgsl): y[m, yOffset + n] (op)= acc + bias[n],
// op by EPILOGUE (0 plain, 1 GELU, 2 residual add). Needs p.hasBias / p.ldy / p.yOffset, bias and y.
// Spliced in by `// #include matmul_store`.

fn store(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (p.hasBias == 1u) { v += bias[n]; }
  let o = m * p.ldy + p.yOffset + n;
  if (EPILOGUE == 1u) { y[o] = gelu(v); }
  else if (EPILOGUE == 2u) { y[o] = y[o] + v; }
  else { y[o] = v; }
}
