// Block-sparse (BSR) prefill matrix-matrix product: Y[m, yOffset + n] (op)= sum over the nonzero
// blocks of row-block n / BLOCK of X[m, block cols] · W_blockᵀ + bias[n], for m < M (M = 0: the
// step's T). Zero blocks are never read. Layout and epilogues as bsr_gemv.wgsl. Variants:
//   main      a workgroup per (row-block, 64 rows of X): each nonzero block is walked in K-steps of
//             16 through workgroup memory; a thread owns one output column and BLOCK / 4 rows.
//   main_row  a thread per (output column, 8 rows of X), no workgroup memory, no barrier.

struct Params { M: u32, N: u32, K: u32, ldy: u32, yOffset: u32, hasBias: u32, wScale: f32, _pad1: u32 }
// #include step

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> s: Step;
@group(0) @binding(2) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(3) var<storage, read> colIdx: array<u32>;
@group(0) @binding(4) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> y: array<f32>;
@group(0) @binding(8) var<storage, read> xv: array<vec4<f32>>;   // main_row only: x again, read as vec4

override EPILOGUE: u32 = EPILOGUE_NONE;
override BLOCK: u32 = 32u;    // 16, 32 or 64
const BM = 64u;
const BK = 16u;
const ROWS = 8u;

var<workgroup> xs: array<f32, 1024>;   // [BK][BM]
var<workgroup> ws: array<f32, 1024>;   // [BK][BLOCK] (BLOCK <= 64)

// #include common
// #include epilogue
// #include matmul_store
// #include rows8

fn xAt(m: u32, k: u32, M: u32) -> f32 {
  if (m < M && k < p.K) { return x[m * p.K + k]; }
  return 0.0;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = select(p.M, s.T, p.M == 0u);
  let rb = wid.x;
  let m0 = wid.y * BM;
  let tm = BLOCK / 4u;                  // rows per thread (4, 8 or 16)
  let col = lid % BLOCK;                // this thread's output column in the row-block
  let mBase = lid / BLOCK;              // rows mBase + j * (256 / BLOCK)
  let mStep = 256u / BLOCK;
  var acc: array<f32, 16>;
  let cpb = BLOCK / 8u;
  for (var b = rowPtr[rb]; b < rowPtr[rb + 1u]; b++) {
    let k0 = colIdx[b] * BLOCK;
    for (var kk0 = 0u; kk0 < BLOCK; kk0 += BK) {
      for (var i = 0u; i < 4u; i++) {
        let e = lid + i * 256u;
        xs[(e % BK) * BM + e / BK] = xAt(m0 + e / BK, k0 + kk0 + e % BK, M);
      }
      // W sub-block: BLOCK rows x 16 halves = two vec4<u32> per row.
      if (lid < 2u * BLOCK) {
        let r = lid / 2u;
        let h = lid % 2u;
        let w4 = w[(b * BLOCK + r) * cpb + kk0 / 8u + h];
        let kb = h * 8u;
        let d = decode8(w4);
        ws[(kb + 0u) * BLOCK + r] = d.a.x; ws[(kb + 1u) * BLOCK + r] = d.a.y;
        ws[(kb + 2u) * BLOCK + r] = d.a.z; ws[(kb + 3u) * BLOCK + r] = d.a.w;
        ws[(kb + 4u) * BLOCK + r] = d.b.x; ws[(kb + 5u) * BLOCK + r] = d.b.y;
        ws[(kb + 6u) * BLOCK + r] = d.b.z; ws[(kb + 7u) * BLOCK + r] = d.b.w;
      }
      workgroupBarrier();
      for (var kk = 0u; kk < BK; kk++) {
        let wv = ws[kk * BLOCK + col];
        for (var j = 0u; j < tm; j++) { acc[j] += xs[kk * BM + mBase + j * mStep] * wv; }
      }
      workgroupBarrier();
    }
  }
  let n = rb * BLOCK + col;
  if (n < p.N) {
    for (var j = 0u; j < tm; j++) {
      let m = m0 + mBase + j * mStep;
      if (m < M) { store(m, n, acc[j]); }
    }
  }
}

@compute @workgroup_size(64)
fn main_row(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = select(p.M, s.T, p.M == 0u);
  let n = gid.x;
  let m0 = gid.y * ROWS;
  if (n >= p.N || m0 >= M) { return; }
  let cpb = BLOCK / 8u;
  let ri = n % BLOCK;
  if (p.K % BLOCK == 0u && m0 + ROWS <= M) {
    // The common case, 8 full rows and whole blocks: vec4 loads of x, 8 rows per weight chunk
    // (chunkRows8 in lib/rows8.wgsl).
    let rowStride = p.K / 4u;
    // One loop over the (block, chunk) pairs, as bsr_gemv.wgsl's main_row: same order, one loop entered.
    var acc8 = Rows8(vec4<f32>(0.0), vec4<f32>(0.0));
    let b0 = rowPtr[n / BLOCK];
    let end = (rowPtr[n / BLOCK + 1u] - b0) * cpb;
    for (var j = 0u; j < end; j++) {
      let b = b0 + j / cpb;
      let c8 = j % cpb;
      let r = chunkRows8(w[(b * BLOCK + ri) * cpb + c8], m0 * rowStride + colIdx[b] * (BLOCK / 4u) + 2u * c8, rowStride);
      acc8.lo += r.lo;
      acc8.hi += r.hi;
    }
    storeRows8(m0, n, acc8);
    return;
  }
  var acc: array<f32, ROWS>;
  for (var b = rowPtr[n / BLOCK]; b < rowPtr[n / BLOCK + 1u]; b++) {
    let k0 = colIdx[b] * BLOCK;
    for (var c8 = 0u; c8 < cpb; c8++) {
      let d = decode8(w[(b * BLOCK + ri) * cpb + c8]);
      let wa = d.a;
      let wb = d.b;
      let k = k0 + c8 * 8u;
      for (var i = 0u; i < ROWS; i++) {
        let m = m0 + i;
        let xa = vec4<f32>(xAt(m, k, M), xAt(m, k + 1u, M), xAt(m, k + 2u, M), xAt(m, k + 3u, M));
        let xb = vec4<f32>(xAt(m, k + 4u, M), xAt(m, k + 5u, M), xAt(m, k + 6u, M), xAt(m, k + 7u, M));
        acc[i] += dot(wa, xa) + dot(wb, xb);
      }
    }
  }
  for (var i = 0u; i < ROWS; i++) {
    if (m0 + i < M) { store(m0 + i, n, acc[i]); }
  }
}
