// What the page displays about a generation, shared by the model slot (which fills it) and the display
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
}

export type RunState = 'idle' | 'running' | 'finished' | 'failed';

export const emptyMetrics: GenerationMetrics = {
  tokenCount: 0,
  tokensPerS: null,
  lastMsPerToken: null,
  medianMsPerToken: null,
  prefillMs: null,
  promptTokens: 0,
};
