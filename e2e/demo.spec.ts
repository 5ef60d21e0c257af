// The demo page in headless Chromium on WebGPU (SwiftShader): loads a small generated model, streams
// generated text that matches the CPU reference, shows timing, stops on request, takes token ids when
// the model has no tokenizer, reports a failed load, recovers from device loss, and never renders a
// token as markup.

import { join } from 'node:path';
import { expect, test, type Page } from 'playwright/test';
import { loadGpt2Weights } from '../src/model/checkpoint';
import { readModelDir } from '../src/model/files';
import { CpuGpt2 } from '../src/model/reference';
import { loadTokenizer } from '../src/model/tokenizer';
import { e2eModels, modelsRoot, routeTestModels } from './fixtures';

const number = /^\d+(\.\d+)?$/;

/** Opens the demo on a test model; returns the page's uncaught errors and console errors/warnings as they come. */
async function openDemo(page: Page, model: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    // Lit announces its development build, which the Vite dev server serves; that one is expected.
    if (m.text().startsWith('Lit is in dev mode')) return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  await routeTestModels(page);
  await page.goto(`/?model=/weights/${model}/`);
  return problems;
}

/** Ids of the generated tokens as the page shows them. */
async function shownIds(page: Page): Promise<number[]> {
  const ids = await page.locator('sg-model-output .token').evaluateAll((spans) => spans.map((s) => s.getAttribute('data-id')));
  return ids.map(Number);
}

test('generates text from a small model on WebGPU, matching the CPU reference', async ({ page }, testInfo) => {
  const files = await readModelDir(join(modelsRoot(), e2eModels.text));
  const tokenizer = await loadTokenizer(files.tokenizerJson);
  const prompt = 'Hello, WebGPU!';
  const promptIds = tokenizer.encode(prompt);
  const maxTokens = 24;

  const problems = await openDemo(page, e2eModels.text);
  await expect(page.getByTestId('model-shape')).toContainText('2 layers × 4 heads × 64 wide');
  await expect(page.getByTestId('model-shape')).toContainText('vocab 257');

  await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill(String(maxTokens));
  await page.getByRole('button', { name: 'Generate' }).click();

  const output = page.getByRole('log', { name: 'Generated text' });
  await expect(output).toContainText(prompt);
  await expect(page.getByTestId('token-count')).toHaveText(`${promptIds.length} + ${maxTokens}`);
  await expect(page.getByRole('status').filter({ hasText: 'reached the token limit' })).toBeVisible();
  await expect(page.getByTestId('tokens-per-s')).toHaveText(number);
  await expect(page.getByTestId('ms-per-token')).toHaveText(number);
  await expect(page.getByTestId('prefill-ms')).toHaveText(number);
  expect(Number(await page.getByTestId('tokens-per-s').textContent())).toBeGreaterThan(0);

  // The same model on the CPU: each greedy token the page chose must be the reference's argmax (up to the
  // f16/f32 rounding the engine is allowed), with the page's own earlier tokens as the prefix.
  const ids = await shownIds(page);
  expect(ids).toHaveLength(maxTokens);
  const reference = new CpuGpt2(loadGpt2Weights(files.safetensors, files.config));
  const logits = reference.forward([...promptIds, ...ids.slice(0, -1)]);
  ids.forEach((id, i) => {
    const row = logits[promptIds.length - 1 + i]!;
    let best = -Infinity;
    let scale = 0;
    for (const v of row) {
      best = Math.max(best, v);
      scale = Math.max(scale, Math.abs(v));
    }
    expect(best - row[id]!, `step ${i}: token ${id} vs reference argmax`).toBeLessThanOrEqual(2e-3 * scale);
  });

  // What the page shows is the prompt followed by the tokenizer's decoding of the generated ids.
  expect(await output.textContent()).toBe(prompt + tokenizer.decode(ids));
  expect(problems, 'console errors or warnings').toEqual([]);

  await page.screenshot({ path: testInfo.outputPath('demo-generated.png'), fullPage: true });
  await testInfo.attach('demo page after generating', { path: testInfo.outputPath('demo-generated.png'), contentType: 'image/png' });
});

