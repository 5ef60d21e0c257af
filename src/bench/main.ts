// The browser benchmark page (bench.html): in one run, in this browser, on the same prompt and token
// count, ONNX Runtime Web (WebGPU and WASM providers) and this project's engine on the dense model, and
// the engine on the block-sparse model. It checks the greedy tokens against the PyTorch model the ONNX
// file came from before it reports any speed, measures the adapter's bandwidth and arithmetic rate for the
// decode floor, shows a table, and leaves the result in window.__benchResult for bench/browser/run.ts.
// Parameters: ?tokens=N (generated per run, default 32) &runs=R (default 3) &engines=a,b (default all).

import { acquireGpu } from '../gpu/device';
import { measureRoofline } from '../kernels/roofline';
import { loadGpt2Weights } from '../model/checkpoint';
import { fetchModelFiles } from '../model/files';
import { Gpt2Engine } from '../model/gpt2';
import { decodeFloorMs, denseDecodeCost, engineDecodeCost, pctOfFloor, type DecodeCost } from './floor';
import { OrtGpt2 } from './ortRunner';
import { markdownTable } from './report';
import { BENCH_ENGINES, type BenchEngine, type BenchResult, type BenchRow, type RunTiming } from './types';

declare global {
  interface Window {
    __benchResult?: BenchResult | { error: string };
    __benchLog?: string[];
  }
}

const DENSE = '/weights/dense/';
const SPARSE = '/weights/sparse/';
const ONNX = '/bench/build/dense.onnx';
export const TARGETS = { dense_over_ort_webgpu: 2, sparse_over_ort_webgpu: 4 };

