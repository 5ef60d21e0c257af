// The peer in the browser benchmark: ONNX Runtime Web running the same dense model (exported with a KV
// cache by tools/train/export_onnx.py), on its WebGPU or WASM execution provider, used the way an
// application would: the cache stays where the provider keeps it between steps (GPU buffers on WebGPU),
// only the logits come back, and the next token is the argmax of the last row (greedy).

import type * as Ort from 'onnxruntime-web';
import type { GPT2Config } from '../model/config';
import type { RunTiming } from './types';

/** Where the bench page's dev server serves onnxruntime-web's dist/ (vite.config.ts). */
export const ORT_BASE = '/ort/';

let ortModule: Promise<typeof Ort> | null = null;

/** Loads ORT's WebGPU build (it also has the WASM provider) from /ort/, untouched by Vite. */
export function loadOrt(): Promise<typeof Ort> {
  ortModule ??= import(/* @vite-ignore */ `${ORT_BASE}ort.webgpu.min.mjs`).then((m: typeof Ort) => {
    m.env.wasm.wasmPaths = ORT_BASE;
    // Threads need cross-origin isolation (bench.html is served with COOP/COEP); use every core then.
    m.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
    return m;
  });
  return ortModule;
}

export type OrtProvider = 'webgpu' | 'wasm';

export class OrtGpt2 {
  private constructor(
    private readonly ort: typeof Ort,
    private readonly session: Ort.InferenceSession,
    readonly cfg: GPT2Config,
    readonly provider: OrtProvider,
  ) {}

  static async create(modelBytes: Uint8Array, cfg: GPT2Config, provider: OrtProvider): Promise<OrtGpt2> {
    const ort = await loadOrt();
    const location: Record<string, Ort.Tensor.DataLocation> = { logits: 'cpu' };
    if (provider === 'webgpu') for (let i = 0; i < cfg.nLayer; i++) for (const kind of ['key', 'value']) location[`present.${i}.${kind}`] = 'gpu-buffer';
    const session = await ort.InferenceSession.create(modelBytes, {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      ...(provider === 'webgpu' ? { preferredOutputLocation: location } : {}),
    });
    return new OrtGpt2(ort, session, cfg, provider);
  }

  /** Greedy generation: prefill on the prompt, then `maxTokens - 1` cached decode steps, each timed. */
  async generate(promptIds: readonly number[], maxTokens: number): Promise<RunTiming> {
    const { ort, cfg } = this;
    const hd = cfg.headDim;
    let past: Record<string, Ort.Tensor> = {};
    for (let i = 0; i < cfg.nLayer; i++) {
      for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, cfg.nHead, 0, hd]);
    }
    const ids: number[] = [];
    const stepMs: number[] = [];
    let feed = [...promptIds];
    for (let step = 0; step < maxTokens; step++) {
      const t0 = performance.now();
      const input = new ort.Tensor('int64', BigInt64Array.from(feed, (v) => BigInt(v)), [1, feed.length]);
      const out = await this.session.run({ input_ids: input, ...past });
      const logits = out.logits.data as Float32Array; // (1, T, vocab), on the CPU
      const id = argmaxRow(logits, feed.length - 1, cfg.vocabSize);
      stepMs.push(performance.now() - t0);
      // The presents become the next step's past; the old past is released (GPU buffers on WebGPU).
      const next: Record<string, Ort.Tensor> = {};
      for (let i = 0; i < cfg.nLayer; i++) {
        for (const kind of ['key', 'value']) next[`past_key_values.${i}.${kind}`] = out[`present.${i}.${kind}`];
      }
      for (const t of Object.values(past)) t.dispose();
      out.logits.dispose();
      past = next;
      ids.push(id);
      feed = [id];
    }
    for (const t of Object.values(past)) t.dispose();
    return { ids, prefillMs: stepMs[0], decodeMs: stepMs.slice(1) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Index of the largest value in row `row` of a (rows, n) matrix; the first on ties, like the engine's sampler. */
export function argmaxRow(m: Float32Array, row: number, n: number): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = m[row * n + i];
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}
