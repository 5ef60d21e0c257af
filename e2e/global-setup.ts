// Playwright global setup: writes the e2e test models (see fixtures.ts) to a fresh temp folder and
// removes it after the run. Deterministic: the same options give byte-identical files every time.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGpt2Weights, parseModelFiles, writeGpt2Checkpoint, type Gpt2Weights } from '../src/model/checkpoint';
import { makeTestModel, writeModelDir, type TestModel } from '../src/model/testModel';
import { makeByteLevelTokenizerJson } from '../src/model/tokenizer';
import { e2eModelOptions, e2eModels, modelsRootEnv } from './fixtures';

const BLOCK = 16;

/** Zeroes every block (of BLOCK × BLOCK, [in, out] layout) whose index is not ≡ 0 mod 4: a quarter survive. */
function keepQuarter(w: Float32Array, rows: number, cols: number): void {
  const colBlocks = cols / BLOCK;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const b = Math.floor(r / BLOCK) * colBlocks + Math.floor(c / BLOCK);
      if ((b + Math.floor(r / BLOCK)) % 4 !== 0) w[r * cols + c] = 0;
    }
  }
}

/** The e2e model block-pruned, with layer 0's heads 0 and 1 silenced (their output projection rows zero). */
function sparseCopy(model: TestModel): Uint8Array {
  const files = parseModelFiles('e2e', { config: JSON.stringify(model.configJson), safetensors: model.safetensors });
  const w: Gpt2Weights = loadGpt2Weights(files.safetensors, files.config);
  const d = w.config.nEmbd;
  const hd = d / w.config.nHead;
  w.layers.forEach((l, i) => {
    keepQuarter(l.attnW, d, 3 * d);
    keepQuarter(l.fcW, d, 4 * d);
    keepQuarter(l.fcProjW, 4 * d, d);
    if (i === 0) l.attnProjW.fill(0, 0, 2 * hd * d);
    else keepQuarter(l.attnProjW, d, d);
  });
  return writeGpt2Checkpoint(w, { format: 'bsr', block: BLOCK });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'sparse-gpt2-e2e-'));
  const model = makeTestModel(e2eModelOptions);
  const tokenizerJson = makeByteLevelTokenizerJson();
  await writeModelDir(join(root, e2eModels.text), model, tokenizerJson);
  await writeModelDir(join(root, e2eModels.ids), model);
  await writeModelDir(join(root, e2eModels.sparse), { ...model, safetensors: sparseCopy(model) as Uint8Array<ArrayBuffer> }, tokenizerJson);
  // Workers inherit the runner's environment, so the tests find the folder through this variable.
  process.env[modelsRootEnv] = root;
  return async () => {
    await rm(root, { recursive: true, force: true });
  };
}
