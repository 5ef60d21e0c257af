// Measures the firing-threshold distributions on the CPU reference and prints the thresholds they suggest
// and the per-layer firing fractions they give (Node script, not part of the page):
//
//   npx tsx src/probes/measure.ts weights/dense [weights/sparse ...] [--test-model] [--json]
//
// Thresholds are suggested from the first model (the dense baseline); every model is then measured with
// DEFAULT_THRESHOLDS and with the suggested ones. --test-model measures a random 8 × 8 × 256 model
// (makeTestModel, seed 1) instead of a directory, for use before trained weights exist.

import { loadGpt2Weights, type Gpt2Weights } from '../model/checkpoint';
import { readModelDir } from '../model/files';
import { parseSafetensors } from '../model/safetensors';
import { makeTestModel } from '../model/testModel';
import { loadTokenizer, type TextTokenizer } from '../model/tokenizer';
import { compositionStrengths, edgeCandidates, type Composition } from './composition';
import { CpuProbes, headFiringFraction } from './metrics';
import { type Thresholds } from '../shared/probes';
import { DEFAULT_THRESHOLDS } from '../shared/probes';
import { collectThresholdStats, MEASURE_PROMPTS, quantile, roundSignificant, suggestThresholds, THRESHOLD_TARGETS } from './thresholds';

interface Measured {
  model: string;
  thresholds: Thresholds;
  tokens: number;
  /** Per layer: mean over tokens of the fraction of the layer's heads that fire. */
  headFiring: number[];
  /** Per layer: mean over tokens of the fraction of the layer's neurons that fire. */
  neuronFiring: number[];
  headFiringAll: number;
  neuronFiringAll: number;
  edgeCandidates: number;
  crossLayerPairs: number;
  edgesPerToken: number;
  /** Per prompt: [heads firing, neurons firing], each averaged over its tokens. */
  perPrompt: Array<[number, number]>;
}

function measure(name: string, w: Gpt2Weights, comp: Composition, prompts: number[][], thresholds: Thresholds): Measured {
  const { nLayer, nHead } = w.config;
  const probes = new CpuProbes(w, thresholds, { composition: comp });
  const heads = new Array(nLayer).fill(0);
  const neurons = new Array(nLayer).fill(0);
  let all = 0;
  let tokens = 0;
  let edges = 0;
  const perPrompt: Array<[number, number]> = [];
  for (const ids of prompts) {
    probes.reset();
    let ph = 0;
    let pn = 0;
    for (const f of probes.forward(ids).frames) {
      tokens++;
      ph += headFiringFraction(f.headFiring, w.config) / ids.length;
      pn += f.neuronFraction.reduce((a, b) => a + b, 0) / nLayer / ids.length;
      edges += f.edges.length / 2;
      all += headFiringFraction(f.headFiring, w.config);
      for (let l = 0; l < nLayer; l++) {
        let n = 0;
        for (let h = 0; h < nHead; h++) { const i = l * nHead + h; n += (f.headFiring[i >>> 5] >>> (i & 31)) & 1; }
        heads[l] += n / nHead;
        neurons[l] += f.neuronFraction[l];
      }
    }
    perPrompt.push([ph, pn]);
  }
  const crossLayerPairs = (nHead * nHead * nLayer * (nLayer - 1)) / 2;
  return {
    model: name,
    thresholds,
    tokens,
    headFiring: heads.map((v) => v / tokens),
    neuronFiring: neurons.map((v) => v / tokens),
    headFiringAll: all / tokens,
    neuronFiringAll: neurons.reduce((a, b) => a + b, 0) / tokens / nLayer,
    edgeCandidates: edgeCandidates(comp, thresholds.edge).strength.length,
    crossLayerPairs,
    edgesPerToken: edges / tokens,
    perPrompt,
  };
}

