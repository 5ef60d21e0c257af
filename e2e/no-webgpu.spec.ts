// Browsers without WebGPU, reproduced for real rather than faked: (1) Chromium without
// --enable-unsafe-webgpu on a machine with no GPU, where navigator.gpu exists but requestAdapter()
// returns null; (2) the page opened from a plain-HTTP, non-localhost origin, where the browser hides
// navigator.gpu because the page is not a secure context. The page must say which, and how to fix it.

import { chromium, expect, test } from 'playwright/test';
import { chromiumExecutable, quietFlags } from '../src/bench/browser';

test('no adapter: explains that WebGPU found no GPU and how to enable it', async ({ baseURL }, testInfo) => {
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: quietFlags, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(baseURL!);
    // Guard: this browser really is one without WebGPU (the API is there, an adapter is not).
    expect(await page.evaluate(async () => typeof navigator.gpu === 'object' && (await navigator.gpu.requestAdapter()) === null)).toBe(true);

    await expect(page.getByRole('heading', { name: 'WebGPU is not available' })).toBeVisible();
    const page_ = page.locator('sg-no-webgpu');
    await expect(page_).toContainText('requestAdapter() returned no adapter');
    await expect(page_).toContainText('How to enable WebGPU');
    await expect(page_).toContainText('Chrome or Edge 113+');
    await expect(page_).toContainText('--enable-unsafe-webgpu');
    await expect(page_).toContainText('Firefox Nightly');
    await expect(page_).toContainText('Safari Technology Preview');
    // Nothing else pretends to work: no prompt box, no spinner.
    await expect(page.getByRole('textbox', { name: 'Prompt' })).toHaveCount(0);
    await expect(page.locator('.spinner')).toHaveCount(0);
    await page.screenshot({ path: testInfo.outputPath('no-webgpu.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('insecure origin: explains that navigator.gpu needs https or localhost', async ({ page, baseURL }) => {
  // A made-up plain-HTTP host, answered by forwarding each request to the dev server: to the browser it
  // is an ordinary insecure origin, so it withholds navigator.gpu even though WebGPU is enabled.
  const insecureOrigin = 'http://sparse-gpt2-demo.test:8080';
  await page.route(`${insecureOrigin}/**`, async (route) => {
    const url = route.request().url().replace(insecureOrigin, baseURL!);
    const response = await route.fetch({ url });
    await route.fulfill({ response });
  });
  await page.goto(`${insecureOrigin}/`);
  expect(await page.evaluate(() => ({ secure: isSecureContext, gpu: 'gpu' in navigator }))).toEqual({ secure: false, gpu: false });

  await expect(page.getByRole('heading', { name: 'WebGPU is not available' })).toBeVisible();
  const explanation = page.locator('sg-no-webgpu');
  await expect(explanation).toContainText('not a secure context');
  await expect(explanation).toContainText(insecureOrigin);
  await expect(explanation).toContainText('http://localhost');
});
