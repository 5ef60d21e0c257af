// Shared helpers of the demo page's e2e specs: open the page on two test models (collecting console
// problems) and find the two panels by their accessible names.

import type { Page } from 'playwright/test';
import { routeTestModels } from './fixtures';

/** Opens the demo on two test models; returns the page's uncaught errors and console errors/warnings as they come. */
export async function openDemo(page: Page, models: { sparse: string; dense: string }): Promise<string[]> {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    // Lit announces its development build, which the Vite dev server serves; that one is expected.
    if (m.text().startsWith('Lit is in dev mode')) return;
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  await routeTestModels(page);
  await page.goto(`/?sparse=/weights/${models.sparse}/&dense=/weights/${models.dense}/`);
  return problems;
}

export const sparsePanel = (page: Page) => page.getByRole('region', { name: 'Sparse GPT-2', exact: true });
export const densePanel = (page: Page) => page.getByRole('region', { name: 'GPT-2 (baseline)', exact: true });

/** The grid views a panel holds (live or replayed): firing bits and drawn edges of every token, as plain arrays. */
export async function panelViews(page: Page, index: 0 | 1): Promise<Array<{ firing: number[]; edges: number[] }>> {
  return page.locator('sg-model-panel').nth(index).evaluate((el) =>
    (el as unknown as { data: { views: Array<{ headFiring: Uint32Array; edges: Uint16Array }> } }).data.views.map((v) => ({
      firing: Array.from(v.headFiring),
      edges: Array.from(v.edges),
    })),
  );
}
