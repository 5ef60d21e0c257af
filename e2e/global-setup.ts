// Playwright global setup: writes the e2e test models (see fixtures.ts) to a fresh temp folder and
// removes it after the run. Deterministic: the same options give byte-identical files every time.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestModel, writeModelDir } from '../src/model/testModel';
import { makeByteLevelTokenizerJson } from '../src/model/tokenizer';
import { e2eModelOptions, e2eModels, modelsRootEnv } from './fixtures';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'sparse-gpt2-e2e-'));
  const model = makeTestModel(e2eModelOptions);
  const tokenizerJson = makeByteLevelTokenizerJson();
  await writeModelDir(join(root, e2eModels.text), model, tokenizerJson);
  await writeModelDir(join(root, e2eModels.ids), model);
  // Workers inherit the runner's environment, so the tests find the folder through this variable.
  process.env[modelsRootEnv] = root;
  return async () => {
    await rm(root, { recursive: true, force: true });
  };
}
