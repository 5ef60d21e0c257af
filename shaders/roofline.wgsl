// What the adapter achieves, for the decode floor of the benchmarks (src/kernels/roofline.ts):
//   stream: every thread sums a grid-strided slice of a large buffer (vec4 loads, coalesced across the
//           workgroup), so the dispatch costs its bytes read / achieved bandwidth;
//   fma_peak: every thread runs ITERS steps of 4 independent vec4 FMA chains in registers (no memory
//           traffic), so the dispatch costs its flops / achieved arithmetic rate.
// Both write one value per thread so nothing is optimised away.

struct Params { n4: u32, iters: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn stream(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let threads = nwg.x * WG;
  var acc = vec4<f32>(0.0);
  for (var i = gid.x; i < p.n4; i += threads) { acc += src[i]; }
  out[gid.x] = acc.x + acc.y + acc.z + acc.w;
}

@compute @workgroup_size(WG)
fn fma_peak(@builtin(global_invocation_id) gid: vec3<u32>) {
  let seed = f32(gid.x % 7u) * 1e-3;
  var a = vec4<f32>(seed, seed + 0.1, seed + 0.2, seed + 0.3);
  var b = a + vec4<f32>(0.5);
  var c = a + vec4<f32>(0.25);
  var d = a + vec4<f32>(0.75);
  let m = vec4<f32>(0.999);
  let k = vec4<f32>(1e-3);
  for (var i = 0u; i < p.iters; i++) {
    a = fma(a, m, k);
    b = fma(b, m, k);
    c = fma(c, m, k);
    d = fma(d, m, k);
  }
  let s = a + b + c + d;
  out[gid.x] = s.x + s.y + s.z + s.w;
}
