// The prune worker: makes the block-sparse model off the main thread (pruneInPage.ts), reading the source
// model from the Cache API itself when it is stored there (no 500 MB copy between threads) or from the
// bytes the page transfers, and transferring the result back. Progress goes out per layer.

import { readCachedModel, type RawModelFiles } from './modelCache';
import { pruneModelFiles } from './pruneInPage';
import type { PruneWorkerReply, PruneWorkerRequest } from './pruneProtocol';

const post = (m: PruneWorkerReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

self.addEventListener('message', (ev: MessageEvent<PruneWorkerRequest>) => {
  const req = ev.data;
  void (async () => {
    try {
      let files: RawModelFiles | null = req.files ?? null;
      if (!files && req.cacheBase) files = await readCachedModel(req.cacheBase);
      if (!files) throw new Error(`the source model is no longer in the browser cache (${req.cacheBase}): load it again, then prune`);
      const out = await pruneModelFiles(req.source, files, req.settings, (p) => post({ kind: 'progress', progress: p }));
      post({ kind: 'done', safetensors: out.safetensors.buffer, keptBlocks: out.keptBlocks, totalBlocks: out.totalBlocks, calibrationTokens: out.calibrationTokens }, [out.safetensors.buffer]);
    } catch (e) {
      const err = e as Error & { code?: string };
      post({ kind: 'error', name: err?.name ?? 'Error', message: err?.message ?? String(e), code: err?.code });
    }
  })();
});
