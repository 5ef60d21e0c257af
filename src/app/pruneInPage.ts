// Makes the block-sparse counterpart of a model in memory, as `cli prune` does on disk (src/cli/prune.ts):
// the project's pruneGpt2 (magnitude, or activation-aware on DEFAULT_CALIBRATION_TEXT), run one layer at
// a time so progress can be reported per matrix, written as a BSR checkpoint with the prune metadata.
// Pure (no DOM, no worker API): the prune worker calls it, and the tests call it in Node.

import { BSR_BLOCK_SIZES } from '../model/bsr';
import { loadGpt2Weights, parseModelFiles, validateGpt2Tensors, writeGpt2Checkpoint, type Gpt2Weights, type WeightDtype } from '../model/checkpoint';
import { ModelFormatError } from '../model/errors';
import {
  calibrationWindows, collectActivationNorms, DEFAULT_CALIBRATION_TEXT, PRUNE_METADATA_KEYS, pruneGpt2,
  type ActivationNorms, type PruneMethod,
} from '../model/prune';
import { loadTokenizer } from '../model/tokenizer';
import type { RawModelFiles } from './modelCache';

export interface PruneSettings {
  /** Fraction of blocks kept per matrix, in (0, 1]. */
  density: number;
  /** BSR block size: 16, 32 or 64. */
  block: number;
  method: PruneMethod;
}

export const DEFAULT_PRUNE_SETTINGS: PruneSettings = { density: 1 / 8, block: 32, method: 'magnitude' };
export const PRUNE_DENSITIES = [1 / 2, 1 / 4, 1 / 8, 1 / 16] as const;

export interface PruneProgress {
  phase: 'reading' | 'calibrating' | 'pruning' | 'writing';
  /** Matrices pruned so far, of total (4 per layer). */
  done: number;
  total: number;
  label: string;
}

export interface PruneOutcome {
  safetensors: Uint8Array<ArrayBuffer>;
  keptBlocks: number;
  totalBlocks: number;
  calibrationTokens?: number;
}

/** Short key of the settings, e.g. "magnitude-d0.125-b32" (cache keys and the model's name). */
export function pruneSettingsKey(s: PruneSettings): string {
  return `${s.method}-d${Number(s.density.toPrecision(6))}-b${s.block}`;
}

export function checkPruneSettings(s: PruneSettings): void {
  if (!(s.density > 0 && s.density <= 1)) throw new RangeError(`density must be in (0, 1] (got ${s.density})`);
  if (!(BSR_BLOCK_SIZES as readonly number[]).includes(s.block)) throw new RangeError(`block size must be one of ${BSR_BLOCK_SIZES.join(', ')} (got ${s.block})`);
  if (s.method !== 'magnitude' && s.method !== 'activation') throw new RangeError(`method must be magnitude or activation (got ${String(s.method)})`);
}

/** config.json of the pruned model: the source's, with a name that says what it is. */
export function prunedConfigText(sourceConfig: string, sourceName: string, s: PruneSettings): string {
  const json = JSON.parse(sourceConfig) as Record<string, unknown>;
  json._name_or_path = `${sourceName} (block-sparse, ${pruneSettingsKey(s)})`;
  return JSON.stringify(json, null, 2);
}

/** Prunes a model's files (validated first: a bad file is a ModelFormatError) and writes the BSR checkpoint. */
export async function pruneModelFiles(
  source: string,
  files: RawModelFiles,
  s: PruneSettings,
  onProgress: (p: PruneProgress) => void = () => undefined,
): Promise<PruneOutcome> {
  checkPruneSettings(s);
  const parsed = parseModelFiles(source, files);
  const cfg = parsed.config;
  const total = 4 * cfg.nLayer;
  onProgress({ phase: 'reading', done: 0, total, label: 'Reading the weights' });
  const st = parsed.safetensors;
  const dtypes = new Map([...validateGpt2Tensors(st, cfg)].map(([name, info]) => [name, info.dtype as WeightDtype]));
  const weights = loadGpt2Weights(st, cfg);

  let norms: ActivationNorms | undefined;
  if (s.method === 'activation') {
    if (parsed.tokenizerJson === undefined) {
      throw new ModelFormatError({ file: `${source}tokenizer.json`, code: 'io', problem: 'file not found', hint: 'activation-aware pruning encodes the calibration text with it: use magnitude' });
    }
    const tokenizer = await loadTokenizer(parsed.tokenizerJson, { vocabSize: cfg.vocabSize });
    const ids = tokenizer.encode(DEFAULT_CALIBRATION_TEXT);
    onProgress({ phase: 'calibrating', done: 0, total, label: `Running the calibration text (${ids.length} tokens) through the CPU reference` });
    norms = collectActivationNorms(weights, calibrationWindows(ids, cfg.nCtx));
  }

  // One layer at a time through pruneGpt2 (a one-layer view of the model), so progress comes per layer.
  const layers = [...weights.layers];
  let kept = 0;
  let blocks = 0;
  for (let i = 0; i < cfg.nLayer; i++) {
    const one: Gpt2Weights = { ...weights, config: { ...cfg, nLayer: 1 }, layers: [weights.layers[i]!] };
    const r = pruneGpt2(one, { density: s.density, block: s.block, method: s.method, activationNorms: norms ? { layers: [norms.layers[i]!], tokens: norms.tokens } : undefined });
    layers[i] = r.weights.layers[0]!;
    for (const m of r.matrices) {
      kept += m.keptBlocks;
      blocks += m.totalBlocks;
    }
    onProgress({ phase: 'pruning', done: 4 * (i + 1), total, label: `Pruned layer ${i + 1} of ${cfg.nLayer}` });
    await new Promise((r) => setTimeout(r, 0)); // let the progress message go out
  }
  onProgress({ phase: 'writing', done: total, total, label: 'Writing the block-sparse checkpoint' });
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(st.metadata)) if (!k.startsWith('prune_')) metadata[k] = v;
  metadata[PRUNE_METADATA_KEYS.method] = s.method;
  metadata[PRUNE_METADATA_KEYS.density] = String(s.density);
  metadata[PRUNE_METADATA_KEYS.block] = String(s.block);
  if (norms) metadata[PRUNE_METADATA_KEYS.calibrationTokens] = String(norms.tokens);
  const bytes = writeGpt2Checkpoint({ ...weights, layers }, { format: 'bsr', block: s.block, dtype: (name) => dtypes.get(name) ?? 'F32', metadata });
  return { safetensors: bytes, keptBlocks: kept, totalBlocks: blocks, calibrationTokens: norms?.tokens };
}
