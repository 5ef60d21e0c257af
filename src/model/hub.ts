// Model files from the Hugging Face Hub (or any server laid out like it): the `resolve/<revision>`
// URLs of config.json, model.safetensors and tokenizer.json, downloaded with progress and
// cancellation. Shared by the page (Cache API) and the CLI (a local cache folder).

import { ModelFormatError } from './errors';
import { clipText } from '../shared/preview';

export const DEFAULT_HUB = 'https://huggingface.co';
export const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'] as const;
export type ModelFileName = (typeof MODEL_FILES)[number];

export interface HubModelRef {
  repo: string; // owner/name
  revision: string;
}

/** Parses `hf:owner/name[@revision]`; null when s is not a Hub reference. */
export function parseHubRef(s: string): HubModelRef | null {
  const m = /^hf:([A-Za-z0-9][\w.-]*\/[\w.-]+)(?:@([\w.-]+))?$/.exec(s);
  return m ? { repo: m[1], revision: m[2] ?? 'main' } : null;
}

export function hubFileUrl(ref: HubModelRef, file: string, endpoint = DEFAULT_HUB): string {
  return `${endpoint.replace(/\/+$/, '')}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${file}`;
}

export interface DownloadProgress {
  file: string;
  loaded: number;
  /** From Content-Length; undefined when the server does not say. */
  total?: number;
}

/**
 * Downloads one file to memory, reporting progress per chunk. HTTP errors and network failures become
 * ModelFormatError 'io' naming the URL and what to do; a short body (fewer bytes than Content-Length)
 * is refused as truncated.
 */
export async function downloadFile(
  url: string,
  file: string,
  o: { fetchImpl?: typeof fetch; signal?: AbortSignal; onProgress?: (p: DownloadProgress) => void; optional?: boolean } = {},
): Promise<Uint8Array | null> {
  const f = o.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await f(url, { signal: o.signal });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new ModelFormatError({ file: url, code: 'io', problem: `download failed: ${clipText(String((e as Error)?.message ?? e), 300)}`, hint: 'check the network connection (offline?) and try again' });
  }
  if (res.status === 404 && o.optional) return null;
  if (!res.ok) {
    const hint = res.status === 401 || res.status === 403 ? 'the repository may be gated or private' : res.status === 404 ? 'check the repository name and revision' : 'try again later';
    throw new ModelFormatError({ file: url, code: 'io', problem: `HTTP ${res.status} ${res.statusText}`.trim(), hint });
  }
  const totalHeader = res.headers.get('content-length');
  const total = totalHeader !== null && /^\d+$/.test(totalHeader) ? Number(totalHeader) : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  if (res.body) {
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        o.onProgress?.({ file, loaded, total });
      }
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw new ModelFormatError({
        file: url, code: 'truncated',
        problem: `download interrupted after ${loaded}${total !== undefined ? ` of ${total}` : ''} bytes (${clipText(String((e as Error)?.message ?? e), 300)})`,
        hint: 'the connection dropped: try again',
      });
    }
  } else {
    const b = new Uint8Array(await res.arrayBuffer());
    chunks.push(b);
    loaded = b.byteLength;
    o.onProgress?.({ file, loaded, total });
  }
  if (total !== undefined && loaded !== total) {
    throw new ModelFormatError({ file: url, code: 'truncated', problem: `received ${loaded} of ${total} bytes`, hint: 'the download was cut short: try again' });
  }
  const out = new Uint8Array(loaded);
  let o2 = 0;
  for (const c of chunks) {
    out.set(c, o2);
    o2 += c.byteLength;
  }
  return out;
}
