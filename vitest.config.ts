// Vitest config for the Node-side tests (kernels against the CPU reference, loader, tokenizer, model):
// real WebGPU through Dawn on SwiftShader, which is slow and CPU-bound, so timeouts are generous and at
// most two test files run at once (the CI machine has two cores). The Playwright e2e suite lives in e2e/.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'e2e/**'],
    // A whole-model test on SwiftShader can take a minute; a hang still fails rather than blocking CI.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Separate processes: each test file that opens Dawn gets its own, and a crash in one cannot take others down.
    pool: 'forks',
    maxWorkers: 2,
  },
});
