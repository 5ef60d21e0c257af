// Head ablation in the page, in headless Chromium on WebGPU: two heads typed by name into the baseline
// panel, Generate, and the panel's before/after report: the next token's top 5 before and after (checked
// against the CPU reference with and without the same heads zeroed), the passage's perplexity before and
// after, and the first token where the greedy continuations part (the reference's). The other panel runs
// as it is.

import { join } from 'node:path';
import { expect, test } from 'playwright/test';
import { loadGpt2Weights } from '../src/model/checkpoint';
import { readModelDir } from '../src/model/files';
import { CpuGpt2 } from '../src/model/reference';
import { loadTokenizer } from '../src/model/tokenizer';
import { e2eModels, modelsRoot } from './fixtures';
import { densePanel, openDemo, sparsePanel } from './page';

const argmax = (a: Float32Array): number => a.reduce((best, v, i) => (v > a[best]! ? i : best), 0);
const top5 = (a: Float32Array): number[] => Array.from(a.keys()).sort((i, j) => a[j]! - a[i]! || i - j).slice(0, 5);

test('ablate two heads by name: the run is ablated and the panel reports top 5, perplexity and the first differing token', async ({ page }) => {
  const files = await readModelDir(join(modelsRoot(), e2eModels.text));
  const tokenizer = await loadTokenizer(files.tokenizerJson);
  const weights = loadGpt2Weights(files.safetensors, files.config);
  const prompt = 'Hello, WebGPU!';
  const promptIds = tokenizer.encode(prompt);
  const maxTokens = 12;
  const ablated = [1, 4 + 2]; // L0H1, L1H2 (4 heads per layer)

  // The reference without and with the ablation: next-token top 5 and the greedy continuation.
  const greedy = (ablate: number[]) => {
    const ref = new CpuGpt2(weights);
    ref.setAblatedHeads(ablate);
    let logits = ref.forward(promptIds)[promptIds.length - 1]!;
    const first = top5(logits);
    const ids: number[] = [];
    for (let i = 0; i < maxTokens; i++) {
      ids.push(argmax(logits));
      if (i + 1 < maxTokens) logits = ref.forward([ids[i]!])[0]!;
    }
    return { first, ids };
  };
  const before = greedy([]);
  const after = greedy(ablated);
  const diff = before.ids.findIndex((id, i) => after.ids[i] !== id);
  const text = (id: number) => JSON.stringify(tokenizer.decode([id]));

  const problems = await openDemo(page, { sparse: e2eModels.sparse, dense: e2eModels.text });
  const right = densePanel(page);
  await expect(right.getByTestId('perplexity')).toHaveText(/^\d/);
  const pplBefore = await right.getByTestId('perplexity').textContent();

  // A name outside the model is refused in one line, nothing applied.
  const field = right.getByRole('textbox', { name: 'Ablate heads' });
  await field.fill('L2H0');
  await right.getByRole('button', { name: 'Apply' }).click();
  await expect(right.getByRole('alert')).toHaveText('L2H0 is outside the model (layers L0..L1, heads H0..H3)');
  await field.fill('l0h1, L1H2');
  await right.getByRole('button', { name: 'Apply' }).click();
  await expect(right.getByTestId('ablation-status')).toHaveText('Ablated: L0H1, L1H2 (zeroed in every step of the next Generate)');

  await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill(String(maxTokens));
  await page.getByRole('checkbox', { name: 'Greedy' }).check();
  await page.getByRole('button', { name: 'Generate', exact: true }).click();

  const report = right.getByRole('region', { name: 'Ablation effect in GPT-2 (baseline)' });
  await expect(report).toBeVisible({ timeout: 120_000 });
  await expect(report).toContainText('With L0H1, L1H2 ablated');
  // The streamed run itself was the ablated model's greedy continuation.
  const shown = (await right.locator('sg-model-output .token').evaluateAll((s) => s.map((x) => Number(x.getAttribute('data-id')))));
  expect(shown).toEqual(after.ids);
  // The grid crosses the two ablated heads and says so; they never fire (their output is zero).
  await expect(right.getByRole('img', { name: 'GPT-2 (baseline) activation grid', exact: true })).toHaveAccessibleDescription(/^[0-8] of 8 heads firing, 2 ablated$/);
  const rows = report.getByTestId('ablation-top5').locator('tbody tr');
  await expect(rows).toHaveCount(5);
  for (let i = 0; i < 5; i++) {
    const cells = rows.nth(i).locator('td');
    await expect(cells.nth(1)).toHaveText(text(before.first[i]!));
    await expect(cells.nth(3)).toHaveText(text(after.first[i]!));
  }
  await expect(report.getByLabel('Perplexity before')).toHaveText(pplBefore!);
  const pplAfter = await report.getByLabel('Perplexity after').textContent();
  expect(Number(pplAfter)).toBeGreaterThan(1);
  expect(pplAfter).not.toBe(pplBefore);
  if (diff < 0) await expect(report.getByTestId('ablation-first-diff')).toContainText(`the same for all ${maxTokens} tokens`);
  else await expect(report.getByTestId('ablation-first-diff')).toHaveText(`Greedy continuation: first differs at token ${diff + 1}: ${text(before.ids[diff]!)} → ${text(after.ids[diff]!)}`);

  // The sparse panel was not ablated: no report there.
  await expect(sparsePanel(page).getByTestId('ablation-report')).toHaveCount(0);
  expect(problems).toEqual([]);
});
