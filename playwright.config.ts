// Playwright config for the e2e suite: headless Chromium with WebGPU (SwiftShader) against the Vite dev
// server. One worker (two cores, and SwiftShader is CPU-bound); screenshots are kept under test-results/.

import { defineConfig } from 'playwright/test';
import { chromiumExecutable, quietFlags, webgpuFlags } from './src/bench/browser';

const port = 5179;
const baseURL = `http://localhost:${port}`;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.ts',
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Generation on a software GPU: a test may take a while, but a hang still fails.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromiumExecutable(), args: [...quietFlags, ...webgpuFlags] },
    viewport: { width: 1280, height: 900 },
    screenshot: 'on',
    trace: 'retain-on-failure',
  },
  webServer: {
    // A frozen server (vite.config.ts): no HMR reloads if a file changes while the suite runs.
    command: `SPARSE_GPT2_FROZEN_SERVER=1 npx vite --port ${port} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
