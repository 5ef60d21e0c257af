// Shapes shared by the browser benchmark page (src/bench/main.ts), its Node driver
// (bench/browser/run.ts) and the report writers (src/bench/report.ts). Field names of BenchResult
// are the file format of bench/results/<date>-<adapter>.json.

export type BenchEngine = 'ort-webgpu' | 'ort-wasm' | 'dense' | 'sparse';
export const BENCH_ENGINES: readonly BenchEngine[] = ['ort-webgpu', 'ort-wasm', 'dense', 'sparse'];

/** One greedy generation: the ids, the prefill step's wall time and each decode step's. */
export interface RunTiming {
  ids: number[];
  prefillMs: number;
  decodeMs: number[];
  /** GPU time of each decode step's pass (this engine's rows, where the adapter has timestamps). */
  decodeGpuMs?: number[];
}

export interface BenchRow {
  engine: BenchEngine;
  /** Which model it ran: the dense model for the ORT rows and `dense`, the block-sparse model for `sparse`. */
  model: string;
  /** Median over runs of the prefill step (prompt_tokens tokens), ms, including the first token's readback. */
  prefill_ms: number;
  /** Median over runs of decode tokens/s (decode steps ÷ their summed wall time). */
  decode_tokens_per_s: number;
  /**
   * Median over runs of the median decode step: wall ms (result-to-result) and GPU ms (the step's pass).
   * These three are absent in results written before they were measured (bench/results/ keeps those).
   */
  wall_ms_per_token?: number;
  /** null for ORT (no per-step GPU time) or without timestamp queries. */
  gpu_ms_per_token?: number | null;
  /** 100 × (wall − GPU) ÷ wall: what submit, map and readback add that the GPU does not hide. */
  gap_pct?: number | null;
  /** 100 × floor_ms_per_token ÷ measured ms per token. */
  pct_of_floor: number;
  floor_ms_per_token: number;
  /** What the floor counts for this engine: bytes read and flops per decode step, at the run's mean position. */
  bytes_per_token: number;
  flops_per_token: number;
  /** The greedy ids of the first run. */
  ids: number[];
}

export interface BenchResult {
  adapter: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    features: string[];
    /** Measured with shaders/roofline.wgsl. */
    bandwidth_gb_per_s: number;
    gflops: number;
    timing: string;
  };
  browser: string;
  date: string;
  prompt_tokens: number;
  tokens: number;
  runs: number;
  /** Greedy ids of the PyTorch model the ONNX file was exported from (tools/train/export_onnx.py). */
  reference_ids: number[];
  /** Per engine on the dense model: does it produce reference_ids? */
  agreement: Array<{ engine: BenchEngine; matches: boolean; first_mismatch: number | null }>;
  rows: BenchRow[];
  ratios: {
    dense_over_ort_webgpu: number | null;
    sparse_over_ort_webgpu: number | null;
    /** Decode tokens/s of the block-sparse model over the dense one, both on this engine. */
    sparse_over_dense?: number | null;
    sparse_over_ort_wasm?: number | null;
  };
  targets: { dense_over_ort_webgpu: number; sparse_over_ort_webgpu: number };
  notes: string[];
}
