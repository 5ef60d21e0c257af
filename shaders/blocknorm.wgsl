// Squared Frobenius norms of the headDim x headDim blocks of Y = W_O(l1) · W_QKV(l2) ((nEmbd, 3 nEmbd),
// rows = l1's head dims, columns = l2's q | k | v head dims): out[outBase + (h1 · 3 + x) · nHead + h2]
// = ‖W_O^{h1} · W_x^{h2}‖_F². One workgroup per (h1, x · nHead + h2). The composition strengths of
// the instrumentation (edges) are these, normalised on the CPU.

struct Params { nHead: u32, headDim: u32, nEmbd: u32, outBase: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;        // (nEmbd, 3 nEmbd)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 64;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h1 = wid.x;
  let col = wid.y;                 // x · nHead + h2
  let hd = p.headDim;
  let ld = 3u * p.nEmbd;
  var acc = 0.0;
  for (var e = lid; e < hd * hd; e += WG) {
    let v = y[(h1 * hd + e / hd) * ld + col * hd + e % hd];
    acc += v * v;
  }
  red[lid] = acc;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var j = 0u; j < WG; j++) { total += red[j]; }
    let x = col / p.nHead;
    let h2 = col % p.nHead;
    out[p.outBase + (h1 * 3u + x) * p.nHead + h2] = total;
  }
}
