// `bench`: prefill and decode speed of the engine on a model directory, with the per-token facts that
// explain it (dispatches, weight bytes read, buffers created per decode step: must be 0).
// A benchmark, not a test: numbers vary with the machine; compare ratios taken in one run.

import { CliError, flag, floatOption, intOption, parseOptions, stringList } from './args';
import { openModel, median } from './session';
import { measureCrossover } from './crossover';
import { measureKernelTable, kernelTableMarkdown } from './kernelTable';
import { acquireNodeGpu } from '../gpu/node';
import { choice } from './args';
import { measureRoofline } from '../kernels/roofline';
import { decodeFloorMs, engineDecodeCost, pctOfFloor } from '../bench/floor';
import { DEFAULT_IN_FLIGHT } from '../model/gpt2';
import type { GenerationSummary } from '../model/engineApi';

/** Prompt length of the short-prompt prefill figure (the page's default prompt is about this long). */
const SHORT_PROMPT = 8;

/** Per decode token of one generation: wall ms (result-to-result interval), GPU ms, and the gap between. */
function decodeTimes(out: GenerationSummary): { wallMs: number; gpuMs: number | null } {
  const gpu = out.steps.slice(1).map((st) => st.gpuMs).filter((x): x is number => x !== undefined);
  return { wallMs: median(out.decodeMs), gpuMs: gpu.length ? median(gpu) : null };
}

export const HELP = `usage: npm run -s cli -- bench --model DIR [--model DIR ...] [--prompt-tokens P] [--tokens N] [--runs R]
                               [--kernels auto|dense|bsr] [--in-flight K,K,...] [--json]
       npm run -s cli -- bench --crossover [--embd D] [--block 16|32|64] [--json]
       npm run -s cli -- bench --kernel-table [--embd D] [--vocab V] [--block 16|32|64] [--density F] [--json]

--kernels: auto (default) lets the engine pick per matrix by the measured crossover density; dense or bsr
forces every block matrix onto those kernels (same weights: the honest dense-vs-sparse comparison).
Several --model flags bench the models one after the other in one run and end with a comparison table (JSON: an array).
Runs R (default 3) greedy generations of N tokens (default 32) after a P-token prompt (default 32), after one warm-up,
and reports medians: prefill tokens/s, decode tokens/s, ms per token, dispatches per token, weight bytes read per token,
and buffers created per decode step, and the decode floor (pct_of_floor) from the adapter's measured bandwidth and FMA rate. decode_ms_blocks / decode_ms_lm_head split a decode step's GPU time (timestamp
queries, one pass each) between the transformer blocks and the LM head (final LayerNorm, head, sampler);
decode_ops lists it per kind of op ({op, count, ms}: "h.#.attn" is the 8 layers' attention together), one pass
per op, so it adds each pass's overhead and rounds each op to the adapter's timestamp quantum.
Per decode token: wall ms (the interval between two results), GPU ms (timestamp queries around the step's
pass, from the previous pass's end where they overlap) and the gap between them (submit, map and readback latency not hidden), as a share of the wall time.
--in-flight times decode with each of these numbers of steps in flight (1 = unpipelined; default: the
engine's ${DEFAULT_IN_FLIGHT}), alternating run by run; the headline figures are the engine default's.
first_token_ms_short: the prefill of a ${SHORT_PROMPT}-token prompt (what the page's first token costs).
--crossover times the dense and the BSR gemv on an (4D, D) matrix at block densities 1 .. 1/16 and reports where BSR wins.
--kernel-table checks, then times every linear kernel (dense and BSR gemv and 8-row matmul, each variant) on the
shapes of one layer and the LM head (default: the embedded pair's, --embd 256 --vocab 4096, BSR at --density 0.125):
op | N x K | kernel | variant | workgroup | density | ms | GB/s.`;

