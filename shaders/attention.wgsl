// Causal self-attention for T query rows at positions pos0 .. pos0+T-1, one workgroup per (head, row),
// over the listed heads only: a head whose output projection is all zero is never dispatched.
// Each workgroup first stores its own row's K and V into the KV cache (written in place, allocated
// once for the whole context). Keys before pos0 come from the cache; keys of the current chunk are
// read straight from qkv, so no workgroup depends on another's cache write.
// PROBE (instrumentation): the workgroup of row T-1 also writes its head's activity
// a[l, h] = ‖z_h · W_O^h‖₂ / ‖x_l‖₂ = sqrt(z_hᵀ G_h z_h) / ‖x_l‖₂, with G_h = W_O^h W_O^hᵀ
// (headDim x headDim, made once at load) and ‖x_l‖₂ written by this layer's ln_1 earlier in the pass:
// headDim² multiply-adds per head instead of a second pass over c_proj, and no dispatch of its own.
// The same workgroup writes the head's TOP_K largest attention weights with their positions (weight-
// descending, ties to the lower position) at topWord + h · 2 · TOP_K: the head view's row, in this pass.
// Ablation: each head's output (and so its probed activity) is scaled by headMask[maskBase + h], 1 or 0,
// written by the host when the ablated heads change: no pipeline, bind group or buffer is rebuilt.

struct Params { nHead: u32, headDim: u32, nEmbd: u32, nCtx: u32, scale: f32, xNormWord: u32, headWord: u32, maskBase: u32, topWord: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
// #include step

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;          // (T, 3 * nEmbd): q | k | v
@group(0) @binding(3) var<storage, read_write> kCache: array<f32>; // (nHead, nCtx, headDim)
@group(0) @binding(4) var<storage, read_write> vCache: array<f32>; // (nHead, nCtx, headDim)
@group(0) @binding(5) var<storage, read_write> out: array<f32>;    // (T, nEmbd)
@group(0) @binding(6) var<storage, read> heads: array<u32>;        // heads to run (others are skipped)
@group(0) @binding(7) var<storage, read> gram: array<f32>;         // PROBE: (nHead, headDim, headDim)
@group(0) @binding(8) var<storage, read_write> probe: array<u32>;  // PROBE: the probe words
@group(0) @binding(9) var<storage, read> headMask: array<f32>;     // (nLayer, nHead): 0 ablates a head

override WG: u32 = 64;
override MAX_CTX: u32 = 1024u;
override MAX_HEAD_DIM: u32 = 128u;
override PROBE: bool = false;
const TOP_K: u32 = 8u;   // = ATTN_TOP_K in src/shared/probes.ts (src/kernels/attention.test.ts checks)

var<workgroup> scores: array<f32, MAX_CTX>;
var<workgroup> q: array<f32, MAX_HEAD_DIM>;
var<workgroup> red: array<f32, WG>;
var<workgroup> bcast: f32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = heads[wid.x];
  let t = wid.y;
  let D = p.nEmbd;
  let hd = p.headDim;
  let pos = s.pos0 + t;
  let n = pos + 1u;                  // keys 0 ..= pos
  let row = t * 3u * D + h * hd;     // this row's q of head h; k at +D, v at +2D
  for (var d = lid; d < hd; d += WG) {
    q[d] = qkv[row + d] * p.scale;
    let c = (h * p.nCtx + pos) * hd + d;
    kCache[c] = qkv[row + D + d];
    vCache[c] = qkv[row + 2u * D + d];
  }
  workgroupBarrier();

  var mx = -3.0e38;
  for (var j = lid; j < n; j += WG) {
    var acc = 0.0;
    if (j < s.pos0) {
      let kb = (h * p.nCtx + j) * hd;
      for (var d = 0u; d < hd; d++) { acc += q[d] * kCache[kb + d]; }
    } else {
      let kb = (j - s.pos0) * 3u * D + D + h * hd;
      for (var d = 0u; d < hd; d++) { acc += q[d] * qkv[kb + d]; }
    }
    scores[j] = acc;
    mx = max(mx, acc);
  }
  // Reductions: one barrier to publish partials, thread 0 combines them, one barrier to share.
  red[lid] = mx;
  workgroupBarrier();
  if (lid == 0u) {
    var v = red[0];
    for (var j = 1u; j < WG; j++) { v = max(v, red[j]); }
    bcast = v;
  }
  workgroupBarrier();
  let m = bcast;

