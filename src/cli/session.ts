// Shared by generate and bench: read a model directory, acquire WebGPU through Dawn, build the engine.

import { readModelDir } from '../model/files';
import { loadGpt2Weights } from '../model/checkpoint';
import { loadTokenizer, type TextTokenizer } from '../model/tokenizer';
import { joinSource } from '../model/errors';
import { resolveModelArg } from './hubCache';
import { acquireNodeGpu } from '../gpu/node';
import { Gpt2Engine, type EngineOptions } from '../model/gpt2';
import type { GpuContext } from '../gpu/device';
import type { ModelFiles } from '../model/checkpoint';

export interface CliSession {
  /** The model directory (an hf: reference resolved to its cache folder). */
  dir: string;
  files: ModelFiles;
  gpu: GpuContext;
  engine: Gpt2Engine;
  tokenizer?: TextTokenizer;
  loadMs: number;
}

export async function openModel(arg: string, engineOptions: EngineOptions = {}): Promise<CliSession> {
  const t0 = performance.now();
  // Files first: a bad model is reported before any GPU work starts. `hf:owner/name` downloads once.
  const dir = await resolveModelArg(arg, (line) => process.stderr.write(`${line}\n`));
  const files = await readModelDir(dir);
  const weights = loadGpt2Weights(files.safetensors, files.config);
  const tokenizer = files.tokenizerJson !== undefined
    ? await loadTokenizer(files.tokenizerJson, { file: joinSource(dir, 'tokenizer.json'), vocabSize: files.config.vocabSize })
    : undefined;
  const gpu = await acquireNodeGpu({ label: `cli ${dir}` });
  const engine = await Gpt2Engine.create(gpu, weights, { label: dir, ...engineOptions });
  return { dir, files, gpu, engine, tokenizer, loadMs: performance.now() - t0 };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
