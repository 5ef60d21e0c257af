// The head view in headless Chromium on WebGPU: a head picked in the baseline grid with the keyboard (arrow
// keys, Enter) and with the mouse shows its name (L{layer}H{head}), its top positions and the token strip's
// context chips shaded by its attention weights, checked against the CPU reference's attention row for the
// same head and token (the prompt's chips included), live, while scrubbing to an earlier token, and in the
// replay of the run's recording (version 2 keeps the attention rows).

import { join } from 'node:path';
import { expect, test, type Locator } from 'playwright/test';
import { loadGpt2Weights } from '../src/model/checkpoint';
import { readModelDir } from '../src/model/files';
import { loadTokenizer } from '../src/model/tokenizer';
import { CpuProbes, type TokenProbes } from '../src/probes/metrics';
import { DEFAULT_THRESHOLDS } from '../src/shared/probes';
import { e2eModels, modelsRoot } from './fixtures';
import { densePanel, openDemo } from './page';

const argmax = (a: Float32Array): number => a.reduce((best, v, i) => (v > a[best]! ? i : best), 0);
/** f32 on the GPU against f64 on the CPU, after a softmax. */
const TOL = 2e-4;

/** The reference's top entries of head `node` in a frame: (position, weight), strongest first. */
function refTop(frame: TokenProbes, node: number): Array<{ pos: number; weight: number }> {
  const top = frame.attnTop!;
  return Array.from({ length: top.k }, (_, j) => ({ pos: top.pos[node * top.k + j]!, weight: top.weight[node * top.k + j]! })).filter((e) => e.weight > 0);
}

/**
 * What the page shows for the head equals the reference: the same weights rank by rank, each listed position
 * has the reference's weight (a position outside the reference's top k only where it ties with the k-th),
 * and every context chip is shaded with its weight (0 outside the top k).
 */
async function expectAttention(panel: Locator, ref: Array<{ pos: number; weight: number }>, row: number): Promise<void> {
  const items = panel.getByTestId('head-top').locator('li');
  await expect(items).toHaveCount(ref.length);
  const shown = await items.evaluateAll((li) => li.map((x) => ({ pos: Number(x.getAttribute('data-position')), weight: Number(x.getAttribute('data-weight')) })));
  const byPos = new Map(ref.map((e) => [e.pos, e.weight]));
  const kth = ref[ref.length - 1]!.weight;
  shown.forEach((e, j) => {
    expect(Math.abs(e.weight - ref[j]!.weight), `rank ${j}`).toBeLessThan(TOL);
    const w = byPos.get(e.pos);
    if (w === undefined) expect(Math.abs(e.weight - kth), `position ${e.pos} outside the reference's top`).toBeLessThan(TOL);
    else expect(Math.abs(e.weight - w), `position ${e.pos}`).toBeLessThan(TOL);
  });
  const chips = await panel.locator('sg-token-strip [data-position]').evaluateAll((c) =>
    c.map((x) => ({ pos: Number(x.getAttribute('data-position')), weight: x.getAttribute('data-weight') })));
  for (const c of chips) {
    if (c.pos > row) {
      expect(c.weight, `position ${c.pos} is after the row`).toBeNull();
      continue;
    }
    const listed = shown.find((e) => e.pos === c.pos);
    expect(Number(c.weight), `chip at position ${c.pos}`).toBeCloseTo(listed ? listed.weight : 0, 4);
  }
  expect(chips.filter((c) => c.pos <= row)).toHaveLength(row + 1);
  await expect(panel.locator(`sg-token-strip [data-position="${row}"]`)).toHaveClass(/\brow\b/);
}

