// Comparing two recordings in headless Chromium: the sparse and the dense model recorded on one prompt,
// picked as A and B; the difference view's three grids are checked pixel by pixel against the firing
// frequencies counted from what each panel showed live (A − B on the diverging scale), its lists of heads
// that fire in only one of them and its neuron table; Save PNG downloads the picture.

import { readFile } from 'node:fs/promises';
import { expect, test } from 'playwright/test';
import { headName } from '../src/model/engineApi';
import { differenceColor, frequencyColor } from '../src/ui/compare-model';
import { e2eModels } from './fixtures';
import { openDemo, panelViews } from './page';

const fires = (firing: number[], n: number) => ((firing[n >>> 5]! >>> (n & 31)) & 1) === 1;

test('compare two recordings: frequency grids of A and B, A − B on a diverging scale, heads of only one, PNG export', async ({ page }, testInfo) => {
  const problems = await openDemo(page, { sparse: e2eModels.sparse, dense: e2eModels.text });
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  const prompt = 'Compare us';
  await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('8');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const rows = page.getByRole('table', { name: 'Saved recordings' }).locator('tbody tr');
  await expect(rows).toHaveCount(2, { timeout: 120_000 });

  // What each panel showed live: the recorded firing bits, token by token.
  const [sparse, dense] = [await panelViews(page, 0), await panelViews(page, 1)];
  const nodes = 2 * 4;
  const freq = (views: Array<{ firing: number[] }>) => Array.from({ length: nodes }, (_, n) => views.filter((v) => fires(v.firing, n)).length / views.length);
  const fa = freq(sparse);
  const fb = freq(dense);

  await page.getByRole('combobox', { name: 'Recording A' }).selectOption({ label: `Sparse GPT-2: ${prompt}` });
  await page.getByRole('combobox', { name: 'Recording B' }).selectOption({ label: `GPT-2 (baseline): ${prompt}` });
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  const view = page.getByRole('region', { name: 'Recording comparison' });
  await expect(view).toContainText(`A: Sparse GPT-2: ${prompt} (8 tokens)`);
  const onlyA = fa.flatMap((f, n) => (f > 0 && fb[n] === 0 ? [headName(n, 4)] : []));
  const onlyB = fb.flatMap((f, n) => (f > 0 && fa[n] === 0 ? [headName(n, 4)] : []));
  await expect(view.getByTestId('only-a')).toHaveText(`Fire only in A: ${onlyA.join(', ') || 'none'}`);
  await expect(view.getByTestId('only-b')).toHaveText(`Fire only in B: ${onlyB.join(', ') || 'none'}`);
  await expect(view.getByTestId('compare-neurons').locator('tbody tr')).toHaveCount(2);

  // The pixels at every head's centre, in each of the three grids, are the scales' colours of its numbers.
  const canvas = view.getByRole('img', { name: 'Head firing frequency of A, of B, and A − B' });
  await expect(canvas).toHaveAccessibleDescription(/^Heads fire at [\d.]+% of tokens on average in A and [\d.]+% in B; the largest difference is L\dH\d/);
  const pixels = await page.locator('sg-recording-compare').evaluate((el, count) => {
    const cmp = el as HTMLElement & { nodeCenter(g: string, n: number): { x: number; y: number } };
    const c = el.shadowRoot!.querySelector('canvas')!;
    const k = c.width / parseFloat(c.style.width);
    // One readback of the whole picture (repeated small ones would make Chromium warn).
    const img = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    const at = (g: string, n: number) => {
      const { x, y } = cmp.nodeCenter(g, n);
      const i = 4 * (Math.round(y * k) * c.width + Math.round(x * k));
      return Array.from(img.data.slice(i, i + 3));
    };
    return { a: Array.from({ length: count }, (_, n) => at('a', n)), b: Array.from({ length: count }, (_, n) => at('b', n)), diff: Array.from({ length: count }, (_, n) => at('diff', n)) };
  }, nodes);
  const near = (got: number[], want: readonly number[], what: string) => got.forEach((v, i) => expect(Math.abs(v - want[i]!), `${what} channel ${i}: ${got} vs ${want}`).toBeLessThanOrEqual(2));
  for (let n = 0; n < nodes; n++) {
    near(pixels.a[n]!, frequencyColor(fa[n]!), `A ${headName(n, 4)}`);
    near(pixels.b[n]!, frequencyColor(fb[n]!), `B ${headName(n, 4)}`);
    near(pixels.diff[n]!, differenceColor(fa[n]! - fb[n]!), `A − B ${headName(n, 4)}`);
  }
  // The models differ somewhere (the sparse one has two dead heads), so the difference grid is not blank.
  expect(fa.some((f, n) => f !== fb[n])).toBe(true);

  // Save PNG: a PNG of the whole picture (the canvas at twice its CSS size).
  const [download] = await Promise.all([page.waitForEvent('download'), view.getByRole('button', { name: 'Save PNG' }).click()]);
  expect(download.suggestedFilename()).toBe('compare-sparse-gpt-2-compare-us-vs-gpt-2-baseline-compare-us.png');
  const file = testInfo.outputPath('compare.png');
  await download.saveAs(file);
  const png = await readFile(file);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const width = await canvas.evaluate((c) => (c as HTMLCanvasElement).width);
  expect(png.readUInt32BE(16)).toBe(width);

  await view.getByRole('button', { name: 'Close' }).click();
  await expect(view).toHaveCount(0);
  expect(problems).toEqual([]);
});
