// The decode gemv kernels' (gemv.wgsl, dense rows; bsr_gemv.wgsl, BSR blocks) cooperative entry point around the
// including file's row dot product: main, LANES threads per row and one barrier. Each file writes its own main_row.
// Needs from the including file: p.N, the overrides WG and LANES, `var<workgroup> red: array<f32, WG>`,
// rowDot(row, lane, lanes) -> f32; and lib gemv_store (store).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let row = (wid.y * nwg.x + wid.x) * (WG / LANES) + lid / LANES;
  var acc = 0.0;
  if (row < p.N) { acc = rowDot(row, lane, LANES); }
  // One barrier, then lane 0 adds its row's LANES partials (a short serial sum costs a GPU no more
  // than a barrier tree, and barriers are what software adapters pay for).
  red[lid] = acc;
  workgroupBarrier();
  if (lane == 0u && row < p.N) {
    var v = 0.0;
    for (var j = 0u; j < LANES; j++) { v += red[lid + j]; }
    store(row, v);
  }
}
