// GPT-2 124M from the Hugging Face Hub in the page, offline: the real huggingface.co resolve/main URLs are
// routed to a local GPT-2-124M-shaped checkpoint (random weights, GPT-2's tokenizer). The page downloads it
// with a progress bar, keeps it in the Cache API (a reload makes no Hub request), prunes it in a worker,
// generates with both models and shows both perplexities; a truncated or mis-shaped file is refused with its
// typed error and nothing is cached; a canceled download stores nothing. SwiftShader on two cores runs a 124M
// model at about 1 s per token, so the token counts are tiny and the timeouts long.

import { expect, test } from 'playwright/test';
import { e2eModels } from './fixtures';
import { cachedUrls, openProfile, routeHub, startOfflineHub, type HubVariant, type OfflineHub } from './hubServer';
import { densePanel, openDemo, sparsePanel } from './page';

const HUB_OPTION = 'GPT-2 124M (Hugging Face)';
const number = /^\d+(\.\d+)?$/;

let hub: OfflineHub;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  hub = await startOfflineHub();
});

test.afterAll(async () => {
  await hub?.close();
});

test('downloads GPT-2 124M with progress, reloads from the cache, prunes in the page, generates with both and shows perplexities', async ({}, testInfo) => {
  test.setTimeout(600_000);
  const profile = await openProfile(testInfo);
  const context = profile.context;
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    const t0 = Date.now();
    const mark = (what: string) => {
      const description = `${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`;
      testInfo.annotations.push({ type: 'timing', description });
      console.log(`[hub.spec] ${description}`);
    };
    const hubRequests = await routeHub(context, hub);
    const problems = await openDemo(page, { sparse: e2eModels.sparse, dense: e2eModels.text });
    const quota = await page.evaluate(() => navigator.storage.estimate().then((e) => e.quota ?? 0));
    expect(quota, 'browser storage quota for the 500 MB checkpoint').toBeGreaterThan(hub.safetensorsBytes * 1.6);

    await page.getByRole('combobox', { name: 'Model' }).selectOption({ label: HUB_OPTION });
    // The progress bar, with bytes of total, speed and time left.
    await expect(page.getByRole('progressbar', { name: 'Download progress' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Cancel download' })).toBeVisible();
    // The total counts config.json and tokenizer.json (already received) and model.safetensors' Content-Length.
    await expect(page.getByTestId('download-status')).toHaveText(/^Downloading model\.safetensors: \d+\.\d of \d+\.\d MB \(\d+%\) · \d+\.\d MB\/s · \d.* left$/);
    await expect(page.getByTestId('download-status')).toContainText('Downloaded openai-community/gpt2', { timeout: 120_000 });
    mark('downloaded and stored');
    expect(hubRequests.map((u) => u.split('/').pop()).sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    const stored = await page.evaluate(cachedUrls);
    expect(stored.filter((u) => u.startsWith('https://huggingface.co/openai-community/gpt2/resolve/main/')).length).toBe(4); // three files + manifest
    await expect(densePanel(page).getByRole('status').filter({ hasText: 'Loading hf:openai-community/gpt2' })).toBeVisible();

    // A reload reads the files from the cache: no request reaches the Hub. (Reloaded while the first load is
    // still uploading: a GPU job left running by the old page would hold the software GPU for minutes.)
    await page.reload();
    await expect(page.getByRole('combobox', { name: 'Model' })).toHaveValue('hub');
    await expect(page.getByTestId('download-status')).toContainText('Loaded openai-community/gpt2 from cache', { timeout: 120_000 });
    expect(hubRequests).toHaveLength(3);
    const right = densePanel(page);
    const left = sparsePanel(page);
    mark('reloaded from cache');

    // Prune in the page (magnitude, 1/8, 32 × 32 by default; in a worker while the dense model loads), with
    // progress, into the sparse panel.
    await expect(page.getByRole('combobox', { name: 'Density' })).toHaveValue(String(1 / 8));
    await expect(page.getByRole('combobox', { name: 'Block size' })).toHaveValue('32');
    await expect(page.getByRole('combobox', { name: 'Method' })).toHaveValue('magnitude');
    // A canceled prune stores nothing; then the real one.
    await page.getByRole('button', { name: 'Prune', exact: true }).click();
    await page.getByRole('button', { name: 'Cancel pruning' }).click();
    await expect(page.getByTestId('prune-status')).toHaveText('Pruning canceled; nothing was stored.');
    expect((await page.evaluate(cachedUrls)).some((u) => u.includes('/pruned/'))).toBe(false);
    await page.getByRole('button', { name: 'Prune', exact: true }).click();
    await expect(page.getByRole('progressbar', { name: 'Pruning progress' })).toBeVisible();
    await expect(page.getByTestId('prune-status')).toContainText('Block-sparse model made (magnitude, density 1/8, 32 × 32 blocks): kept', { timeout: 300_000 });
    mark('pruned');
    expect(hubRequests).toHaveLength(3);
    expect((await page.evaluate(cachedUrls)).some((u) => u.includes('/pruned/') && u.includes('magnitude-d0.125-b32'))).toBe(true);
    await expect(left.getByTestId('model-shape')).toContainText('12 layers × 12 heads × 768 wide', { timeout: 300_000 });
    await expect(left.getByTestId('density')).toHaveText(/^1[23]%$/);
    mark('sparse loaded');
    await expect(right.getByTestId('model-name')).toContainText('openai-community/gpt2', { timeout: 300_000 });
    await expect(right.getByTestId('model-shape')).toContainText('12 layers × 12 heads × 768 wide · context 1024 · vocab 50257');
    mark('dense loaded');

    // Perplexity on the built-in passage, in each panel, with its token count.
    for (const panel of [left, right]) {
      await expect(panel.getByRole('status', { name: 'Perplexity' })).toHaveText(number, { timeout: 400_000 });
      await expect(panel.getByTestId('perplexity-tokens')).toContainText(/\d+ predicted of \d+ tokens/);
    }
    mark('perplexities shown');

    // Generate three tokens with both. Probes off: the head composition (the grid's edges) of a 124M model
    // takes about 4 minutes on SwiftShader (247 s measured in Node for the dense one), and only probes need it.
    await page.getByRole('checkbox', { name: 'Probes' }).uncheck();
    await page.getByRole('textbox', { name: 'Prompt' }).fill('The ferry crossed');
    await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('3');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    for (const panel of [left, right]) {
      await expect(panel.getByTestId('token-count')).toHaveText(/^\d+ \+ 3$/, { timeout: 300_000 });
      await expect(panel.getByRole('status').filter({ hasText: 'reached the token limit' })).toBeVisible({ timeout: 300_000 });
    }
    mark('generated');
    expect(hubRequests).toHaveLength(3);
    expect(problems, 'console errors or warnings').toEqual([]);
    await page.screenshot({ path: testInfo.outputPath('hub-gpt2.png'), fullPage: true });

    // Clear cache frees the space and says how much.
    await page.getByRole('button', { name: 'Clear cache' }).click();
    await expect(page.getByTestId('cache-message')).toContainText(/Cleared the model cache: freed \d+\.\d MB/);
    expect(await page.evaluate(cachedUrls)).toEqual([]);
  } finally {
    await page.screenshot({ path: testInfo.outputPath('hub-final.png'), fullPage: true }).catch(() => undefined);
    await profile.close();
  }
});

test('a canceled download stores nothing; a truncated model.safetensors, or one that does not match config.json, is refused with its typed error and nothing is cached', async ({}, testInfo) => {
  test.setTimeout(300_000);
  const profile = await openProfile(testInfo);
  const context = profile.context;
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    let variant: HubVariant = 'good';
    const hubRequests = await routeHub(context, hub, () => variant);
    await openDemo(page, { sparse: e2eModels.sparse, dense: e2eModels.text });
    await page.getByRole('combobox', { name: 'Model' }).selectOption({ label: HUB_OPTION });
    // Cancel in the middle of model.safetensors: nothing is stored.
    await expect(page.getByTestId('download-status')).toContainText('Downloading model.safetensors');
    await page.getByRole('button', { name: 'Cancel download' }).click();
    await expect(page.getByTestId('download-status')).toHaveText('Download canceled; nothing was stored.');
    expect(await page.evaluate(cachedUrls)).toEqual([]);

    variant = 'truncated';
    await page.getByRole('button', { name: 'Download again' }).click();
    const error = page.getByTestId('download-error');
    await expect(error).toContainText('ModelFormatError (truncated)', { timeout: 120_000 });
    await expect(error).toContainText('https://huggingface.co/openai-community/gpt2/resolve/main/model.safetensors');
    await expect(error).toContainText('Nothing was stored.');
    expect(await page.evaluate(cachedUrls)).toEqual([]);
    await expect(densePanel(page).getByRole('status').filter({ hasText: 'Waiting for openai-community/gpt2' })).toBeVisible();

    variant = 'wrong-shape';
    await page.getByRole('button', { name: 'Retry download' }).click();
    await expect(error).toContainText('ModelFormatError (shape)', { timeout: 120_000 });
    await expect(error).toContainText('wpe.weight');
    expect(await page.evaluate(cachedUrls)).toEqual([]);
    expect(hubRequests.length).toBe(9);
  } finally {
    await profile.close();
  }
});
