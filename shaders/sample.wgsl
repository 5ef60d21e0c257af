// Picks the next token on the GPU from logits (V): greedy argmax, or temperature + top-k sampling
// with a uniform random number supplied per step. Finds the best `rounds` (id, logit) pairs by
// repeated workgroup argmax under the total order (logit desc, id asc), which needs no scratch
// memory proportional to V. Writes result = [id, nTop, (id, logit bits) x nTop] and the id into
// tokens[writePos] so the next step's embedding reads it without a CPU round trip.

struct Params { V: u32, mode: u32, topK: u32, nTop: u32, temperature: f32, _pad0: u32, _pad1: u32, _pad2: u32 }
// #include step

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read_write> result: array<u32>;
@group(0) @binding(4) var<storage, read_write> tokens: array<u32>;

override WG: u32 = 256;
const MAX_K = 64u;

var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;
var<workgroup> topV: array<f32, MAX_K>;
var<workgroup> topI: array<u32, MAX_K>;
// Set when any logit is NaN or ±Inf. Tested on the bits (exponent all ones): WGSL lets a compiler assume
// floats are finite, so a comparison could be folded away.
var<workgroup> nonFinite: atomic<u32>;

fn before(v1: f32, i1: u32, v2: f32, i2: u32) -> bool {
  return v1 > v2 || (v1 == v2 && i1 < i2);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let sampling = p.mode == 1u;
  // Never more rounds than logits: a round past the last would pick no id (0xffffffff).
  let rounds = min(p.V, min(MAX_K, max(select(1u, p.topK, sampling), max(p.nTop, 1u))));
  var prevV = 0.0;
  var prevI = 0u;
  for (var r = 0u; r < rounds; r++) {
    var v = -3.4e38;
    var i = 0xffffffffu;
    for (var k = lid; k < p.V; k += WG) {
      let x = logits[k];
      if (r == 0u && (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) { atomicOr(&nonFinite, 1u); }
      if ((r == 0u || before(prevV, prevI, x, k)) && before(x, k, v, i)) { v = x; i = k; }
    }
    bestV[lid] = v;
    bestI[lid] = i;
    workgroupBarrier();
    // Thread 0 merges the WG candidates (two barriers a round rather than a log2(WG) tree).
    if (lid == 0u) {
      var bv = bestV[0];
      var bi = bestI[0];
      for (var j = 1u; j < WG; j++) {
        if (before(bestV[j], bestI[j], bv, bi)) { bv = bestV[j]; bi = bestI[j]; }
      }
      topV[r] = bv;
      topI[r] = bi;
    }
    workgroupBarrier();
    prevV = topV[r];
    prevI = topI[r];
  }
  let broken = atomicLoad(&nonFinite) != 0u;
  if (lid == 0u) {
    var id = topI[0];
    if (sampling) {
      let k = min(p.topK, rounds);
      var total = 0.0;
      for (var j = 0u; j < k; j++) { total += exp((topV[j] - topV[0]) / p.temperature); }
      let goal = s.rand * total;
      var acc = 0.0;
      id = topI[k - 1u];
      for (var j = 0u; j < k; j++) {
        acc += exp((topV[j] - topV[0]) / p.temperature);
        if (goal < acc) { id = topI[j]; break; }
      }
    }
    // No token from non-finite logits: the host sees an id outside the vocabulary and stops.
    if (broken) { id = 0xffffffffu; }
    result[0] = id;
    let nTop = min(p.nTop, rounds);
    result[1] = nTop;
    for (var j = 0u; j < nTop; j++) {
      result[2u + 2u * j] = topI[j];
      result[3u + 2u * j] = bitcast<u32>(topV[j]);
    }
    if (!broken && s.writePos < arrayLength(&tokens)) { tokens[s.writePos] = id; }
  }
}
