// Decode matrix-vector product: y[yOffset + r] (op)= dot(W[r, :], x) + bias[r] for r < N.
// W is in the weight code (lib/common.wgsl, decode8), two per u32, rows padded to kStride (a multiple of 8) so a row is read as vec4<u32>
// (8 halves) per load. LANES threads share a row and reduce through workgroup memory (one barrier); a workgroup
// holds WG / LANES rows. EPILOGUE (lib/epilogue.wgsl): plain, GELU (tanh form), residual add (y += ...), or GELU and
// the neuron probe: a row whose activation is >= τ_neuron sets its bit in the probe buffer's bitset at
// word bitsWord (cleared earlier in the pass by the layer's ln_2), so instrumentation costs the decode
// step no dispatch of its own.

struct Params { N: u32, K: u32, kStride8: u32, yOffset: u32, hasBias: u32, bitsWord: u32, wScale: f32, _pad1: u32 }

// #include thresholds

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;   // (N, kStride) weight code
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;   // (K) padded to a multiple of 8
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> th: Thresholds;                  // EPILOGUE_GELU_NEURON_PROBE only
@group(0) @binding(6) var<storage, read_write> bits: array<atomic<u32>>;  // EPILOGUE_GELU_NEURON_PROBE only

override WG: u32 = 256;
override LANES: u32 = 32;     // power of two, divides WG
override EPILOGUE: u32 = EPILOGUE_NONE;

var<workgroup> red: array<f32, WG>;

// #include common
// #include epilogue

fn rowDot(row: u32, lane: u32, lanes: u32) -> f32 {
  var acc = 0.0;
  let base = row * p.kStride8;
  let full = p.K / 8u;
  for (var c = lane; c < full; c += lanes) {
    acc += dot8(w[base + c], x[2u * c], x[2u * c + 1u]);
  }
  let rem = p.K - full * 8u;
  if (rem > 0u && lane == 0u) {
    // Tail of a row whose K is not a multiple of 8: mask the x values past K (x may hold stale data there).
    var xa = x[2u * full];
    var xb = vec4<f32>(0.0);
    if (rem > 4u) { xb = x[2u * full + 1u]; }
    for (var j = rem; j < 8u; j++) {
      if (j < 4u) { xa[j] = 0.0; } else { xb[j - 4u] = 0.0; }
    }
    acc += dot8(w[base + full], xa, xb);
  }
  return acc;
}

// #include gemv_store
// #include gemv_entry

// ROWS4 rows per thread, no barrier (CPU-emulated adapters, where a barrier costs more than a serial row):
// each x chunk is read once for four rows. Rows past N read row N - 1 again and are not stored.
@compute @workgroup_size(WG)
fn main_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let row = ((wid.y * nwg.x + wid.x) * WG + lid) * ROWS4;
  if (row >= p.N) { return; }
  let last = p.N - 1u;
  let b0 = row * p.kStride8;
  let b1 = min(row + 1u, last) * p.kStride8;
  let b2 = min(row + 2u, last) * p.kStride8;
  let b3 = min(row + 3u, last) * p.kStride8;
  let full = p.K / 8u;
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < full; c++) {
    let xa = x[2u * c];
    let xb = x[2u * c + 1u];
    acc += vec4<f32>(dot8(w[b0 + c], xa, xb), dot8(w[b1 + c], xa, xb), dot8(w[b2 + c], xa, xb), dot8(w[b3 + c], xa, xb));
  }
  let rem = p.K - full * 8u;
  if (rem > 0u) {
    // Tail of rows whose K is not a multiple of 8: mask the x values past K (x may hold stale data there).
    var xa = x[2u * full];
    var xb = vec4<f32>(0.0);
    if (rem > 4u) { xb = x[2u * full + 1u]; }
    for (var j = rem; j < 8u; j++) {
      if (j < 4u) { xa[j] = 0.0; } else { xb[j - 4u] = 0.0; }
    }
    acc += vec4<f32>(dot8(w[b0 + full], xa, xb), dot8(w[b1 + full], xa, xb), dot8(w[b2 + full], xa, xb), dot8(w[b3 + full], xa, xb));
  }
  store4(row, acc);
}
