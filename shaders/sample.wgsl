// Picks the next token on the GPU from logits (V): greedy argmax, or temperature + top-k sampling
// with a uniform random number supplied per step. Finds the best `rounds` (id, logit) pairs under the
// total order (logit desc, id asc) in one read of the logits: a sorted list per thread, then a merge of
// the lists; no scratch memory proportional to V. Writes result = [id, nTop, (id, logit bits) x nTop] and the id into
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
// The thread whose candidate won the last merge round.
var<workgroup> winner: u32;
// Set when any logit is NaN or ±Inf. Tested on the bits (exponent all ones): WGSL lets a compiler assume
// floats are finite, so a comparison could be folded away.
var<workgroup> nonFinite: atomic<u32>;

fn before(v1: f32, i1: u32, v2: f32, i2: u32) -> bool {
  return v1 > v2 || (v1 == v2 && i1 < i2);
}

// One merge round: every thread offers a candidate, thread 0 keeps the best as topV/topI[r] and names the
// thread that offered it in `winner` (two barriers, rather than a log2(WG) tree). Uniform control flow only.
fn mergeRound(r: u32, lid: u32, v: f32, i: u32) {
  bestV[lid] = v;
  bestI[lid] = i;
  workgroupBarrier();
  if (lid == 0u) {
    var bv = bestV[0];
    var bi = bestI[0];
    var bt = 0u;
    for (var t = 1u; t < WG; t++) {
      if (before(bestV[t], bestI[t], bv, bi)) { bv = bestV[t]; bi = bestI[t]; bt = t; }
    }
    topV[r] = bv;
    topI[r] = bi;
    winner = bt;
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let sampling = p.mode == 1u;
  // Never more rounds than logits: a round past the last would pick no id (0xffffffff).
  let rounds = min(p.V, min(MAX_K, max(select(1u, p.topK, sampling), max(p.nTop, 1u))));
  if (rounds == 1u) {
    // Greedy without top logits: one best per thread, then one merge (no lists to initialise).
    var v = -3.4e38;
    var i = 0xffffffffu;
    var bad = 0u;   // one atomic per thread after the loop, not a conditional atomic per logit
    for (var k = lid; k < p.V; k += WG) {
      let x = logits[k];
      bad |= u32((bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u);
      if (x > v) { v = x; i = k; }   // k ascends: a tie keeps the lower id, as before() does
    }
    if (bad != 0u) { atomicOr(&nonFinite, 1u); }
    mergeRound(0u, lid, v, i);
  } else {
    // Pass 1, one read of the logits: each thread keeps its own best `rounds` (id, logit) pairs, sorted
    // under the total order, in private memory. Most logits lose to the list's last entry at once, so inserting
    // is rare after the first few.
    var lv: array<f32, MAX_K>;
    var li: array<u32, MAX_K>;
    var n = 0u;
    for (var k = lid; k < p.V; k += WG) {
      let x = logits[k];
      if ((bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u) { atomicOr(&nonFinite, 1u); }
      if (n == rounds && !before(x, k, lv[n - 1u], li[n - 1u])) { continue; }
      // The slot to fill: the end of the list, or (full) the last entry, which drops out.
      var j = min(n, rounds - 1u);
      while (j > 0u && before(x, k, lv[j - 1u], li[j - 1u])) {
        lv[j] = lv[j - 1u];
        li[j] = li[j - 1u];
        j--;
      }
      lv[j] = x;
      li[j] = k;
      n = min(n + 1u, rounds);
    }
    // Pass 2: merge the WG sorted lists, one winner a round: every thread offers its list's head, thread 0
    // picks the best (two barriers a round rather than a log2(WG) tree), and the winner's head moves on.
    var head = 0u;
    for (var r = 0u; r < rounds; r++) {
      // The candidate is chosen per thread; the round (with its barriers) runs in every thread alike.
      var v = -3.4e38;
      var i = 0xffffffffu;
      if (head < n) {
        v = lv[head];
        i = li[head];
      }
      mergeRound(r, lid, v, i);
      if (lid == winner) { head++; }
    }
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
