// The composition kernel's uniform (shaders/blocknorm.wgsl: squared norms of W_O · W_QKV head blocks), declared
// here with the other kernels' so the contract test checks it; src/model/gpt2.ts builds the dispatch.

import { defineUniform, shaderUniforms } from '../gpu/uniform';

/** shaders/blocknorm.wgsl's Params. */
export const blocknormParams = defineUniform('Params', [
  { name: 'nHead', type: 'u32' },
  { name: 'headDim', type: 'u32' },
  { name: 'nEmbd', type: 'u32' },
  { name: 'outBase', type: 'u32' }, // first output word of this layer pair: pair index · nHead · 3 · nHead
]);

export const BLOCKNORM_SHADER = shaderUniforms('blocknorm', { 0: blocknormParams });
