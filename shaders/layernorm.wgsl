// LayerNorm over rows of x: y = (x - mean) / sqrt(var + eps) * g + b, one workgroup per row.
// Two-pass (mean, then variance of the centred values) for accuracy. With lastRowOnly the single
// dispatched workgroup normalises row T-1 into row 0 of y (the LM head needs only the last position).
// Probes (instrumentation): for row T-1, normSlot receives ‖x‖₂ and diffSlot ‖x - prev‖₂, where prev
// is the row as the previous probed LayerNorm saw it (so ln_2 measures attention's write into the
// residual stream and the next ln_1 / ln_f the MLP's); then prev = x. NO_SLOT disables either.
// ln_2 also clears its layer's neuron bitset (bitsWords words from bitsWord), which the c_fc that
// follows fills with atomicOr.

struct Params { nEmbd: u32, eps: f32, lastRowOnly: u32, normSlot: u32, diffSlot: u32, probeOn: u32, bitsWord: u32, bitsWords: u32 }
const NO_SLOT = 0xffffffffu;
// #include step

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<storage, read> x: array<f32>;       // (T, nEmbd)
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>; // (T, nEmbd) or (1, nEmbd)
@group(0) @binding(6) var<storage, read_write> probe: array<u32>;
@group(0) @binding(7) var<storage, read_write> prev: array<f32>; // (nEmbd): the last probed row

override WG: u32 = 64;
var<workgroup> red: array<f32, WG>;

var<workgroup> total: f32;

// Two barriers per reduction (thread 0 adds the WG partials) instead of a log2(WG) barrier tree.
fn reduceSum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  if (lid == 0u) {
    var acc = 0.0;
    for (var j = 0u; j < WG; j++) { acc += red[j]; }
    total = acc;
  }
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let last = p.lastRowOnly == 1u;
  let row = select(wid.x, s.T - 1u, last);
  let outRow = select(wid.x, 0u, last);
  let n = p.nEmbd;
  let base = row * n;
  var acc = 0.0;
  for (var i = lid; i < n; i += WG) { acc += x[base + i]; }
  let mean = reduceSum(lid, acc) / f32(n);
  var sq = 0.0;
  for (var i = lid; i < n; i += WG) { let d = x[base + i] - mean; sq += d * d; }
  let rstd = inverseSqrt(reduceSum(lid, sq) / f32(n) + p.eps);
  for (var i = lid; i < n; i += WG) {
    y[outRow * n + i] = (x[base + i] - mean) * rstd * g[i] + b[i];
  }
  if (p.probeOn == 1u && row == s.T - 1u) {
    var sq = 0.0;
    var dq = 0.0;
    for (var i = lid; i < n; i += WG) {
      let v = x[base + i];
      let d = v - prev[i];
      sq += v * v;
      dq += d * d;
      prev[i] = v;   // each thread rewrites only the entries it read
    }
    for (var i = lid; i < p.bitsWords; i += WG) { probe[p.bitsWord + i] = 0u; }
    let norm = sqrt(reduceSum(lid, sq));
    let diff = sqrt(reduceSum(lid, dq));
    if (lid == 0u) {
      if (p.normSlot != NO_SLOT) { probe[p.normSlot] = bitcast<u32>(norm); }
      if (p.diffSlot != NO_SLOT) { probe[p.diffSlot] = bitcast<u32>(diff); }
    }
  }
}
