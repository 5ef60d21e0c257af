// Instrumentation of one layer at the step's last row (t = T - 1), run after the MLP's c_fc:
//   workgroups 0 .. nHead-1: head activity a[l, h] = ‖z_h · W_O^h‖₂ / ‖x_l‖₂, computed as
//     sqrt(z_hᵀ G_h z_h) with G_h = W_O^h W_O^hᵀ (headDim x headDim, made once at load), so a
//     token costs headDim² multiply-adds per head instead of a second pass over c_proj;
//   workgroup nHead: which MLP neurons fired (post-GELU ≥ τ_neuron) as a bitset, and the fraction.
// ‖x_l‖ was written by this layer's ln_1 (layernorm.wgsl probe slots) earlier in the same pass.
// The probe buffer is u32 words (floats stored as bits); docs/instrumentation.md has its layout.

struct Params {
  nHead: u32, headDim: u32, nEmbd: u32, width: u32,   // width = 4 nEmbd neurons
  layer: u32, xNormSlot: u32, headSlot: u32, fracSlot: u32,
  bitsSlot: u32, _p0: u32, _p1: u32, _p2: u32,
}
struct Step { pos0: u32, T: u32, rand: f32, writePos: u32 }
struct Thresholds { head: f32, neuron: f32, edge: f32, _p: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<uniform> th: Thresholds;
@group(0) @binding(3) var<storage, read> att: array<f32>;    // (T, nEmbd): heads' outputs z, concatenated
@group(0) @binding(4) var<storage, read> gram: array<f32>;   // (nHead, headDim, headDim)
@group(0) @binding(5) var<storage, read> h: array<f32>;      // (T, width): post-GELU MLP activations
@group(0) @binding(6) var<storage, read_write> probe: array<u32>;

override WG: u32 = 64;
override MAX_HEAD_DIM: u32 = 128u;

var<workgroup> z: array<f32, MAX_HEAD_DIM>;
var<workgroup> red: array<f32, WG>;

fn sumAll(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  var total = 0.0;
  for (var j = 0u; j < WG; j++) { total += red[j]; }
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = s.T - 1u;
  if (wid.x < p.nHead) {
    let hh = wid.x;
    let hd = p.headDim;
    for (var d = lid; d < hd; d += WG) { z[d] = att[t * p.nEmbd + hh * hd + d]; }
    workgroupBarrier();
    var acc = 0.0;
    let g = hh * hd * hd;
    for (var i = lid; i < hd; i += WG) {
      var gz = 0.0;
      for (var j = 0u; j < hd; j++) { gz += gram[g + i * hd + j] * z[j]; }
      acc += z[i] * gz;
    }
    let sq = sumAll(lid, acc);
    if (lid == 0u) {
      let xNorm = bitcast<f32>(probe[p.xNormSlot + p.layer]);
      probe[p.headSlot + p.layer * p.nHead + hh] = bitcast<u32>(sqrt(max(sq, 0.0)) / max(xNorm, 1e-30));
    }
  } else {
    let words = (p.width + 31u) / 32u;
    var count = 0.0;
    for (var wd = lid; wd < words; wd += WG) {
      var bits = 0u;
      for (var b = 0u; b < 32u; b++) {
        let i = wd * 32u + b;
        if (i < p.width && h[t * p.width + i] >= th.neuron) { bits |= 1u << b; }
      }
      probe[p.bitsSlot + p.layer * words + wd] = bits;
      count += f32(countOneBits(bits));
    }
    let total = sumAll(lid, count);
    if (lid == 0u) { probe[p.fracSlot + p.layer] = bitcast<u32>(total / f32(p.width)); }
  }
}
