// main_row's fast path of the prefill matmuls (matmul.wgsl, bsr_matmul.wgsl) over 8 full rows of x: one
// chunk of 8 coded weights against 8 rows, the sums in named registers, then 8 stores.
// Needs from the including file: xv (x as array<vec4<f32>>); and lib matmul_store (store).

// Eight rows' partial sums as two vectors: named registers, where an indexed array of accumulators is
// spilled to memory by CPU-emulated adapters.
struct Rows8 { lo: vec4<f32>, hi: vec4<f32> }

// One chunk of 8 coded weights (w4, lib/common.wgsl's decode8) against the same 8 columns of 8 consecutive rows of x: row r's chunk
// starts at vec4 index xi + r * rowStride.
fn chunkRows8(w4: vec4<u32>, xi: u32, rowStride: u32) -> Rows8 {
  let d = decode8(w4);
  let wa = d.a;
  let wb = d.b;
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