test('select a head with the keyboard and with the mouse: its attention row, shaded on the right tokens', async ({ page }) => {
  const files = await readModelDir(join(modelsRoot(), e2eModels.text));
  const tokenizer = await loadTokenizer(files.tokenizerJson);
  const weights = loadGpt2Weights(files.safetensors, files.config);
  const prompt = 'def f(x):';
  const promptIds = tokenizer.encode(prompt);
  const P = promptIds.length;
  const maxTokens = 6;
  // The reference: greedy steps with their probes (step i's frame is the row at position P + i − 1).
  const probes = new CpuProbes(weights, DEFAULT_THRESHOLDS);
  const frames: TokenProbes[] = [];
  let out = probes.forward(promptIds);
  for (let i = 0; i < maxTokens; i++) {
    const last = out.logits.length - 1;
    frames.push(out.frames[last]!);
    if (i + 1 < maxTokens) out = probes.forward([argmax(out.logits[last]!)]);
  }
  const nHead = files.config.nHead;

  const problems = await openDemo(page, { sparse: e2eModels.sparse, dense: e2eModels.text });
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill(String(maxTokens));
  await page.getByRole('checkbox', { name: 'Greedy' }).check();
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const right = densePanel(page);
  await expect(right.getByRole('status').filter({ hasText: /^Stopped/ })).toBeVisible({ timeout: 120_000 });
  await expect(right.locator('sg-token-strip button')).toHaveCount(maxTokens);

  // Keyboard: the grid's first head holds the tab stop; Down then Right is L1H1, Enter selects it.
  const heads = right.getByRole('grid', { name: 'GPT-2 (baseline) heads' });
  await expect(heads.getByRole('gridcell')).toHaveCount(files.config.nLayer * nHead);
  const first = heads.getByRole('gridcell', { name: 'L0H0', exact: true });
  await expect(first).toHaveAttribute('tabindex', '0');
  await first.focus();
  await page.keyboard.press('ArrowDown');
  await expect(heads.getByRole('gridcell', { name: 'L1H0', exact: true })).toBeFocused();
  await page.keyboard.press('ArrowRight');
  await expect(heads.getByRole('gridcell', { name: 'L1H1', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  const view = right.getByRole('region', { name: 'Head view in GPT-2 (baseline)' });
  await expect(view.getByTestId('head-name')).toHaveText('L1H1');
  await expect(heads.getByRole('gridcell', { name: 'L1H1', exact: true })).toHaveAttribute('aria-selected', 'true');
  // Live: the newest token, whose row is position P + maxTokens − 2.
  const lastRow = P + maxTokens - 2;
  await expect(view.getByTestId('head-row')).toContainText(`token ${maxTokens}: attention from position ${lastRow}`);
  await expectAttention(right, refTop(frames[maxTokens - 1]!, nHead + 1), lastRow);

  // Mouse: a click on L0H2's node in the picture selects it.
  const cell = heads.getByRole('gridcell', { name: 'L0H2', exact: true });
  const box = (await cell.boundingBox())!;
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await expect(view.getByTestId('head-name')).toHaveText('L0H2');
  await expectAttention(right, refTop(frames[maxTokens - 1]!, 2), lastRow);

  // Scrubbing: pinning token 2 shows the row that produced it (position P), the prompt shaded, nothing after.
  await right.locator('sg-token-strip button[data-index="1"]').click();
  await expect(view.getByTestId('head-row')).toContainText(`token 2: attention from position ${P}`);
  await expectAttention(right, refTop(frames[1]!, 2), P);

  // Close: no head view, no shading, the prompt's chips gone from the strip.
  await view.getByRole('button', { name: 'Close' }).click();
  await expect(view).toHaveCount(0);
  await expect(right.locator('sg-token-strip [data-weight]')).toHaveCount(0);

  // Shift+click marks a head for ablation (the field follows), Shift+Enter on it again unmarks it.
  await heads.getByRole('gridcell', { name: 'L0H1', exact: true }).click({ modifiers: ['Shift'] });
  await expect(right.getByTestId('ablation-status')).toHaveText('Ablated: L0H1 (zeroed in every step of the next Generate)');
  await expect(right.getByRole('textbox', { name: 'Ablate heads' })).toHaveValue('L0H1');
  await expect(heads.getByRole('gridcell', { name: 'L0H1', exact: true })).toHaveClass(/\bmarked\b/);
  await heads.getByRole('gridcell', { name: 'L0H1', exact: true }).press('Shift+Enter');
  await expect(right.getByRole('textbox', { name: 'Ablate heads' })).toHaveValue('');
  await expect(view).toHaveCount(0);

  // Replay of the recording: the same rows, from the file rather than the GPU.
  await page.getByRole('table', { name: 'Saved recordings' }).locator('tbody tr').filter({ hasText: `GPT-2 (baseline): ${prompt}` })
    .getByRole('button', { name: 'Open', exact: true }).click();
  await expect(right.getByRole('button', { name: 'Back to live' })).toBeVisible();
  await heads.getByRole('gridcell', { name: 'L1H1', exact: true }).click();
  await expect(view.getByTestId('head-name')).toHaveText('L1H1');
  await expectAttention(right, refTop(frames[maxTokens - 1]!, nHead + 1), lastRow);
  await right.locator('sg-token-strip button[data-index="1"]').click();
  await expectAttention(right, refTop(frames[1]!, nHead + 1), P);
  expect(problems).toEqual([]);
});