test('Enter generates (sampled), Stop ends a long generation early', async ({ page }) => {
  await openDemo(page, e2eModels.text);
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled(); // Enter before the model is loaded does nothing
  await page.getByRole('checkbox', { name: 'Greedy' }).uncheck();
  await page.getByRole('spinbutton', { name: 'Temperature' }).fill('0.7');
  await page.getByRole('spinbutton', { name: 'Top-k' }).fill('8');
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('1000');
  await page.getByRole('textbox', { name: 'Prompt' }).fill('Stop me');
  await page.getByRole('textbox', { name: 'Prompt' }).press('Enter');
  await expect(page.locator('sg-model-output .token').nth(3)).toBeAttached();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByRole('status').filter({ hasText: /^Stopped\.$/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Stop' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
  // 128-token context, 7-token prompt: a run that was not stopped would have made 121 tokens.
  expect((await shownIds(page)).length).toBeLessThan(121);
});

test('a model without tokenizer.json takes and shows token ids', async ({ page }) => {
  await openDemo(page, e2eModels.ids);
  await expect(page.getByTestId('model-shape')).toContainText('no tokenizer (ids)');
  const box = page.getByRole('textbox', { name: 'Prompt' });
  await box.fill('1, 2, 300');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Token id 300 (item 3) is outside the vocabulary (0 … 256)' })).toBeVisible();

  await box.fill('72, 101, 108');
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('5');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('token-count')).toHaveText('3 + 5');
  const ids = await shownIds(page);
  expect(ids).toHaveLength(5);
  await expect(page.getByRole('log', { name: 'Generated text' })).toHaveText(`72, 101, 108 → ${ids.join(', ')}`);
});

test('a failed load names the model and leaves no spinner', async ({ page }) => {
  await openDemo(page, 'e2e-missing');
  const alert = page.getByRole('alert').filter({ hasText: 'Could not load the model at /weights/e2e-missing/' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('/weights/e2e-missing/config.json: HTTP 404');
  await expect(page.locator('sg-model-panel .spinner')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Generate' })).toBeDisabled();
  await expect(page.getByRole('textbox', { name: 'Prompt' })).toBeEditable();
});

test('after device loss the page says so and "Reload models" brings the model back', async ({ page }) => {
  await openDemo(page, e2eModels.text);
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
  // Lose the device for real: destroy() resolves device.lost exactly as a driver reset would. The shell
  // keeps the GPU handle in a private field; reaching it from the test is the only way in.
  await page.evaluate(() => {
    const app = document.querySelector('sg-demo-app') as unknown as { gpu: { context: { device: GPUDevice } } };
    app.gpu.context.device.destroy();
  });
  await expect(page.getByRole('alert').filter({ hasText: 'The GPU device was lost' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Generate' })).toBeDisabled();

  await page.getByRole('button', { name: 'Reload models' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The GPU device was lost' })).toHaveCount(0);
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('4');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('token-count')).toHaveText(/ \+ 4$/);
});

test('a token whose text is HTML is shown as text, not markup', async ({ page }) => {
  await openDemo(page, e2eModels.text);
  const html = '<img src=x onerror="window.__xss=1">';
  const output = page.locator('sg-model-output');
  await expect(page.getByRole('button', { name: 'Generate' })).toBeEnabled();
  await output.evaluate((el, text) => {
    const out = el as HTMLElement & { promptText: string; tokens: Array<{ id: number; text: string }> };
    out.promptText = 'prompt ';
    out.tokens = [{ id: 1, text }];
  }, html);
  await expect(page.getByRole('log', { name: 'Generated text' })).toHaveText(`prompt ${html}`);
  await expect(output.locator('img')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
});
