// What the page displays about a generation, shared by the model slots (which fill it) and the display
// elements (which only read it). Plain data: no GPU or engine types.

/** One generated token as displayed: its id and the text it contributed ('' while a character is split). */
export interface OutputToken {
  id: number;
  text: string;
}

/** Timing of the current or last generation; null where there is nothing to show yet. */
export interface GenerationMetrics {
  /** Tokens generated so far. */
  tokenCount: number;
  /** Decode tokens per second (steps after the first; the first token comes out of the prefill). */
  tokensPerS: number | null;
  lastMsPerToken: number | null;
  medianMsPerToken: number | null;
  /** Prompt prefill time, including the first token's readback. */
  prefillMs: number | null;
  promptTokens: number;
  /** ms of every decode step so far, in order (the chart). */
  decodeMs: number[];
}

/**
 * idle: nothing run yet; queued: waiting for the other model to finish with the GPU; running; finished;
 * failed (an engine error); skipped (Stop came before its turn).
 */
export type RunState = 'idle' | 'queued' | 'running' | 'finished' | 'failed' | 'skipped';

export const emptyMetrics: GenerationMetrics = {
  tokenCount: 0,
  tokensPerS: null,
  lastMsPerToken: null,
  medianMsPerToken: null,
  prefillMs: null,
  promptTokens: 0,
  decodeMs: [],
};

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A recording shown in a panel instead of the live generation. */
export interface ReplayInfo {
  id: number;
  name: string;
  createdAt: string;
  /** Why it plays in this panel, when not because the model file matches (e.g. "same shape, other weights"). */
  note: string | null;
}

/** A perplexity as the page shows it: two decimals below 100, one above. */
export function formatPerplexity(p: number): string {
  return p.toFixed(p < 100 ? 2 : 1);
}

/** One of the top next tokens as displayed: its text and logit. */
export interface TopToken {
  text: string;
  logit: number;
}

/**
 * What zero-ablating heads changed in one panel, against the model as it is, on the same prompt: the next
 * token's top 5, the perplexity of the panel's passage, and the greedy continuation (the first token where
 * the two differ, or none within `compared` tokens).
 */
export interface AblationReport {
  /** The ablated heads, TransformerLens names (L0H1). */
  heads: string[];
  topBefore: TopToken[];
  topAfter: TopToken[];
  perplexityBefore: number | null;
  perplexityAfter: number | null;
  bitsPerByteBefore: number | null;
  bitsPerByteAfter: number | null;
  /** Tokens of greedy continuation compared. */
  compared: number;
  firstDiff: { index: number; before: string; after: string } | null;
}
