// GPT-2's tanh-approximated GELU on the CPU (the reference the WGSL epilogues are checked against).

export function gelu(x: number): number {
  const u = Math.max(-15, Math.min(15, 0.7978845608028654 * (x + 0.044715 * x * x * x)));
  return 0.5 * x * (1 + Math.tanh(u));
}

export type Epilogue = 'none' | 'gelu' | 'residual';
export const EPILOGUE_CODE: Record<Epilogue, number> = { none: 0, gelu: 1, residual: 2 };
