// The block density below which the BSR kernels beat the dense ones, measured by
// `npm run -s cli -- bench --crossover` (dense vs BSR gemv on GPT-2-sized matrices at densities
// 1 .. 1/16). The engine uses it to pick, per matrix, dense or sparse kernels.
// Measured on SwiftShader (CPU-emulated WebGPU, 2 cores), gemv 3072 x 768 in 32 x 32 blocks:
// BSR beat dense at density 1/2 and below, lost at 1 (two runs). Table in the README.
export const BSR_CROSSOVER_DENSITY = 0.5;
