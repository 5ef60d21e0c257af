// Token + position embedding: x[t, :] = wte[tokens[pos0 + t], :] + wpe[pos0 + t, :] for t < T.
// wte may be split into row chunks (binding-size limit); each dispatch writes only the tokens whose
// id falls in its chunk, so every token is written by exactly one chunk's dispatch.

struct Params {
  nEmbd: u32,
  rowStride2: u32,   // u32 words (weight-code pairs) per wte / wpe row
  rowStart: u32,     // first vocab row held by this chunk
  rowCount: u32,     // vocab rows in this chunk
  wteScale: f32,     // the weight codes' scales (lib/common.wgsl, decode2)
  wpeScale: f32,
  _pad0: u32,
  _pad1: u32,
}
// #include step

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<storage, read> tokens: array<u32>;
@group(0) @binding(3) var<storage, read> wte: array<u32>;
@group(0) @binding(4) var<storage, read> wpe: array<u32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;   // (T, nEmbd)

override WG: u32 = 64;

// #include common

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y;
  let pair = gid.x;
  if (t >= s.T || pair * 2u >= p.nEmbd) { return; }
  let id = tokens[s.pos0 + t];
  if (id < p.rowStart || id >= p.rowStart + p.rowCount) { return; }
  let e = decode2(wte[(id - p.rowStart) * p.rowStride2 + pair]) * p.wteScale;
  let q = decode2(wpe[(s.pos0 + t) * p.rowStride2 + pair]) * p.wpeScale;
  let d = t * p.nEmbd + pair * 2u;
  x[d] = e.x + q.x;
  if (pair * 2u + 1u < p.nEmbd) { x[d + 1u] = e.y + q.y; }
}
