// `npm run bench:browser`: the browser benchmark in one command. Exports the embedded dense model to ONNX
// when the export is missing or stale (tools/train/export_onnx.py, PyTorch), starts the Vite dev server,
// opens bench.html in headless Chromium with WebGPU, waits for the result, and writes
// bench/results/<date>-<adapter>.{json,md,svg}. Exits non-zero when the page fails (for example when an
// engine's greedy tokens differ from the PyTorch model's).
//
//   npm run bench:browser [-- --tokens N] [--runs R] [--engines ort-webgpu,ort-wasm,dense,sparse] [--headed]
//
// On a machine with a GPU, Chromium uses it (Vulkan / Metal / D3D12); PLAYWRIGHT_CHROMIUM picks the
// browser (default: Debian's /usr/bin/chromium, else Playwright's own) and BENCH_CHROMIUM_ARGS adds
// flags (on Linux with a GPU: "--enable-features=Vulkan --use-angle=vulkan").

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumExecutable, quietFlags, webgpuFlags } from '../bench/browser';
import { adapterSlug, markdownTable, svgChart } from '../bench/report';
import type { BenchResult } from '../bench/types';
import { ensureOnnx } from './onnxExport';

const root = resolve(import.meta.dirname, '../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tokens: { type: 'string' }, runs: { type: 'string' }, engines: { type: 'string' }, headed: { type: 'boolean' }, out: { type: 'string' } },
  });
  const tokens = Number(values.tokens ?? 32);
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(tokens) || tokens < 2) throw new Error(`--tokens must be an integer >= 2 (got ${values.tokens})`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be an integer >= 1 (got ${values.runs})`);
  ensureOnnx(tokens);
  if (!existsSync(resolve(root, 'node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs'))) {
    throw new Error('onnxruntime-web is not installed: run npm ci');
  }

  const server = await createServer({ root, configFile: resolve(root, 'vite.config.ts'), logLevel: 'warn', server: { port: 0, hmr: false, watch: null } });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite: no TCP address');
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), headless: !values.headed, args: [...quietFlags, ...webgpuFlags, ...(process.env.BENCH_CHROMIUM_ARGS?.split(/\s+/).filter(Boolean) ?? [])] });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.text().startsWith('[bench]')) process.stderr.write(`${m.text()}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    const q = new URLSearchParams({ tokens: String(tokens), runs: String(runs), ...(values.engines ? { engines: values.engines } : {}) });
    await page.goto(`http://localhost:${address.port}/bench.html?${q}`);
    const handle = await page.waitForFunction(() => window.__benchResult, null, { timeout: 60 * 60 * 1000, polling: 500 });
    const result = (await handle.jsonValue()) as BenchResult | { error: string };
    if ('error' in result) throw new Error(`benchmark page: ${result.error}`);
    const outDir = resolve(root, values.out ?? 'bench/results');
    mkdirSync(outDir, { recursive: true });
    const base = resolve(outDir, `${result.date.slice(0, 10)}-${adapterSlug(result)}`);
    writeFileSync(`${base}.json`, JSON.stringify(result, null, 1) + '\n');
    writeFileSync(`${base}.md`, markdownTable(result));
    writeFileSync(`${base}.svg`, svgChart(result));
    process.stdout.write(markdownTable(result));
    process.stdout.write(`\nwrote ${base}.json, .md, .svg\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:browser: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