const OPTIONS = {
  model: { type: 'string', multiple: true },
  'prompt-tokens': { type: 'string' },
  tokens: { type: 'string' },
  runs: { type: 'string' },
  json: { type: 'boolean' },
  crossover: { type: 'boolean' },
  'kernel-table': { type: 'boolean' },
  vocab: { type: 'string' },
  density: { type: 'string' },
  kernels: { type: 'string' },
  embd: { type: 'string' },
  block: { type: 'string' },
  'in-flight': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[]): Promise<void> {
  const v = parseOptions(args, OPTIONS, 'bench');
  if (flag(v, 'help')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const json = flag(v, 'json');
  if (flag(v, 'crossover')) {
    const embd = intOption(v, 'embd', { min: 8, default: 768 })!;
    const block = Number(choice(v, 'block', ['16', '32', '64'] as const, '32')) as 16 | 32 | 64;
    if (embd % block !== 0) throw new Error(`bench --crossover: --embd ${embd} must be a multiple of --block ${block}`);
    const gpu = await acquireNodeGpu({ label: 'crossover' });
    const r = await measureCrossover(gpu, embd, block);
    if (json) process.stdout.write(`${JSON.stringify({ adapter: gpu.adapterInfo, ...r, crossover_density: r.crossoverDensity })}\n`);
    else {
      process.stdout.write(`gemv ${r.shape.N} x ${r.shape.K}, ${block} x ${block} blocks, on ${gpu.adapterDescription}\n`);
      process.stdout.write(`kernel | variant | density | ms | GB/s\n`);
      for (const row of r.rows) process.stdout.write(`${row.kernel} | ${row.variant} | ${row.density} | ${row.ms.toFixed(3)} | ${row.gbPerS.toFixed(3)}\n`);
      process.stdout.write(`crossover density (BSR faster at or below): ${r.crossoverDensity}\n`);
    }
    return;
  }
  if (flag(v, 'kernel-table')) {
    const embd = intOption(v, 'embd', { min: 8, default: 256 })!;
    const vocab = intOption(v, 'vocab', { min: 1, default: 4096 })!;
    const block = Number(choice(v, 'block', ['16', '32', '64'] as const, '32')) as 16 | 32 | 64;
    const density = floatOption(v, 'density', { min: 0, minExclusive: true, max: 1, default: 0.125 })!;
    if (embd % block !== 0) throw new CliError(`bench --kernel-table: --embd ${embd} must be a multiple of --block ${block}`);
    const gpu = await acquireNodeGpu({ label: 'kernel table' });
    const rows = await measureKernelTable(gpu, { embd, vocab, block, density });
    if (json) process.stdout.write(`${JSON.stringify({ adapter: gpu.adapterInfo, embd, vocab, block, density, rows })}\n`);
    else process.stdout.write(`linear kernels on ${gpu.adapterDescription}: D ${embd}, vocab ${vocab}, ${block} x ${block} blocks at density ${density}, matmuls over 8 rows\n${kernelTableMarkdown(rows)}\n`);
    return;
  }
  const dirs = stringList(v, 'model');
  if (dirs.length === 0) throw new CliError('--model is required (or --crossover)');
  const promptTokens = intOption(v, 'prompt-tokens', { min: 1, default: 32 })!;
  const tokens = intOption(v, 'tokens', { min: 2, default: 32 })!;
  const runs = intOption(v, 'runs', { min: 1, default: 3 })!;
  const kernels = choice(v, 'kernels', ['auto', 'dense', 'bsr'] as const, 'auto')!;
  const inFlightList = v['in-flight'] === undefined ? [DEFAULT_IN_FLIGHT] : String(v['in-flight']).split(',').map((x) => {
    const k = Number(x);
    if (!Number.isInteger(k) || k < 1 || k > 8) throw new CliError(`--in-flight: '${x.slice(0, 20)}' is not a number of steps 1..8 (e.g. --in-flight 1,2,3,4)`);
    return k;
  });
  const results: BenchResult[] = [];
  for (const dir of dirs) results.push(await benchModel(dir, { promptTokens, tokens, runs, json, kernels, inFlight: [...new Set(inFlightList)] }));
  if (json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : results)}\n`);
  else if (results.length > 1) {
    process.stdout.write('\nmodel | weights MB/token | block density | prefill tok/s | first token ms (short) | decode tok/s | wall ms | GPU ms | gap | decode ms blocks | decode ms LM head | probes on\n');
    for (const r of results) {
      process.stdout.write(`${r.model} | ${(r.weight_bytes_per_token / 1e6).toFixed(2)} | ${r.mean_block_density.toFixed(3)} | ${r.prefill_tokens_per_s.toFixed(1)} | ${r.first_token_ms_short.toFixed(1)} | ${r.decode_tokens_per_s.toFixed(2)} | ${r.decode_wall_ms_per_token.toFixed(2)} | ${fmt(r.decode_gpu_ms_per_token)} | ${pct(r.decode_gap_pct)} | ${r.decode_ms_blocks.toFixed(2)} | ${r.decode_ms_lm_head.toFixed(2)} | ${(100 * r.decode_tokens_per_s_probes / r.decode_tokens_per_s).toFixed(0)}%\n`);
    }
  }
}

export type BenchResult = Awaited<ReturnType<typeof benchModel>>;

const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(2));
const pct = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)}%`);

