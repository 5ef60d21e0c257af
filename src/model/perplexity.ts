// Perplexity of a model on a token sequence, from the logits the engine returns for every position
// (Gpt2Engine.prefillLogits): exp of the mean negative log-likelihood of each token given the ones before
// it. A sequence longer than the context is cut into windows of at most nCtx tokens, each run from
// position 0; a window's first token has no context inside the window and is not scored.

/** What a perplexity measurement gives. */
export interface PerplexityResult {
  /** exp(meanNll). */
  perplexity: number;
  /** Mean negative log-likelihood per predicted token, in nats. */
  meanNll: number;
  /** Tokens in the sequence. */
  tokens: number;
  /** Tokens scored (each window's tokens after its first). */
  predicted: number;
  /** Windows the sequence was cut into. */
  windows: number;
}

/** Σ −log softmax(logits[t])[ids[t + 1]] over t = 0 … T−2, in f64 with a stable log-sum-exp. */
export function windowNll(logits: readonly Float32Array[], ids: readonly number[]): { sum: number; count: number } {
  if (logits.length !== ids.length) throw new RangeError(`windowNll: ${logits.length} logit rows for ${ids.length} ids`);
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits[t]!;
    const target = ids[t + 1]!;
    if (!(target >= 0 && target < row.length)) throw new RangeError(`windowNll: token id ${target} is outside the ${row.length} logits`);
    let max = -Infinity;
    for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
    let s = 0;
    for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - max);
    const nll = max + Math.log(s) - row[target]!;
    if (!Number.isFinite(nll)) throw new RangeError(`windowNll: non-finite log-likelihood at position ${t} (logits hold NaN or Infinity)`);
    sum += nll;
  }
  return { sum, count: Math.max(0, ids.length - 1) };
}

/** Splits ids into consecutive windows of at most nCtx tokens. */
export function perplexityWindows(ids: readonly number[], nCtx: number): number[][] {
  if (!Number.isSafeInteger(nCtx) || nCtx < 2) throw new RangeError(`perplexity needs a context of at least 2 tokens (got ${nCtx})`);
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i += nCtx) out.push(ids.slice(i, i + nCtx));
  return out;
}

/**
 * Perplexity of ids under a model given as its all-positions logits function (one call per window, in
 * order: an engine runs one window at a time). Throws a RangeError when no token can be scored.
 */
export async function perplexity(
  logitsOf: (ids: number[]) => Promise<readonly Float32Array[]> | readonly Float32Array[],
  ids: readonly number[],
  nCtx: number,
  signal?: AbortSignal,
): Promise<PerplexityResult> {
  const windows = perplexityWindows(ids, nCtx).filter((w) => w.length >= 2);
  let sum = 0;
  let count = 0;
  for (const w of windows) {
    signal?.throwIfAborted();
    const r = windowNll(await logitsOf(w), w);
    sum += r.sum;
    count += r.count;
  }
  if (count === 0) throw new RangeError(`perplexity: ${ids.length} token(s) leave nothing to predict (need at least 2)`);
  const meanNll = sum / count;
  return { perplexity: Math.exp(meanNll), meanNll, tokens: ids.length, predicted: count, windows: windows.length };
}
