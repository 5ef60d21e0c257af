// CPU reference for both linear kernels (gemv for decode, matmul for prefill):
// y[m, yOffset + n] (op)= sum_k x[m, k] * W[n, k] + bias[n], with W already in GPU row order (rows = n).

import { gelu, type Epilogue } from './gelu';

export function linearRef(o: {
  x: Float32Array; // (M, K)
  w: Float32Array; // (N, K), values as the GPU sees them (f16-rounded)
  bias?: Float32Array;
  M: number;
  N: number;
  K: number;
  epilogue: Epilogue;
  /** For 'residual': the values y holds before the kernel runs (updated in place). */
  y?: Float32Array;
  ldy?: number;
  yOffset?: number;
}): Float32Array {
  const ldy = o.ldy ?? o.N;
  const yOffset = o.yOffset ?? 0;
  const y = o.y ?? new Float32Array(o.M * ldy);
  for (let m = 0; m < o.M; m++) {
    for (let n = 0; n < o.N; n++) {
      let acc = 0;
      const xo = m * o.K;
      const wo = n * o.K;
      for (let k = 0; k < o.K; k++) acc += o.x[xo + k] * o.w[wo + k];
      if (o.bias) acc += o.bias[n];
      const i = m * ldy + yOffset + n;
      y[i] = o.epilogue === 'gelu' ? gelu(acc) : o.epilogue === 'residual' ? y[i] + acc : acc;
    }
  }
  return y;
}

/** HF Conv1D weight (in = K, out = N) to GPU row order (N, K). */
export function conv1dToRows(w: Float32Array, K: number, N: number): Float32Array {
  const out = new Float32Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[n * K + k] = w[k * N + n];
  return out;
}
