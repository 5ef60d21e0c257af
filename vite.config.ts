// Vite config for the demo page: the app is index.html at the repo root; the top-level weights/ folder is
// served at /weights/ by the dev server and copied into the build so `npm run build` is a self-contained
// static site (`npm run preview` then serves that copy from dist/). WGSL shaders load with Vite's `?raw`.
// The benchmark page bench.html (dev server only, driven by `npm run bench:browser`) also gets
// ONNX Runtime Web's files at /ort/ and the exported ONNX model at /bench/build/.

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
  '.onnx': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript; charset=utf-8',
};

function contentTypeOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot >= 0 && contentTypes[path.slice(dot)]) || 'application/octet-stream';
}

/** Maps a request URL under prefix to a file inside dir, or null (outside the folder, missing, a directory). */
function folderFileFor(url: string, prefix: string, dir: string): string | null {
  const pathname = decodeURIComponent(url.split('?')[0]!.split('#')[0]!);
  if (!pathname.startsWith(prefix)) return null;
  const file = resolve(dir, '.' + pathname.slice(prefix.length - 1));
  // resolve() collapses "..": anything that lands outside the folder is refused, not served.
  if (!file.startsWith(dir + sep)) return null;
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  return file;
}

const weightsFileFor = (url: string) => folderFileFor(url, weightsUrlPrefix, weightsDir);

/** Streams a file as a static server would (GET or HEAD), with its content type. */
function sendFile(req: IncomingMessage, res: ServerResponse, file: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', contentTypeOf(file));
  res.setHeader('Content-Length', String(statSync(file).size));
  res.setHeader('Cache-Control', 'no-cache');
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).pipe(res);
}

function notFound(res: ServerResponse, what: string): void {
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(what);
}

/**
 * The benchmark page's extra files in `vite` (dev): /ort/* from onnxruntime-web's dist/ served as is
 * (Vite must not transform ORT's own module and wasm loaders), /bench/build/* (the ONNX export), and
 * cross-origin isolation for bench.html so ORT's WASM backend can use threads.
 */
function benchAssets(): Plugin {
  const folders: Array<[string, string]> = [
    ['/ort/', resolve(rootDir, 'node_modules/onnxruntime-web/dist')],
    ['/bench/build/', resolve(rootDir, 'bench/build')],
  ];
  return {
    name: 'sparse-gpt2:bench-assets',
    configureServer(server) {
      server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        if (!req.url || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
        if (req.url.startsWith('/bench.html')) {
          res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
          res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
          return next();
        }
        const hit = folders.find(([prefix]) => req.url!.startsWith(prefix));
        if (!hit) return next();
        const file = folderFileFor(req.url, hit[0], hit[1]);
        if (!file) return notFound(res, `Not found: ${req.url} (run npm run bench:browser, which exports the ONNX model and needs onnxruntime-web installed)`);
        // ORT starts its WASM threads as workers from these files: under the page's COEP a worker's
        // script must carry COEP itself, or the browser blocks it (ERR_BLOCKED_BY_RESPONSE).
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
        res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
        sendFile(req, res, file);
      });
    },
  };
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
        if (!file) return notFound(res, `Not found in weights/: ${req.url}`);
        sendFile(req, res, file);
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
  plugins: [weightsFolder(), benchAssets()],
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
