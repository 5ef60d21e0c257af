// Vite config for the demo page: the app is index.html at the repo root. Vite's dev server serves the
// project's files as they are, so the top-level weights/ folder is at /weights/ (and the benchmark's ONNX
// export at /bench/build/) with no code here; `vite build` copies weights/ into dist/ so the build is a
// self-contained static site (`npm run preview` serves that copy). Every response is cross-origin
// isolated. WGSL shaders load with Vite's `?raw`. The benchmark page bench.html (dev server only, driven
// by `npm run bench:browser`) also gets ONNX Runtime Web's files at /ort/.

import { cpSync, createReadStream, existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const rootDir = import.meta.dirname;
/**
 * Set by playwright.config.ts for the e2e server: no file watching and no HMR client, so that a source file
 * saved while the suite runs cannot reload a page in the middle of a test.
 */
const frozen = process.env.SPARSE_GPT2_FROZEN_SERVER === '1';

/**
 * On every response, dev and preview alike. bench.html needs cross-origin isolation for ORT's WASM
 * threads, and ORT starts them as workers whose scripts must carry COEP themselves (or the browser blocks
 * them); the demo page loads nothing cross-origin but the Hub's files, which are CORS fetches that COEP
 * allows, so one policy for the whole site is simpler than a per-page one. CORP only restricts other
 * origins embedding these files.
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** `vite build` copies weights/ to <outDir>/weights/ (file by file, never whole into memory: GPT-2 is hundreds of MB). */
function copyWeights(): Plugin {
  const weightsDir = resolve(rootDir, 'weights');
  let outDir = '';
  return {
    name: 'sparse-gpt2:copy-weights',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      if (!existsSync(weightsDir)) {
        this.warn('weights/ does not exist: the build has no embedded model (the page will report the failed load).');
        return;
      }
      cpSync(weightsDir, resolve(outDir, 'weights'), { recursive: true });
    },
  };
}

/**
 * onnxruntime-web's dist/ at /ort/ in `vite` (dev), byte for byte. Vite's own serving would not do: it
 * transforms every .mjs it serves from the project (rewriting ORT's module, worker and wasm loading),
 * and only serves its one public folder untouched, at the site root.
 */
function ortFiles(): Plugin {
  const ortDir = resolve(rootDir, 'node_modules/onnxruntime-web/dist');
  const types: Record<string, string> = { mjs: 'text/javascript', js: 'text/javascript', wasm: 'application/wasm', map: 'application/json' };
  return {
    name: 'sparse-gpt2:ort-files',
    configureServer(server) {
      server.middlewares.use('/ort', (req, res) => {
        // resolve() collapses "..": a path that lands outside ORT's dist/ is a 404, as a missing file is.
        const file = resolve(ortDir, '.' + decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
        const size = file.startsWith(ortDir + sep) && statSync(file, { throwIfNoEntry: false })?.isFile() ? statSync(file).size : -1;
        if (size < 0 || (req.method !== 'GET' && req.method !== 'HEAD')) {
          res.statusCode = 404;
          return void res.end(`Not found: /ort${req.url} (needs onnxruntime-web installed: npm ci)`);
        }
        for (const [name, value] of Object.entries(isolation)) res.setHeader(name, value);
        res.setHeader('Content-Type', types[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream');
        res.setHeader('Content-Length', String(size));
        if (req.method === 'HEAD') return void res.end();
        createReadStream(file).pipe(res);
      });
    },
  };
}

export default defineConfig({
  root: rootDir,
  // Unknown paths are 404s, not index.html, so a missing model file reads as missing.
  appType: 'mpa',
  // No public/ folder: weights/ is served from the root and copied by copyWeights().
  publicDir: false,
  plugins: [copyWeights(), ortFiles()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    port: 5173,
    headers: isolation,
    ...(frozen ? { hmr: false, watch: null } : {}),
  },
  preview: {
    headers: isolation,
  },
});
