// Block-sparse (BSR) decode matrix-vector product: y[yOffset + r] (op)= sum over the nonzero
// BLOCK x BLOCK blocks of row-block r / BLOCK of W_block · x_block, + bias[r]. Zero blocks are never
// read. Layout (GPU row order, rows = outputs): rowPtr[nRowBlocks + 1], colIdx[nnz], values weight-code pairs,
// block b's row i at vec4 index (b * BLOCK + i) * BLOCK / 8. Same epilogues and the same two
// variants as gemv.wgsl, the neuron probe included: the epilogue comes from lib/gemv_store.wgsl and
// the cooperative entry from lib/gemv_entry.wgsl, around this file's rowDot; main_row is this file's own.

struct Params { N: u32, K: u32, yOffset: u32, hasBias: u32, bitsWord: u32, wScale: f32, _pad1: u32, _pad2: u32 }

// #include thresholds

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(2) var<storage, read> colIdx: array<u32>;
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> x: array<vec4<f32>>;   // (K) padded to a multiple of BLOCK
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<uniform> th: Thresholds;                  // EPILOGUE_GELU_NEURON_PROBE only
@group(0) @binding(8) var<storage, read_write> bits: array<atomic<u32>>;  // EPILOGUE_GELU_NEURON_PROBE only

override WG: u32 = 256;
override LANES: u32 = 32;
override EPILOGUE: u32 = EPILOGUE_NONE;
override BLOCK: u32 = 32u;    // 16, 32 or 64

var<workgroup> red: array<f32, WG>;

// #include common
// #include epilogue

fn rowDot(row: u32, lane: u32, lanes: u32) -> f32 {
  let cpb = BLOCK / 8u;                 // vec4<u32> chunks per block row
  let ri = row % BLOCK;
  let b0 = rowPtr[row / BLOCK];
  let b1 = rowPtr[row / BLOCK + 1u];
  var acc = 0.0;
  // Lanes stride over the row's (block, chunk) pairs so adjacent lanes read adjacent memory.
  let nChunks = (b1 - b0) * cpb;
  for (var j = lane; j < nChunks; j += lanes) {
    let b = b0 + j / cpb;
    let c8 = j % cpb;
    let xi = colIdx[b] * (BLOCK / 4u) + 2u * c8;
    acc += dot8(w[(b * BLOCK + ri) * cpb + c8], x[xi], x[xi + 1u]);
  }
  return acc;
}

// #include gemv_store
// #include gemv_entry

// ROWS4 consecutive rows of one block row per thread: they share the block row's blocks, so rowPtr,
// colIdx and each x chunk are read once for four rows (measured on SwiftShader, c_fc 1024 x 256 at
// 1/8: 0.27 -> 0.22 ms and c_attn 768 x 256: 0.20 -> 0.16 ms, best of 9 alternating rounds).
// One loop over the block row's (block, chunk) pairs, not a loop over blocks around one over chunks: a
// CPU-emulated adapter pays per loop entered, and the sums come in the same order, so the same bits (in-process
// A/B on SwiftShader, best of 20 alternating rounds: 3072 x 768 at 1/8 0.800 -> 0.608 ms, 768 x 3072 0.641 ->
// 0.537, 256 x 1024 0.098 -> 0.087; no shape slower).
// BLOCK (16, 32, 64) is a multiple of 4, so the four rows never straddle two block rows; rows past N
// (the last block row's padding) are zero in the values and never stored.
@compute @workgroup_size(WG)
fn main_row(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let row = ((wid.y * nwg.x + wid.x) * WG + lid) * ROWS4;
  if (row >= p.N) { return; }
  let cpb = BLOCK / 8u;                 // vec4<u32> chunks per block row
  let ri = row % BLOCK;
  let b0 = rowPtr[row / BLOCK];
  let end = (rowPtr[row / BLOCK + 1u] - b0) * cpb;
  var acc = vec4<f32>(0.0);
  for (var j = 0u; j < end; j++) {
    let b = b0 + j / cpb;
    let c8 = j % cpb;
    let xi = colIdx[b] * (BLOCK / 4u) + 2u * c8;
    let wi = (b * BLOCK + ri) * cpb + c8;   // the first row's chunk; row + k is k * cpb further
    let xa = x[xi];
    let xb = x[xi + 1u];
    acc += vec4<f32>(dot8(w[wi], xa, xb), dot8(w[wi + cpb], xa, xb),
                     dot8(w[wi + 2u * cpb], xa, xb), dot8(w[wi + 3u * cpb], xa, xb));
  }
  store4(row, acc);
}