async function load(dir: string): Promise<{ w: Gpt2Weights; tok?: TextTokenizer }> {
  const files = await readModelDir(dir);
  const w = loadGpt2Weights(files.safetensors, files.config);
  const tok = files.tokenizerJson !== undefined ? await loadTokenizer(files.tokenizerJson, { vocabSize: files.config.vocabSize }) : undefined;
  return { w, tok };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const models: Array<{ name: string; w: Gpt2Weights; tok?: TextTokenizer }> = [];
  for (const a of argv.filter((x) => !x.startsWith('--'))) models.push({ name: a, ...(await load(a)) });
  if (argv.includes('--test-model')) {
    const m = makeTestModel({ layers: 8, heads: 8, embd: 256, vocab: 4096, ctx: 256, seed: 1 });
    const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
    const tokJson = JSON.parse(await readFile('weights/dense/tokenizer.json', 'utf8')) as unknown;
    models.push({ name: 'makeTestModel 8x8x256 seed 1', w: loadGpt2Weights(parseSafetensors(m.safetensors, 'test'), m.config), tok: await loadTokenizer(tokJson) });
  }
  if (models.length === 0) throw new Error('usage: npx tsx src/probes/measure.ts MODEL_DIR [MODEL_DIR ...] [--test-model] [--json]');
  const tok = models.find((m) => m.tok)?.tok;
  if (!tok) throw new Error('no tokenizer.json in the first model directory: the prompts need one');
  const prompts = MEASURE_PROMPTS.map((p) => tok.encode(p));

  const t0 = performance.now();
  const comps = models.map((m) => compositionStrengths(m.w));
  const tComp = performance.now() - t0;
  const stats = collectThresholdStats(models[0].w, prompts, comps[0]);
  const suggested = suggestThresholds(stats);
  const spread = (v: Float32Array) => Object.fromEntries([0.1, 0.5, 0.8, 0.9, 1].map((q) => [`p${q * 100}`, roundSignificant(quantile(v, q))]));
  const distributions = { headActivity: spread(stats.headActivity), neuronActivation: spread(stats.neuronActivation), composition: spread(stats.composition) };
  const results = models.flatMap((m, i) => [
    measure(m.name, m.w, comps[i], prompts, DEFAULT_THRESHOLDS),
    ...(JSON.stringify(suggested) !== JSON.stringify(DEFAULT_THRESHOLDS) ? [measure(m.name, m.w, comps[i], prompts, suggested)] : []),
  ]);
  const out = {
    targets: THRESHOLD_TARGETS,
    suggestedFrom: models[0].name,
    suggested,
    distributions,
    defaults: DEFAULT_THRESHOLDS,
    promptTokens: prompts.map((p) => p.length),
    compositionMs: Math.round(tComp / models.length),
    results,
  };
  if (json) {
    console.log(JSON.stringify(out, null, 2));
  } else {
    console.log(`prompts: ${prompts.length}, tokens ${prompts.map((p) => p.length).join(' + ')}; composition ${out.compositionMs} ms per model`);
    console.log(`suggested from ${models[0].name} (targets ${JSON.stringify(THRESHOLD_TARGETS)}): ${JSON.stringify(suggested)}`);
    for (const [k, v] of Object.entries(distributions)) console.log(`  ${k} quantiles: ${JSON.stringify(v)}`);
    for (const r of results) {
      console.log(`\n${r.model} with ${JSON.stringify(r.thresholds)}: heads ${pct(r.headFiringAll)}, neurons ${pct(r.neuronFiringAll)}, `
        + `edge candidates ${r.edgeCandidates}/${r.crossLayerPairs}, edges per token ${r.edgesPerToken.toFixed(1)}`);
      console.log(`  layer:   ${r.headFiring.map((_, l) => String(l).padStart(6)).join('')}`);
      console.log(`  heads:   ${r.headFiring.map((v) => pct(v).padStart(6)).join('')}`);
      console.log(`  neurons: ${r.neuronFiring.map((v) => pct(v).padStart(6)).join('')}`);
      console.log(`  per prompt (heads / neurons): ${r.perPrompt.map(([h, n]) => `${pct(h)} / ${pct(n)}`).join(', ')}`);
    }
  }
}

main(process.argv.slice(2)).then(() => process.exit(0), (e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
