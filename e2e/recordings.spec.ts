// Recordings in the page (IndexedDB through src/probes/store.ts): Record then Generate saves one recording per
// model; they survive a reload; Export downloads a file that Import takes back; an invalid file is rejected
// with a message and nothing stored is lost; Open replays the recorded grid; Rename and Delete work.

import { writeFile } from 'node:fs/promises';
import { expect, test, type Page } from 'playwright/test';
import { densePanel, openDemo, panelViews, sparsePanel } from './page';
import { e2eModels } from './fixtures';

const rows = (page: Page) => page.getByRole('table', { name: 'Saved recordings' }).locator('tbody tr');

test('Record, reload, Export, Import, reject a bad file, replay, rename and delete', async ({ page }, testInfo) => {
  const problems = await openDemo(page, { sparse: e2eModels.sparse, dense: e2eModels.text });
  await expect(page.getByRole('button', { name: 'Generate', exact: true })).toBeEnabled();
  const record = page.getByRole('button', { name: 'Record', exact: true });
  await record.click();
  await expect(record).toHaveAttribute('aria-pressed', 'true');
  await page.getByRole('textbox', { name: 'Prompt' }).fill('Record me');
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill('6');
  await page.getByRole('button', { name: 'Generate', exact: true }).click();

  // One recording per model, with name, model and token count.
  await expect(rows(page)).toHaveCount(2);
  await expect(page.getByRole('status').filter({ hasText: /^Saved “.*” and “.*”\.$/ })).toBeVisible();
  await expect(rows(page).filter({ hasText: 'Sparse GPT-2: Record me' })).toContainText('e2e-sparse');
  await expect(rows(page).filter({ hasText: 'GPT-2 (baseline): Record me' })).toContainText('9 + 6');
  // What the baseline's grid showed live, token by token, to compare with the replay.
  const liveViews = await panelViews(page, 1);
  expect(liveViews).toHaveLength(6);
  const liveDescription = await densePanel(page).getByTestId('grid-description').textContent();

  // Still listed after a reload.
  await page.reload();
  await expect(rows(page)).toHaveCount(2);

  // Export downloads the file.
  const baseline = rows(page).filter({ hasText: 'GPT-2 (baseline): Record me' });
  const [download] = await Promise.all([page.waitForEvent('download'), baseline.getByRole('button', { name: 'Export', exact: true }).click()]);
  expect(download.suggestedFilename()).toBe('gpt-2-baseline-record-me.recording.json');
  const exported = testInfo.outputPath('exported.recording.json');
  await download.saveAs(exported);

  // An invalid file is rejected with a message, and nothing stored is lost.
  const bad = testInfo.outputPath('bad.recording.json');
  await writeFile(bad, '{"format": "sparse-gpt2-recording", "version": 99}');
  const [badChooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Import', exact: true }).click()]);
  await badChooser.setFiles(bad);
  await expect(page.getByRole('alert').filter({ hasText: /^Rejected bad\.recording\.json: recording/ })).toBeVisible();
  await expect(rows(page)).toHaveCount(2);

  // Import takes the exported file back: a third entry with the same name and counts.
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Import', exact: true }).click()]);
  await chooser.setFiles(exported);
  await expect(page.getByRole('status').filter({ hasText: 'Imported “GPT-2 (baseline): Record me” from exported.recording.json.' })).toBeVisible();
  await expect(rows(page)).toHaveCount(3);
  await expect(rows(page).filter({ hasText: 'GPT-2 (baseline): Record me' })).toHaveCount(2);

  // Open replays it in the baseline's panel (same model file): the recorded grid for the last token.
  await rows(page).filter({ hasText: 'GPT-2 (baseline): Record me' }).first().getByRole('button', { name: 'Open', exact: true }).click();
  const right = densePanel(page);
  await expect(right.getByRole('status').filter({ hasText: 'Replaying GPT-2 (baseline): Record me' })).toBeVisible();
  await expect(right.getByTestId('grid-description')).toHaveText(liveDescription!);
  expect(await panelViews(page, 1)).toEqual(liveViews);
  await expect(right.getByRole('img', { name: 'GPT-2 (baseline) activation grid' })).toHaveAccessibleDescription(/^[1-8] of 8 heads firing$/);
  await expect(right.locator('sg-token-strip button')).toHaveCount(6);
  await expect(right.getByTestId('token-count')).toHaveText('9 + 6');
  await expect(sparsePanel(page).getByRole('status').filter({ hasText: 'Replaying' })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('replay.png'), fullPage: true });
  await right.getByRole('button', { name: 'Back to live' }).click();
  await expect(right.getByRole('status').filter({ hasText: 'Replaying' })).toHaveCount(0);

  // Rename, then delete.
  const sparseRow = rows(page).filter({ hasText: 'Sparse GPT-2: Record me' });
  await sparseRow.getByRole('button', { name: 'Rename', exact: true }).click();
  const field = page.getByRole('textbox', { name: 'New name' });
  await field.fill('my sparse run');
  await field.press('Enter');
  await expect(rows(page).filter({ hasText: 'my sparse run' })).toHaveCount(1);
  await rows(page).filter({ hasText: 'my sparse run' }).getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(rows(page)).toHaveCount(2);
  await expect(rows(page).filter({ hasText: 'my sparse run' })).toHaveCount(0);
  expect(problems.filter((p) => !p.includes('favicon')), 'console errors or warnings').toEqual([]);
});
