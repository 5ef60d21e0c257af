// GPT-2's tanh-approximated GELU on the CPU (the reference the WGSL epilogues are checked against).

export function gelu(x: number): number {
  const u = Math.max(-15, Math.min(15, 0.7978845608028654 * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + Math.tanh(u));
}

export type Epilogue = 'none' | 'gelu' | 'residual';
export const EPILOGUE_CODE: Record<Epilogue, number> = { none: 0, gelu: 1, residual: 2 };
/** The gemv kernels' GELU epilogue that also sets the firing neurons' bits (shaders/gemv_rows.wgsl). */
export const EPILOGUE_GELU_NEURON_PROBE = 3;

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
