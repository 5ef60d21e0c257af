// Test models for the e2e suite and how the page gets them: the global setup writes a small deterministic
// GPT-2 (with and without a byte-level tokenizer.json, and a block-sparse copy) to a temp folder; routeTestModels() serves that
// folder to a page at /weights/<name>/ through Playwright request routing, so nothing lands in weights/.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright/test';
import type { TestModelOptions } from '../src/model/testModel';

/** Small enough for SwiftShader, big enough to exercise several heads and both layers. */
export const e2eModelOptions: TestModelOptions = { layers: 2, heads: 4, embd: 64, vocab: 257, ctx: 128, seed: 20240 };

/** Model folders the global setup writes, by the name they are served under (/weights/<name>/). */
export const e2eModels = {
  /** With a byte-level BPE tokenizer.json (GPT-2's byte alphabet, no merges, plus <|endoftext|>: 257 tokens). */
  text: 'e2e',
  /** Same weights, no tokenizer.json: the page takes and shows token ids. */
  ids: 'e2e-ids',
  /** The same model block-pruned to a quarter of its 16 × 16 blocks (stored BSR), with two dead heads. */
  sparse: 'e2e-sparse',
} as const;

/** Environment variable through which the global setup tells the tests where it wrote the models. */
export const modelsRootEnv = 'SPARSE_GPT2_E2E_MODELS';

export function modelsRoot(): string {
  const root = process.env[modelsRootEnv];
  if (!root) throw new Error(`${modelsRootEnv} is not set: run the e2e tests through playwright.config.ts (its globalSetup writes the models)`);
  return root;
}

const servedFiles: Record<string, string> = {
  'config.json': 'application/json',
  'model.safetensors': 'application/octet-stream',
  'tokenizer.json': 'application/json',
};

/**
 * Answers /weights/e2e*\/<file> from the temp folder, as a static server would: 200 with the bytes, or
 * 404 for a file the folder lacks (the loader treats a missing tokenizer.json as "drive by ids").
 */
export async function routeTestModels(page: Page): Promise<void> {
  const root = modelsRoot();
  const names = new Set<string>(Object.values(e2eModels));
  await page.route(/\/weights\/e2e[^/]*\/[^/?#]+(\?.*)?$/, async (route) => {
    const [, name, file] = new URL(route.request().url()).pathname.match(/^\/weights\/([^/]+)\/([^/]+)$/) ?? [];
    if (!name || !file || !names.has(name) || !(file in servedFiles)) {
      return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
    }
    try {
      const body = await readFile(join(root, name, file));
      return route.fulfill({ status: 200, contentType: servedFiles[file], body });
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' });
      throw e;
    }
  });
}
