// The small typed interface between a GPT-2 engine and whoever drives it (CLI, page, benchmarks).
// The UI talks to engines only through these types, never by reaching into GPU objects.

import type { GPT2Config } from './config';
import type { StepProbes, Thresholds } from '../shared/probes';

/** How the next token is chosen. Greedy is argmax; otherwise temperature + top-k on the GPU. */
export interface SamplingOptions {
  greedy: boolean;
  /** Softmax temperature (> 0); ignored when greedy. */
  temperature?: number;
  /** Keep only the k most likely tokens (1..64); ignored when greedy. */
  topK?: number;
  /** Seed of the sampler's random stream, so sampled runs are reproducible. */
  seed?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Number of new tokens to generate. */
  maxTokens: number;
  /** Also read back the top-n (id, logit) pairs of every step (tests and `--json`); costs a larger readback. */
  topLogits?: number;
  /** Aborts the generation: no token arriving after the abort is handed on. */
  signal?: AbortSignal;
  /** Steps kept in flight, 1 (unpipelined) .. the engine's slots (its default); benchmarks compare them. */
  inFlight?: number;
  /** Token ids that end the generation once sampled (the tokenizer's <|endoftext|>): that token is the last. */
  stopIds?: readonly number[];
  /** Compute StepProbes for every generated token (default off). */
  probes?: boolean;
  /** Thresholds used for neuron firing bitsets (heads and edges are thresholded by the reader). */
  thresholds?: Thresholds;
}

/** One generated token. */
export interface StepResult {
  /** Index of this token in the generation (0-based). */
  index: number;
  /** Position of the token in the context window. */
  pos: number;
  id: number;
  /** Top (id, logit) pairs of the distribution this token was drawn from, best first (only when asked). */
  top?: Array<[number, number]>;
  /** Wall-clock time this step added: from the previous step's readback (the start, for the first) to its own. */
  ms: number;
  /** GPU time of this step's compute pass (timestamp queries; absent where the adapter has none). */
  gpuMs?: number;
  /** What fired at the position that produced this token (only with probes on). */
  probes?: StepProbes;
}

/** Why a generation ended. */
/** 'non-finite-logits': the logits held NaN or Infinity, so no token could be sampled (GenerationSummary.error says where). */
/** 'end-of-text': a token of GenerateOptions.stopIds was sampled (it is the last of ids). */
export type StopReason = 'max-tokens' | 'context-full' | 'aborted' | 'non-finite-logits' | 'end-of-text';

export interface GenerationSummary {
  promptIds: number[];
  ids: number[];
  steps: StepResult[];
  prefillMs: number;
  decodeMs: number[];
  decodeTokensPerS: number;
  stopReason: StopReason;
  /** Why the generation could not go on, when stopReason is 'non-finite-logits'. */
  error?: string;
}

/** ‖W_O^{h1} W_X^{h2}‖² for every layer pair l1 < l2 and X = Q, K, V, with the weights they came from. */
export interface HeadProducts {
  /** The layer pairs (l1, l2), l1 < l2, in the order of sq. */
  pairs: Array<[number, number]>;
  /** (pairs, nHead h1, 3 X, nHead h2) squared Frobenius norms. */
  sq: Float32Array;
  /** f16-rounded c_proj [nEmbd in, nEmbd out] and c_attn [nEmbd in, 3 nEmbd out] per layer, as the GPU holds them. */
  wO: Float32Array[];
  wQkv: Float32Array[];
}

/** What every engine (dense, block-sparse) offers to its drivers. */
export interface Engine {
  readonly config: GPT2Config;
  /** Bytes of weights held on the GPU. */
  readonly weightBytes: number;
  /**
   * Generate up to opts.maxTokens tokens after promptIds, streaming each step to onStep.
   * The KV cache is reset first; the prompt is run as one prefill.
   */
  generate(promptIds: number[], opts: GenerateOptions, onStep?: (step: StepResult) => void): Promise<GenerationSummary>;
  /**
   * The GPU products behind the static composition strength between heads (src/probes/composition.ts's
   * compositionOnGpu turns them into strengths), computed on demand: not a per-token path.
   */
  headProducts?(): Promise<HeadProducts>;
  /** Full logits of every prompt position after a prefill from position 0 (tests; reads back T × vocab floats). */
  prefillLogits(ids: number[]): Promise<Float32Array[]>;
  /**
   * Zero-ablates heads (ids layer · nHead + head) in every later forward pass, generate and prefillLogits
   * alike, until called again; [] runs the model as it is. A small uniform-like write: nothing is rebuilt.
   */
  setAblatedHeads?(heads: readonly number[]): void;
  destroy(): void;
}

/** TransformerLens-style name of head id `node` (= layer · nHead + head): L{layer}H{head}. */
export function headName(node: number, nHead: number): string {
  return `L${Math.floor(node / nHead)}H${node % nHead}`;
}

/**
 * Head ids from names like "L0H1,L2H3" (TransformerLens style; spaces allowed), or an error message that
 * names the offending entry and the model's bounds.
 */
export function parseHeadNames(list: string, nLayer: number, nHead: number): number[] | string {
  const out = new Set<number>();
  for (const raw of list.split(',')) {
    const item = raw.trim();
    const m = /^L(\d{1,4})H(\d{1,4})$/i.exec(item);
    if (!m) return `'${item.slice(0, 20)}' is not a head name like L0H1`;
    const [l, h] = [Number(m[1]), Number(m[2])];
    if (l >= nLayer || h >= nHead) return `${item.slice(0, 20)} is outside the model (layers L0..L${nLayer - 1}, heads H0..H${nHead - 1})`;
    out.add(l * nHead + h);
  }
  return [...out].sort((a, b) => a - b);
}