  var sum = 0.0;
  for (var j = lid; j < n; j += WG) {
    let e = exp(scores[j] - m);
    scores[j] = e;
    sum += e;
  }
  workgroupBarrier();   // everyone has read `bcast` before it is reused
  red[lid] = sum;
  workgroupBarrier();
  if (lid == 0u) {
    var v = 0.0;
    for (var j = 0u; j < WG; j++) { v += red[j]; }
    bcast = 1.0 / v;
  }
  workgroupBarrier();
  let norm = bcast;                            // the softmax's 1 / sum
  let inv = norm * headMask[p.maskBase + h];   // and the head's ablation gate

  // Four output dims a thread per pass over the keys (dims past hd read dim hd - 1 again and are not
  // stored), so a CPU-emulated adapter enters the key loop once per four dims; each dim's sum over the keys
  // runs in the same order as one dim at a time.
  for (var d0 = 4u * lid; d0 < hd; d0 += 4u * WG) {
    let last = hd - 1u;
    let dd = vec4<u32>(d0, min(d0 + 1u, last), min(d0 + 2u, last), min(d0 + 3u, last));
    var acc = vec4<f32>(0.0);
    for (var j = 0u; j < n; j++) {
      var v: vec4<f32>;
      if (j < s.pos0) {
        let vb = (h * p.nCtx + j) * hd;
        v = vec4<f32>(vCache[vb + dd.x], vCache[vb + dd.y], vCache[vb + dd.z], vCache[vb + dd.w]);
      } else {
        let vb = (j - s.pos0) * 3u * D + 2u * D + h * hd;
        v = vec4<f32>(qkv[vb + dd.x], qkv[vb + dd.y], qkv[vb + dd.z], qkv[vb + dd.w]);
      }
      acc += scores[j] * v;
    }
    let z = acc * inv;
    for (var c = 0u; c < 4u; c++) {
      let d = d0 + c;
      if (d < hd) {
        out[t * D + h * hd + d] = z[c];
        if (PROBE) { q[d] = z[c]; }   // q is no longer read: it now holds z_h
      }
    }
  }

  if (PROBE && t == s.T - 1u) {
    workgroupBarrier();
    var part = 0.0;
    let g = h * hd * hd;
    for (var i = lid; i < hd; i += WG) {
      var gz = 0.0;
      for (var j = 0u; j < hd; j++) { gz += gram[g + i * hd + j] * q[j]; }
      part += q[i] * gz;
    }
    red[lid] = part;
    workgroupBarrier();
    if (lid == 0u) {
      var sq = 0.0;
      for (var j = 0u; j < WG; j++) { sq += red[j]; }
      let xNorm = bitcast<f32>(probe[p.xNormWord]);
      probe[p.headWord + h] = bitcast<u32>(sqrt(max(sq, 0.0)) / max(xNorm, 1e-30));
      // Top-k in one pass over the row's n weights (probed rows only): a sorted list of TOP_K in registers,
      // a weight entering only when strictly larger than the last kept, shifted in behind the equal ones, so
      // ties go to the lower position.
      var tw = array<f32, TOP_K>(-1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0);
      var tj = array<u32, TOP_K>(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
      for (var j = 0u; j < n; j++) {
        let v = scores[j];
        if (v > tw[TOP_K - 1u]) {
          var i = TOP_K - 1u;
          while (i > 0u && tw[i - 1u] < v) {
            tw[i] = tw[i - 1u];
            tj[i] = tj[i - 1u];
            i--;
          }
          tw[i] = v;
          tj[i] = j;
        }
      }
      let top = p.topWord + h * 2u * TOP_K;
      for (var k = 0u; k < TOP_K; k++) {
        probe[top + 2u * k] = tj[k];
        probe[top + 2u * k + 1u] = bitcast<u32>(select(0.0, tw[k] * norm, tj[k] != 0xffffffffu));
      }
    }
  }
}
