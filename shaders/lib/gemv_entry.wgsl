// What the two decode gemv kernels (gemv.wgsl, dense rows; bsr_gemv.wgsl, BSR blocks) share once each
// has declared its bindings (p with N, yOffset, hasBias, bitsWord; bias, y, th, bits), WG, LANES,
// EPILOGUE and `red`, and defined rowDot(row, lane, lanes): the fused epilogues, the neuron probe, and
// the two variants' entry points (main: LANES threads per row + one barrier; main_row: a thread per row).
// Spliced in by `// #include gemv_rows`.

struct Thresholds { head: f32, neuron: f32, edge: f32, _p: f32 }

// MLP neuron `row` has post-GELU activation `a`: set its bit when it fires (a >= τ_neuron).
fn markNeuron(row: u32, a: f32) {
  if (a >= th.neuron) { atomicOr(&bits[p.bitsWord + row / 32u], 1u << (row % 32u)); }
}

fn store(row: u32, acc: f32) {
  var v = acc;
  if (p.hasBias == 1u) { v += bias[row]; }
  let o = p.yOffset + row;
  if (EPILOGUE == 1u) { y[o] = gelu(v); }
  else if (EPILOGUE == 3u) { let a = gelu(v); y[o] = a; markNeuron(row, a); }
  else if (EPILOGUE == 2u) { y[o] = y[o] + v; }
  else { y[o] = v; }
}

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

@compute @workgroup_size(WG)
fn main_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let row = (wid.y * nwg.x + wid.x) * WG + lid;
  if (row < p.N) { store(row, rowDot(row, 0u, 1u)); }
}