const statusEl = document.getElementById('status')!;
const tableEl = document.getElementById('table')!;
window.__benchLog = [];
function log(line: string): void {
  window.__benchLog!.push(line);
  statusEl.textContent += `${line}\n`;
  console.log(`[bench] ${line}`);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const decodeTps = (r: RunTiming): number => (r.decodeMs.length ? (r.decodeMs.length * 1e3) / r.decodeMs.reduce((a, b) => a + b, 0) : 0);

interface Measured {
  engine: BenchEngine;
  model: string;
  runs: RunTiming[];
  cost: DecodeCost;
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const tokens = Number(q.get('tokens') ?? 32);
  const runs = Number(q.get('runs') ?? 3);
  const engines = (q.get('engines')?.split(',') ?? BENCH_ENGINES) as BenchEngine[];
  for (const e of engines) if (!BENCH_ENGINES.includes(e)) throw new Error(`unknown engine "${e}" in ?engines= (have ${BENCH_ENGINES.join(', ')})`);
  if (!Number.isInteger(tokens) || tokens < 2 || !Number.isInteger(runs) || runs < 1) throw new Error('?tokens= must be an integer >= 2 and ?runs= >= 1');

  const check = await (await fetch(`${ONNX}.check.json`)).json() as { prompt_ids: number[]; greedy_ids: number[] };
  if (check.greedy_ids.length < tokens) throw new Error(`${ONNX}.check.json has ${check.greedy_ids.length} reference tokens; re-export with --check-tokens ${tokens} (npm run bench:browser does)`);
  const prompt = check.prompt_ids;
  const reference = check.greedy_ids.slice(0, tokens);
  const pos = prompt.length + tokens / 2; // mean position of the decode steps, for the KV share of the floor

  const gpu = await acquireGpu(undefined, { label: 'bench' });
  log(`adapter: ${gpu.adapterDescription}`);
  const roof = await measureRoofline(gpu.device);
  log(`roofline: ${(roof.bytesPerS / 1e9).toFixed(2)} GB/s streamed, ${(roof.flopsPerS / 1e9).toFixed(2)} GFLOP/s (${roof.timing})`);

  // Every engine is loaded and warmed up first; then the timed runs go round-robin (run 1 of each engine,
  // then run 2, ...), so a change in the machine's load during the benchmark reaches all rows alike.
  const loaded: Array<{ engine: BenchEngine; model: string; cost: DecodeCost; gen: (n: number) => Promise<RunTiming>; release: () => Promise<void> }> = [];
  const denseFiles = await fetchModelFiles(DENSE);
  const cfg = denseFiles.config;
  for (const engine of engines) {
    log(`${engine}: loading`);
    if (engine === 'dense' || engine === 'sparse') {
      const files = engine === 'dense' ? denseFiles : await fetchModelFiles(SPARSE);
      const e = await Gpt2Engine.create(gpu, loadGpt2Weights(files.safetensors, files.config), { label: engine });
      log(`${engine}: kernel variants ${JSON.stringify(e.variants, (_, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
      const gen = async (n: number): Promise<RunTiming> => {
        const s = await e.generate(prompt, { maxTokens: n, greedy: true });
        const gpuMs = s.steps.slice(1).map((st) => st.gpuMs).filter((x): x is number => x !== undefined);
        return { ids: s.ids, prefillMs: s.prefillMs, decodeMs: s.decodeMs, ...(gpuMs.length ? { decodeGpuMs: gpuMs } : {}) };
      };
      loaded.push({ engine, model: engine === 'dense' ? DENSE : SPARSE, cost: engineDecodeCost(e.config, e, pos), gen, release: async () => e.destroy() });
    } else {
      const bytes = new Uint8Array(await (await fetch(ONNX)).arrayBuffer());
      const o = await OrtGpt2.create(bytes, cfg, engine === 'ort-webgpu' ? 'webgpu' : 'wasm');
      loaded.push({ engine, model: ONNX, cost: denseDecodeCost(cfg, 4, pos), gen: (n) => o.generate(prompt, n), release: () => o.release() });
    }
    await loaded[loaded.length - 1].gen(Math.min(4, tokens)); // warm-up: pipelines, shader compilation, first allocations
  }
  const timings = new Map<BenchEngine, RunTiming[]>(loaded.map((l) => [l.engine, []]));
  for (let r = 0; r < runs; r++) {
    for (const l of loaded) {
      const t = await l.gen(tokens);
      log(`${l.engine}: run ${r + 1}/${runs}: prefill ${t.prefillMs.toFixed(1)} ms, decode ${decodeTps(t).toFixed(2)} tokens/s`);
      timings.get(l.engine)!.push(t);
    }
  }
  for (const l of loaded) await l.release();
  const measured: Measured[] = loaded.map((l) => ({ engine: l.engine, model: l.model, cost: l.cost, runs: timings.get(l.engine)! }));

  // Agreement first: no speed is reported for engines that do not compute the same model.
  const agreement = measured.filter((m) => m.engine !== 'sparse').map((m) => {
    const ids = m.runs[0].ids;
    const i = reference.findIndex((id, k) => ids[k] !== id);
    return { engine: m.engine, matches: i < 0, first_mismatch: i < 0 ? null : i };
  });
  const bad = agreement.filter((a) => !a.matches);
  if (bad.length) {
    throw new Error(`greedy tokens differ from the PyTorch reference: ${bad.map((a) => `${a.engine} from token ${a.first_mismatch}`).join(', ')}; no speed is reported`);
  }

  const rates = { bytesPerS: roof.bytesPerS, flopsPerS: roof.flopsPerS };
  const rows: BenchRow[] = measured.map((m) => {
    const tps = median(m.runs.map(decodeTps));
    const floorMs = decodeFloorMs(m.cost, rates);
    const wall = median(m.runs.map((r) => median(r.decodeMs)));
    const gpuRuns = m.runs.filter((r) => r.decodeGpuMs?.length);
    const gpuMs = gpuRuns.length ? median(gpuRuns.map((r) => median(r.decodeGpuMs!))) : null;
    return {
      engine: m.engine,
      model: m.model,
      prefill_ms: median(m.runs.map((r) => r.prefillMs)),
      decode_tokens_per_s: tps,
      wall_ms_per_token: wall,
      gpu_ms_per_token: gpuMs,
      gap_pct: gpuMs === null ? null : (100 * (wall - gpuMs)) / wall,
      pct_of_floor: pctOfFloor(floorMs, tps),
      floor_ms_per_token: floorMs,
      bytes_per_token: m.cost.bytesPerToken,
      flops_per_token: m.cost.flopsPerToken,
      ids: m.runs[0].ids,
    };
  });
  const tpsOf = (e: BenchEngine) => rows.find((r) => r.engine === e)?.decode_tokens_per_s;
  const ratio = (a: BenchEngine, b: BenchEngine = 'ort-webgpu') => {
    const x = tpsOf(a);
    const y = tpsOf(b);
    return x !== undefined && y ? x / y : null;
  };
  const result: BenchResult = {
    adapter: {
      ...gpu.adapterInfo,
      features: [...gpu.adapter.features].sort(),
      bandwidth_gb_per_s: roof.bytesPerS / 1e9,
      gflops: roof.flopsPerS / 1e9,
      timing: roof.timing,
    },
    browser: navigator.userAgent,
    date: new Date().toISOString(),
    prompt_tokens: prompt.length,
    tokens,
    runs,
    reference_ids: reference,
    agreement,
    rows,
    ratios: {
      dense_over_ort_webgpu: ratio('dense'), sparse_over_ort_webgpu: ratio('sparse'),
      sparse_over_dense: ratio('sparse', 'dense'), sparse_over_ort_wasm: ratio('sparse', 'ort-wasm'),
    },
    targets: TARGETS,
    notes: [
      'ORT runs the f32 ONNX export (its WebGPU provider needs shader-f16 for f16 weights); this engine holds f16 weights. Each row\'s floor counts the bytes that engine reads.',
      'The floor is the WebGPU adapter\'s. ort-wasm runs on the CPU cores, not on the adapter, so its percentage can exceed 100; it is there as the reference a user without a fast GPU would pick.',
      'Timed runs go round-robin over the engines after each has loaded and warmed up.',
      'wall ms/token is the interval between two decode results (this engine keeps steps in flight); GPU ms/token is the step\'s compute pass by timestamp queries, from the previous pass\'s end where the two overlap (Chromium rounds them unless started with WebGPU developer features); gap = (wall − GPU) ÷ wall.',
      `decode at positions ${prompt.length}..${prompt.length + tokens - 1}; the floor is taken at the mean position ${pos}.`,
    ],
  };
  tableEl.textContent = markdownTable(result);
  window.__benchResult = result;
  log('done');
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  log(`FAILED: ${message}`);
  window.__benchResult = { error: message };
});
