// What the prefill matmuls (matmul.wgsl, bsr_matmul.wgsl) share once each has declared p (hasBias, ldy,
// yOffset), bias, y, xv (x as vec4) and EPILOGUE: the fused epilogue, and main_row's fast path over 8 full
// rows. Spliced in by `// #include matmul_rows`.

// y[m, yOffset + n] (op)= acc + bias[n], op by EPILOGUE (0 plain, 1 GELU, 2 residual add).
fn store(m: u32, n: u32, acc: f32) {
  var v = acc;
  if (p.hasBias == 1u) { v += bias[n]; }
  let o = m * p.ldy + p.yOffset + n;
  if (EPILOGUE == 1u) { y[o] = gelu(v); }
  else if (EPILOGUE == 2u) { y[o] = y[o] + v; }
  else { y[o] = v; }
}

// Eight rows' partial sums as two vectors: named registers, where an indexed array of accumulators is
// spilled to memory by CPU-emulated adapters.
struct Rows8 { lo: vec4<f32>, hi: vec4<f32> }

// One chunk of 8 f16 weights (w4) against the same 8 columns of 8 consecutive rows of x: row r's chunk
// starts at vec4 index xi + r * rowStride.
fn chunkRows8(w4: vec4<u32>, xi: u32, rowStride: u32) -> Rows8 {
  let wa = vec4<f32>(unpack2x16float(w4.x), unpack2x16float(w4.y));
  let wb = vec4<f32>(unpack2x16float(w4.z), unpack2x16float(w4.w));
  return Rows8(
    vec4<f32>(dot(wa, xv[xi]) + dot(wb, xv[xi + 1u]),
              dot(wa, xv[xi + rowStride]) + dot(wb, xv[xi + rowStride + 1u]),
              dot(wa, xv[xi + 2u * rowStride]) + dot(wb, xv[xi + 2u * rowStride + 1u]),
              dot(wa, xv[xi + 3u * rowStride]) + dot(wb, xv[xi + 3u * rowStride + 1u])),
    vec4<f32>(dot(wa, xv[xi + 4u * rowStride]) + dot(wb, xv[xi + 4u * rowStride + 1u]),
              dot(wa, xv[xi + 5u * rowStride]) + dot(wb, xv[xi + 5u * rowStride + 1u]),
              dot(wa, xv[xi + 6u * rowStride]) + dot(wb, xv[xi + 6u * rowStride + 1u]),
              dot(wa, xv[xi + 7u * rowStride]) + dot(wb, xv[xi + 7u * rowStride + 1u])));
}

fn storeRows8(m0: u32, n: u32, acc: Rows8) {
  store(m0, n, acc.lo.x); store(m0 + 1u, n, acc.lo.y); store(m0 + 2u, n, acc.lo.z); store(m0 + 3u, n, acc.lo.w);
  store(m0 + 4u, n, acc.hi.x); store(m0 + 5u, n, acc.hi.y); store(m0 + 6u, n, acc.hi.z); store(m0 + 7u, n, acc.hi.w);
}
