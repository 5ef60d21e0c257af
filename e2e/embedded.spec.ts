// The demo as a first visitor gets it: the page with no parameters opens the embedded pair (weights/sparse,
// weights/dense), offers a Python prompt, measures each panel's perplexity on the Python passage, and the
// greedy continuation each panel streams is the one PyTorch computed at export (golden.json's last prompt,
// which export.py keeps equal to the page's first prompt). The screenshot is the README's.

import { readFile } from 'node:fs/promises';
import { expect, test } from 'playwright/test';
import { PROMPTS } from '../src/model/passage';
import { loadTokenizer } from '../src/model/tokenizer';
import { densePanel, sparsePanel } from './page';

interface Golden {
  prompts: Array<{ text: string; input_ids: number[]; greedy_ids: number[] }>;
}

/** weights/<name>/golden.json's entry for the page's first prompt, and the tokenizer that goes with it. */
async function goldenFor(name: string, prompt: string) {
  const golden = JSON.parse(await readFile(`weights/${name}/golden.json`, 'utf8')) as Golden;
  const entry = golden.prompts.find((p) => p.text === prompt);
  if (!entry) throw new Error(`weights/${name}/golden.json has no entry for the page's first prompt ${JSON.stringify(prompt)}: export again (tools/train/export.py)`);
  const tokenizer = await loadTokenizer(JSON.parse(await readFile(`weights/${name}/tokenizer.json`, 'utf8')), { file: `weights/${name}/tokenizer.json` });
  return { entry, tokenizer };
}

test('the embedded pair: a Python prompt, perplexity on code, and the greedy continuations PyTorch computed', async ({ page }, testInfo) => {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    if (m.text().startsWith('Lit is in dev mode')) return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  const prompt = PROMPTS.code.initial;
  const golden = { sparse: await goldenFor('sparse', prompt), dense: await goldenFor('dense', prompt) };
  const eos = golden.dense.tokenizer.eosId;
  const maxTokens = golden.dense.entry.greedy_ids.length;

  await page.goto('/');
  await expect(page.getByRole('textbox', { name: 'Prompt' })).toHaveValue(prompt);
  const panels = { sparse: sparsePanel(page), dense: densePanel(page) };
  for (const panel of Object.values(panels)) {
    await expect(panel.getByTestId('perplexity-tokens')).toContainText('on the built-in Python passage', { timeout: 120_000 });
    const bpb = Number(await panel.getByTestId('bits-per-byte').textContent());
    expect(bpb).toBeGreaterThan(0);
  }
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill(String(maxTokens));
  await page.getByRole('button', { name: 'Generate', exact: true }).click();

  for (const [name, panel] of Object.entries(panels) as Array<[keyof typeof golden, typeof panels.dense]>) {
    const { entry, tokenizer } = golden[name];
    // The page stops at <|endoftext|>; golden.json's 20 tokens do not.
    const stop = entry.greedy_ids.indexOf(eos ?? -1);
    const want = stop < 0 ? entry.greedy_ids : entry.greedy_ids.slice(0, stop + 1);
    await expect(panel.getByTestId('token-count')).toHaveText(`${entry.input_ids.length} + ${want.length}`, { timeout: 120_000 });
    const ids = (await panel.locator('sg-model-output .token').evaluateAll((spans) => spans.map((s) => s.getAttribute('data-id')))).map(Number);
    expect(ids, `${name}: greedy ids against golden.json`).toEqual(want);
    expect(await panel.getByRole('log', { name: 'Generated text' }).textContent()).toBe(prompt + tokenizer.decode(ids));
  }
  await expect(page.getByTestId('speedup')).toHaveText(/^\d+\.\d\d×$/);
  expect(problems, 'console errors or warnings').toEqual([]);

  // The whole page: the panels' generated Python is below the first screenful.
  await page.screenshot({ path: testInfo.outputPath('demo-embedded-pair.png'), fullPage: true });
  await testInfo.attach('the demo on the embedded pair', { path: testInfo.outputPath('demo-embedded-pair.png'), contentType: 'image/png' });
});
