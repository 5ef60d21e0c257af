// Measures what drawing the grids costs the engines, on a running demo server (not part of the suite):
// alternates Generate with the grid live and hidden (ABBA), same prompt and settings, and prints each model's
// decode tokens/s per run and the means; saves a screenshot of the page at the end.
//
//   npx vite --port 5190 &   # or npm run preview
//   npx tsx e2e/measure.ts --url http://localhost:5190/ --tokens 64 --reps 3 --screenshot tmp/demo.png

import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import { chromiumExecutable, quietFlags, webgpuFlags } from '../src/bench/browser';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:5173/' },
    prompt: { type: 'string', default: 'def fibonacci(n):\n    ' },
    tokens: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    screenshot: { type: 'string' },
  },
});

const browser = await chromium.launch({ executablePath: chromiumExecutable(), headless: true, args: [...quietFlags, ...webgpuFlags] });
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  page.on('crash', () => console.error('page crashed'));
  page.on('console', (m) => m.type() === 'error' && console.error(`console: ${m.text()}`));
  await page.goto(o.url!);
  const generate = page.getByRole('button', { name: 'Generate', exact: true });
  await generate.waitFor({ timeout: 120_000 });
  await page.waitForFunction(
    () => document.querySelector('sg-demo-app')?.shadowRoot?.querySelectorAll('sg-model-panel').length === 2,
    null,
    { timeout: 120_000 },
  );
  await page.getByRole('textbox', { name: 'Prompt' }).fill(o.prompt!);
  await page.getByRole('spinbutton', { name: 'Max tokens' }).fill(o.tokens!);
  const titles = ['Sparse GPT-2', 'GPT-2 (baseline)'];
  /** Paint work of both grids so far: count and total ms (the grids live in the panels' shadow roots). */
  const paints = () =>
    page.evaluate(() =>
      Array.from(document.querySelector('sg-demo-app')!.shadowRoot!.querySelectorAll('sg-model-panel'), (p) => {
        const g = p.shadowRoot!.querySelector('sg-activation-grid');
        return { count: g?.paintCount ?? 0, ms: g?.totalPaintMs ?? 0 };
      }),
    );
  const run = async (live: boolean): Promise<number[]> => {
    const before = await paints();
    const box = page.getByRole('checkbox', { name: 'Live grid' });
    if ((await box.isChecked()) !== live) await box.click();
    await generate.click();
    await page.getByRole('region', { name: titles[1], exact: true }).getByRole('status').filter({ hasText: /^Stopped/ }).waitFor({ timeout: 600_000 });
    const after = await paints();
    after.forEach((a, k) => {
      const n = a.count - before[k]!.count;
      if (n > 0) console.log(`  ${titles[k]} grid: ${n} paints, ${((a.ms - before[k]!.ms) / n).toFixed(2)} ms each`);
    });
    return Promise.all(titles.map(async (t) => Number(await page.getByRole('region', { name: t, exact: true }).getByTestId('tokens-per-s').textContent())));
  };
  await run(true); // warm-up: pipelines, composition
  const sums = { live: [0, 0], hidden: [0, 0] };
  const reps = Number(o.reps);
  for (let i = 0; i < reps; i++) {
    // ABBA order, so a drift in the machine's load over the runs does not favour either.
    for (const live of i % 2 === 0 ? [true, false] : [false, true]) {
      const tps = await run(live);
      console.log(`${live ? 'live  ' : 'hidden'} ${titles.map((t, k) => `${t}: ${tps[k]} tok/s`).join(', ')}`);
      tps.forEach((v, k) => (sums[live ? 'live' : 'hidden'][k] += v / reps));
    }
  }
  if (reps > 0) titles.forEach((t, k) => {
    const live = sums.live[k]!;
    const hidden = sums.hidden[k]!;
    console.log(`${t}: mean ${live.toFixed(1)} tok/s live, ${hidden.toFixed(1)} hidden (live/hidden ${(live / hidden).toFixed(3)})`);
  });
  if (o.screenshot) {
    await run(true);
    await page.screenshot({ path: o.screenshot, fullPage: true });
  }
} finally {
  await browser.close();
}