async function benchModel(dir: string, o: { promptTokens: number; tokens: number; runs: number; json: boolean; kernels: 'auto' | 'dense' | 'bsr'; inFlight: number[] }) {
  const { promptTokens, tokens, runs, json } = o;
  const crossoverDensity = o.kernels === 'dense' ? 0 : o.kernels === 'bsr' ? 1 : undefined;
  // The engine gets as many slots as the largest k asked for; the headline k is its default when asked for.
  const s = await openModel(dir, { crossoverDensity, inFlight: Math.max(...o.inFlight, DEFAULT_IN_FLIGHT) });
  const headK = o.inFlight.includes(DEFAULT_IN_FLIGHT) ? DEFAULT_IN_FLIGHT : Math.max(...o.inFlight);
  const { engine, gpu } = s;
  const cfg = engine.config;
  if (promptTokens + tokens > cfg.nCtx + 1) {
    throw new Error(`bench: --prompt-tokens ${promptTokens} + --tokens ${tokens} exceed the context of ${cfg.nCtx}`);
  }
  // A fixed, spread-out prompt (the ids' values do not change the work done).
  const prompt = Array.from({ length: promptTokens }, (_, i) => (i * 7919 + 13) % cfg.vocabSize);

  // Warm-up of both paths: pipelines, caches.
  await engine.generate(prompt, { maxTokens: Math.min(tokens, 4), greedy: true });
  await engine.generate(prompt, { maxTokens: Math.min(tokens, 4), greedy: true, probes: true });
  const device = gpu.device;
  let created = 0;
  const original = device.createBuffer.bind(device);
  const prefillMs: number[] = [];
  const shortPrefillMs: number[] = [];
  const byK = new Map(o.inFlight.map((k) => [k, { tps: [] as number[], wall: [] as number[], gpu: [] as number[] }]));
  let decodeSteps = 0;
  // The k values and probes off/on alternate run by run (same prompt and length), so a change in the
  // machine's load hits every median alike. Buffers created are counted over all of them.
  const decodeTpsProbes: number[] = [];
  const shortPrompt = prompt.slice(0, SHORT_PROMPT);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    created++;
    return original(d);
  };
  try {
    for (let r = 0; r < runs; r++) {
      for (const k of o.inFlight) {
        const out = await engine.generate(prompt, { maxTokens: tokens, greedy: true, inFlight: k });
        const m = byK.get(k)!;
        if (k === headK) prefillMs.push(out.prefillMs);
        m.tps.push(out.decodeTokensPerS);
        const t = decodeTimes(out);
        m.wall.push(t.wallMs);
        if (t.gpuMs !== null) m.gpu.push(t.gpuMs);
        decodeSteps += out.decodeMs.length;
      }
      const probed = await engine.generate(prompt, { maxTokens: tokens, greedy: true, probes: true, inFlight: headK });
      decodeTpsProbes.push(probed.decodeTokensPerS);
      decodeSteps += probed.decodeMs.length;
      shortPrefillMs.push((await engine.generate(shortPrompt, { maxTokens: 1, greedy: true, inFlight: headK })).prefillMs);
    }
  } finally {
    device.createBuffer = original;
  }
  const inFlightRows = o.inFlight.map((k) => {
    const m = byK.get(k)!;
    const wall = median(m.wall);
    const gpuMs = m.gpu.length ? median(m.gpu) : null;
    return { in_flight: k, decode_tokens_per_s: median(m.tps), wall_ms_per_token: wall, gpu_ms_per_token: gpuMs, gap_pct: gpuMs === null ? null : (100 * (wall - gpuMs)) / wall };
  });
  const head = inFlightRows.find((x) => x.in_flight === headK)!;
  const decodeTps = byK.get(headK)!.tps;
  const decodeTokensPerS = median(decodeTps);
  const decodeTokensPerSProbes = median(decodeTpsProbes);
  // GPU time of a decode step split between the blocks and the LM head: each timed as one pass (timestamps,
  // or a submit each without) at a few decode positions, medians. Then the per-op table: one pass per op,
  // which adds each pass's overhead and rounds each op to the adapter's timestamp quantum.
  const blocksMs: number[] = [];
  const headMs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const split = await engine.profileDecodeSplit(promptTokens + k, k > 0 ? blocksMs[k - 1] + headMs[k - 1] : 0);
    blocksMs.push(split.blocksMs);
    headMs.push(split.headMs);
  }
  // Per op kind (layer numbers folded: "h.#.mlp.c_fc [bsr row]"), its dispatches and ms summed over the step.
  const byOp = new Map<string, { count: number; ms: number[] }>();
  let opsMs = 0;
  for (let k = 0; k < 5; k++) {
    // One pass per op costs more than the step's one pass: the previous profile's sum is the estimate.
    const ops = await engine.profileDecodeStep(promptTokens + k, opsMs);
    opsMs = ops.reduce((a, b) => a + b.ms, 0);
    const step = new Map<string, { count: number; ms: number }>();
    for (const op of ops) {
      const key = op.label.replace(/\d+/g, '#');
      const e = step.get(key) ?? { count: 0, ms: 0 };
      step.set(key, { count: e.count + 1, ms: e.ms + op.ms });
    }
    for (const [key, e] of step) {
      const acc = byOp.get(key) ?? { count: e.count, ms: [] };
      acc.ms.push(e.ms);
      byOp.set(key, acc);
    }
  }
  const decodeOps = [...byOp].map(([op, e]) => ({ op, count: e.count, ms: median(e.ms) }));
  // The decode floor on this adapter (src/bench/floor.ts): measured bandwidth and arithmetic rate
  // against what a decode step reads and computes, at the mean position of the timed decode steps.
  const roof = await measureRoofline(device, { hostPollSpins: gpu.hostPollSpins });
  const cost = engineDecodeCost(cfg, engine, promptTokens + tokens / 2);
  const floorMs = decodeFloorMs(cost, roof);
  const result = {
    model: dir,
    kernels: o.kernels,
    adapter: gpu.adapterInfo,
    config: { n_layer: cfg.nLayer, n_head: cfg.nHead, n_embd: cfg.nEmbd, n_ctx: cfg.nCtx, vocab_size: cfg.vocabSize },
    prompt_tokens: promptTokens,
    tokens,
    runs,
    prefill_ms: median(prefillMs),
    prefill_tokens_per_s: (promptTokens * 1000) / median(prefillMs),
    decode_tokens_per_s: decodeTokensPerS,
    decode_tokens_per_s_probes: decodeTokensPerSProbes,
    decode_ms_per_token: head.wall_ms_per_token,
    in_flight: headK,
    decode_wall_ms_per_token: head.wall_ms_per_token,
    decode_gpu_ms_per_token: head.gpu_ms_per_token,
    decode_gap_pct: head.gap_pct,
    decode_by_in_flight: inFlightRows,
    first_token_ms_short: median(shortPrefillMs),
    short_prompt_tokens: shortPrompt.length,
    decode_ms_blocks: median(blocksMs),
    decode_ms_lm_head: median(headMs),
    decode_ops: decodeOps,
    timing_source: gpu.hasTimestamps ? 'timestamp-query' : 'cpu-wallclock',
    block_bytes_per_token: engine.blockBytesPerToken,
    matrices_bsr: engine.matrices.filter((m) => m.kind === 'bsr').length,
    matrices_dense: engine.matrices.filter((m) => m.kind === 'dense').length,
    mean_block_density: engine.matrices.reduce((a, m) => a + m.blockDensity, 0) / Math.max(1, engine.matrices.length),
    active_heads: engine.activeHeads.reduce((a, h) => a + h.length, 0),
    dispatches_per_token: engine.decodeDispatches.length,
    weight_bytes_per_token: engine.weightBytesPerToken,
    weight_gb_per_s: (engine.weightBytesPerToken * decodeTokensPerS) / 1e9,
    weight_bytes: engine.weightBytes,
    buffers_created_per_decode_step: created / Math.max(1, decodeSteps),
    kernel_variants: engine.variants,
    load_ms: s.loadMs,
    bandwidth_gb_per_s: roof.bytesPerS / 1e9,
    gflops: roof.flopsPerS / 1e9,
    floor_ms_per_token: floorMs,
    pct_of_floor: pctOfFloor(floorMs, decodeTokensPerS),
  };
  if (!json) {
    const rows: Array<[string, string]> = [
      ['model', `${dir} (${cfg.nLayer} layers x ${cfg.nHead} heads x ${cfg.nEmbd}, vocab ${cfg.vocabSize}, ctx ${cfg.nCtx})`],
      ['adapter', s.gpu.adapterDescription],
      ['prefill', `${result.prefill_tokens_per_s.toFixed(1)} tokens/s (${result.prefill_ms.toFixed(1)} ms for ${promptTokens} tokens)`],
      ['first token, short prompt', `${result.first_token_ms_short.toFixed(1)} ms (prefill of ${shortPrompt.length} tokens)`],
      ['decode', `${decodeTokensPerS.toFixed(2)} tokens/s (${result.decode_ms_per_token.toFixed(2)} ms/token, median of ${runs} runs of ${tokens}, ${headK} in flight)`],
      ['decode wall / GPU', `${result.decode_wall_ms_per_token.toFixed(2)} ms wall, ${fmt(result.decode_gpu_ms_per_token)} ms GPU per token: gap ${pct(result.decode_gap_pct)} of the wall time`],
      ...(inFlightRows.length > 1 ? inFlightRows.map((x) => [`  ${x.in_flight} in flight`, `${x.decode_tokens_per_s.toFixed(2)} tokens/s, wall ${x.wall_ms_per_token.toFixed(2)} ms, GPU ${fmt(x.gpu_ms_per_token)} ms, gap ${pct(x.gap_pct)}`] as [string, string]) : []),
      ['decode GPU split', `blocks ${result.decode_ms_blocks.toFixed(2)} ms + LM head ${result.decode_ms_lm_head.toFixed(2)} ms (${result.timing_source})`],
      ['matrices', `${result.matrices_bsr} BSR, ${result.matrices_dense} dense; mean block density ${result.mean_block_density.toFixed(3)}; ${result.active_heads} active heads`],
      ['decode, probes on', `${decodeTokensPerSProbes.toFixed(2)} tokens/s (${((decodeTokensPerSProbes / decodeTokensPerS) * 100).toFixed(1)}% of probes off)`],
      ['dispatches / token', String(result.dispatches_per_token)],
      ['kernel variants', `gemv ${engine.variants.gemv}, layernorm ${engine.variants.layernorm}, attention ${engine.variants.attention}, sample ${engine.variants.sample}, matmul ${engine.variants.matmulShort ? `${engine.variants.matmulShort} up to ${engine.variants.shortPrefillRows} rows, then ` : ''}${engine.variants.matmul} (measured at load: ${JSON.stringify(engine.variants.measured, (_, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))} ms)`],
      ['weights read / token', `${(result.weight_bytes_per_token / 1e6).toFixed(2)} MB (${result.weight_gb_per_s.toFixed(2)} GB/s achieved)`],
      ['buffers created / decode step', String(result.buffers_created_per_decode_step)],
      ['decode floor', `${floorMs.toFixed(3)} ms/token from ${result.bandwidth_gb_per_s.toFixed(2)} GB/s and ${result.gflops.toFixed(1)} GFLOP/s measured: decode runs at ${result.pct_of_floor.toFixed(1)}% of it`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, val] of rows) process.stdout.write(`${k.padEnd(w)}  ${val}\n`);
    process.stdout.write(`decode op | dispatches | ms (one pass per op, median of 5 steps)\n`);
    for (const op of decodeOps) process.stdout.write(`${op.op} | ${op.count} | ${op.ms.toFixed(3)}\n`);
  }
  engine.destroy();
  return result;
}
