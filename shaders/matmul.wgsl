// Prefill matrix-matrix product: Y[m, yOffset + n] (op)= sum_k X[m, k] * W[n, k] + bias[n],
// for m < M (M = 0 means "the step's T"), n < N. X is f32 (M, K) row-major; W is weight-code pairs (N, kStride), lib/common.wgsl's decode8.
// EPILOGUE (lib/epilogue.wgsl): plain, GELU (tanh form), residual add (y += ...). Two variants, chosen per adapter
// by measurement (see src/kernels/matmul.ts):
//   main      64 x 64 output tile per workgroup of 16 x 16 threads (4 x 4 outputs each), K in steps
//             of 16 through workgroup memory: the GPU path.
//   main_row  one thread per (output column n, 8 rows of X), no workgroup memory and no barrier:
//             the fast path on CPU-emulated adapters, where barriers switch coroutines.

struct Params { M: u32, N: u32, K: u32, kStride8: u32, ldy: u32, yOffset: u32, hasBias: u32, wScale: f32 }
// #include step

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read> xv: array<vec4<f32>>;   // main_row only: x again, read as vec4

override EPILOGUE: u32 = EPILOGUE_NONE;
const BM = 64u;
const BN = 64u;
const BK = 16u;

var<workgroup> xs: array<f32, 1024>;   // [BK][BM]
var<workgroup> ws: array<f32, 1024>;   // [BK][BN]

// #include common
// #include epilogue
// #include matmul_store
// #include rows8

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = select(p.M, s.T, p.M == 0u);
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let tx = lid3.x;   // 4 columns n0 + tx*4 ..
  let ty = lid3.y;   // 4 rows    m0 + ty*4 ..
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // X tile: 64 rows x 16 k, four scalars per thread, stored transposed [k][m].
    for (var i = 0u; i < 4u; i++) {
      let e = lid + i * 256u;
      let r = e / BK;
      let c = e % BK;
      let m = m0 + r;
      let k = k0 + c;
      var v = 0.0;
      if (m < M && k < p.K) { v = x[m * p.K + k]; }
      xs[c * BM + r] = v;
    }
    // W tile: 64 rows x 16 halves = two vec4<u32> per row, stored [k][n].
    if (lid < 128u) {
      let r = lid / 2u;
      let h = lid % 2u;
      let n = n0 + r;
      let chunk = k0 / 8u + h;
      var w4 = vec4<u32>(0u);
      if (n < p.N && chunk < p.kStride8) { w4 = w[n * p.kStride8 + chunk]; }
      let kb = h * 8u;
      let d = decode8(w4);
      ws[(kb + 0u) * BN + r] = d.a.x; ws[(kb + 1u) * BN + r] = d.a.y;
      ws[(kb + 2u) * BN + r] = d.a.z; ws[(kb + 3u) * BN + r] = d.a.w;
      ws[(kb + 4u) * BN + r] = d.b.x; ws[(kb + 5u) * BN + r] = d.b.y;
      ws[(kb + 6u) * BN + r] = d.b.z; ws[(kb + 7u) * BN + r] = d.b.w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let xo = kk * BM + ty * 4u;
      let wo = kk * BN + tx * 4u;
      let bv = vec4<f32>(ws[wo], ws[wo + 1u], ws[wo + 2u], ws[wo + 3u]);
      acc[0] += xs[xo] * bv;
      acc[1] += xs[xo + 1u] * bv;
      acc[2] += xs[xo + 2u] * bv;
      acc[3] += xs[xo + 3u] * bv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty * 4u + i;
    if (m >= M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tx * 4u + j;
      if (n >= p.N) { break; }
      store(m, n, acc[i][j]);
    }
  }
}

const ROWS = 8u;   // rows of X per thread in main_row: each W chunk loaded once serves ROWS dot products

fn xAt(m: u32, k: u32, M: u32) -> f32 {
  if (m < M && k < p.K) { return x[m * p.K + k]; }
  return 0.0;
}

fn x8(m: u32, k: u32, M: u32) -> array<vec4<f32>, 2> {
  return array<vec4<f32>, 2>(
    vec4<f32>(xAt(m, k, M), xAt(m, k + 1u, M), xAt(m, k + 2u, M), xAt(m, k + 3u, M)),
    vec4<f32>(xAt(m, k + 4u, M), xAt(m, k + 5u, M), xAt(m, k + 6u, M), xAt(m, k + 7u, M)));
}

@compute @workgroup_size(64)
fn main_row(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = select(p.M, s.T, p.M == 0u);
  let n = gid.x;
  let m0 = gid.y * ROWS;
  if (n >= p.N || m0 >= M) { return; }
  let base = n * p.kStride8;
  if (p.K % 8u == 0u && m0 + ROWS <= M) {
    // The common case, 8 full rows and K a multiple of 8: vec4 loads of x, 8 rows per weight chunk
    // (chunkRows8 in lib/rows8.wgsl).
    let rowStride = p.K / 4u;            // vec4s per row of x
    let chunks = p.K / 8u;
    var acc8 = Rows8(vec4<f32>(0.0), vec4<f32>(0.0));
    var xi = m0 * rowStride;
    for (var c = 0u; c < chunks; c++) {
      let w4 = w[base + c];
      let r = chunkRows8(w4, xi, rowStride);
      acc8.lo += r.lo;
      acc8.hi += r.hi;
      xi += 2u;
    }
    storeRows8(m0, n, acc8);
    return;
  }
  // Edge rows or K not a multiple of 8: scalar loads with bounds checks.
  var acc: array<f32, ROWS>;
  for (var c = 0u; c < p.kStride8; c++) {
    let d = decode8(w[base + c]);
    for (var i = 0u; i < ROWS; i++) {
      let xv8 = x8(m0 + i, c * 8u, M);
      acc[i] += dot(d.a, xv8[0]) + dot(d.b, xv8[1]);
    }
  }
  for (var i = 0u; i < ROWS; i++) {
    if (m0 + i < M) { store(m0 + i, n, acc[i]); }
  }
}
