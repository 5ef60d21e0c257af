// The browser benchmark page (bench.html) in one short run: ONNX Runtime Web (WebGPU and WASM) and the
// engine on the dense model produce the PyTorch model's greedy tokens, and every engine gets a row with
// prefill, decode speed and its share of the decode floor. Speeds are not asserted (that is the
// benchmark's job, `npm run bench:browser`); that they are measured and consistent is.

import { expect, test } from 'playwright/test';
import { ensureOnnx } from '../src/cli/onnxExport';
import type { BenchResult } from '../src/bench/types';

test.beforeAll(() => ensureOnnx(4));

test('bench page: ORT and the engine agree on greedy tokens, then report speed against the floor', async ({ page }) => {
  test.setTimeout(480_000);
  await page.goto('/bench.html?tokens=4&runs=1');
  const handle = await page.waitForFunction(() => window.__benchResult, null, { timeout: 460_000, polling: 500 });
  const result = (await handle.jsonValue()) as BenchResult | { error: string };
  if ('error' in result) throw new Error(result.error);
  expect(result.rows.map((r) => r.engine)).toEqual(['ort-webgpu', 'ort-wasm', 'dense', 'sparse']);
  expect(result.agreement).toEqual([
    { engine: 'ort-webgpu', matches: true, first_mismatch: null },
    { engine: 'ort-wasm', matches: true, first_mismatch: null },
    { engine: 'dense', matches: true, first_mismatch: null },
  ]);
  for (const row of result.rows) {
    expect(row.ids).toHaveLength(4);
    expect(row.prefill_ms).toBeGreaterThan(0);
    expect(row.decode_tokens_per_s).toBeGreaterThan(0);
    expect(row.floor_ms_per_token).toBeGreaterThan(0);
    // pct_of_floor is floor ÷ measured ms per token, in percent.
    expect(row.pct_of_floor).toBeCloseTo(row.floor_ms_per_token * row.decode_tokens_per_s / 10, 6);
  }
  const dense = result.rows.find((r) => r.engine === 'dense')!;
  const sparse = result.rows.find((r) => r.engine === 'sparse')!;
  expect(sparse.bytes_per_token).toBeLessThan(dense.bytes_per_token / 2); // the BSR model reads its nonzero blocks
  expect(result.ratios.dense_over_ort_webgpu).toBeCloseTo(dense.decode_tokens_per_s / result.rows[0].decode_tokens_per_s, 9);
  expect(result.adapter.bandwidth_gb_per_s).toBeGreaterThan(0);
  await expect(page.getByLabel('Benchmark result')).toContainText('| dense | /weights/dense/');
});
