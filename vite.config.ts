// Vite config for the demo page: the app is index.html at the repo root; the top-level weights/ folder is
// served at /weights/ by the dev server and copied into the build so `npm run build` is a self-contained
// static site (`npm run preview` then serves that copy from dist/). WGSL shaders load with Vite's `?raw`.

import { createReadStream, cpSync, existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { defineConfig, type Plugin } from 'vite';

const rootDir = import.meta.dirname;
/**
 * Set by playwright.config.ts for the e2e server: no file watching and no HMR client, so that a source file
 * saved while the suite runs cannot reload a page in the middle of a test.
 */
const frozen = process.env.SPARSE_GPT2_FROZEN_SERVER === '1';
const weightsDir = resolve(rootDir, 'weights');
const weightsUrlPrefix = '/weights/';

const contentTypes: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

function contentTypeOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot >= 0 && contentTypes[path.slice(dot)]) || 'application/octet-stream';
}

/** Maps a request URL under /weights/ to a file inside weights/, or null (outside the folder, missing, a directory). */
function weightsFileFor(url: string): string | null {
  const pathname = decodeURIComponent(url.split('?')[0]!.split('#')[0]!);
  if (!pathname.startsWith(weightsUrlPrefix)) return null;
  const file = resolve(weightsDir, '.' + pathname.slice(weightsUrlPrefix.length - 1));
  // resolve() collapses "..": anything that lands outside weights/ is refused, not served.
  if (!file.startsWith(weightsDir + sep)) return null;
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  return file;
}

/**
 * Serves weights/ at /weights/ in `vite` (dev) and copies it to <outDir>/weights/ in `vite build`.
 * Streams files instead of reading them whole: GPT-2 small is hundreds of MB.
 */
function weightsFolder(): Plugin {
  let outDir = '';
  return {
    name: 'sparse-gpt2:weights-folder',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        if (!req.url || !req.url.startsWith(weightsUrlPrefix)) return next();
        if (req.method !== 'GET' && req.method !== 'HEAD') return next();
        const file = weightsFileFor(req.url);
        if (!file) {
          res.statusCode = 404;
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end(`Not found in weights/: ${req.url}`);
          return;
        }
        res.statusCode = 200;
        res.setHeader('Content-Type', contentTypeOf(file));
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader('Cache-Control', 'no-cache');
        if (req.method === 'HEAD') return void res.end();
        createReadStream(file).pipe(res);
      });
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

export default defineConfig({
  root: rootDir,
  // One page; unknown paths are 404s, not index.html, so a missing model file reads as missing.
  appType: 'mpa',
  // weights/ is copied by the plugin above; there is no public/ folder to copy besides it.
  publicDir: false,
  plugins: [weightsFolder()],
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
  },
  server: {
    port: 5173,
    ...(frozen ? { hmr: false, watch: null } : {}),
  },
});
