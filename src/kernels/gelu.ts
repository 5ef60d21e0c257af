// GPT-2's tanh-approximated GELU on the CPU (the reference the WGSL epilogues are checked against), and the
// linear kernels' epilogues with their EPILOGUE override codes.

export function gelu(x: number): number {
  const u = Math.max(-15, Math.min(15, 0.7978845608028654 * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + Math.tanh(u));
}

/**
 * The values of the linear kernels' EPILOGUE override, by their names in shaders/lib/epilogue.wgsl: declared
 * once here and once there, and src/kernels/contract.test.ts checks that the two agree.
 */
export const EPILOGUES = { EPILOGUE_NONE: 0, EPILOGUE_GELU: 1, EPILOGUE_RESIDUAL: 2, EPILOGUE_GELU_NEURON_PROBE: 3 } as const;

export type Epilogue = 'none' | 'gelu' | 'residual';
export const EPILOGUE_CODE: Record<Epilogue, number> = {
  none: EPILOGUES.EPILOGUE_NONE,
  gelu: EPILOGUES.EPILOGUE_GELU,
  residual: EPILOGUES.EPILOGUE_RESIDUAL,
};
/** The gemv kernels' GELU epilogue that also sets the firing neurons' bits (shaders/lib/gemv_store.wgsl). */
export const EPILOGUE_GELU_NEURON_PROBE = EPILOGUES.EPILOGUE_GELU_NEURON_PROBE;

/** Where a c_fc gemv records which neurons fired: the thresholds uniform and a word of the probe buffer. */
export interface NeuronProbe {
  thresholds: GPUBuffer;
  /** The probe buffer (u32 words); this layer's bitset starts at `word` and must be zero before the dispatch. */
  bits: GPUBuffer;
  word: number;
}

/** EPILOGUE override of a gemv kernel, checking that a neuron probe rides only on the GELU epilogue. */
export function gemvEpilogueCode(label: string, epilogue: Epilogue, neurons?: NeuronProbe): number {
  if (!neurons) return EPILOGUE_CODE[epilogue];
  if (epilogue !== 'gelu') throw new Error(`${label}: a neuron probe needs the GELU epilogue (got '${epilogue}')`);
  return EPILOGUE_GELU_NEURON_PROBE;
}
