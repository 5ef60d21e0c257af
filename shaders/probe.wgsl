// Neuron probe of a prefill step: which MLP neurons of one layer fired (post-GELU ≥ τ_neuron) at the
// step's last row (t = T - 1), as a bitset, one thread per 32-neuron word, run after the MLP's c_fc.
// Decode steps need no such dispatch: their c_fc gemv sets the bits in its epilogue
// (lib/gemv_store.wgsl), and head activity comes from attention.wgsl's PROBE variant in both steps.
// The probe buffer is u32 words (floats stored as bits); docs/instrumentation.md has its layout.

struct Params { width: u32, bitsWord: u32, _pad0: u32, _pad1: u32 }   // width = 4 nEmbd neurons
// #include step
// #include thresholds

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<uniform> th: Thresholds;
@group(0) @binding(3) var<storage, read> h: array<f32>;      // (T, width): post-GELU MLP activations
@group(0) @binding(4) var<storage, read_write> probe: array<u32>;

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let wd = gid.x;
  let words = (p.width + 31u) / 32u;
  if (wd >= words) { return; }
  let row = (s.T - 1u) * p.width;
  var bits = 0u;
  for (var b = 0u; b < 32u; b++) {
    let i = wd * 32u + b;
    if (i < p.width && h[row + i] >= th.neuron) { bits |= 1u << b; }
  }
  probe[p.bitsWord + wd] = bits;
}
